#include "priority_sweep.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string_view>

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
  if (!ReadSmallFile(AT_FDCWD, path.c_str(), text, Pieces::kOne) || text.empty()) {
    return failures;
  }
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

bool FullSweepDue(std::optional<std::chrono::steady_clock::duration> since_full,
                  bool pids_handed_out_since_full, bool skipped_seen_pids_since_full) {
  if (!since_full || *since_full >= PrioritySweeper::kQuietFullSweepInterval) return true;
  return *since_full >= PrioritySweeper::kFullSweepInterval && pids_handed_out_since_full &&
         skipped_seen_pids_since_full;
}

PrioritySweeper::PrioritySweeper(PriorityPolicy policy, std::string agents_cgroup,
                                 const std::string& newest_pid_file, const std::string& proc,
                                 const std::string& cgroup_mount)
    : policy_(std::move(policy)), cgroups_({"cgroup.procs"}, agents_cgroup) {
  if (!newest_pid_file.empty()) {
    newest_pid_fd_ = ::open(newest_pid_file.c_str(), O_RDONLY | O_CLOEXEC);
  }
  std::string_view below(agents_cgroup);
  if (!cgroup_mount.empty() && below.substr(0, cgroup_mount.size()) == cgroup_mount &&
      below.size() > cgroup_mount.size() && below[cgroup_mount.size()] == '/') {
    below.remove_prefix(cgroup_mount.size());
    agents_cgroup_line_ = "0::" + std::string(below) + "/";
    proc_fd_ = ::open(proc.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
}

PrioritySweeper::~PrioritySweeper() {
  if (newest_pid_fd_ >= 0) ::close(newest_pid_fd_);
  if (proc_fd_ >= 0) ::close(proc_fd_);
}

bool PrioritySweeper::InAgentCgroup(const std::string& text) const {
  // cgroup2's line is "0::PATH"; on a host with v1 hierarchies as well it
  // comes after theirs.
  size_t at = text.rfind("0::", 0) == 0 ? 0 : text.find("\n0::");
  if (at == std::string::npos) return false;
  if (at != 0) ++at;
  return text.compare(at, agents_cgroup_line_.size(), agents_cgroup_line_) == 0;
}

void PrioritySweeper::SweepNewPids(long from, long to, SweepStats& stats) {
  stats.by_new_pids = true;
  char name[32];
  for (long pid = from + 1; pid <= to; ++pid) {
    std::snprintf(name, sizeof name, "%ld/cgroup", pid);
    // No such pid any more: it ended. A thread's id opens too (/proc lists
    // only processes but opens a thread's folder by its id): a new thread
    // is examined as a process is.
    if (!ReadSmallFile(proc_fd_, name, pid_cgroup_text_, Pieces::kOne)) continue;
    ++stats.looked_up;
    if (!InAgentCgroup(pid_cgroup_text_)) continue;
    ++stats.processes;
    if (!known_.insert(static_cast<int>(pid)).second) continue;
    ++stats.examined;
    for (const std::string& failure : ApplyPriority(static_cast<int>(pid), policy_, &stats)) {
      size_t colon = failure.find(": ");
      Fail(static_cast<int>(pid), failure.substr(0, colon), failure.substr(colon + 2));
    }
  }
}

// "0.12 0.08 0.01 2/391 12345": the last field is the pid handed out last,
// in novad's pid namespace, the host's (an agent's processes have a pid
// there too, whatever namespace they are in).
std::optional<long> PrioritySweeper::NewestPid() {
  if (newest_pid_fd_ < 0 || !ReadFromStart(newest_pid_fd_, newest_pid_text_, Pieces::kOne)) {
    return std::nullopt;
  }
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
  ++cgroups_read_;
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
  std::optional<std::chrono::steady_clock::duration> since_full;
  if (last_full_) since_full = now - *last_full_;
  if (FullSweepDue(since_full, created_since(newest_at_full_), skipped_seen_pids_since_full_)) {
    full = true;
  }
  if (!full && !created && !settling_) {
    stats.skipped = true;
    return stats;
  }
  settling_ = created;
  std::optional<long> from = newest_at_pass_before_;
  newest_at_pass_before_ = newest_at_pass_;
  newest_at_pass_ = newest;
  if (full) {
    last_full_ = now;
    newest_at_full_ = newest;
    skipped_seen_pids_since_full_ = false;
  }
  // Looking up a pid costs three system calls; a pass over cgroup.procs one
  // per cgroup and, for each process listed, about a tenth of one (the
  // kernel's line, novad's parse and set). A pid wrapped around (newest below
  // FROM) or many handed out: cgroup.procs.
  if (!full && proc_fd_ >= 0 && newest && from && *newest >= *from &&
      3 * (*newest - *from) <= cgroups_read_ + processes_listed_ / 10) {
    SweepNewPids(*from, *newest, stats);
    return stats;
  }
  if (!full) skipped_seen_pids_since_full_ = true;
  cgroups_read_ = 0;
  std::unordered_set<int> seen;
  seen.reserve(known_.size());
  seen_subdirectories_.clear();
  cgroups_.ForEach([&](const AgentCgroups::Entry& agent) {
    ++cgroups_read_;
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
  processes_listed_ = stats.processes;
  known_ = std::move(seen);
  subdirectories_.swap(seen_subdirectories_);
  seen_subdirectories_.clear();
  return stats;
}

}  // namespace nova
