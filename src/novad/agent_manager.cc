#include "agent_manager.h"

#include <pwd.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <thread>
#include <utility>

#include "admission.h"
#include "agent_cgroups.h"
#include "agent_name.h"
#include "errors.h"
#include "text.h"
#include "users.h"

namespace nova {

void RefuseAgentCaller(const Caller& caller) {
  if (!caller.agent) return;
  std::string where = caller.agent->empty()
                          ? std::string("a process in the agents' slice")
                          : "agent \"" + *caller.agent + "\" (" + AgentUnit(*caller.agent) + ")";
  throw Error(ErrorKind::kPermissionDenied,
              "agents cannot manage agents: this call comes from " + where);
}

SpawnsInFlight::Reservation::Reservation(SpawnsInFlight* owner, std::string name)
    : owner_(owner), name_(std::move(name)) {}

SpawnsInFlight::Reservation::Reservation(Reservation&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), name_(std::move(other.name_)) {}

SpawnsInFlight::Reservation::~Reservation() {
  if (!owner_) return;
  std::lock_guard lock(owner_->mutex_);
  owner_->spawns_.erase(name_);
}

SpawnsInFlight::Reservation SpawnsInFlight::Reserve(const std::string& name, Spawn spawn) {
  std::lock_guard lock(mutex_);
  spawns_[name] = std::move(spawn);
  return Reservation(this, name);
}

std::map<std::string, SpawnsInFlight::Spawn> SpawnsInFlight::Besides(
    const std::map<std::string, UnitState>& visible) const {
  std::lock_guard lock(mutex_);
  std::map<std::string, Spawn> out;
  for (const auto& [name, spawn] : spawns_) {
    if (auto it = visible.find(name); it == visible.end() || !it->second.live()) {
      out[name] = spawn;
    }
  }
  return out;
}

bool SpawnsInFlight::Contains(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return spawns_.count(name) > 0;
}

AgentManager::AgentManager(Systemd& systemd, const Config& config, const OutcomeStore& outcomes,
                           std::function<HostMemory()> read_memory, std::string hook_path,
                           PriorityPolicy priority, const AdmissionGate* admission_gate,
                           SpawnsInFlight* in_flight, Metrics* metrics, std::string agents_cgroup)
    : systemd_(systemd),
      config_(config),
      outcomes_(outcomes),
      read_memory_(std::move(read_memory)),
      hook_path_(std::move(hook_path)),
      features_{systemd.Version()},
      priority_(std::move(priority)),
      admission_gate_(admission_gate),
      in_flight_(in_flight ? in_flight : &own_in_flight_),
      agents_cgroup_(std::move(agents_cgroup)),
      metrics_(metrics) {}

std::string AgentManager::ResolveUser(const SpawnRequest& request, const Caller& caller) const {
  std::string caller_name = UserNameForUid(caller.uid);
  if (!request.user || request.user->empty()) return caller_name;
  std::string buffer;
  auto pw = LookupUser(&*request.user, 0, buffer);
  if (!pw) {
    throw Error(ErrorKind::kInvalidArgument,
                "--user \"" + Printable(*request.user) + "\": no such user on this host");
  }
  if (caller.uid != 0 && pw->pw_uid != caller.uid) {
    throw Error(ErrorKind::kPermissionDenied, "--user " + Printable(*request.user) +
                                                  ": only root may run an agent as "
                                                  "another user; you are " +
                                                  caller_name);
  }
  return pw->pw_name;
}

SpawnResult AgentManager::Spawn(const SpawnRequest& request, const Caller& caller) {
  RefuseAgentCaller(caller);
  bool privileged = caller.uid == 0;
  AgentSpec spec = ResolveSpawn(request, config_, read_memory_().total, privileged);
  spec.user = ResolveUser(request, caller);
  // systemd makes a missing mount point on the host: hide only trees that
  // exist. These are fixed system trees, never the workdir: novad does not
  // touch the workdir, which a caller's file system might never answer for.
  std::erase_if(spec.hidden_trees, [](const std::string& tree) {
    std::error_code ignored;
    return !std::filesystem::is_directory(tree, ignored);
  });
  if (priority_.enabled) {
    spec.nice = priority_.nice;
    spec.oom_score_adjust = priority_.oom_score_adj;
  }
  std::string unit = AgentUnit(spec.name);

  // Listing, checks and reservation are one decision at a time, so that
  // spawns deciding at once count each other; the start jobs are not.
  auto deciding = in_flight_->Decide();
  HostMemory memory = read_memory_();
  // One listing answers every question: is the name taken, how many run,
  // the name's outcome recorders (so that ClaimName need not ask again) and,
  // when the policy counts them, how much memory the agents were given and
  // whose they are (their cgroups say, at no round trip per agent).
  bool per_user = !privileged && config_.max_agents_per_user > 0;
  bool by_memory = config_.max_agents == 0;
  std::vector<std::string> recorders = {OutcomeUnitOnSuccess(spec.name),
                                        OutcomeUnitOnFailure(spec.name)};
  std::map<std::string, UnitState> recorder_states;
  std::vector<AgentUnitInfo> units =
      systemd_.ListAgentsWith(AgentFields{}, recorders, &recorder_states);
  if (by_memory && !ReadGivenMemory(units)) {
    units = systemd_.ListAgentsWith(AgentFields{.memory_max = true}, recorders, &recorder_states);
  }
  std::map<std::string, UnitState> states;
  for (const auto& u : units) states[u.name] = UnitState{u.active_state, u.sub_state};
  if (auto it = states.find(spec.name); it != states.end() && it->second.live()) {
    throw Error(ErrorKind::kAlreadyRunning, "agent \"" + spec.name + "\" is already running (" +
                                                unit + ", " + it->second.active_state +
                                                "); kill it first or choose another name");
  }
  if (in_flight_->Contains(spec.name)) {
    throw Error(ErrorKind::kAlreadyRunning, "agent \"" + spec.name +
                                                "\" is being started by another call; wait for "
                                                "it or choose another name");
  }
  auto others = in_flight_->Besides(states);
  auto refuse = [&](const std::string& why) {
    if (metrics_) metrics_->CountAdmissionRefusal();
    throw Error(ErrorKind::kAdmissionRefused, "agent \"" + spec.name + "\" refused: " + why);
  };
  if (per_user) {
    // Not privileged: the agent runs as the caller (ResolveUser).
    uint64_t theirs = CountAgentsOf(units, caller.uid, spec.user);
    theirs += std::count_if(others.begin(), others.end(),
                            [&](const auto& o) { return o.second.user == spec.user; });
    if (auto refusal = PerUserRefusal(config_, spec.user, theirs)) refuse(*refusal);
  }
  AgentLoad load;
  if (by_memory) {
    load = MeasureLoad(units, memory.total);
    for (const auto& [name, other] : others) {
      uint64_t held = other.memory_max == kInfinity ? memory.total : other.memory_max;
      load.memory_committed =
          held > kInfinity - load.memory_committed ? kInfinity : load.memory_committed + held;
    }
  } else {
    load.running =
        std::count_if(units.begin(), units.end(), [](const auto& u) { return u.live(); });
  }
  load.running += others.size();
  if (auto refusal = AdmissionRefusal(config_, memory, load, spec.memory_max,
                                      !admission_gate_ || admission_gate_->open())) {
    refuse(*refusal);
  }
  if (auto old = states.find(spec.name); old != states.end()) {
    systemd_.ResetFailedUnit(unit);  // a leftover from an earlier run
    recorder_states[unit] = old->second;
  }
  auto reservation = in_flight_->Reserve(spec.name, {spec.user, spec.memory_max});
  deciding.unlock();

  ClaimName(spec, caller, recorders, std::move(recorder_states));
  outcomes_.ClearKillMarker(spec.name);
  outcomes_.WriteOwner(spec.name, spec.user);
  for (const auto& [name, path] : outcomes_.WriteSecrets(spec.name, request.secrets)) {
    spec.credentials.emplace_back(name, path);
  }
  int64_t started = RealtimeUsec();
  // One transaction: the agent, and its soft-deadline timer pulled in by it.
  std::string result;
  try {
    result =
        systemd_.StartTransientUnit(unit, AgentUnitProperties(spec, features_),
                                    SoftDeadlineUnits(spec, hook_path_), config_.start_timeout);
  } catch (...) {
    // Refused before any unit existed: nothing will record an outcome.
    outcomes_.RemoveSecrets(spec.name);
    outcomes_.TakeOwner(spec.name);
    throw;
  }
  if (result == kJobDeadlinePassed) {
    AbandonStart(unit);
    FailSpawn(spec,
              "its start job did not finish within " + FormatDuration(config_.start_timeout) +
                  " (StartTimeout), so novad killed and removed it (does the workdir answer?)",
              started, true);
  }
  if (result != "done") FailSpawn(spec, "start job " + result, started);

  auto state = systemd_.ServiceState(unit);
  if (!state) {
    // Started, then gone before we looked: the command ran and ended at once.
    return SpawnResult{unit, "inactive", "dead", 0};
  }
  return SpawnResult{unit, state->first.active_state, state->first.sub_state, state->second};
}

bool AgentManager::ReadGivenMemory(std::vector<AgentUnitInfo>& units) const {
  // memory.max is systemd's MemoryMax= as the kernel holds it (rounded down
  // to a page), written as systemd makes the cgroup, before the unit says
  // activating. The agent's user cannot write it: delegation hands over the
  // directory and cgroup.procs, not the cgroup's own limits.
  for (AgentUnitInfo& u : units) {
    if (!u.live()) continue;
    auto given = MemoryMaxOf(agents_cgroup_ + "/" + u.unit);
    if (!given) return false;
    u.memory_max = *given;
  }
  return true;
}

uint64_t AgentManager::CountAgentsOf(const std::vector<AgentUnitInfo>& units, uid_t uid,
                                     const std::string& user) {
  // Whose a live agent is: the user its cgroup was handed to (Delegate=yes).
  // Its processes cannot give it away or take another's: chown is root's.
  // systemd is asked about the others only (not handed over yet, User=root,
  // no cgroup to read), in one listing and one batch however many they are.
  uint64_t theirs = 0;
  std::vector<std::string> ask;
  for (const AgentUnitInfo& u : units) {
    if (!u.live()) continue;
    if (auto owner = DelegatedTo(agents_cgroup_ + "/" + u.unit)) {
      theirs += *owner == uid;
    } else {
      ask.push_back(u.name);
    }
  }
  if (ask.empty()) return theirs;
  for (const auto& [name, owner] : systemd_.AgentOwners(ask)) {
    theirs += owner.state.live() && owner.user == user;
  }
  return theirs;
}

void AgentManager::AbandonStart(const std::string& unit) {
  // SIGKILL first: a process stuck in a file system request dies only of a
  // fatal signal, and the stop would wait out the stop timeout for it.
  try {
    systemd_.KillUnit(unit, "all", SIGKILL);
    std::string stop = systemd_.StopUnit(unit, kAbandonDeadline);
    if (stop != "done") spdlog::warn("stopping the stuck start of {}: job {}", unit, stop);
    systemd_.ResetFailedUnit(unit);
  } catch (const std::exception& e) {
    spdlog::error("could not remove the stuck start of {}: {}", unit, e.what());
  }
  if (auto left = systemd_.GetUnitState(unit)) {
    spdlog::error("{} is still loaded ({}/{}) after its stuck start was stopped", unit,
                  left->active_state, left->sub_state);
  }
}

void AgentManager::ClaimName(const AgentSpec& spec, const Caller& caller,
                             const std::vector<std::string>& recorders,
                             std::optional<std::map<std::string, UnitState>> first_look) {
  // The previous agent's recorder first, then its outcome: the owner read
  // before that recorder ran would be of the run before. And the previous
  // agent's unit gone: systemd unloads it only after its recorder ran, and
  // refuses to make a unit of a name still loaded. Both recorders' states and
  // the unit's in one call per look; the first look may have been made
  // already, with the agents' listing.
  std::string unit = AgentUnit(spec.name);
  std::vector<std::string> looked_at = recorders;
  looked_at.push_back(unit);
  auto deadline = std::chrono::steady_clock::now() + kOutcomeDeadline;
  for (;;) {
    auto states = first_look ? std::move(*first_look) : systemd_.UnitStates(looked_at);
    first_look.reset();
    auto busy = std::find_if(recorders.begin(), recorders.end(), [&](const std::string& recorder) {
      auto it = states.find(recorder);
      return it != states.end() && it->second.busy();
    });
    bool old_unit_loaded = states.count(unit) > 0;
    if (busy == recorders.end() && !old_unit_loaded) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      if (busy != recorders.end()) {
        throw Error(ErrorKind::kAlreadyRunning, "the outcome of the previous agent \"" + spec.name +
                                                    "\" is still being recorded (" + *busy +
                                                    "); try again in a moment");
      }
      break;  // something else holds the old unit: the start will say so
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (caller.uid != 0) {
    auto last = outcomes_.Read(spec.name);
    if (last && !last->user.empty() && last->user != spec.user) {
      throw Error(ErrorKind::kAlreadyRunning,
                  "agent name \"" + spec.name + "\" is held by the recorded outcome of " +
                      last->user + "'s agent; choose another name (root may reuse it)");
    }
  }
}

void AgentManager::FailSpawn(const AgentSpec& spec, const std::string& what, int64_t started_usec,
                             bool what_is_why) {
  std::string unit = AgentUnit(spec.name);
  // nova-outcome@NAME records why it failed; give it a moment to land.
  std::string reason;
  for (int i = 0; i < 50 && reason.empty() && !what_is_why; ++i) {
    auto outcome = outcomes_.Read(spec.name);
    if (outcome && outcome->finished_at_usec >= started_usec) {
      reason = StartFailureReason(outcome->exit_status);
      if (reason.empty()) reason = DescribeOutcome(*outcome);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  systemd_.ResetFailedUnit(unit);
  outcomes_.RemoveSecrets(spec.name);
  throw Error(ErrorKind::kSpawnFailed,
              "agent \"" + spec.name + "\" failed to start: " + (reason.empty() ? what : reason) +
                  "; command: " + spec.argv[0] + ", workdir: " + spec.workdir +
                  ", user: " + spec.user);
}

void AgentManager::Kill(const std::string& name, bool force, const Caller& caller) {
  auto refused = KillMany({name}, force, caller);
  if (!refused.empty()) throw refused.front().error;
}

std::vector<AgentManager::KillRefusal> AgentManager::KillMany(const std::vector<std::string>& names,
                                                              bool force, const Caller& caller) {
  RefuseAgentCaller(caller);
  if (names.size() > kMaxKillNames) {
    throw Error(ErrorKind::kInvalidArgument, std::to_string(names.size()) +
                                                 " names in one kill; at most " +
                                                 std::to_string(kMaxKillNames));
  }
  std::vector<KillRefusal> refused;
  // Every name is checked before anything is asked of systemd with it.
  std::vector<std::string> valid;
  for (const auto& name : names) {
    try {
      ValidateAgentName(name);
    } catch (const Error& e) {
      refused.push_back({name, e});
      continue;
    }
    if (std::find(valid.begin(), valid.end(), name) == valid.end()) valid.push_back(name);
  }
  auto owners = systemd_.AgentOwners(valid);
  std::string caller_name = UserNameForUid(caller.uid);
  KillMarker marker{caller_name, force ? "kill --force" : "kill"};
  std::vector<std::string> names_to_stop, units;
  for (const auto& name : valid) {
    auto it = owners.find(name);
    if (it == owners.end() || !it->second.state.live()) {
      refused.push_back({name, Error(ErrorKind::kNotFound, "no running agent named \"" + name +
                                                               "\"; see novactl status")});
    } else if (caller.uid != 0 && it->second.user != caller_name) {
      refused.push_back({name, Error(ErrorKind::kPermissionDenied,
                                     "agent \"" + name + "\" runs as " + it->second.user +
                                         "; only its user or root may kill it")});
    } else {
      // The marker first, so that the recorded outcome says who killed it.
      outcomes_.WriteKillMarker(name, marker);
      names_to_stop.push_back(name);
      units.push_back(AgentUnit(name));
    }
  }
  // Queue the stops and return: a graceful stop may take the whole stop
  // timeout, and novad keeps serving meanwhile; novactl waits for the units.
  std::map<std::string, std::string> failed;
  try {
    failed = systemd_.StopUnits(units, force);
  } catch (const Error& e) {
    for (const auto& unit : units) failed[unit] = e.what();
  }
  for (const auto& name : names_to_stop) {
    if (auto it = failed.find(AgentUnit(name)); it != failed.end()) {
      // Not stopped: a later end of the agent is not blamed on this kill.
      outcomes_.ClearKillMarker(name);
      refused.push_back({name, Error(ErrorKind::kFailed, it->second)});
    }
  }
  return refused;
}

}  // namespace nova

namespace nova {

void AgentManager::Attach(const std::string& name, uint32_t pid, AttachTarget* target,
                          const Caller& caller) {
  RefuseAgentCaller(caller);
  ValidateAgentName(name);
  auto agent = systemd_.GetAgent(name);
  // Facts read while the process is pinned are its own only if it still
  // lives after they were read: a dead process's pid may be another's.
  std::optional<ProcessFacts> facts = target ? target->Facts() : std::nullopt;
  if (target && !target->Alive()) facts.reset();
  CheckAttach(caller.uid, caller.pid, name, agent, pid, facts);
  systemd_.AttachProcesses(agent->unit, {pid});
  // systemd moved whatever had that pid when it looked: had ours died in
  // between, it may have been another. Alive now means it was ours.
  std::string process = "process " + std::to_string(pid);
  if (!target->Alive()) {
    spdlog::warn(
        "{} of uid {} ended while being attached to agent {}; whatever has that pid now "
        "may be in {}",
        process, caller.uid, name, agent->unit);
    throw Error(ErrorKind::kFailed,
                process + " ended while it was being attached to agent \"" + name + "\"");
  }
  auto after = target->Facts();
  if (!after || AgentOfCgroup(after->cgroup) != name) {
    throw Error(ErrorKind::kFailed, process + " is not in agent \"" + name +
                                        "\" after the attach (cgroup " +
                                        (after ? after->cgroup : std::string("unknown")) + ")");
  }
  for (const std::string& failure : target->ApplyPriority(priority_)) {
    spdlog::warn("{} attached to agent {}: {}", process, name, failure);
  }
}

}  // namespace nova
