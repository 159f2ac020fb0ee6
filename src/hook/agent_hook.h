// nova-agent-hook: the small program systemd runs on an agent's behalf, each
// time in a root service of its own, never inside the agent's unit, so that
// nothing the agent or its owner controls (environment, preloaded libraries,
// forged SERVICE_RESULT) reaches a privileged process.
//   outcome NAME       nova-outcome-{success,failure}@NAME.service, started by
//                      systemd when the agent's unit ends (OnSuccess=/
//                      OnFailure=): records the
//                      outcome from what systemd reports ($MONITOR_*) and
//                      PID 1's own journal entries for that invocation.
//   soft-warning NAME  run by the agent's soft-deadline timer: SIGUSR1 to the
//                      agent's main process only, once.
// Both run inside systemd's own lifecycle of the agent, so they happen even
// while novad is stopped or restarting.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "outcome.h"

namespace nova {

// PID 1's journal messages about a unit that tell how its run ended
// (systemd's catalog: sd-messages.h).
inline constexpr std::string_view kUnitOutOfMemoryMessageId = "fe6faa94e7774663a0da52717891d8ef";
inline constexpr std::string_view kUnitSuccessMessageId = "7ad2d189f7e94e70a38c781354912448";
inline constexpr std::string_view kUnitFailureResultMessageId = "d9b373ed55a64feb8242e02dbe79a49c";

// Counts the OOM kills of one run of a unit from PID 1's journal entries for
// that invocation, in journal order. The run's last entry ("Deactivated
// successfully" or "Failed with result") comes after every OOM entry, so once
// it is seen the count is final.
class RunEndTally {
 public:
  void Observe(std::string_view message_id);
  uint64_t oom_kills() const { return oom_kills_; }
  bool ended() const { return ended_; }

 private:
  uint64_t oom_kills_ = 0;
  bool ended_ = false;
};

// The outcome of agent `name` from the variables systemd gives a unit started
// by OnSuccess=/OnFailure= ($MONITOR_SERVICE_RESULT, $MONITOR_EXIT_CODE,
// $MONITOR_EXIT_STATUS).
Outcome OutcomeFromMonitorEnvironment(const std::string& name,
                                      const std::map<std::string, std::string>& env,
                                      uint64_t oom_kills, int64_t now_usec);

int RunAgentHook(int argc, char** argv);

}  // namespace nova
