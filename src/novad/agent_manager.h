// novad's policy for spawning and killing agents: who may do what, admission
// control, and the order of the calls to systemd, such that a refused or
// failed spawn never leaves a unit behind and never touches another agent.
// novad runs one AgentManager per worker thread, each on its own systemd
// connection; what they share (SpawnsInFlight, the AdmissionGate, the
// configuration and the files) is safe to share.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "admission.h"
#include "agent_name.h"
#include "attach.h"
#include "config.h"
#include "errors.h"
#include "meminfo.h"
#include "metrics.h"
#include "nova_bus.h"
#include "outcome.h"
#include "priority_policy.h"
#include "spawn_spec.h"
#include "systemd.h"

namespace nova {

// Who is calling, as the bus reports it. `agent` is set when the calling
// process lies inside the agents' slice (the agent's name, or "" when that
// cannot be told or the process is gone): such a caller is refused whatever
// its uid, so an agent can never act as its owner.
struct Caller {
  uint32_t uid = 0;
  std::optional<std::string> agent;
  uint32_t pid = 0;  // the calling process, as the bus reports it
};

// Throws PermissionDenied for a caller inside an agent.
void RefuseAgentCaller(const Caller& caller);

// The spawns admitted whose start job has not ended yet, shared by every
// worker: admission counts them as running, so that spawns deciding at once
// cannot together pass MaxAgents or MaxAgentsPerUser. Decide() serializes
// the decisions (listing, checks, reservation), not the start jobs.
// Thread-safe.
class SpawnsInFlight {
 public:
  struct Spawn {
    std::string user;
    uint64_t memory_max = 0;
  };
  // Holds the name in flight until destroyed.
  class Reservation {
   public:
    Reservation(SpawnsInFlight* owner, std::string name);
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&&) = delete;
    ~Reservation();

   private:
    SpawnsInFlight* owner_;
    std::string name_;
  };

  // Held while one spawn lists, checks and reserves.
  std::unique_lock<std::mutex> Decide() { return std::unique_lock(decide_); }
  // Call with Decide()'s lock held.
  Reservation Reserve(const std::string& name, Spawn spawn);
  // The spawns in flight but those named in `visible` (whose units the
  // listing already counts).
  std::map<std::string, Spawn> Besides(const std::map<std::string, UnitState>& visible) const;
  bool Contains(const std::string& name) const;

 private:
  std::mutex decide_;
  mutable std::mutex mutex_;
  std::map<std::string, Spawn> spawns_;
};

class AgentManager {
 public:
  AgentManager(Systemd& systemd, const Config& config, const OutcomeStore& outcomes,
               std::function<HostMemory()> read_memory, std::string hook_path,
               PriorityPolicy priority = {}, const AdmissionGate* admission_gate = nullptr,
               SpawnsInFlight* in_flight = nullptr, Metrics* metrics = nullptr,
               std::string agents_cgroup = kAgentsCgroup);

  SpawnResult Spawn(const SpawnRequest& request, const Caller& caller);
  // Sends the kill and queues the stop; returns without waiting for it.
  void Kill(const std::string& name, bool force, const Caller& caller);
  // A name KillMany did not stop, and why (the error Kill would throw).
  struct KillRefusal {
    std::string name;
    Error error;
  };
  // Kill for each of `names`, checked one by one as Kill checks one (a
  // refused name never stops the others), with one listing and one batch
  // of stops for all. Throws only for what refuses the whole call: a caller
  // inside an agent, or more names than kMaxKillNames.
  std::vector<KillRefusal> KillMany(const std::vector<std::string>& names, bool force,
                                    const Caller& caller);
  static constexpr std::size_t kMaxKillNames = 4096;

  // Moves `target` (the caller's child, pinned; null when no such process
  // exists) into running agent `name`'s unit and gives it the priority
  // policy, for `novactl exec`. Every refusal is CheckAttach's; a process
  // that ended during the move, or is not in the agent after it, fails.
  void Attach(const std::string& name, uint32_t pid, AttachTarget* target, const Caller& caller);

  // How long novad waits for a stuck start's unit to stop once killed.
  static constexpr Usec kAbandonDeadline = std::chrono::seconds(10);
  // How long a spawn waits for the previous run's outcome to be recorded.
  static constexpr Usec kOutcomeDeadline = std::chrono::seconds(5);

 private:
  std::string ResolveUser(const SpawnRequest& request, const Caller& caller) const;
  // Throws SpawnFailed after making sure no unit is left, explained by the
  // outcome the agent's exit hook recorded since `started_usec`, if any.
  // `what` wins over the recorded outcome when `what_is_why`.
  [[noreturn]] void FailSpawn(const AgentSpec& spec, const std::string& what, int64_t started_usec,
                              bool what_is_why = false);
  // A start job past StartTimeout: kills and stops the unit and forgets it,
  // so that it cannot start after the caller was told it failed.
  void AbandonStart(const std::string& unit);
  // Waits for the previous run's outcome to be recorded and its unit to go
  // (at most kOutcomeDeadline), then refuses a name whose last outcome
  // belongs to another user, so that neither is clobbered. `first_look`
  // holds the recorders' (and the old unit's) states when the caller listed
  // them.
  void ClaimName(const AgentSpec& spec, const Caller& caller,
                 const std::vector<std::string>& recorders,
                 std::optional<std::map<std::string, UnitState>> first_look);

  // Under MaxAgents=auto: the memory each live agent among `units` was
  // given, from its cgroup's memory.max (no round trip per agent). False
  // when one cannot be read (its cgroup not made yet, or gone): systemd is
  // asked then.
  bool ReadGivenMemory(std::vector<AgentUnitInfo>& units) const;
  // Under MaxAgentsPerUser: how many live agents among `units` are USER's
  // (uid UID), from the owners of their cgroups, asking systemd only about
  // those whose cgroup says no one yet.
  uint64_t CountAgentsOf(const std::vector<AgentUnitInfo>& units, uid_t uid,
                         const std::string& user);

  Systemd& systemd_;
  const Config& config_;
  const OutcomeStore& outcomes_;
  std::function<HostMemory()> read_memory_;
  std::string hook_path_;
  SystemdFeatures features_;  // the manager's version does not change under us
  PriorityPolicy priority_;
  const AdmissionGate* admission_gate_;  // novad's watcher keeps it; null = no hysteresis
  SpawnsInFlight own_in_flight_;
  SpawnsInFlight* in_flight_;  // shared by novad's workers, or own_in_flight_
  std::string agents_cgroup_;  // where the agents' cgroups are (kAgentsCgroup)
  Metrics* metrics_;           // counts refusals; null = not counted
};

}  // namespace nova
