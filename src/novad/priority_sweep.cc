#include "priority_sweep.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "files.h"
#include "text.h"

namespace nova {

namespace {

// cgroupfs counts a directory's subdirectories in its link count (2 + one
// each), so the agents that make no cgroups of their own, nearly all, cost
// no directory listing. A link count of 1 (file systems that do not count)
// means: look.
bool HasSubdirectories(const struct stat& st) { return st.st_nlink != 2; }

bool MayBeDirectory(const dirent& entry) {
  if (entry.d_type != DT_DIR && entry.d_type != DT_UNKNOWN) return false;
  return std::strcmp(entry.d_name, ".") != 0 && std::strcmp(entry.d_name, "..") != 0;
}

// Deeper than this, an agent's own sub-cgroups are not walked: the kernel
// allows any depth unless cgroup.max.depth says otherwise, and each level
// costs novad a descriptor while it is walked.
constexpr int kMaxCgroupDepth = 32;

}  // namespace

SweepDecision DecideSweep(const ProcessPriority& p, const PriorityPolicy& policy) {
  SweepDecision d;
  if (!policy.enabled) return d;
  d.set_nice = p.nice == 0 && policy.nice != 0;
  d.set_oom_score_adj = p.oom_score_adj != policy.oom_score_adj &&
                        !IsCustomOomScore(p.oom_score_adj, policy.own_oom_score_adj);
  return d;
}

std::vector<std::string> ApplyPriority(int pid, const PriorityPolicy& policy, SweepStats* stats) {
  SweepStats ignored;
  if (!stats) stats = &ignored;
  std::vector<std::string> failures;
  ProcessPriority p;
  errno = 0;
  p.nice = getpriority(PRIO_PROCESS, pid);
  if (errno != 0) return failures;  // gone meanwhile
  std::string path = "/proc/" + std::to_string(pid) + "/oom_score_adj";
  std::string text;
  if (!ReadSmallFile(AT_FDCWD, path.c_str(), text) || text.empty()) return failures;
  p.oom_score_adj = std::atoi(text.c_str());
  SweepDecision d = DecideSweep(p, policy);
  if (d.set_nice) {
    if (setpriority(PRIO_PROCESS, pid, policy.nice) == 0) {
      ++stats->niced;
    } else {
      ++stats->failures;
      failures.push_back(std::string("failed to adjust niceness: ") + std::strerror(errno));
    }
  }
  if (d.set_oom_score_adj) {
    std::ofstream out("/proc/" + std::to_string(pid) + "/oom_score_adj");
    out << policy.oom_score_adj << std::flush;
    if (out) {
      ++stats->oom_adjusted;
    } else {
      ++stats->failures;
      failures.push_back(std::string("failed to adjust oom score: ") + std::strerror(errno));
    }
  }
  return failures;
}

PrioritySweeper::PrioritySweeper(PriorityPolicy policy, std::string agents_cgroup,
                                 const std::string& newest_pid_file)
    : policy_(std::move(policy)), cgroups_({"cgroup.procs"}, std::move(agents_cgroup)) {
  if (!newest_pid_file.empty()) {
    newest_pid_fd_ = ::open(newest_pid_file.c_str(), O_RDONLY | O_CLOEXEC);
  }
}

PrioritySweeper::~PrioritySweeper() {
  if (newest_pid_fd_ >= 0) ::close(newest_pid_fd_);
}

// "0.12 0.08 0.01 2/391 12345": the last field is the pid handed out last,
// in novad's pid namespace, the host's (an agent's processes have a pid
// there too, whatever namespace they are in).
std::optional<long> PrioritySweeper::NewestPid() {
  if (newest_pid_fd_ < 0 || !ReadFromStart(newest_pid_fd_, newest_pid_text_)) return std::nullopt;
  size_t space = newest_pid_text_.find_last_of(' ');
  if (space == std::string::npos) return std::nullopt;
  char* end = nullptr;
  long pid = std::strtol(newest_pid_text_.c_str() + space + 1, &end, 10);
  if (end == newest_pid_text_.c_str() + space + 1 || (*end != '\n' && *end != '\0')) {
    return std::nullopt;
  }
  return pid;
}

void PrioritySweeper::Fail(int pid, const std::string& what, const std::string& reason) {
  auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = last_logged_.try_emplace(what + ": " + reason, now);
  if (!fresh && now - it->second < std::chrono::minutes(1)) return;
  it->second = now;
  std::string comm;
  std::ifstream("/proc/" + std::to_string(pid) + "/comm") >> comm;
  // The agent names its processes: escaped, so it cannot forge novad's log.
  spdlog::warn("{} (pid {}, command {}): {}", what, pid, Printable(comm), reason);
}

void PrioritySweeper::Examine(const std::string& procs, bool full, SweepStats& stats,
                              std::unordered_set<int>& seen) {
  const char* p = procs.c_str();
  while (*p) {
    char* end = nullptr;
    long pid = std::strtol(p, &end, 10);
    if (end == p) break;
    p = end;
    while (*p == '\n') ++p;
    ++stats.processes;
    seen.insert(static_cast<int>(pid));
    if (!full && known_.count(static_cast<int>(pid))) continue;
    ++stats.examined;
    for (const std::string& failure : ApplyPriority(static_cast<int>(pid), policy_, &stats)) {
      size_t colon = failure.find(": ");
      Fail(static_cast<int>(pid), failure.substr(0, colon), failure.substr(colon + 2));
    }
  }
}

void PrioritySweeper::SweepCgroup(int dir_fd, int depth, bool full, SweepStats& stats,
                                  std::unordered_set<int>& seen) {
  if (ReadSmallFile(dir_fd, "cgroup.procs", procs_buffer_))
    Examine(procs_buffer_, full, stats, seen);
  struct stat st {};
  if (depth < kMaxCgroupDepth && ::fstat(dir_fd, &st) == 0 && HasSubdirectories(st)) {
    SweepChildren(dir_fd, depth + 1, full, stats, seen);
  }
}

void PrioritySweeper::SweepChildren(int dir_fd, int depth, bool full, SweepStats& stats,
                                    std::unordered_set<int>& seen) {
  int list_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0) return;
  DIR* dir = ::fdopendir(list_fd);
  if (!dir) {
    ::close(list_fd);
    return;
  }
  while (dirent* entry = ::readdir(dir)) {
    if (!MayBeDirectory(*entry)) continue;
    int child = ::openat(dir_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) continue;  // not a directory, or gone meanwhile
    SweepCgroup(child, depth, full, stats, seen);
    ::close(child);
  }
  ::closedir(dir);
}

SweepStats PrioritySweeper::Sweep(bool full) {
  SweepStats stats;
  if (!policy_.enabled) return stats;
  auto now = std::chrono::steady_clock::now();
  std::optional<long> newest = NewestPid();
  // Unknown (no such file) counts as new: every pass is made.
  auto created_since = [&](const std::optional<long>& then) { return !newest || newest != then; };
  bool created = created_since(newest_at_pass_);
  if (!last_full_ || now - *last_full_ >= kQuietFullSweepInterval ||
      (now - *last_full_ >= kFullSweepInterval && created_since(newest_at_full_))) {
    full = true;
  }
  if (!full && !created && !settling_) {
    stats.skipped = true;
    return stats;
  }
  settling_ = created;
  newest_at_pass_ = newest;
  if (full) {
    last_full_ = now;
    newest_at_full_ = newest;
  }
  std::unordered_set<int> seen;
  seen.reserve(known_.size());
  seen_subdirectories_.clear();
  cgroups_.ForEach([&](const AgentCgroups::Entry& agent) {
    if (agent.Read(0, procs_buffer_)) Examine(procs_buffer_, full, stats, seen);
    // Whether it has cgroups of its own: asked of new agents and at each
    // full pass (an agent's new sub-cgroup is walked within
    // kFullSweepInterval), so a steady pass costs one read per agent.
    bool has_subdirectories;
    auto known = subdirectories_.find(agent.dir_name());
    if (full || known == subdirectories_.end() || known->second.first != agent.inode()) {
      has_subdirectories = HasSubdirectories(agent.dir_stat());
    } else {
      has_subdirectories = known->second.second;
    }
    seen_subdirectories_.emplace(agent.dir_name(),
                                 std::make_pair(agent.inode(), has_subdirectories));
    if (has_subdirectories) {
      int dir = agent.OpenDirectory();
      if (dir >= 0) {
        SweepChildren(dir, 1, full, stats, seen);
        ::close(dir);
      }
    }
  });
  known_ = std::move(seen);
  subdirectories_.swap(seen_subdirectories_);
  seen_subdirectories_.clear();
  return stats;
}

}  // namespace nova
