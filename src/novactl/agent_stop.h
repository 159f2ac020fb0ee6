// novad queues an agent's stop and answers at once; novactl kill waits here
// until the agents are gone: until systemd has unloaded their units (once the
// outcome recorder has run: systemd keeps a unit whose OnSuccess=/OnFailure=
// job is pending, so the outcome is on disk by then), within the stop
// timeout plus 30 s. Like systemctl, one connection, its signal match set up
// before novad is asked: the wait is for systemd's UnitRemoved, not a poll. A
// slow listing backs the signals up, and lets a stopped unit that something
// else holds count as gone after a moment.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "errors.h"
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

// A kill from asking novad to the agents being gone, on one bus connection.
class AgentKiller {
 public:
  struct Refusal {
    std::string name;
    ErrorKind kind;
    std::string message;
  };
  AgentKiller();  // throws PermissionDenied inside an agent, Unavailable
  ~AgentKiller();
  AgentKiller(const AgentKiller&) = delete;
  AgentKiller& operator=(const AgentKiller&) = delete;

  // Asks novad to stop `names` (Kill for one, KillMany for more); returns
  // the names it refused. Throws when novad refused the whole call.
  std::vector<Refusal> Kill(const std::vector<std::string>& names, bool force);
  // Waits until every agent Kill queued is gone. Says on stderr what it waits
  // for when a graceful stop takes over a second; throws Failed when the
  // deadline passes.
  void WaitUntilGone(bool force);
  const std::vector<std::string>& queued() const { return queued_; }

 private:
  struct Bus;
  std::unique_ptr<Bus> bus_;
  std::vector<std::string> queued_;
};

// The live agents `novactl kill --all` stops: those of `user`, or every one
// when `user` is nullopt (root without --user); sorted by name.
std::vector<std::string> AgentsToKill(const std::vector<AgentUnitInfo>& agents,
                                      const std::optional<std::string>& user);

}  // namespace nova
