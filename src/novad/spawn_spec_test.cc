#include "spawn_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>

#include <cerrno>

#include "errors.h"
#include "size.h"

namespace nova {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;
constexpr const char* kHook = "/usr/libexec/nova/nova-agent-hook";  // soft warnings

SpawnRequest Request() {
  SpawnRequest r;
  r.name = "agent-001";
  r.argv = {"/usr/bin/cargo", "build"};
  r.workdir = "/var/nova-agents/active/ws-001";
  return r;
}

std::string Problem(const SpawnRequest& r, uint64_t total = 64 * kGiB) {
  try {
    ResolveSpawn(r, Config{}, total);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    return e.what();
  }
}

// The one line a spawn is refused with, of the `kind` expected; "" when it
// is accepted.
std::string Refusal(const SpawnRequest& r, const Config& config, bool privileged, ErrorKind kind,
                    uint64_t total = 64 * kGiB) {
  try {
    ResolveSpawn(r, config, total, privileged);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
}

const PropertyValue* Find(const UnitProperties& props, const std::string& name) {
  for (const auto& p : props) {
    if (p.name == name) return &p.value;
  }
  return nullptr;
}

TEST(ResolveSpawn, AppliesTheBriefsDefaults) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  EXPECT_EQ(s.memory_max, 4 * kGiB);
  EXPECT_EQ(s.tasks_max, 512u);
  EXPECT_EQ(s.runtime_max, std::chrono::minutes(30));
  EXPECT_EQ(s.soft_timeout, std::chrono::minutes(15));
  EXPECT_EQ(s.timeout_stop, std::chrono::seconds(10));
}

TEST(ResolveSpawn, TakesOverrides) {
  SpawnRequest r = Request();
  r.memory_max = 1 * kGiB;
  r.tasks_max = 64;
  r.runtime_max = std::chrono::minutes(5);
  r.soft_timeout = std::chrono::minutes(1);
  r.user = "alice";
  AgentSpec s = ResolveSpawn(r, Config{}, 64 * kGiB);
  EXPECT_EQ(s.memory_max, 1 * kGiB);
  EXPECT_EQ(s.tasks_max, 64u);
  EXPECT_EQ(s.runtime_max, std::chrono::minutes(5));
  EXPECT_EQ(s.soft_timeout, std::chrono::minutes(1));
  EXPECT_EQ(s.user, "alice");
}

TEST(ResolveSpawn, AShortHardTimeoutDropsTheDefaultSoftWarning) {
  SpawnRequest r = Request();
  r.runtime_max = std::chrono::minutes(10);
  EXPECT_EQ(ResolveSpawn(r, Config{}, 64 * kGiB).soft_timeout, Usec(0));
}

TEST(ResolveSpawn, RefusesBadInputWithOneClearLine) {
  SpawnRequest r = Request();
  r.name = "bad name";
  EXPECT_THAT(Problem(r), testing::StartsWith("agent name \"bad name\": contains ' '"));

  r = Request();
  r.argv = {};
  EXPECT_THAT(Problem(r), testing::StartsWith("no command given"));

  r = Request();
  r.argv = {"cargo"};
  EXPECT_EQ(Problem(r),
            "command \"cargo\": not an absolute path; novactl resolves "
            "commands on its PATH");

  r = Request();
  r.workdir = "";
  EXPECT_EQ(Problem(r), "no working directory given; use --workdir DIR");
  r.workdir = "relative";
  EXPECT_EQ(Problem(r), "--workdir \"relative\": not an absolute path");

  r = Request();
  r.memory_max = 1 << 20;
  EXPECT_EQ(Problem(r), "--memory 1M: out of range; accepted: 16M to 64G (the host's memory)");
  r.memory_max = 65 * kGiB;
  EXPECT_EQ(Refusal(r, Config{}, true, ErrorKind::kInvalidArgument),
            "--memory 65G: out of range; accepted: 16M to 64G (the host's memory)");

  r = Request();
  r.tasks_max = 0;
  EXPECT_EQ(Problem(r), "--tasks 0: out of range; accepted: 1 to 4194304");

  r = Request();
  r.runtime_max = Usec(0);
  EXPECT_EQ(Problem(r), "--timeout 0: out of range; accepted: 1s to 7d");

  r = Request();
  r.runtime_max = std::chrono::minutes(10);
  r.soft_timeout = std::chrono::minutes(10);
  EXPECT_EQ(Problem(r),
            "--soft-timeout 10min: must be shorter than the hard timeout "
            "(10min), or 0 for no warning");

  r = Request();
  r.environment = {"CODER_PROC_NICE_SCORE=5"};
  EXPECT_THAT(Problem(r), testing::HasSubstr("never passed to agents"));
}

TEST(ResolveSpawn, ShowsRefusedValuesEscaped) {
  SpawnRequest r = Request();
  r.argv = {"cargo\n\x1b[2J"};
  EXPECT_EQ(Problem(r),
            "command \"cargo\\n\\e[2J\": contains a newline; control characters and invalid "
            "UTF-8 are not accepted");
  r = Request();
  r.workdir = "w\rs\xff";
  EXPECT_EQ(Problem(r),
            "--workdir \"w\\x0ds\\xff\": contains a carriage return; control characters and "
            "invalid UTF-8 are not accepted");
}

TEST(AgentUnitProperties, DescriptionIsCutBetweenCharacters) {
  SpawnRequest r = Request();
  AgentSpec s;
  std::string e60;
  for (int i = 0; i < 60; ++i) e60 += "\xc3\xa9";  // é, 120 bytes
  r.argv = {"/bin/echo", e60};
  s = ResolveSpawn(r, Config{}, 64 * kGiB);
  // "/bin/echo " is 10 bytes, so 117 would split an é; 116 are kept.
  std::string kept;
  for (int i = 0; i < 53; ++i) kept += "\xc3\xa9";
  EXPECT_EQ(
      std::get<std::string>(*Find(AgentUnitProperties(s, SystemdFeatures{252}), "Description")),
      "Nova agent agent-001: /bin/echo " + kept + "...");
}

TEST(ResolveSpawn, CallersOtherThanRootStayWithinTheCeilings) {
  constexpr bool kUser = false;
  SpawnRequest r = Request();
  r.memory_max = 8 * kGiB;
  EXPECT_EQ(Refusal(r, Config{}, kUser, ErrorKind::kPermissionDenied),
            "--memory 8G: above the operator's ceiling of 4G (MemoryMaxCeiling in "
            "/etc/nova/nova.conf); only root may ask for more");
  r.memory_max = 4 * kGiB;
  EXPECT_EQ(Refusal(r, Config{}, kUser, ErrorKind::kInvalidArgument), "");  // at the ceiling

  r = Request();
  r.tasks_max = 513;
  EXPECT_EQ(Refusal(r, Config{}, kUser, ErrorKind::kPermissionDenied),
            "--tasks 513: above the operator's ceiling of 512 (TasksMaxCeiling in "
            "/etc/nova/nova.conf); only root may ask for more");
  r.tasks_max = 5000000;  // past the absolute bound too: the ceiling is what binds
  EXPECT_THAT(Refusal(r, Config{}, kUser, ErrorKind::kPermissionDenied),
              testing::StartsWith("--tasks 5000000: above the operator's ceiling of 512"));
  r.tasks_max = 512;
  EXPECT_EQ(Refusal(r, Config{}, kUser, ErrorKind::kInvalidArgument), "");

  r = Request();
  r.runtime_max = std::chrono::hours(1);
  EXPECT_EQ(Refusal(r, Config{}, kUser, ErrorKind::kPermissionDenied),
            "--timeout 1h: above the operator's ceiling of 30min (RuntimeMaxCeiling in "
            "/etc/nova/nova.conf); only root may ask for more");
  r.runtime_max = std::chrono::minutes(30);
  EXPECT_EQ(Refusal(r, Config{}, kUser, ErrorKind::kInvalidArgument), "");

  // The operator may raise them.
  Config raised;
  raised.memory_max_ceiling = 16 * kGiB;
  raised.tasks_max_ceiling = 4096;
  raised.runtime_max_ceiling = std::chrono::hours(2);
  r = Request();
  r.memory_max = 8 * kGiB;
  r.tasks_max = 4096;
  r.runtime_max = std::chrono::hours(2);
  AgentSpec s = ResolveSpawn(r, raised, 64 * kGiB, kUser);
  EXPECT_EQ(s.memory_max, 8 * kGiB);
  EXPECT_EQ(s.tasks_max, 4096u);
  EXPECT_EQ(s.runtime_max, std::chrono::hours(2));
  // A ceiling above the host's memory does not lift the host's bound.
  raised.memory_max_ceiling = 128 * kGiB;
  r.memory_max = 65 * kGiB;
  EXPECT_EQ(Refusal(r, raised, kUser, ErrorKind::kInvalidArgument),
            "--memory 65G: out of range; accepted: 16M to 64G (the host's memory)");
}

TEST(ResolveSpawn, RootMayPassTheCeilingsButNotTheBounds) {
  constexpr bool kRoot = true;
  SpawnRequest r = Request();
  r.memory_max = 8 * kGiB;
  r.tasks_max = 100000;
  r.runtime_max = std::chrono::hours(48);
  AgentSpec s = ResolveSpawn(r, Config{}, 64 * kGiB, kRoot);
  EXPECT_EQ(s.memory_max, 8 * kGiB);
  EXPECT_EQ(s.tasks_max, 100000u);
  EXPECT_EQ(s.runtime_max, std::chrono::hours(48));

  r = Request();
  r.memory_max = 65 * kGiB;
  EXPECT_EQ(Refusal(r, Config{}, kRoot, ErrorKind::kInvalidArgument),
            "--memory 65G: out of range; accepted: 16M to 64G (the host's memory)");
  r.memory_max = kInfinity;
  EXPECT_EQ(Refusal(r, Config{}, kRoot, ErrorKind::kInvalidArgument),
            "--memory infinity: out of range; accepted: 16M to 64G (the host's memory)");
  r = Request();
  r.tasks_max = 5000000;
  EXPECT_EQ(Refusal(r, Config{}, kRoot, ErrorKind::kInvalidArgument),
            "--tasks 5000000: out of range; accepted: 1 to 4194304");
  r = Request();
  r.runtime_max = std::chrono::hours(24 * 8);
  EXPECT_EQ(Refusal(r, Config{}, kRoot, ErrorKind::kInvalidArgument),
            "--timeout 8d: out of range; accepted: 1s to 7d");
}

TEST(ResolveSpawn, ADefaultNoSpawnCouldTakeNamesTheConfigurationKey) {
  Config big;
  big.memory_max = 8 * kGiB;
  big.memory_max_ceiling = 8 * kGiB;
  uint64_t host = 5939ULL << 20;  // 5.8G
  for (bool privileged : {false, true}) {
    EXPECT_EQ(Refusal(Request(), big, privileged, ErrorKind::kInvalidArgument, host),
              "MemoryMax=8G in the configuration is more than the host's memory (5.8G); lower it "
              "in /etc/nova/nova.conf or pass --memory");
  }
  SpawnRequest r = Request();
  r.memory_max = 2 * kGiB;
  EXPECT_EQ(ResolveSpawn(r, big, host).memory_max, 2 * kGiB);

  // Out of bounds, which a loaded configuration never is.
  Config bad;
  bad.memory_max = 1 << 20;
  EXPECT_EQ(Refusal(Request(), bad, false, ErrorKind::kInvalidArgument),
            "MemoryMax=1M in the configuration is out of range; accepted: 16M to 64G (the host's "
            "memory); correct it in /etc/nova/nova.conf or pass --memory");
  bad = Config{};
  bad.tasks_max = 0;
  EXPECT_EQ(Refusal(Request(), bad, false, ErrorKind::kInvalidArgument),
            "TasksMax=0 in the configuration is out of range; accepted: 1 to 4194304; correct it "
            "in /etc/nova/nova.conf or pass --tasks");
  bad = Config{};
  bad.runtime_max = std::chrono::hours(24 * 8);
  EXPECT_EQ(Refusal(Request(), bad, true, ErrorKind::kInvalidArgument),
            "RuntimeMax=8d in the configuration is out of range; accepted: 1s to 7d; correct it "
            "in /etc/nova/nova.conf or pass --timeout");
}

TEST(AgentUnitProperties, AreExactlyTheDefaultsWithSandboxNone) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  s.sandbox = SandboxProfile::kNone;
  s.user = "alice";
  s.environment = {"A=1"};
  UnitProperties props = AgentUnitProperties(s, SystemdFeatures{252});
  UnitProperties expected = {
      {"Description", std::string("Nova agent agent-001: /usr/bin/cargo build")},
      {"Slice", std::string("nova-agents.slice")},
      {"Type", std::string("exec")},
      {"ExecStart",
       std::vector<ExecCommand>{{"/usr/bin/cargo", {"/usr/bin/cargo", "build"}, false}}},
      {"OnSuccess", std::vector<std::string>{"nova-outcome-success@agent-001.service"}},
      {"OnFailure", std::vector<std::string>{"nova-outcome-failure@agent-001.service"}},
      {"WorkingDirectory", std::string("/var/nova-agents/active/ws-001")},
      {"User", std::string("alice")},
      {"Environment",
       std::vector<std::string>{"A=1", "NOVA_AGENT_NAME=agent-001", "NOVA_MEMORY_MAX=4294967296",
                                "NOVA_TASKS_MAX=512", "NOVA_TIMEOUT_SEC=1800",
                                "NOVA_SOFT_TIMEOUT_SEC=900"}},
      {"UnsetEnvironment", std::vector<std::string>{"CODER_PROC_PRIO_MGMT", "CODER_PROC_OOM_SCORE",
                                                    "CODER_PROC_NICE_SCORE"}},
      {"MemoryAccounting", true},
      {"MemoryMax", 4 * kGiB},
      {"MemoryHigh", kInfinity},
      {"MemorySwapMax", uint64_t{0}},
      {"TasksAccounting", true},
      {"TasksMax", uint64_t{512}},
      {"CPUAccounting", true},
      {"RuntimeMaxUSec", uint64_t{1800000000}},
      {"TimeoutStopUSec", uint64_t{10000000}},
      {"OOMPolicy", std::string("continue")},
      {"KillMode", std::string("control-group")},
      {"SendSIGKILL", true},
      {"CollectMode", std::string("inactive-or-failed")},
      {"Delegate", true},
      {"InaccessiblePaths", std::vector<std::string>{"-/run/dbus/system_bus_socket", "-/run/user"}},
      {"Wants", std::vector<std::string>{"nova-soft-agent-001.timer"}},
      {"ExitType", std::string("cgroup")},
      {"BindReadOnlyPaths",
       std::vector<BindPath>{
           {"/sys/fs/cgroup/nova.slice/nova-agents.slice/nova-agent-agent-001.service",
            "/sys/fs/cgroup", true, MS_REC}}},
  };
  EXPECT_EQ(props, expected);
}

TEST(AgentUnitProperties, ThePriorityPolicyBecomesNiceAndOOMScoreAdjust) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  EXPECT_EQ(Find(AgentUnitProperties(s, SystemdFeatures{252}), "Nice"), nullptr);
  EXPECT_EQ(Find(AgentUnitProperties(s, SystemdFeatures{252}), "OOMScoreAdjust"), nullptr);
  s.nice = 7;
  s.oom_score_adjust = 998;
  UnitProperties props = AgentUnitProperties(s, SystemdFeatures{252});
  EXPECT_EQ(*Find(props, "Nice"), PropertyValue(int32_t{7}));
  EXPECT_EQ(*Find(props, "OOMScoreAdjust"), PropertyValue(int32_t{998}));
}

TEST(AgentUnitProperties, ExitTypeCgroupOnlyWhereSystemdHasIt) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  EXPECT_NE(Find(AgentUnitProperties(s, SystemdFeatures{250}), "ExitType"), nullptr);
  EXPECT_EQ(Find(AgentUnitProperties(s, SystemdFeatures{249}), "ExitType"), nullptr);
}

TEST(AgentUnitProperties, OverridesLand) {
  SpawnRequest r = Request();
  r.memory_max = 1 * kGiB;
  r.tasks_max = 64;
  r.runtime_max = std::chrono::minutes(5);
  UnitProperties props =
      AgentUnitProperties(ResolveSpawn(r, Config{}, 64 * kGiB), SystemdFeatures{252});
  EXPECT_EQ(*Find(props, "MemoryMax"), PropertyValue(1 * kGiB));
  EXPECT_EQ(*Find(props, "TasksMax"), PropertyValue(uint64_t{64}));
  EXPECT_EQ(*Find(props, "RuntimeMaxUSec"), PropertyValue(uint64_t{300000000}));
}

TEST(SoftTimer, IsCreatedWithTheAgentOnlyWhenThereIsASoftDeadline) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  AuxUnits aux = SoftDeadlineUnits(s, kHook);
  ASSERT_EQ(aux.size(), 2u);
  EXPECT_EQ(aux[0].first, "nova-soft-agent-001.timer");
  EXPECT_EQ(aux[1].first, "nova-soft-agent-001.service");
  // Only the agent is delegated (novactl exec); systemd refuses Delegate on a timer.
  for (const auto& [unit, props] : aux) EXPECT_EQ(Find(props, "Delegate"), nullptr) << unit;
  s.soft_timeout = Usec(0);
  EXPECT_TRUE(SoftDeadlineUnits(s, kHook).empty());
  EXPECT_EQ(Find(AgentUnitProperties(s, SystemdFeatures{252}), "Wants"), nullptr);
}

TEST(SoftTimer, FiresOnceAtTheSoftDeadlineAndGoesWithTheAgent) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  UnitProperties timer = SoftTimerProperties(s);
  EXPECT_EQ(*Find(timer, "TimersMonotonic"),
            PropertyValue(std::vector<MonotonicTimer>{{"OnActiveSec", 900000000}}));
  EXPECT_EQ(*Find(timer, "RemainAfterElapse"), PropertyValue(false));
  EXPECT_EQ(*Find(timer, "BindsTo"),
            PropertyValue(std::vector<std::string>{"nova-agent-agent-001.service"}));
  UnitProperties service = SoftServiceProperties(s, kHook);
  EXPECT_EQ(*Find(service, "ExecStart"),
            PropertyValue(
                std::vector<ExecCommand>{{kHook, {kHook, "soft-warning", "agent-001"}, false}}));
}

TEST(AgentUnitProperties, NothingRunsPrivilegedInsideTheAgent) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  for (const auto& p : AgentUnitProperties(s, SystemdFeatures{252})) {
    EXPECT_FALSE(p.name.starts_with("ExecStop") || p.name.starts_with("ExecStartPre") ||
                 p.name.starts_with("ExecStartPost"))
        << p.name;
    // An absolute path: no "+" or "!" prefix can reach the unit file, where
    // systemd would read it back as "run privileged".
    if (const auto* commands = std::get_if<std::vector<ExecCommand>>(&p.value)) {
      for (const auto& c : *commands) EXPECT_TRUE(c.path.starts_with("/")) << c.path;
    }
  }
}

TEST(AgentUnitProperties, TheSystemBusOnlyWhenTheOperatorAllowsIt) {
  Config config;
  config.agent_system_bus = true;
  AgentSpec s = ResolveSpawn(Request(), config, 64 * kGiB);
  EXPECT_EQ(Find(AgentUnitProperties(s, SystemdFeatures{252}), "InaccessiblePaths"), nullptr);
}

TEST(AgentUnitProperties, SecretsAreLoadedFromNovasFilesNotSetInTheUnit) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  EXPECT_EQ(Find(AgentUnitProperties(s, SystemdFeatures{252}), "LoadCredential"), nullptr);
  s.credentials = {{"token", "/run/nova/secrets/agent-001/token"}};
  UnitProperties props = AgentUnitProperties(s, SystemdFeatures{252});
  EXPECT_EQ(
      *Find(props, "LoadCredential"),
      PropertyValue(std::vector<CredentialFile>{{"token", "/run/nova/secrets/agent-001/token"}}));
  EXPECT_EQ(Find(props, "SetCredential"), nullptr);
}

TEST(AgentUnitProperties, ArgumentsAreCarriedVerbatimAndDescriptionsCutOnCharacters) {
  SpawnRequest r = Request();
  std::string long_arg;
  for (int i = 0; i < 100; ++i) long_arg += "\xc3\xa9";  // 200 bytes of é
  r.argv = {"/bin/sh", "-c", "echo $$ ${HOME} %n '\"\\", long_arg};
  AgentSpec s = ResolveSpawn(r, Config{}, 64 * kGiB);
  UnitProperties props = AgentUnitProperties(s, SystemdFeatures{252});
  // systemd turns each "$$" back into "$" and expands nothing else.
  std::vector<std::string> escaped = {"/bin/sh", "-c", "echo $$$$ $${HOME} %n '\"\\", long_arg};
  EXPECT_EQ(*Find(props, "ExecStart"),
            PropertyValue(std::vector<ExecCommand>{{"/bin/sh", escaped, false}}));
  EXPECT_EQ(Find(props, "ExecStartEx"), nullptr);
  std::string description = std::get<std::string>(*Find(props, "Description"));
  EXPECT_LE(description.size(), 120u + std::string("Nova agent agent-001: ").size());
  EXPECT_TRUE(description.ends_with("\xc3\xa9...")) << description;
}

TEST(ResolveSpawn, RefusesControlCharactersInEveryStringForSystemd) {
  auto with = [](auto change) {
    SpawnRequest r = Request();
    change(r);
    return Problem(r);
  };
  EXPECT_EQ(with([](SpawnRequest& r) {
              r.argv = {"/bin/echo", "a\n[Service]"};
            }),
            "argument 1 \"a\\n[Service]\": contains a newline; control characters and invalid "
            "UTF-8 are not accepted");
  EXPECT_THAT(with([](SpawnRequest& r) { r.argv = {"/bin/echo\r"}; }),
              testing::StartsWith("command \"/bin/echo\\x0d\": contains a carriage return"));
  EXPECT_THAT(
      with([](SpawnRequest& r) { r.workdir = "/tmp/x\nExecStopPost=+/bin/sh"; }),
      testing::StartsWith("--workdir \"/tmp/x\\nExecStopPost=+/bin/sh\": contains a newline"));
  EXPECT_THAT(with([](SpawnRequest& r) { r.environment = {"A=\x1b[2J"}; }),
              testing::StartsWith("--env \"A=\\e[2J\": contains an escape character"));
  EXPECT_THAT(with([](SpawnRequest& r) { r.environment = {std::string("A=x\0y", 5)}; }),
              testing::HasSubstr("contains a NUL byte"));
  EXPECT_THAT(with([](SpawnRequest& r) { r.user = "bob\n"; }),
              testing::StartsWith("--user \"bob\\n\": contains a newline"));
  EXPECT_THAT(with([](SpawnRequest& r) {
                r.argv = {"/bin/echo", "\xff"};
              }),
              testing::HasSubstr("byte 0xff (not UTF-8)"));
  EXPECT_EQ(with([](SpawnRequest& r) {
              r.argv = {"/bin/echo", "caf\xc3\xa9 \t"};
            }),
            "argument 1 \"caf\xc3\xa9 \\t\": contains a tab; control characters and invalid UTF-8 "
            "are not accepted");
}

TEST(ResolveSpawn, ChecksSecretNamesAndSizes) {
  SpawnRequest r = Request();
  r.secrets = {{"api-token.v1", "s3cret"}};
  EXPECT_EQ(Problem(r), "");
  r.secrets = {{"../etc", "x"}};
  EXPECT_THAT(Problem(r), testing::StartsWith("--secret \"../etc\": not a valid secret name"));
  r.secrets = {{"big", std::string(kMaxSecretBytes + 1, 'x')}};
  EXPECT_THAT(Problem(r), testing::StartsWith("--secret big: 1M is too large"));
}

}  // namespace
}  // namespace nova

namespace nova {
namespace {

AgentSpec Sandboxed(SandboxProfile profile, const std::string& workdir = "/srv/ws-001") {
  SpawnRequest r = Request();
  r.workdir = workdir;
  r.sandbox = SandboxProfileName(profile);
  Config config;
  config.sandbox_minimum = SandboxProfile::kNone;
  config.allow_ip = *ParseAllowIp("127.0.0.1");
  return ResolveSpawn(r, config, 64 * kGiB);
}

// Everything standard sets, in order, on a systemd of `version`.
UnitProperties StandardProperties(unsigned version) {
  UnitProperties props = {
      {"NoNewPrivileges", true},
      {"RestrictSUIDSGID", true},
      {"CapabilityBoundingSet", uint64_t{0}},
      {"AmbientCapabilities", uint64_t{0}},
      {"PrivateTmp", true},
      {"PrivateDevices", true},
      {"PrivateIPC", true},
      {"PrivateMounts", true},
      {"ProtectSystem", std::string("strict")},
      {"ReadWritePaths", std::vector<std::string>{"/srv/ws-001", "-/var/nova-agents/scratch"}},
      {"ProtectHome", std::string("tmpfs")},
      {"ProtectKernelTunables", true},
      {"ProtectKernelModules", true},
      {"ProtectKernelLogs", true},
      {"ProtectClock", true},
      {"ProtectHostname", true},
      {"ProtectProc", std::string("invisible")},
      {"KeyringMode", std::string("private")},
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
  if (version >= 257) {
    props.push_back({"ProtectControlGroupsEx", std::string("strict")});
  } else {
    props.push_back({"ProtectControlGroups", true});
  }
  return props;
}

TEST(SandboxProperties, NoneAddsNothing) {
  EXPECT_TRUE(SandboxProperties(Sandboxed(SandboxProfile::kNone), SystemdFeatures{252}).empty());
  auto env = std::get<std::vector<std::string>>(*Find(
      AgentUnitProperties(Sandboxed(SandboxProfile::kNone), SystemdFeatures{252}), "Environment"));
  EXPECT_EQ(env, (std::vector<std::string>{"NOVA_AGENT_NAME=agent-001",
                                           "NOVA_MEMORY_MAX=4294967296", "NOVA_TASKS_MAX=512",
                                           "NOVA_TIMEOUT_SEC=1800", "NOVA_SOFT_TIMEOUT_SEC=900"}));
}

TEST(SandboxProperties, StandardOnSystemd252) {
  EXPECT_EQ(SandboxProperties(Sandboxed(SandboxProfile::kStandard), SystemdFeatures{252}),
            StandardProperties(252));
}

TEST(SandboxProperties, StandardOnSystemd257HasItsOwnCgroupNamespace) {
  UnitProperties props =
      SandboxProperties(Sandboxed(SandboxProfile::kStandard), SystemdFeatures{257});
  EXPECT_EQ(props, StandardProperties(257));
  EXPECT_EQ(Find(props, "ProtectControlGroups"), nullptr);
}

TEST(SandboxProperties, StandardIsTheDefaultAndSetsHome) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  EXPECT_EQ(s.sandbox, SandboxProfile::kStandard);
  s.environment = {"A=1"};
  auto env = std::get<std::vector<std::string>>(
      *Find(AgentUnitProperties(s, SystemdFeatures{252}), "Environment"));
  EXPECT_EQ(env, (std::vector<std::string>{"HOME=/tmp", "A=1", "NOVA_AGENT_NAME=agent-001",
                                           "NOVA_MEMORY_MAX=4294967296", "NOVA_TASKS_MAX=512",
                                           "NOVA_TIMEOUT_SEC=1800", "NOVA_SOFT_TIMEOUT_SEC=900",
                                           "NOVA_AGENT_SANDBOX=standard"}));
}

TEST(SandboxProperties, AWorkdirInAHomeIsMountedBackIntoTheHiddenHomes) {
  UnitProperties props = SandboxProperties(
      Sandboxed(SandboxProfile::kStandard, "/home/alice/project"), SystemdFeatures{252});
  EXPECT_EQ(*Find(props, "BindPaths"),
            PropertyValue(std::vector<BindPath>{
                {"/home/alice/project", "/home/alice/project", false, MS_REC}}));
  EXPECT_EQ(Find(SandboxProperties(Sandboxed(SandboxProfile::kStandard), SystemdFeatures{252}),
                 "BindPaths"),
            nullptr);
}

TEST(SandboxProperties, StrictAddsTheNetworkAllowListAndHidesTheRest) {
  for (unsigned version : {252u, 257u}) {
    UnitProperties expected = StandardProperties(version);
    expected[9] = {"ReadWritePaths", std::vector<std::string>{"/srv/ws-001"}};  // no scratch
    expected.push_back(
        {"BindPaths", std::vector<BindPath>{{"/srv/ws-001", "/srv/ws-001", false, MS_REC}}});
    expected.push_back({"ProcSubset", std::string("pid")});
    expected.push_back(
        {"TemporaryFileSystem",
         std::vector<TemporaryFileSystem>{
             {"/media", "ro"}, {"/mnt", "ro"}, {"/srv", "ro"}, {"/var/nova-agents", "ro"}}});
    expected.push_back(
        {"IPAddressDeny", std::vector<IpPrefix>{{AF_INET, {0, 0, 0, 0}, 0},
                                                {AF_INET6, std::vector<uint8_t>(16), 0}}});
    expected.push_back({"IPAddressAllow", std::vector<IpPrefix>{{AF_INET, {127, 0, 0, 1}, 32}}});
    EXPECT_EQ(SandboxProperties(Sandboxed(SandboxProfile::kStrict), SystemdFeatures{version}),
              expected)
        << version;
  }
}

TEST(SandboxProperties, StrictWithAnEmptyAllowListHasNoNetworkAtAll) {
  SpawnRequest r = Request();
  r.sandbox = "strict";
  UnitProperties props =
      SandboxProperties(ResolveSpawn(r, Config{}, 64 * kGiB), SystemdFeatures{252});
  EXPECT_NE(Find(props, "IPAddressDeny"), nullptr);
  EXPECT_EQ(Find(props, "IPAddressAllow"), nullptr);
}

TEST(ResolveSandbox, AllowIpIsAddedToTheOperatorsListOnce) {
  SpawnRequest r = Request();
  r.sandbox = "strict";
  r.allow_ip = {"10.1.0.0/16", "127.0.0.1", "localhost"};
  Config config;
  config.allow_ip = *ParseAllowIp("127.0.0.1");
  AgentSpec s = ResolveSpawn(r, config, 64 * kGiB);
  std::vector<std::string> got;
  for (const auto& p : s.allow_ip) got.push_back(FormatIpPrefix(p));
  EXPECT_EQ(got,
            (std::vector<std::string>{"127.0.0.1/32", "10.1.0.0/16", "127.0.0.0/8", "::1/128"}));
}

TEST(ResolveSandbox, RefusesBadProfilesAndAddressesWithOneLine) {
  SpawnRequest r = Request();
  r.sandbox = "tight\x1b";
  EXPECT_EQ(Problem(r),
            "--sandbox \"tight\\e\": not a sandbox profile; accepted: none, standard or strict");
  r.sandbox = "strict";
  r.allow_ip = {"127.0.0.1", "example.com"};
  EXPECT_EQ(Problem(r),
            "--allow-ip \"example.com\": not valid; accepted: an IPv4 or IPv6 address with an "
            "optional /LENGTH (such as 10.0.0.0/8 or ::1), or localhost");
  r.allow_ip = std::vector<std::string>(65, "10.0.0.1");
  EXPECT_EQ(Problem(r), "--allow-ip: 65 entries given; at most 64 are accepted");
  r.sandbox = std::nullopt;
  r.allow_ip = {"10.0.0.1"};
  EXPECT_EQ(Problem(r),
            "--allow-ip: only the strict sandbox limits the network, and this agent's is "
            "standard; add --sandbox strict");
}

TEST(ResolveSandbox, RefusesWorkdirsThatWouldOpenTheSandbox) {
  for (const char* bad : {"/", "/home", "/root", "/run", "/run/user", "/proc", "/sys/fs/cgroup",
                          "/dev/shm", "/srv/ws/", "/srv//ws", "/srv/ws/../..", "/srv/./ws"}) {
    SpawnRequest r = Request();
    r.workdir = bad;
    EXPECT_THAT(Problem(r), ::testing::HasSubstr("the standard sandbox lets the agent write "
                                                 "only there"))
        << bad;
    r.sandbox = "none";
    Config config;
    config.sandbox_minimum = SandboxProfile::kNone;
    EXPECT_EQ(Refusal(r, config, false, ErrorKind::kInvalidArgument), "") << bad;
  }
  SpawnRequest r = Request();
  r.workdir = "/";
  EXPECT_EQ(Problem(r),
            "--workdir \"/\": is the root directory; the standard sandbox lets the agent write "
            "only there: use a directory of the agent's own, such as "
            "/var/nova-agents/pool/ws-001");
  for (const char* good : {"/tmp", "/srv/ws-001", "/home/alice", "/home/alice/p", "/devices"}) {
    r.workdir = good;
    EXPECT_EQ(Problem(r), "") << good;
  }
}

TEST(ResolveSandbox, MembersMayNotGoBelowTheOperatorsMinimum) {
  SpawnRequest r = Request();
  r.sandbox = "none";
  Config config;  // SandboxMinimum=standard
  EXPECT_EQ(Refusal(r, config, false, ErrorKind::kPermissionDenied),
            "--sandbox none: weaker than the operator's minimum, standard (SandboxMinimum in "
            "/etc/nova/nova.conf); only root may ask for less");
  EXPECT_EQ(ResolveSpawn(r, config, 64 * kGiB, true).sandbox, SandboxProfile::kNone);  // root
  config.sandbox = SandboxProfile::kStrict;
  config.sandbox_minimum = SandboxProfile::kStrict;
  r.sandbox = "standard";
  EXPECT_NE(Refusal(r, config, false, ErrorKind::kPermissionDenied), "");
  r.sandbox = std::nullopt;
  EXPECT_EQ(ResolveSpawn(r, config, 64 * kGiB).sandbox, SandboxProfile::kStrict);
  config.sandbox_minimum = SandboxProfile::kNone;
  r.sandbox = "none";
  EXPECT_EQ(ResolveSpawn(r, config, 64 * kGiB).sandbox, SandboxProfile::kNone);
}

TEST(ResolveSandbox, UnderAStrictMinimumOnlyRootWidensTheAllowList) {
  SpawnRequest r = Request();
  r.allow_ip = {"0.0.0.0/0"};
  Config config;
  config.sandbox = SandboxProfile::kStrict;
  config.sandbox_minimum = SandboxProfile::kStrict;
  EXPECT_EQ(Refusal(r, config, false, ErrorKind::kPermissionDenied),
            "--allow-ip 0.0.0.0/0: the operator requires the strict sandbox "
            "(SandboxMinimum=strict in /etc/nova/nova.conf), whose network is AllowIP only; "
            "only root may add addresses");
  EXPECT_EQ(ResolveSpawn(r, config, 64 * kGiB, true).allow_ip.size(), 1u);
  // Below a strict minimum a member could pick standard, whose network is
  // open, so adding addresses to strict takes nothing from the operator.
  config.sandbox_minimum = SandboxProfile::kStandard;
  EXPECT_EQ(ResolveSpawn(r, config, 64 * kGiB).allow_ip.size(), 1u);
}

TEST(SystemdFeatures, DoctorNamesWhatTheSandboxLacks) {
  EXPECT_EQ(SystemdFeatures{252}.missing_sandbox_features().size(), 1u);
  EXPECT_THAT(SystemdFeatures{252}.missing_sandbox_features()[0],
              ::testing::HasSubstr("ProtectControlGroupsEx=strict (systemd 257)"));
  EXPECT_TRUE(SystemdFeatures{257}.missing_sandbox_features().empty());
}

}  // namespace
// The guide's snippet (cat /sys/fs/cgroup/memory.max) reads the agent's own
// cgroup: bound there on 252, a cgroup namespace of its own on 257.
TEST(AgentUnitProperties, TheAgentSeesItsOwnCgroupAtSysFsCgroup) {
  AgentSpec none = Sandboxed(SandboxProfile::kNone);
  UnitProperties on257 = AgentUnitProperties(none, SystemdFeatures{257});
  EXPECT_EQ(Find(on257, "BindReadOnlyPaths"), nullptr);
  EXPECT_EQ(*Find(on257, "ProtectControlGroupsEx"), PropertyValue(std::string("private")));
  AgentSpec standard = Sandboxed(SandboxProfile::kStandard);
  on257 = AgentUnitProperties(standard, SystemdFeatures{257});
  EXPECT_EQ(Find(on257, "BindReadOnlyPaths"), nullptr);
  EXPECT_EQ(*Find(on257, "ProtectControlGroupsEx"), PropertyValue(std::string("strict")));
  UnitProperties on252 = AgentUnitProperties(standard, SystemdFeatures{252});
  EXPECT_EQ(Find(on252, "ProtectControlGroupsEx"), nullptr);
  EXPECT_EQ(*Find(on252, "BindReadOnlyPaths"),
            PropertyValue(std::vector<BindPath>{
                {"/sys/fs/cgroup/nova.slice/nova-agents.slice/nova-agent-agent-001.service",
                 "/sys/fs/cgroup", true, MS_REC}}));
}

TEST(AgentUnitProperties, TheAgentsFactsAreInItsEnvironment) {
  AgentSpec s = ResolveSpawn(Request(), Config{}, 64 * kGiB);
  s.memory_max = uint64_t{256} << 20;
  s.tasks_max = 64;
  s.runtime_max = Usec(90500000);
  s.soft_timeout = Usec(0);
  s.environment = {"NOVA_MEMORY_MAX=1"};  // the caller's word does not win
  auto env = std::get<std::vector<std::string>>(
      *Find(AgentUnitProperties(s, SystemdFeatures{252}), "Environment"));
  EXPECT_EQ(env, (std::vector<std::string>{
                     "HOME=/tmp", "NOVA_MEMORY_MAX=1", "NOVA_AGENT_NAME=agent-001",
                     "NOVA_MEMORY_MAX=268435456", "NOVA_TASKS_MAX=64", "NOVA_TIMEOUT_SEC=90.5",
                     "NOVA_SOFT_TIMEOUT_SEC=0", "NOVA_AGENT_SANDBOX=standard"}));
}

// systemd would create a missing mount point on the host, so novad names
// only the trees that exist (AgentManager drops the others).
TEST(SandboxProperties, StrictHidesOnlyTheTreesItIsGiven) {
  AgentSpec s = Sandboxed(SandboxProfile::kStrict);
  EXPECT_EQ(s.hidden_trees, kStrictHiddenTrees);
  s.hidden_trees = {"/srv"};
  EXPECT_EQ(*Find(SandboxProperties(s, SystemdFeatures{252}), "TemporaryFileSystem"),
            PropertyValue(std::vector<TemporaryFileSystem>{{"/srv", "ro"}}));
  s.hidden_trees.clear();
  EXPECT_EQ(Find(SandboxProperties(s, SystemdFeatures{252}), "TemporaryFileSystem"), nullptr);
}

}  // namespace nova
