#include "agent_manager.h"

#include <pwd.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "admission.h"
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

AgentManager::AgentManager(Systemd& systemd, const Config& config, const OutcomeStore& outcomes,
                           std::function<HostMemory()> read_memory, std::string hook_path,
                           PriorityPolicy priority, const AdmissionGate* admission_gate,
                           Metrics* metrics)
    : systemd_(systemd),
      config_(config),
      outcomes_(outcomes),
      read_memory_(std::move(read_memory)),
      hook_path_(std::move(hook_path)),
      features_{systemd.Version()},
      priority_(std::move(priority)),
      admission_gate_(admission_gate),
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
  HostMemory memory = read_memory_();
  bool privileged = caller.uid == 0;
  AgentSpec spec = ResolveSpawn(request, config_, memory.total, privileged);
  spec.user = ResolveUser(request, caller);
  // systemd makes a missing mount point on the host: hide only trees that exist.
  std::erase_if(spec.hidden_trees, [](const std::string& tree) {
    std::error_code ignored;
    return !std::filesystem::is_directory(tree, ignored);
  });
  if (priority_.enabled) {
    spec.nice = priority_.nice;
    spec.oom_score_adjust = priority_.oom_score_adj;
  }
  std::string unit = AgentUnit(spec.name);

  // One listing answers every question: is the name taken, how many run, and
  // when asked, whose they are and how much memory they were given. The
  // states alone are one call; the full listing one more per agent.
  bool per_user = !privileged && config_.max_agents_per_user > 0;
  bool by_memory = config_.max_agents == 0;
  std::vector<AgentUnitInfo> units;
  std::map<std::string, UnitState> states;
  if (per_user || by_memory) {
    units = systemd_.ListAgents();
    for (const auto& u : units) states[u.name] = UnitState{u.active_state, u.sub_state};
  } else {
    states = systemd_.AgentStates();
  }
  if (auto it = states.find(spec.name); it != states.end()) {
    if (it->second.live()) {
      throw Error(ErrorKind::kAlreadyRunning, "agent \"" + spec.name + "\" is already running (" +
                                                  unit + ", " + it->second.active_state +
                                                  "); kill it first or choose another name");
    }
    systemd_.ResetFailedUnit(unit);  // a leftover from an earlier run
  }
  auto refuse = [&](const std::string& why) {
    if (metrics_) metrics_->CountAdmissionRefusal();
    throw Error(ErrorKind::kAdmissionRefused, "agent \"" + spec.name + "\" refused: " + why);
  };
  if (per_user) {
    uint64_t theirs = std::count_if(units.begin(), units.end(), [&](const AgentUnitInfo& u) {
      return u.live() && u.user == spec.user;
    });
    if (auto refusal = PerUserRefusal(config_, spec.user, theirs)) refuse(*refusal);
  }
  AgentLoad load;
  if (by_memory) {
    load = MeasureLoad(units, memory.total);
  } else {
    load.running =
        std::count_if(states.begin(), states.end(), [](const auto& s) { return s.second.live(); });
  }
  if (auto refusal = AdmissionRefusal(config_, memory, load, spec.memory_max,
                                      !admission_gate_ || admission_gate_->open())) {
    refuse(*refusal);
  }

  ClaimName(spec, caller);
  outcomes_.ClearKillMarker(spec.name);
  outcomes_.WriteOwner(spec.name, spec.user);
  for (const auto& [name, path] : outcomes_.WriteSecrets(spec.name, request.secrets)) {
    spec.credentials.emplace_back(name, path);
  }
  int64_t started = RealtimeUsec();
  // One transaction: the agent, and its soft-deadline timer pulled in by it.
  std::string result;
  try {
    result = systemd_.StartTransientUnit(unit, AgentUnitProperties(spec, features_),
                                         SoftDeadlineUnits(spec, hook_path_), kStartDeadline);
  } catch (...) {
    // Refused before any unit existed: nothing will record an outcome.
    outcomes_.RemoveSecrets(spec.name);
    outcomes_.TakeOwner(spec.name);
    throw;
  }
  if (result != "done") FailSpawn(spec, "start job " + result, started);

  auto state = systemd_.GetUnitState(unit);
  if (!state) {
    // Started, then gone before we looked: the command ran and ended at once.
    return SpawnResult{unit, "inactive", "dead", 0};
  }
  return SpawnResult{unit, state->active_state, state->sub_state, systemd_.MainPid(unit)};
}

void AgentManager::ClaimName(const AgentSpec& spec, const Caller& caller) {
  if (caller.uid != 0) {
    auto last = outcomes_.Read(spec.name);
    if (last && !last->user.empty() && last->user != spec.user) {
      throw Error(ErrorKind::kAlreadyRunning,
                  "agent name \"" + spec.name + "\" is held by the recorded outcome of " +
                      last->user + "'s agent; choose another name (root may reuse it)");
    }
  }
  auto deadline = std::chrono::steady_clock::now() + kOutcomeDeadline;
  for (const std::string& outcome_unit :
       {OutcomeUnitOnSuccess(spec.name), OutcomeUnitOnFailure(spec.name)}) {
    for (;;) {
      auto state = systemd_.GetUnitState(outcome_unit);
      if (!state || !state->live()) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        throw Error(ErrorKind::kAlreadyRunning, "the outcome of the previous agent \"" + spec.name +
                                                    "\" is still being recorded (" + outcome_unit +
                                                    "); try again in a moment");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void AgentManager::FailSpawn(const AgentSpec& spec, const std::string& what, int64_t started_usec) {
  std::string unit = AgentUnit(spec.name);
  // nova-outcome@NAME records why it failed; give it a moment to land.
  std::string reason;
  for (int i = 0; i < 50 && reason.empty(); ++i) {
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
  RefuseAgentCaller(caller);
  ValidateAgentName(name);
  auto agent = systemd_.GetAgent(name);
  if (!agent || !agent->live()) {
    throw Error(ErrorKind::kNotFound,
                "no running agent named \"" + name + "\"; see novactl status");
  }
  std::string caller_name = UserNameForUid(caller.uid);
  if (caller.uid != 0 && agent->user != caller_name) {
    throw Error(ErrorKind::kPermissionDenied, "agent \"" + name + "\" runs as " + agent->user +
                                                  "; only its user or root may kill it");
  }
  // Queue the stop and return: a graceful stop may take the whole stop
  // timeout, and novad keeps serving meanwhile; novactl waits for the unit.
  outcomes_.KillMarked(name, {caller_name, force ? "kill --force" : "kill"}, [&] {
    if (force) systemd_.KillUnit(agent->unit, "all", SIGKILL);
    systemd_.StopUnit(agent->unit, std::nullopt);
  });
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
