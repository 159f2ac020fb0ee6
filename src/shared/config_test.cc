#include "config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "errors.h"

namespace nova {
namespace {

std::string Problem(const std::string& text) {
  try {
    ParseConfig(text, "/etc/nova/nova.conf");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(Config, DefaultsAreTheBriefs) {
  Config c = ParseConfig("", "x");
  EXPECT_EQ(c.memory_max, 4ULL << 30);
  EXPECT_EQ(c.tasks_max, 512u);
  EXPECT_EQ(c.runtime_max, std::chrono::minutes(30));
  EXPECT_EQ(c.soft_timeout, std::chrono::minutes(15));
  EXPECT_EQ(c.timeout_stop, std::chrono::seconds(10));
  EXPECT_EQ(c.admission_percent, 85);
  EXPECT_EQ(c.relief_percent, 95);
  EXPECT_EQ(c.relief_target_percent, 75);
  EXPECT_EQ(c.max_agents, 0u);
  EXPECT_EQ(c.admission_reopen_percent, 80);
  EXPECT_FALSE(c.relief_dry_run);
  EXPECT_EQ(c.watch_interval_max, std::chrono::seconds(1));
  EXPECT_EQ(c.watch_interval_min, std::chrono::milliseconds(20));
  EXPECT_EQ(c.relief_confirm_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.pressure_stall, std::chrono::milliseconds(100));
  EXPECT_EQ(c.memory_max_ceiling, 4ULL << 30);
  EXPECT_EQ(c.tasks_max_ceiling, 512u);
  EXPECT_EQ(c.runtime_max_ceiling, std::chrono::minutes(30));
  EXPECT_EQ(c.max_agents_per_user, 0u);
}

TEST(Config, TheShippedFileIsAllDefaults) {
  Config shipped = LoadConfig(NOVA_SOURCE_DIR "/units/nova.conf");
  Config defaults;
  EXPECT_EQ(shipped.memory_max, defaults.memory_max);
  EXPECT_EQ(shipped.runtime_max, defaults.runtime_max);
  EXPECT_EQ(shipped.admission_percent, defaults.admission_percent);
  EXPECT_EQ(shipped.admission_reopen_percent, defaults.admission_reopen_percent);
  EXPECT_EQ(shipped.relief_dry_run, defaults.relief_dry_run);
  EXPECT_EQ(shipped.watch_interval_min, defaults.watch_interval_min);
  EXPECT_EQ(shipped.memory_max_ceiling, defaults.memory_max_ceiling);
  EXPECT_EQ(shipped.tasks_max_ceiling, defaults.tasks_max_ceiling);
  EXPECT_EQ(shipped.runtime_max_ceiling, defaults.runtime_max_ceiling);
  EXPECT_EQ(shipped.max_agents_per_user, defaults.max_agents_per_user);
  EXPECT_EQ(shipped.sandbox, defaults.sandbox);
  EXPECT_EQ(shipped.sandbox_minimum, defaults.sandbox_minimum);
  EXPECT_EQ(shipped.allow_ip, defaults.allow_ip);
  EXPECT_EQ(shipped.metrics_file, defaults.metrics_file);
}

TEST(Config, MetricsFileIsAnAbsolutePathOrNone) {
  EXPECT_EQ(Config{}.metrics_file, "/var/lib/prometheus/node-exporter/nova.prom");
  EXPECT_EQ(ParseConfig("MetricsFile=/run/nova.prom\n", "t").metrics_file, "/run/nova.prom");
  EXPECT_EQ(ParseConfig("MetricsFile=\n", "t").metrics_file, "");
  try {
    ParseConfig("MetricsFile=nova.prom\n", "t");
    FAIL() << "a relative path was taken";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("an absolute path, or empty for no metrics"));
  }
}

TEST(Config, SandboxedByDefault) {
  Config c = ParseConfig("", "x");
  EXPECT_EQ(c.sandbox, SandboxProfile::kStandard);
  EXPECT_EQ(c.sandbox_minimum, SandboxProfile::kStandard);
  EXPECT_TRUE(c.allow_ip.empty());
}

TEST(Config, SandboxKeys) {
  Config c =
      ParseConfig("SandboxMinimum=none\nSandbox=strict\nAllowIP=10.0.0.0/8  localhost\n", "x");
  EXPECT_EQ(c.sandbox, SandboxProfile::kStrict);
  EXPECT_EQ(c.sandbox_minimum, SandboxProfile::kNone);
  EXPECT_EQ(c.allow_ip_text, (std::vector<std::string>{"10.0.0.0/8", "localhost"}));
  ASSERT_EQ(c.allow_ip.size(), 3u);
  EXPECT_EQ(FormatIpPrefix(c.allow_ip[2]), "::1/128");
  EXPECT_TRUE(ParseConfig("AllowIP=10.0.0.1\nAllowIP=\n", "x").allow_ip.empty());
}

TEST(Config, BadSandboxValuesNameTheLineAndWhatIsAccepted) {
  EXPECT_EQ(Problem("\nSandbox=tight"),
            "/etc/nova/nova.conf:2: Sandbox=\"tight\" is not valid; expected none, standard or "
            "strict");
  EXPECT_EQ(Problem("SandboxMinimum=\x1b[2J"),
            "/etc/nova/nova.conf:1: SandboxMinimum=\"\\e[2J\" is not valid; expected none, "
            "standard or strict");
  EXPECT_EQ(Problem("AllowIP=10.0.0.1 example.com"),
            "/etc/nova/nova.conf:1: AllowIP=\"10.0.0.1 example.com\" is not valid; expected a "
            "space-separated list of at most 64 entries, each an IPv4 or IPv6 address with an "
            "optional /LENGTH (such as 10.0.0.0/8 or ::1), or localhost; empty for none");
  std::string many = "AllowIP=";
  for (int i = 0; i < 65; ++i) many += "10.0.0." + std::to_string(i) + " ";
  EXPECT_NE(Problem(many), "");
}

TEST(Config, DefaultSandboxMayNotBeWeakerThanTheMinimum) {
  EXPECT_EQ(Problem("# x\nSandbox=none\n"),
            "/etc/nova/nova.conf:2: Sandbox (none) is weaker than SandboxMinimum (standard); "
            "strengthen the default or lower the minimum");
  EXPECT_EQ(Problem("SandboxMinimum=strict\n"),
            "/etc/nova/nova.conf:1: Sandbox (standard) is weaker than SandboxMinimum (strict); "
            "strengthen the default or lower the minimum");
  EXPECT_EQ(Problem("SandboxMinimum=none\nSandbox=none\n"), "");
}

TEST(Config, ParsesEveryKey) {
  Config c = ParseConfig(
      "# comment\n"
      "MemoryMax = 2G\n"
      "TasksMax=100\n"
      "RuntimeMax=1h\n"
      "SoftTimeout=0\n"
      "TimeoutStop=5s\n"
      "StartTimeout=20s\n"
      "AdmissionPercent=80\n"
      "AdmissionReopenPercent=72.5\n"
      "ReliefDryRun=yes\n"
      "WatchIntervalMax=500ms\n"
      "WatchIntervalMin=5ms\n"
      "ReliefConfirmTimeout=2s\n"
      "PressureStall=0\n"
      "ReliefPercent=90%\n"
      "ReliefTargetPercent=70\n"
      "MaxAgents=12\n"
      "SystemSharePercent=5\n"
      "HeadroomPercent=10\n"
      "MemoryMaxCeiling=16G\n"
      "TasksMaxCeiling=4096\n"
      "RuntimeMaxCeiling=7d\n"
      "MaxAgentsPerUser=3\n",
      "x");
  EXPECT_EQ(c.memory_max, 2ULL << 30);
  EXPECT_EQ(c.tasks_max, 100u);
  EXPECT_EQ(c.runtime_max, std::chrono::hours(1));
  EXPECT_EQ(c.soft_timeout, Usec(0));
  EXPECT_EQ(c.timeout_stop, std::chrono::seconds(5));
  EXPECT_EQ(c.start_timeout, std::chrono::seconds(20));
  EXPECT_EQ(Config{}.start_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c.admission_percent, 80);
  EXPECT_EQ(c.relief_percent, 90);
  EXPECT_EQ(c.relief_target_percent, 70);
  EXPECT_EQ(c.max_agents, 12u);
  EXPECT_EQ(c.system_share_percent, 5);
  EXPECT_EQ(c.headroom_percent, 10);
  EXPECT_EQ(c.admission_reopen_percent, 72.5);
  EXPECT_TRUE(c.relief_dry_run);
  EXPECT_EQ(c.watch_interval_max, std::chrono::milliseconds(500));
  EXPECT_EQ(c.watch_interval_min, std::chrono::milliseconds(5));
  EXPECT_EQ(c.relief_confirm_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.pressure_stall, Usec(0));
  EXPECT_EQ(c.memory_max_ceiling, 16ULL << 30);
  EXPECT_EQ(c.tasks_max_ceiling, 4096u);
  EXPECT_EQ(c.runtime_max_ceiling, std::chrono::hours(24 * 7));
  EXPECT_EQ(c.max_agents_per_user, 3u);
  EXPECT_EQ(ParseConfig("MaxAgents=auto", "x").max_agents, 0u);
  EXPECT_EQ(ParseConfig("MaxAgentsPerUser=unlimited", "x").max_agents_per_user, 0u);
}

TEST(Config, UnknownKeyNamesTheLineAndTheKnownKeys) {
  EXPECT_EQ(
      Problem("\nMemoryMaxx=4G\n"),
      "/etc/nova/nova.conf:2: unknown key \"MemoryMaxx\"; known keys: "
      "AdmissionPercent, AdmissionReopenPercent, AgentSystemBus, AllowIP, HeadroomPercent, "
      "MaxAgents, "
      "MaxAgentsPerUser, MemoryMax, MemoryMaxCeiling, MetricsFile, MetricsInterval, PressureStall, "
      "ReliefConfirmTimeout, ReliefDryRun, ReliefPercent, ReliefTargetPercent, "
      "RuntimeMax, RuntimeMaxCeiling, Sandbox, SandboxMinimum, SoftTimeout, StartTimeout, "
      "SystemSharePercent, TasksMax, "
      "TasksMaxCeiling, TimeoutStop, WatchIntervalMax, WatchIntervalMin");
}

TEST(Config, MetricsIntervalIsASecondToAnHour) {
  EXPECT_EQ(ParseConfig("", "x").metrics_interval, std::chrono::seconds(15));
  EXPECT_EQ(ParseConfig("MetricsInterval=5s", "x").metrics_interval, std::chrono::seconds(5));
  EXPECT_EQ(Problem("MetricsInterval=100ms"),
            "/etc/nova/nova.conf:1: MetricsInterval=\"100ms\" is not valid; expected a duration "
            "from 1s to 1h such as 15s");
  EXPECT_NE(Problem("MetricsInterval=2h"), "");
}

TEST(Config, StartTimeoutStaysWithinNovactlsCallTimeout) {
  EXPECT_EQ(Problem("StartTimeout=3min"),
            "/etc/nova/nova.conf:1: StartTimeout=\"3min\" is not valid; expected a duration from "
            "1s to 2min such as 60s");
  EXPECT_NE(Problem("StartTimeout=0"), "");
  EXPECT_EQ(Problem("StartTimeout=2min"), "");
}

TEST(Config, BadValueNamesKeyValueAndAccepted) {
  EXPECT_EQ(Problem("MemoryMax=lots"),
            "/etc/nova/nova.conf:1: MemoryMax=\"lots\" is not valid; expected a size of at "
            "least 16M such as 4G");
  EXPECT_EQ(Problem("AdmissionPercent=120"),
            "/etc/nova/nova.conf:1: AdmissionPercent=\"120\" is not valid; expected a "
            "percentage above 0 and below 100");
  EXPECT_EQ(Problem("HeadroomPercent=101"),
            "/etc/nova/nova.conf:1: HeadroomPercent=\"101\" is not valid; expected a "
            "percentage from 0 to 100");
  EXPECT_EQ(Problem("MaxAgentsPerUser=0"),
            "/etc/nova/nova.conf:1: MaxAgentsPerUser=\"0\" is not valid; expected a positive "
            "count, or unlimited");
  EXPECT_NE(Problem("TasksMax=0"), "");
  EXPECT_NE(Problem("RuntimeMax=0"), "");
  EXPECT_NE(Problem("MaxAgents=-1"), "");
  EXPECT_NE(Problem("just words"), "");
  EXPECT_EQ(Problem("ReliefDryRun=maybe"),
            "/etc/nova/nova.conf:1: ReliefDryRun=\"maybe\" is not valid; expected yes or no");
  EXPECT_NE(Problem("PressureStall=2s"), "");
  EXPECT_NE(Problem("WatchIntervalMin=0"), "");
}

TEST(Config, PercentagesMustBeNumbers) {
  for (const char* value : {"nan", "-nan", "NAN", "inf", "-inf", "infinity", "INFINITY", "nan%"}) {
    for (const char* key : {"AdmissionPercent", "AdmissionReopenPercent", "ReliefPercent",
                            "ReliefTargetPercent", "SystemSharePercent", "HeadroomPercent"}) {
      EXPECT_THAT(Problem(std::string("\n") + key + "=" + value),
                  testing::StartsWith("/etc/nova/nova.conf:2: " + std::string(key) + "=\"" + value +
                                      "\" is not valid; expected a percentage"))
          << key << "=" << value;
    }
  }
}

TEST(Config, PercentagesThatDisableAGuardAreRefused) {
  EXPECT_EQ(Problem("\n\nReliefPercent=100"),
            "/etc/nova/nova.conf:3: ReliefPercent=\"100\" is not valid; expected a percentage "
            "above 0 and below 100");
  EXPECT_EQ(Problem("AdmissionPercent=100%"),
            "/etc/nova/nova.conf:1: AdmissionPercent=\"100%\" is not valid; expected a "
            "percentage above 0 and below 100");
  EXPECT_EQ(Problem("ReliefTargetPercent=0"),
            "/etc/nova/nova.conf:1: ReliefTargetPercent=\"0\" is not valid; expected a "
            "percentage above 0 and below 100");
  EXPECT_EQ(Problem("AdmissionReopenPercent=0"),
            "/etc/nova/nova.conf:1: AdmissionReopenPercent=\"0\" is not valid; expected a "
            "percentage above 0 and below 100");
  EXPECT_NE(Problem("AdmissionPercent=0"), "");
  EXPECT_EQ(Problem("ReliefPercent=99.5"), "");
  EXPECT_EQ(Problem("HeadroomPercent=0"), "");
}

TEST(Config, LimitsNoSpawnWouldAcceptAreRefused) {
  EXPECT_EQ(Problem("RuntimeMax=30d"),
            "/etc/nova/nova.conf:1: RuntimeMax=\"30d\" is not valid; expected a duration from 1s "
            "to 7d such as 30min");
  EXPECT_EQ(Problem("TasksMax=5000000"),
            "/etc/nova/nova.conf:1: TasksMax=\"5000000\" is not valid; expected a count from 1 "
            "to 4194304 such as 512");
  EXPECT_EQ(Problem("MemoryMax=8M"),
            "/etc/nova/nova.conf:1: MemoryMax=\"8M\" is not valid; expected a size of at least "
            "16M such as 4G");
  EXPECT_NE(Problem("MemoryMax=infinity"), "");
  EXPECT_NE(Problem("RuntimeMax=500ms"), "");
  EXPECT_NE(Problem("RuntimeMaxCeiling=8d"), "");
  EXPECT_NE(Problem("TasksMaxCeiling=4194305"), "");
  EXPECT_NE(Problem("TasksMaxCeiling=0"), "");
  EXPECT_NE(Problem("MemoryMaxCeiling=1M"), "");
  EXPECT_NE(Problem("MemoryMaxCeiling=infinity"), "");
  // The bounds themselves are accepted, with ceilings to match.
  EXPECT_EQ(Problem("RuntimeMaxCeiling=7d\nRuntimeMax=7d\nSoftTimeout=1h"), "");
  EXPECT_EQ(Problem("TasksMaxCeiling=4194304\nTasksMax=4194304"), "");
  EXPECT_EQ(Problem("MemoryMax=16M"), "");
}

TEST(Config, DefaultsMustFitUnderTheirCeilings) {
  EXPECT_EQ(Problem("# more memory\nMemoryMax=8G"),
            "/etc/nova/nova.conf:2: MemoryMax (8G) is above MemoryMaxCeiling (4G); raise the "
            "ceiling or lower the default");
  EXPECT_EQ(Problem("TasksMaxCeiling=100"),
            "/etc/nova/nova.conf:1: TasksMax (512) is above TasksMaxCeiling (100); raise the "
            "ceiling or lower the default");
  EXPECT_EQ(Problem("RuntimeMax=1h\nSoftTimeout=10min"),
            "/etc/nova/nova.conf:1: RuntimeMax (1h) is above RuntimeMaxCeiling (30min); raise "
            "the ceiling or lower the default");
  EXPECT_EQ(Problem("MemoryMax=8G\nMemoryMaxCeiling=8G"), "");
  EXPECT_EQ(Problem("MemoryMaxCeiling=1G\nMemoryMax=1G"), "");
}

TEST(Config, ThresholdsMustBeOrdered) {
  EXPECT_NE(Problem("AdmissionPercent=96"), "");
  EXPECT_NE(Problem("ReliefTargetPercent=90"), "");
  EXPECT_NE(Problem("SoftTimeout=30min"), "");
  EXPECT_EQ(Problem("AdmissionReopenPercent=85"),
            "/etc/nova/nova.conf: AdmissionReopenPercent (85%) must be below AdmissionPercent "
            "(85%)");
  EXPECT_EQ(Problem("AdmissionPercent=90\nReliefPercent=88"),
            "/etc/nova/nova.conf: thresholds must satisfy ReliefTargetPercent < "
            "AdmissionPercent < ReliefPercent; got 75% / 90% / 88%");
  EXPECT_NE(Problem("WatchIntervalMin=2s"), "");
  EXPECT_NE(Problem("SystemSharePercent=50\nHeadroomPercent=50"), "");
}

}  // namespace
}  // namespace nova
