#include "doctor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "errors.h"
#include "host_facts_for_tests.h"

namespace nova {
namespace {

TEST(Doctor, ChecksTheWorkspacePoolWhereThereIsOne) {
  DoctorInputs in;
  in.systemd_version = 252;
  in.novad_state = "active";
  HostFacts f = ReadyHost();
  f.pool.shared_slots = {"ws-001"};
  auto checks = DoctorChecks(f, in);
  EXPECT_EQ(Find(checks, "workspace pool").status, Check::kWarn);
  f.pool = PoolFacts{};
  checks = DoctorChecks(f, in);
  EXPECT_EQ(Find(checks, "workspace pool").name, "(missing)");
}

TEST(Doctor, ReadyWhenEverythingIsInPlace) {
  DoctorInputs in;
  in.systemd_version = 252;
  in.novad_state = "active";
  in.memory = HostMemory{64ULL << 30, 48ULL << 30};
  for (const auto& c : DoctorChecks(ReadyHost(), in)) {
    EXPECT_NE(c.status, Check::kFail) << c.name << ": " << c.detail;
  }
}

TEST(Doctor, NamesEachProblemAndItsFix) {
  DoctorInputs in;
  in.systemd_version = 245;
  in.novad_state = "inactive";
  in.config_error = "/etc/nova/nova.conf:3: unknown key \"Foo\"";
  in.memory = HostMemory{64ULL << 30, 4ULL << 30};  // 93.8% used
  auto checks = DoctorChecks(ReadyHost(), in);
  EXPECT_EQ(Find(checks, "systemd").fix, "upgrade to systemd 250 or later");
  EXPECT_EQ(Find(checks, "novad").detail, "novad.service is inactive");
  EXPECT_EQ(Find(checks, "novad").fix, "systemctl enable --now novad (see journalctl -u novad)");
  EXPECT_EQ(Find(checks, "configuration").status, Check::kFail);
  EXPECT_EQ(Find(checks, "capacity").status, Check::kFail);
  EXPECT_THAT(Find(checks, "capacity").fix, testing::HasSubstr("new agents are refused"));
  EXPECT_EQ(Find(checks, "memory watcher").status, Check::kOk);
}

TEST(Doctor, ADefaultMemoryMaxAboveTheHostsMemoryFails) {
  DoctorInputs in;
  in.systemd_version = 252;
  in.novad_state = "active";
  in.memory = HostMemory{(58ULL << 30) / 10, 5ULL << 30};  // 5.8G
  in.config.memory_max = in.config.memory_max_ceiling = 8ULL << 30;
  auto checks = DoctorChecks(ReadyHost(), in);
  const Check& c = Find(checks, "agent memory");
  EXPECT_EQ(c.status, Check::kFail);
  EXPECT_EQ(c.detail,
            "MemoryMax=8G is more than the host's memory (5.8G): every spawn without --memory is "
            "refused");
  EXPECT_EQ(c.fix, "lower MemoryMax in /etc/nova/nova.conf to at most 5.8G");
  EXPECT_EQ(Find(checks, "capacity").status, Check::kFail);  // no default-size agent fits
  // The advice is never above the host's memory, though FormatSize may round up.
  EXPECT_EQ(AgentMemoryCheck(in.config, 4670ULL << 20).fix,
            "lower MemoryMax in /etc/nova/nova.conf to at most 4.5G");
  EXPECT_EQ(AgentMemoryCheck(Config{}, 5ULL << 30).detail,
            "MemoryMax=4G per agent, of 5G on the host");
}

TEST(Doctor, ADefaultMemoryMaxAboveWhatIsSetAsideWarns) {
  Config c;  // MaxAgents=auto, 85% set aside
  EXPECT_EQ(AgentMemoryCheck(c, 6ULL << 30).status, Check::kOk);
  Check check = AgentMemoryCheck(c, 4650ULL << 20);  // 3.86G set aside
  EXPECT_EQ(check.status, Check::kWarn);
  EXPECT_EQ(check.detail,
            "MemoryMax=4G is more than the 3.9G set aside for agents (MaxAgents=auto): no agent of "
            "that size is admitted");
  // 3.86G shows as 3.9G, but the advice must not be above it.
  EXPECT_EQ(check.fix, "lower MemoryMax in /etc/nova/nova.conf to at most 3.8G");
  c.max_agents = 2;  // counted, not weighed
  EXPECT_EQ(AgentMemoryCheck(c, 4650ULL << 20).status, Check::kOk);
  EXPECT_EQ(AgentMemoryCheck(c, 5ULL << 30).detail, "MemoryMax=4G per agent, of 5G on the host");
}

TEST(Doctor, CapacityWithMaxAgentsAutoIsTheMemoryCommitted) {
  DoctorInputs in;
  in.memory = HostMemory{64ULL << 30, 48ULL << 30};
  in.agents = AgentLoad{3, 12ULL << 30};
  EXPECT_EQ(Find(DoctorChecks(ReadyHost(), in), "capacity").detail,
            "3 agents hold 12G of the 54.4G set aside for agents (MaxAgents=auto); host memory "
            "25.0% used (admission closes at 85%)");
  in.agents = AgentLoad{3, 52ULL << 30};
  auto checks = DoctorChecks(ReadyHost(), in);
  const Check& full = Find(checks, "capacity");
  EXPECT_EQ(full.status, Check::kFail);
  EXPECT_THAT(full.fix, testing::HasSubstr("agents hold 52G of the 54.4G set aside for them"));
  in.config.max_agents = 20;
  EXPECT_THAT(Find(DoctorChecks(ReadyHost(), in), "capacity").detail,
              testing::StartsWith("3 of 20 agents; host memory 25.0% used"));
}

TEST(Doctor, ThePolicyShowsTheCeilings) {
  DoctorInputs in;
  in.memory = HostMemory{64ULL << 30, 48ULL << 30};
  in.config.max_agents_per_user = 4;
  EXPECT_EQ(Find(DoctorChecks(ReadyHost(), in), "policy").detail,
            "MemoryMax 4G, no swap, MemoryHigh=infinity, TasksMax 512; callers other than root "
            "get at most 4G, 512 tasks, 30min and 4 agents each; priority management not enabled");
}

TEST(Doctor, WarnsWhenTheWatcherMustDoWithoutPsi) {
  HostFacts f = ReadyHost();
  f.memory_pressure = false;
  DoctorInputs in;
  in.systemd_version = 252;
  in.novad_state = "active";
  in.memory = HostMemory{64ULL << 30, 48ULL << 30};
  auto checks = DoctorChecks(f, in);
  const Check& c = Find(checks, "memory watcher");
  EXPECT_EQ(c.status, Check::kWarn);
  EXPECT_EQ(c.detail, "no memory PSI, cgroup.kill");
  EXPECT_THAT(c.fix, testing::HasSubstr("psi=1"));
}

TEST(Doctor, SaysWhatTheSandboxLacksOnOlderSystemd) {
  DoctorInputs in;
  in.systemd_version = 252;
  Check old = SandboxCheck(in);
  EXPECT_EQ(old.status, Check::kWarn);
  EXPECT_EQ(old.detail,
            "agents default to standard, callers other than root get at least standard; strict "
            "allows no address; systemd 252 lacks ProtectControlGroupsEx=strict (systemd 257): "
            "sandboxed agents get ProtectControlGroups=yes and their own cgroup bound on "
            "/sys/fs/cgroup instead; they can read, not write, "
            "other agents' cgroups under /sys/fs/cgroup/nova.slice");
  in.systemd_version = 257;
  in.config.allow_ip_text = {"127.0.0.1", "10.0.0.0/8"};
  Check current = SandboxCheck(in);
  EXPECT_EQ(current.status, Check::kOk);
  EXPECT_EQ(current.detail,
            "agents default to standard, callers other than root get at least standard; strict "
            "allows 127.0.0.1 10.0.0.0/8");
}

}  // namespace
}  // namespace nova
