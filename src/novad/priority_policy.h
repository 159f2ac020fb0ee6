// Coder's process-priority policy (CODER_PROC_*), with novad as the
// supervisor: whether it is on, and the oom_score_adj and nice its agents
// get. Computed once from novad's own environment and priorities; applied at
// spawn time as the unit properties OOMScoreAdjust= and Nice=, so an agent
// starts right without any polling.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nova {

struct PriorityPolicy {
  bool enabled = false;
  int own_oom_score_adj = 0;  // the supervisor's, which decides what counts as custom
  int oom_score_adj = 0;
  int nice = 0;
  std::vector<std::string> problems;  // invalid variables, each one line
};

// Coder's default for children from the supervisor's own oom_score_adj:
// negative -> 0, >= 998 -> 1000, anything else -> 998.
int ChildOomScore(int own_oom_score_adj);

// The supervisor's nice + 5, at most 19.
int ChildNice(int own_nice);

// An oom_score_adj the policy would not have set (not 0, 998, 1000 or the
// supervisor's own) was chosen by someone else and is left alone.
bool IsCustomOomScore(int value, int own_oom_score_adj);

// `getenv` looks up novad's environment (nullopt = unset).
PriorityPolicy ComputePriorityPolicy(
    const std::function<std::optional<std::string>(const std::string&)>& getenv,
    int own_oom_score_adj, int own_nice);

// The policy of this process, from its environment and /proc/self.
PriorityPolicy ReadPriorityPolicy();

}  // namespace nova
