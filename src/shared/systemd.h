// Nova's boundary with systemd. Everything Nova asks of systemd goes through
// this interface, so the policy above it (AgentManager) is unit-tested against
// an in-memory fake, while what systemd really does is proved only in the
// system tests, against a real systemd.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duration.h"
#include "size.h"
#include "unit_properties.h"

namespace nova {

// An agent in one of these states exists: it runs, starts or stops.
inline bool IsLiveState(const std::string& active_state) {
  return active_state == "active" || active_state == "activating" ||
         active_state == "deactivating" || active_state == "reloading";
}

// What Nova reads back about one agent's unit.
struct AgentUnitInfo {
  std::string name;
  std::string unit;
  std::string active_state;  // active, activating, deactivating, failed, inactive
  std::string sub_state;     // running, exited, stop-sigterm...
  uint32_t main_pid = 0;
  uint64_t memory_current = kInfinity;  // kInfinity = unknown
  uint64_t memory_max = kInfinity;
  uint64_t tasks_current = kInfinity;
  uint64_t tasks_max = kInfinity;
  uint64_t cpu_usage_nsec = kInfinity;
  uint64_t runtime_max_usec = kInfinity;
  uint64_t active_enter_usec = 0;              // CLOCK_REALTIME; 0 = never active
  std::optional<uint64_t> soft_deadline_usec;  // CLOCK_REALTIME, while pending
  std::string user;
  std::string workdir;
  std::string control_group;
  std::vector<std::string> argv;
  // The sandbox profile, from NOVA_AGENT_SANDBOX in its Environment=; "none"
  // when unset (as for agents spawned before profiles existed).
  std::string sandbox = "none";

  bool live() const { return IsLiveState(active_state); }
};

// A unit's state as ListUnits reports it: one call, no properties.
struct UnitState {
  std::string active_state;
  std::string sub_state;
  uint32_t job_id = 0;  // a job queued or running for the unit, 0 if none
  bool live() const { return IsLiveState(active_state); }
  // Live, or about to be: a start job waits while the unit still says
  // inactive (an OnSuccess=/OnFailure= recorder is queued as its agent ends).
  bool busy() const { return live() || job_id != 0; }
};

// Which of an agent's properties ListAgentsWith reads besides its state.
struct AgentFields {
  bool memory_max = false;  // MemoryMax=
};

// What novad needs to know of an agent before it stops it.
struct AgentOwner {
  UnitState state;
  std::string user;  // the unit's User=
};

// What StartTransientUnit and StopUnit return when the job did not finish
// within the deadline (the job itself goes on in systemd).
inline constexpr const char* kJobDeadlinePassed = "deadline";

// One connection to systemd; use it from one thread at a time (novad gives
// each of its threads its own).
class Systemd {
 public:
  virtual ~Systemd() = default;

  // The manager's version number, e.g. 252.
  virtual unsigned Version() = 0;

  // Creates and starts a transient unit, with `aux` units created alongside
  // it, subscribed to its job before the call, and waits for the job to
  // finish. Returns the job result ("done", "failed", "timeout"...), or
  // kJobDeadlinePassed. Throws AlreadyRunning if the unit exists.
  virtual std::string StartTransientUnit(const std::string& unit, const UnitProperties& properties,
                                         const AuxUnits& aux, Usec deadline) = 0;

  // Stops a unit and waits for the job until `deadline`, or not at all when
  // there is none ("queued"). Returns the job's result (kJobDeadlinePassed
  // past the deadline); "done" when the unit is already gone.
  virtual std::string StopUnit(const std::string& unit, std::optional<Usec> deadline) = 0;

  // Sends `signal` to `whom` ("main", "all") of a unit.
  virtual void KillUnit(const std::string& unit, const std::string& whom, int signal) = 0;

  // Queues the stop of every unit, each after a SIGKILL to all its processes
  // when `force`, without waiting for the jobs. Returns the units whose calls
  // failed, with why; a unit already gone is not a failure.
  virtual std::map<std::string, std::string> StopUnits(const std::vector<std::string>& units,
                                                       bool force);

  // Moves processes into a running unit's cgroup (AttachProcessesToUnit; the
  // unit must have Delegate=yes). Throws NotFound when the unit is gone or
  // not active.
  virtual void AttachProcesses(const std::string& unit, const std::vector<uint32_t>& pids) = 0;

  // Forgets a failed unit; a unit that is not loaded is not an error.
  virtual void ResetFailedUnit(const std::string& unit) = 0;

  // The state of any unit, or nullopt when systemd has no such unit loaded.
  virtual std::optional<UnitState> GetUnitState(const std::string& unit) = 0;

  // The states of those units that systemd has loaded, by unit name; one
  // call for all of them.
  virtual std::map<std::string, UnitState> UnitStates(const std::vector<std::string>& units) = 0;

  // The main process of a service, 0 if none.
  virtual uint32_t MainPid(const std::string& unit) = 0;

  // The agent's unit, or nullopt when systemd has no such unit loaded.
  virtual std::optional<AgentUnitInfo> GetAgent(const std::string& name) = 0;

  // Every loaded agent unit.
  virtual std::vector<AgentUnitInfo> ListAgents() = 0;

  // The state and user of those named agents that systemd has loaded, by
  // name: what a kill checks, read with a constant number of round trips.
  virtual std::map<std::string, AgentOwner> AgentOwners(const std::vector<std::string>& names);

  // Handles, without blocking, what systemd sent this connection meanwhile
  // (its signals), so that a connection that rarely waits for a job does not
  // let them pile up.
  virtual void DrainMessages() {}

  // The state of every loaded agent unit, by agent name; one call, whatever
  // their number.
  virtual std::map<std::string, UnitState> AgentStates() = 0;

  // The loaded agents with their states and, for the live ones, only the
  // `fields` asked for (the others keep AgentUnitInfo's defaults), and in
  // the same listing the states of those of `units` that are loaded (by unit
  // name, into `unit_states`): what a spawn's admission counts, in one
  // listing and one batch of Gets (none when no field is asked), where
  // ListAgents reads every property of every agent and the soft timers.
  virtual std::vector<AgentUnitInfo> ListAgentsWith(AgentFields fields,
                                                    const std::vector<std::string>& units,
                                                    std::map<std::string, UnitState>* unit_states);

  // A service's state and main process (0 if none), read together in one
  // round trip; nullopt when systemd has no such unit.
  virtual std::optional<std::pair<UnitState, uint32_t>> ServiceState(const std::string& unit) {
    auto state = GetUnitState(unit);
    if (!state) return std::nullopt;
    return std::make_pair(*state, MainPid(unit));
  }
};

// systemd's D-Bus object path for a unit, as sd_bus_path_encode makes it:
// bytes other than ASCII letters and digits become _XX (unit names never
// start with a digit, which would be escaped too).
std::string UnitObjectPath(const std::string& unit);

// The agent a soft-deadline timer (nova-soft-NAME.timer) belongs to.
std::optional<std::string> AgentNameFromSoftTimer(std::string_view unit);

// A timer's next elapse (CLOCK_MONOTONIC, as systemd reports it) on the
// realtime clock; nullopt when none is due (0 or infinity). A time already
// past is now.
std::optional<uint64_t> SoftDeadlineRealtime(uint64_t next_monotonic, uint64_t now_monotonic,
                                             uint64_t now_realtime);

// The real thing, on the system bus. Batches of calls go on a second
// connection (sd-bus's own, which sdbus-c++ does not expose), made when first
// needed, or at once with kNow: novad's threads connect everything at start,
// so that no call pays for a connection and a refusing bus fails novad at
// once, not a caller later.
enum class SecondConnection { kWhenNeeded, kNow };
std::unique_ptr<Systemd> ConnectSystemd(SecondConnection second = SecondConnection::kWhenNeeded);

}  // namespace nova
