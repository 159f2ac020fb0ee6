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

#include "text.h"

namespace nova {

namespace {

// Reads a small file below DIR_FD whole, without the cost of a stream (the
// sweep reads one per agent every tick).
bool ReadSmallFile(int dir_fd, const char* name, std::string& out) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

// The whole of an open file, read again from its start (cgroupfs makes the
// list anew at each read from offset 0).
bool ReadFromStart(int fd, std::string& out) {
  out.clear();
  char buffer[4096];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
}

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

PrioritySweeper::PrioritySweeper(PriorityPolicy policy, std::string agents_cgroup)
    : policy_(std::move(policy)), agents_cgroup_(std::move(agents_cgroup)) {}

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

PrioritySweeper::~PrioritySweeper() { Forget(); }

void PrioritySweeper::Forget() {
  for (auto& [name, cgroup] : cgroups_) ::close(cgroup.procs_fd);
  cgroups_.clear();
  if (slice_) ::closedir(slice_);
  slice_ = nullptr;
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
  if (!last_full_ || now - *last_full_ >= kFullSweepInterval) full = true;
  if (full) last_full_ = now;
  std::unordered_set<int> seen;
  seen.reserve(known_.size());
  // systemd removes the slice's cgroup when its last agent is gone and makes
  // a new one for the next: a slice that is not the one held is opened again.
  struct stat slice_stat {};
  if (::stat(agents_cgroup_.c_str(), &slice_stat) != 0) {
    Forget();
    known_.clear();
    return stats;
  }
  if (!slice_ || slice_stat.st_ino != slice_inode_) {
    Forget();
    slice_ = ::opendir(agents_cgroup_.c_str());
    slice_inode_ = slice_stat.st_ino;
    if (!slice_) return stats;
  }
  ::rewinddir(slice_);
  int slice_fd = ::dirfd(slice_);
  ++generation_;
  while (dirent* entry = ::readdir(slice_)) {
    if (!MayBeDirectory(*entry)) continue;
    struct stat st {};
    if (::fstatat(slice_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
      continue;
    }
    // Each agent's cgroup.procs stays open from one sweep to the next and is
    // read again from its start: one read per agent per tick. A cgroup made
    // anew under the same name (an agent spawned again) has another inode.
    auto [it, added] = cgroups_.try_emplace(entry->d_name);
    CachedCgroup& cgroup = it->second;
    cgroup.generation = generation_;
    if (cgroup.procs_fd < 0 || cgroup.inode != st.st_ino) {
      if (cgroup.procs_fd >= 0) ::close(cgroup.procs_fd);
      cgroup.procs_fd = -1;
      cgroup.inode = st.st_ino;
      if (cgroups_.size() <= kMaxCachedCgroups) {
        std::string path = std::string(entry->d_name) + "/cgroup.procs";
        cgroup.procs_fd = ::openat(slice_fd, path.c_str(), O_RDONLY | O_CLOEXEC);
      }
    }
    bool read = false;
    if (cgroup.procs_fd >= 0) {
      read = ReadFromStart(cgroup.procs_fd, procs_buffer_);
    } else {
      std::string path = std::string(entry->d_name) + "/cgroup.procs";
      read = ReadSmallFile(slice_fd, path.c_str(), procs_buffer_);
    }
    if (read) {
      Examine(procs_buffer_, full, stats, seen);
    } else if (cgroup.procs_fd >= 0) {
      ::close(cgroup.procs_fd);  // gone meanwhile; opened again if it comes back
      cgroup.procs_fd = -1;
    }
    if (HasSubdirectories(st)) {
      int dir = ::openat(slice_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dir >= 0) {
        SweepChildren(dir, 1, full, stats, seen);
        ::close(dir);
      }
    }
  }
  std::erase_if(cgroups_, [&](const auto& entry) {
    if (entry.second.generation == generation_) return false;
    if (entry.second.procs_fd >= 0) ::close(entry.second.procs_fd);
    return true;
  });
  known_ = std::move(seen);
  return stats;
}

}  // namespace nova
