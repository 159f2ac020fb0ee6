#include "spawn_spec.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "agent_name.h"
#include "environment.h"
#include "errors.h"
#include "size.h"
#include "text.h"

namespace nova {
namespace {

// ExecStart's arguments for `argv`, every '$' doubled: systemd expands
// $VAR in them and turns "$$" into "$", so the command gets exactly `argv`.
// Not ExecStartEx with no-env-expand: systemd 252 writes ExecStartEx= into
// the transient unit file and cannot read it back, so the first daemon-reload
// would leave every agent "bad-setting".
std::vector<std::string> ExecStartArguments(const std::vector<std::string>& argv) {
  std::vector<std::string> escaped;
  for (const auto& arg : argv) {
    std::string e;
    for (char c : arg) {
      if (c == '$') e += '$';
      e += c;
    }
    escaped.push_back(std::move(e));
  }
  return escaped;
}

// A duration as seconds for an agent's environment: "1800", "1.5", "0".
std::string SecondsText(Usec d) {
  auto us = d.count();
  std::string text = std::to_string(us / 1000000);
  if (auto rest = us % 1000000; rest != 0) {
    std::string fraction = std::to_string(1000000 + rest).substr(1);
    fraction.erase(fraction.find_last_not_of('0') + 1);
    text += "." + fraction;
  }
  return text;
}

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

// Sandboxed, the workdir is the one place the agent may write (and, under
// /home or /root, the one place of a home it sees), so it must name exactly
// one directory of the agent's, not the root, a parent of every home or the
// kernel's file systems.
void ValidateSandboxWorkdir(const std::string& workdir, SandboxProfile profile) {
  std::string why;
  if (workdir == "/") why = "is the root directory";
  if (workdir.size() > 1 && workdir.back() == '/') why = "ends with '/'";
  for (const char* part : {"//", "/./", "/../"}) {
    if (workdir.find(part) != std::string::npos) why = "is not a normalized path";
  }
  if (workdir.ends_with("/.") || workdir.ends_with("/..")) why = "is not a normalized path";
  for (const char* whole : {"/home", "/root", "/run", "/run/user"}) {
    if (workdir == whole) why = "is a parent of other users' files";
  }
  for (const char* tree : {"/proc", "/sys", "/dev"}) {
    std::string t = tree;
    if (workdir == t || workdir.starts_with(t + "/")) why = "is in the kernel's " + t;
  }
  if (!why.empty()) {
    Invalid("--workdir " + Quoted(workdir) + ": " + why + "; the " + SandboxProfileName(profile) +
            " sandbox lets the agent write only there: use a directory of the agent's own, "
            "such as /var/nova-agents/pool/ws-001");
  }
}

// The profile and allow list of a spawn. A caller other than root may not go
// below the operator's minimum, and, when the operator requires strict, may
// not widen its allow list: otherwise the operator's word would be one flag
// away from void.
void ResolveSandbox(const SpawnRequest& request, const Config& config, bool privileged,
                    AgentSpec& spec) {
  spec.sandbox = config.sandbox;
  if (request.sandbox) {
    auto profile = ParseSandboxProfile(*request.sandbox);
    if (!profile) {
      Invalid("--sandbox " + Quoted(*request.sandbox) +
              ": not a sandbox profile; accepted: " + kSandboxProfilesAccepted);
    }
    if (!privileged && WeakerThan(*profile, config.sandbox_minimum)) {
      throw Error(ErrorKind::kPermissionDenied,
                  "--sandbox " + *request.sandbox + ": weaker than the operator's minimum, " +
                      SandboxProfileName(config.sandbox_minimum) +
                      " (SandboxMinimum in /etc/nova/nova.conf); only root may ask for less");
    }
    spec.sandbox = *profile;
  }
  if (request.allow_ip.size() > kMaxAllowIp) {
    Invalid("--allow-ip: " + std::to_string(request.allow_ip.size()) + " entries given; at most " +
            std::to_string(kMaxAllowIp) + " are accepted");
  }
  std::vector<IpPrefix> asked;
  for (const auto& entry : request.allow_ip) {
    auto parsed = ParseAllowIp(entry);
    if (!parsed)
      Invalid("--allow-ip " + Quoted(entry) + ": not valid; accepted: " + kAllowIpAccepted);
    asked.insert(asked.end(), parsed->begin(), parsed->end());
  }
  if (!asked.empty() && spec.sandbox != SandboxProfile::kStrict) {
    Invalid(std::string(
                "--allow-ip: only the strict sandbox limits the network, and this agent's is ") +
            SandboxProfileName(spec.sandbox) + "; add --sandbox strict");
  }
  if (!asked.empty() && !privileged && config.sandbox_minimum == SandboxProfile::kStrict) {
    throw Error(ErrorKind::kPermissionDenied,
                "--allow-ip " + Printable(request.allow_ip.front()) +
                    ": the operator requires the strict sandbox (SandboxMinimum=strict in "
                    "/etc/nova/nova.conf), whose network is AllowIP only; only root may add "
                    "addresses");
  }
  if (spec.sandbox == SandboxProfile::kStrict) {
    spec.allow_ip = config.allow_ip;
    for (const auto& prefix : asked) {
      if (std::find(spec.allow_ip.begin(), spec.allow_ip.end(), prefix) == spec.allow_ip.end()) {
        spec.allow_ip.push_back(prefix);
      }
    }
    if (spec.allow_ip.size() > kMaxAllowIp) {
      Invalid("--allow-ip: with AllowIP in /etc/nova/nova.conf the allow list has " +
              std::to_string(spec.allow_ip.size()) + " entries; at most " +
              std::to_string(kMaxAllowIp) + " are accepted");
    }
  }
  if (spec.sandbox != SandboxProfile::kNone) ValidateSandboxWorkdir(spec.workdir, spec.sandbox);
}

bool UnderHome(const std::string& path) {
  for (const char* home : {"/home/", "/root/", "/run/user/"}) {
    if (path.starts_with(home)) return true;
  }
  return false;
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

  ResolveSandbox(request, config, privileged, spec);
  spec.hidden_trees = kStrictHiddenTrees;

  spec.timeout_stop = config.timeout_stop;
  spec.system_bus = config.agent_system_bus;
  spec.user = request.user.value_or("");
  return spec;
}

UnitProperties AgentUnitProperties(const AgentSpec& spec, const SystemdFeatures& features) {
  std::vector<std::string> environment;
  if (spec.sandbox != SandboxProfile::kNone) {
    // First, so that the caller's --env HOME=... wins (systemd keeps the last).
    environment.push_back(std::string("HOME=") + kSandboxHome);
  }
  environment.insert(environment.end(), spec.environment.begin(), spec.environment.end());
  // The agent's facts, for the agent (docs/agents.md); after --env, so they win.
  environment.push_back("NOVA_AGENT_NAME=" + spec.name);
  environment.push_back("NOVA_MEMORY_MAX=" + std::to_string(spec.memory_max));
  environment.push_back("NOVA_TASKS_MAX=" + std::to_string(spec.tasks_max));
  environment.push_back("NOVA_TIMEOUT_SEC=" + SecondsText(spec.runtime_max));
  environment.push_back("NOVA_SOFT_TIMEOUT_SEC=" + SecondsText(spec.soft_timeout));
  if (spec.sandbox != SandboxProfile::kNone) {
    environment.push_back(std::string(kSandboxEnvironment) + "=" +
                          SandboxProfileName(spec.sandbox));
  }

  UnitProperties props = {
      {"Description", "Nova agent " + spec.name + ": " + CommandLine(spec.argv)},
      {"Slice", std::string(kAgentsSlice)},
      {"Type", std::string("exec")},
      {"ExecStart", std::vector<ExecCommand>{{spec.argv[0], ExecStartArguments(spec.argv), false}}},
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
  // The agent's own cgroup at /sys/fs/cgroup, so memory.current and
  // memory.max there are its own (the sandboxed profiles' strict namespace
  // does the same on systemd 257).
  if (!features.cgroup_namespace()) {
    props.push_back({"BindReadOnlyPaths", std::vector<BindPath>{{AgentCgroupPath(spec.name),
                                                                 "/sys/fs/cgroup", true, MS_REC}}});
  } else if (spec.sandbox == SandboxProfile::kNone) {
    props.push_back({"ProtectControlGroupsEx", std::string("private")});
  }
  UnitProperties sandbox = SandboxProperties(spec, features);
  props.insert(props.end(), sandbox.begin(), sandbox.end());
  return props;
}

UnitProperties SandboxProperties(const AgentSpec& spec, const SystemdFeatures& features) {
  if (spec.sandbox == SandboxProfile::kNone) return {};
  bool strict = spec.sandbox == SandboxProfile::kStrict;
  std::vector<std::string> writable = {spec.workdir};
  if (!strict) writable.push_back(std::string("-") + kScratchDir);
  UnitProperties props = {
      // No way to more privilege than the owner's: no setuid, no file
      // capabilities, no capabilities at all.
      {"NoNewPrivileges", true},
      {"RestrictSUIDSGID", true},
      {"CapabilityBoundingSet", uint64_t{0}},
      {"AmbientCapabilities", uint64_t{0}},
      // Its own /tmp (also its HOME), /dev, IPC and mount table.
      {"PrivateTmp", true},
      {"PrivateDevices", true},
      {"PrivateIPC", true},
      {"PrivateMounts", true},
      // The whole file system read-only but the workdir (and the scratch
      // area); every home hidden.
      {"ProtectSystem", std::string("strict")},
      {"ReadWritePaths", writable},
      {"ProtectHome", std::string("tmpfs")},
      // The kernel's knobs, modules, log, clock, hostname and cgroups.
      {"ProtectKernelTunables", true},
      {"ProtectKernelModules", true},
      {"ProtectKernelLogs", true},
      {"ProtectClock", true},
      {"ProtectHostname", true},
      {"ProtectProc", std::string("invisible")},
      {"KeyringMode", std::string("private")},
      // Kernel attack surface: no namespaces, personalities, realtime, other
      // ABIs, or system calls a service has no business making (EPERM, not
      // SIGSYS, so that tools probing io_uring and the like fall back).
      // The cgroup namespace only, which needs CAP_SYS_ADMIN no sandboxed
      // agent has: systemd (252 and 257 alike) writes "none allowed" to the
      // unit file as an empty value, which reads back as "all allowed" after
      // a daemon-reload.
      {"RestrictNamespaces", uint64_t{CLONE_NEWCGROUP}},
      {"LockPersonality", true},
      {"RestrictRealtime", true},
      {"SystemCallArchitectures", std::vector<std::string>{"native"}},
      {"SystemCallFilter", NameFilter{true, {"@system-service"}}},
      {"SystemCallErrorNumber", int32_t{EPERM}},
      {"RestrictAddressFamilies",
       NameFilter{true, {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}}},
      {"UMask", uint32_t{0077}},
  };
  if (features.cgroup_namespace()) {
    props.push_back({"ProtectControlGroupsEx", std::string("strict")});
  } else {
    props.push_back({"ProtectControlGroups", true});
  }
  if (strict || UnderHome(spec.workdir)) {
    // ProtectHome= and strict's hidden trees cover the workdir: mount it back.
    props.push_back(
        {"BindPaths", std::vector<BindPath>{{spec.workdir, spec.workdir, false, MS_REC}}});
  }
  if (strict) {
    props.push_back({"ProcSubset", std::string("pid")});
    // Only the workdir of the trees where workspaces and shared data live.
    std::vector<TemporaryFileSystem> hidden;
    for (const auto& tree : spec.hidden_trees) hidden.push_back({tree, "ro"});
    if (!hidden.empty()) props.push_back({"TemporaryFileSystem", hidden});
    // No network but the allow list, loopback included.
    props.push_back(
        {"IPAddressDeny", std::vector<IpPrefix>{{AF_INET, {0, 0, 0, 0}, 0},
                                                {AF_INET6, std::vector<uint8_t>(16), 0}}});
    if (!spec.allow_ip.empty()) props.push_back({"IPAddressAllow", spec.allow_ip});
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
