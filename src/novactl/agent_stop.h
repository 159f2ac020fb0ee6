// novad queues an agent's stop and answers at once; novactl kill waits here
// until the agents are gone: until systemd has unloaded their units (at once,
// with CollectMode=inactive-or-failed, unless something holds them: then a
// stopped unit is good enough after a moment), within the stop timeout plus
// 30 s. Several agents are waited for together, one listing per tick.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "systemd.h"

namespace nova {

// Which of the awaited agents are still there, tick by tick: an agent is gone
// once its unit is unloaded, or has stayed stopped for `settle`.
class StopTracker {
 public:
  using Clock = std::chrono::steady_clock;
  StopTracker(std::vector<std::string> names, Clock::duration settle);
  // Takes one listing of the agents' states; returns the agents still there.
  const std::vector<std::string>& Update(const std::map<std::string, UnitState>& states,
                                         Clock::time_point now);
  const std::vector<std::string>& remaining() const { return remaining_; }

 private:
  std::vector<std::string> remaining_;
  std::map<std::string, Clock::time_point> stopped_at_;
  Clock::duration settle_;
};

// Says on stderr what it waits for when a graceful stop takes over a second;
// throws Failed when the deadline passes.
void WaitUntilAgentsGone(const std::vector<std::string>& names, bool force);
inline void WaitUntilAgentGone(const std::string& name, bool force) {
  WaitUntilAgentsGone({name}, force);
}

// The live agents `novactl kill --all` stops: those of `user`, or every one
// when `user` is nullopt (root without --user); sorted by name.
std::vector<std::string> AgentsToKill(const std::vector<AgentUnitInfo>& agents,
                                      const std::optional<std::string>& user);

}  // namespace nova
