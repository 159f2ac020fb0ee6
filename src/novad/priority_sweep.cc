#include "priority_sweep.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "text.h"

namespace nova {
namespace fs = std::filesystem;

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
  std::ifstream oom("/proc/" + std::to_string(pid) + "/oom_score_adj");
  if (!(oom >> p.oom_score_adj)) return failures;
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

SweepStats PrioritySweeper::Sweep(bool full) {
  SweepStats stats;
  if (!policy_.enabled) return stats;
  auto now = std::chrono::steady_clock::now();
  if (!last_full_ || now - *last_full_ >= kFullSweepInterval) full = true;
  if (full) last_full_ = now;
  std::unordered_set<int> seen;
  seen.reserve(known_.size());
  std::error_code ec;
  for (fs::recursive_directory_iterator it(agents_cgroup_, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    std::ifstream procs(it->path() / "cgroup.procs");
    for (int pid; procs >> pid;) {
      ++stats.processes;
      seen.insert(pid);
      if (!full && known_.count(pid)) continue;
      ++stats.examined;
      for (const std::string& failure : ApplyPriority(pid, policy_, &stats)) {
        size_t colon = failure.find(": ");
        Fail(pid, failure.substr(0, colon), failure.substr(colon + 2));
      }
    }
  }
  known_ = std::move(seen);
  return stats;
}

}  // namespace nova
