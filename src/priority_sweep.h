// The sweep that keeps the priority policy right after spawn: processes in
// agent units (found through the agents slice's cgroups, never by scanning
// every process on the host) that sit at the default get the policy; a nice
// value a user chose and an oom_score_adj the policy would not have set are
// left alone. novad is not in an agent unit, so it is never deprioritised.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "agent_name.h"
#include "priority_policy.h"

namespace nova {

struct ProcessPriority {
  int nice = 0;
  int oom_score_adj = 0;
};

struct SweepDecision {
  bool set_nice = false;
  bool set_oom_score_adj = false;
};

// Coder's rules: nice only where it is 0 (unset); oom_score_adj where it
// differs from the policy and is not custom (see IsCustomOomScore).
SweepDecision DecideSweep(const ProcessPriority& process, const PriorityPolicy& policy);

struct SweepStats {
  int processes = 0;
  int niced = 0;
  int oom_adjusted = 0;
  int failures = 0;
};

class PrioritySweeper {
 public:
  explicit PrioritySweeper(PriorityPolicy policy, std::string agents_cgroup = kAgentsCgroup);

  // One pass over every process of every agent. Failures are logged with pid,
  // command and reason, each distinct cause at most once a minute.
  SweepStats Sweep();

 private:
  void Fail(int pid, const std::string& what, const std::string& reason);

  PriorityPolicy policy_;
  std::string agents_cgroup_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_logged_;
};

}  // namespace nova
