// novad queues an agent's stop and answers at once; novactl kill waits here
// until the agents are stopped, as systemctl stop does: until each unit is
// inactive or failed (or unloaded), within the stop timeout plus 30 s. The
// outcome recorder (OnSuccess=/OnFailure=) is queued by systemd in that same
// step and writes the outcome a moment later; `novactl status` waits for a
// pending one, and a spawn of the name waits for it too. Like systemctl, one
// connection, its signal matches set up before novad is asked: the wait is
// for systemd's JobRemoved and UnitRemoved, with a listing each time and
// every 250 ms besides.
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

// Which of the awaited agents still run, listing by listing: an agent is
// stopped once its unit is unloaded or no longer live (inactive, failed).
class StopTracker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StopTracker(std::vector<std::string> names);
  // Takes one listing of the agents' states; returns the agents still running.
  const std::vector<std::string>& Update(const std::map<std::string, UnitState>& states);
  const std::vector<std::string>& remaining() const { return remaining_; }

 private:
  std::vector<std::string> remaining_;
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
  // Waits until every agent Kill queued is stopped. Says on stderr what it
  // waits for when a graceful stop takes over a second; throws Failed when
  // the deadline passes.
  void WaitUntilStopped(bool force);
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
