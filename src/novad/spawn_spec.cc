#include "spawn_spec.h"

#include <cctype>

#include "agent_name.h"
#include "environment.h"
#include "errors.h"
#include "size.h"
#include "text.h"

namespace nova {
namespace {

// A caller other than root asked for more than nova.conf lets them.
[[noreturn]] void AboveCeiling(const std::string& asked, const std::string& ceiling,
                               const char* key) {
  throw Error(ErrorKind::kPermissionDenied,
              asked + ": above the operator's ceiling of " + ceiling + " (" + key +
                  " in /etc/nova/nova.conf); only root may ask for more");
}

// A default from the configuration no spawn could take: name the key, not a
// flag the caller never passed.
[[noreturn]] void BadDefault(const std::string& setting, const std::string& accepted,
                             const char* option) {
  throw Error(ErrorKind::kInvalidArgument,
              setting + " in the configuration is out of range; accepted: " + accepted +
                  "; correct it in /etc/nova/nova.conf or pass " + option);
}

[[noreturn]] void Invalid(const std::string& message) {
  throw Error(ErrorKind::kInvalidArgument, message);
}

// A caller's value in an error: escaped, so the error stays one harmless line.
std::string Quoted(const std::string& s) { return "\"" + Printable(s) + "\""; }

// Refuses a string that would not reach systemd as exactly one value.
void RefuseControl(const std::string& what, const std::string& value) {
  if (auto bad = FindControl(value)) {
    Invalid(what + " " + Quoted(value) + ": contains " + *bad +
            "; control characters and invalid UTF-8 are not accepted");
  }
}

void ValidateSecretName(const std::string& name) {
  bool valid = !name.empty() && name.size() <= 255 && name.front() != '.';
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      valid = false;
    }
  }
  if (!valid) {
    Invalid("--secret " + Quoted(name) +
            ": not a valid secret name; use 1-255 letters, digits, '_', '-' or '.', not "
            "starting with '.'");
  }
}

void ValidateUnitStrings(const SpawnRequest& request) {
  for (size_t i = 0; i < request.argv.size(); ++i) {
    RefuseControl(i == 0 ? "command" : "argument " + std::to_string(i), request.argv[i]);
  }
  RefuseControl("--workdir", request.workdir);
  for (const auto& assignment : request.environment) RefuseControl("--env", assignment);
  if (request.user) RefuseControl("--user", *request.user);
  if (request.secrets.size() > kMaxSecrets) {
    Invalid("--secret: " + std::to_string(request.secrets.size()) + " secrets given; at most " +
            std::to_string(kMaxSecrets) + " are accepted");
  }
  for (const auto& [name, value] : request.secrets) {
    ValidateSecretName(name);
    if (value.size() > kMaxSecretBytes) {
      Invalid("--secret " + Printable(name) + ": " + FormatSize(value.size()) +
              " is too large; at most " + FormatSize(kMaxSecretBytes) + " are accepted");
    }
  }
}

// The command for the unit's Description, which systemctl and the journal
// show to admins: printable, at most 120 bytes, cut between characters.
std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    line += Printable(arg);
  }
  return TruncateUtf8(line, 120);
}

}  // namespace

AgentSpec ResolveSpawn(const SpawnRequest& request, const Config& config, uint64_t memory_total,
                       bool privileged) {
  ValidateAgentName(request.name);
  ValidateUnitStrings(request);
  AgentSpec spec;
  spec.name = request.name;

  if (request.argv.empty() || request.argv[0].empty()) {
    Invalid(
        "no command given; put it after --, e.g. novactl spawn NAME "
        "--workdir DIR -- cargo build");
  }
  if (request.argv[0].front() != '/') {
    Invalid("command " + Quoted(request.argv[0]) +
            ": not an absolute path; novactl resolves commands on its PATH");
  }
  spec.argv = request.argv;

  if (request.workdir.empty()) {
    Invalid("no working directory given; use --workdir DIR");
  }
  if (request.workdir.front() != '/') {
    Invalid("--workdir " + Quoted(request.workdir) + ": not an absolute path");
  }
  spec.workdir = request.workdir;

  ValidateEnvironment(request.environment);
  spec.environment = request.environment;

  // Limits: the absolute bounds hold for everyone, the operator's ceilings
  // for callers other than root. A default is within both once the
  // configuration has loaded, so only the host's memory can refuse it; the
  // message then names the key, as the caller passed no flag.
  std::string memory_range =
      FormatSize(kMinMemoryMax) + " to " + FormatSize(memory_total) + " (the host's memory)";
  spec.memory_max = request.memory_max.value_or(config.memory_max);
  bool memory_valid = spec.memory_max >= kMinMemoryMax && spec.memory_max != kInfinity;
  bool memory_above_host = memory_total > 0 && spec.memory_max > memory_total;
  if (request.memory_max) {
    std::string asked = "--memory " + FormatSize(spec.memory_max);
    if (!memory_valid) Invalid(asked + ": out of range; accepted: " + memory_range);
    if (!privileged && spec.memory_max > config.memory_max_ceiling) {
      AboveCeiling(asked, FormatSize(config.memory_max_ceiling), "MemoryMaxCeiling");
    }
    if (memory_above_host) Invalid(asked + ": out of range; accepted: " + memory_range);
  } else {
    std::string setting = "MemoryMax=" + FormatSize(spec.memory_max);
    if (!memory_valid) BadDefault(setting, memory_range, "--memory");
    if (memory_above_host) {
      Invalid(setting + " in the configuration is more than the host's memory (" +
              FormatSize(memory_total) + "); lower it in /etc/nova/nova.conf or pass --memory");
    }
  }

  std::string tasks_range = "1 to " + std::to_string(kMaxTasksMax);
  spec.tasks_max = request.tasks_max.value_or(config.tasks_max);
  bool tasks_in_range = spec.tasks_max >= 1 && spec.tasks_max <= kMaxTasksMax;
  if (request.tasks_max) {
    std::string asked = "--tasks " + std::to_string(spec.tasks_max);
    if (spec.tasks_max < 1) Invalid(asked + ": out of range; accepted: " + tasks_range);
    if (!privileged && spec.tasks_max > config.tasks_max_ceiling) {
      AboveCeiling(asked, std::to_string(config.tasks_max_ceiling), "TasksMaxCeiling");
    }
    if (!tasks_in_range) Invalid(asked + ": out of range; accepted: " + tasks_range);
  } else if (!tasks_in_range) {
    BadDefault("TasksMax=" + std::to_string(spec.tasks_max), tasks_range, "--tasks");
  }

  std::string runtime_range = FormatDuration(kMinRuntime) + " to " + FormatDuration(kMaxRuntime);
  spec.runtime_max = request.runtime_max.value_or(config.runtime_max);
  bool runtime_in_range = spec.runtime_max >= kMinRuntime && spec.runtime_max <= kMaxRuntime;
  if (request.runtime_max) {
    std::string asked = "--timeout " + FormatDuration(spec.runtime_max);
    if (spec.runtime_max < kMinRuntime) {
      Invalid(asked + ": out of range; accepted: " + runtime_range);
    }
    if (!privileged && spec.runtime_max > config.runtime_max_ceiling) {
      AboveCeiling(asked, FormatDuration(config.runtime_max_ceiling), "RuntimeMaxCeiling");
    }
    if (!runtime_in_range) Invalid(asked + ": out of range; accepted: " + runtime_range);
  } else if (!runtime_in_range) {
    BadDefault("RuntimeMax=" + FormatDuration(spec.runtime_max), runtime_range, "--timeout");
  }

  spec.soft_timeout = request.soft_timeout.value_or(config.soft_timeout);
  if (!request.soft_timeout && spec.soft_timeout >= spec.runtime_max) {
    spec.soft_timeout = Usec(0);  // a shorter --timeout drops the default warning
  }
  if (spec.soft_timeout.count() < 0 ||
      (spec.soft_timeout.count() > 0 && spec.soft_timeout >= spec.runtime_max)) {
    Invalid("--soft-timeout " + FormatDuration(spec.soft_timeout) +
            ": must be shorter than the hard timeout (" + FormatDuration(spec.runtime_max) +
            "), or 0 for no warning");
  }

  spec.timeout_stop = config.timeout_stop;
  spec.system_bus = config.agent_system_bus;
  spec.user = request.user.value_or("");
  return spec;
}

UnitProperties AgentUnitProperties(const AgentSpec& spec, const SystemdFeatures& features) {
  std::vector<std::string> environment = spec.environment;
  environment.push_back("NOVA_AGENT_NAME=" + spec.name);

  UnitProperties props = {
      {"Description", "Nova agent " + spec.name + ": " + CommandLine(spec.argv)},
      {"Slice", std::string(kAgentsSlice)},
      {"Type", std::string("exec")},
      {"ExecStartEx", std::vector<ExecCommandEx>{{spec.argv[0], spec.argv, {"no-env-expand"}}}},
      {"OnSuccess", std::vector<std::string>{OutcomeUnitOnSuccess(spec.name)}},
      {"OnFailure", std::vector<std::string>{OutcomeUnitOnFailure(spec.name)}},
      {"WorkingDirectory", spec.workdir},
      {"User", spec.user},
      {"Environment", environment},
      {"UnsetEnvironment", kCoderProcVariables},
      {"MemoryAccounting", true},
      {"MemoryMax", spec.memory_max},
      {"MemoryHigh", kInfinity},
      {"MemorySwapMax", uint64_t{0}},
      {"TasksAccounting", true},
      {"TasksMax", spec.tasks_max},
      {"CPUAccounting", true},
      {"RuntimeMaxUSec", static_cast<uint64_t>(spec.runtime_max.count())},
      {"TimeoutStopUSec", static_cast<uint64_t>(spec.timeout_stop.count())},
      {"OOMPolicy", std::string("continue")},
      {"KillMode", std::string("control-group")},
      {"SendSIGKILL", true},
      {"CollectMode", std::string("inactive-or-failed")},
      // AttachProcessesToUnit (novactl exec) moves processes only into a
      // delegated unit. The agent's own limits stay root's: delegation hands
      // its user only the subtree below them.
      {"Delegate", true},
  };
  if (!spec.system_bus) props.push_back({"InaccessiblePaths", kAgentInaccessiblePaths});
  if (!spec.credentials.empty()) {
    std::vector<CredentialFile> files;
    for (const auto& [name, path] : spec.credentials) files.push_back({name, path});
    props.push_back({"LoadCredential", files});
  }
  if (spec.nice) props.push_back({"Nice", int32_t{*spec.nice}});
  if (spec.oom_score_adjust) props.push_back({"OOMScoreAdjust", int32_t{*spec.oom_score_adjust}});
  if (spec.soft_timeout.count() > 0) {
    props.push_back({"Wants", std::vector<std::string>{SoftTimerUnit(spec.name)}});
  }
  if (features.exit_type_cgroup()) {
    // The agent lives until its last process exits, so `sh -c 'server &'`
    // keeps running as the agent instead of being killed when sh exits.
    props.push_back({"ExitType", std::string("cgroup")});
  }
  return props;
}

AuxUnits SoftDeadlineUnits(const AgentSpec& spec, const std::string& hook_path) {
  if (spec.soft_timeout.count() == 0) return {};
  return {{SoftTimerUnit(spec.name), SoftTimerProperties(spec)},
          {SoftServiceUnit(spec.name), SoftServiceProperties(spec, hook_path)}};
}

UnitProperties SoftTimerProperties(const AgentSpec& spec) {
  std::string agent = AgentUnit(spec.name);
  return {
      {"Description", "Nova agent " + spec.name + ": soft deadline (SIGUSR1 at " +
                          FormatDuration(spec.soft_timeout) + ")"},
      {"TimersMonotonic",
       std::vector<MonotonicTimer>{
           {"OnActiveSec", static_cast<uint64_t>(spec.soft_timeout.count())}}},
      {"AccuracyUSec", uint64_t{100000}},
      {"RemainAfterElapse", false},
      {"BindsTo", std::vector<std::string>{agent}},
      {"After", std::vector<std::string>{agent}},
      {"CollectMode", std::string("inactive-or-failed")},
  };
}

UnitProperties SoftServiceProperties(const AgentSpec& spec, const std::string& hook_path) {
  return {
      {"Description", "Nova agent " + spec.name + ": soft-deadline warning"},
      {"Type", std::string("oneshot")},
      {"ExecStart",
       std::vector<ExecCommand>{{hook_path, {hook_path, "soft-warning", spec.name}, false}}},
      {"CollectMode", std::string("inactive-or-failed")},
  };
}

}  // namespace nova
