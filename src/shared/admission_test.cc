#include "admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "size.h"

namespace nova {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;

HostMemory UsedPercent(double percent, uint64_t total = 64 * kGiB) {
  return HostMemory{total, static_cast<uint64_t>(total * (100 - percent) / 100)};
}

AgentUnitInfo Unit(const std::string& name, uint64_t memory_max, const char* state = "active") {
  AgentUnitInfo u;
  u.name = name;
  u.active_state = state;
  u.memory_max = memory_max;
  return u;
}

TEST(MemoryForAgents, FollowsTheOperationsGuide) {
  Config c;
  // 1.5 TB host: 1536G less 2% and 13%, room for 326 agents of 4G (the guide's ~325).
  EXPECT_EQ(MemoryForAgents(c, 1536 * kGiB) / (4 * kGiB), 326u);
  EXPECT_EQ(MemoryForAgents(c, 64 * kGiB), static_cast<uint64_t>(64 * kGiB * 0.85));
  c.system_share_percent = 0;
  c.headroom_percent = 0;
  EXPECT_EQ(MemoryForAgents(c, 64 * kGiB), 64 * kGiB);
}

TEST(MeasureLoad, SumsTheLiveAgentsLimits) {
  AgentLoad load = MeasureLoad({Unit("a", 1 * kGiB), Unit("b", 512ULL << 20, "activating"),
                                Unit("gone", 8 * kGiB, "failed")},
                               64 * kGiB);
  EXPECT_EQ(load.running, 2u);
  EXPECT_EQ(load.memory_committed, kGiB + (512ULL << 20));
  // No limit: it may take the whole host.
  EXPECT_EQ(MeasureLoad({Unit("a", kInfinity)}, 64 * kGiB).memory_committed, 64 * kGiB);
  EXPECT_EQ(MeasureLoad({Unit("a", kInfinity), Unit("b", kInfinity)}, kInfinity).memory_committed,
            kInfinity);
}

TEST(Admission, AdmitsBelowTheThreshold) {
  Config c;
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(84.9), {}, 4 * kGiB), std::nullopt);
}

TEST(Admission, RefusesAtTheThresholdWithTheFigures) {
  Config c;
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(85), {}, 4 * kGiB),
            "host memory is 85.0% used, at or above the admission threshold of 85%; "
            "wait for agents to finish or free memory");
  EXPECT_NE(AdmissionRefusal(c, UsedPercent(99), {}, 4 * kGiB), std::nullopt);
}

TEST(Admission, AnExplicitMaximumCountsAgents) {
  Config c;
  c.max_agents = 3;
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(10), {2, 0}, 4 * kGiB), std::nullopt);
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(10), {3, 0}, 4 * kGiB),
            "3 agents are running, the maximum is 3 (MaxAgents); wait for one to "
            "finish or kill one");
  // Memory committed does not matter then.
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(10), {2, 200 * kGiB}, 4 * kGiB), std::nullopt);
}

TEST(Admission, AutoWeighsTheMemoryTheAgentsWereGiven) {
  Config c;  // MaxAgents=auto; 64G host: 54.4G set aside
  HostMemory memory = UsedPercent(10);
  uint64_t for_agents = MemoryForAgents(c, memory.total);
  // Many small agents fit where the default size would have counted 13.
  EXPECT_EQ(AdmissionRefusal(c, memory, {100, 100 * (512ULL << 20)}, 512ULL << 20), std::nullopt);
  // Exactly full is admitted, one byte more is not.
  EXPECT_EQ(AdmissionRefusal(c, memory, {1, for_agents - 4 * kGiB}, 4 * kGiB), std::nullopt);
  EXPECT_NE(AdmissionRefusal(c, memory, {1, for_agents - 4 * kGiB + 1}, 4 * kGiB), std::nullopt);
  // A few big agents fill it sooner than their count says.
  EXPECT_EQ(AdmissionRefusal(c, memory, {2, 40 * kGiB}, 16 * kGiB),
            "agents hold 40G of the 54.4G set aside for them (MaxAgents=auto: MemTotal - "
            "SystemSharePercent - HeadroomPercent); this agent asks for 16G; wait for one to "
            "finish, kill one or ask for less with --memory");
  // A committed sum past the set-aside (an agent without a limit) refuses.
  EXPECT_NE(AdmissionRefusal(c, memory, {1, kInfinity}, 16ULL << 20), std::nullopt);
  // One agent alone bigger than the set-aside is refused too.
  EXPECT_THAT(AdmissionRefusal(c, memory, {}, 60 * kGiB).value_or(""),
              testing::StartsWith("agents hold 0B of the 54.4G set aside for them"));
}

TEST(Admission, PerUserLimit) {
  Config c;
  EXPECT_EQ(PerUserRefusal(c, "alice", 1000), std::nullopt);  // unlimited by default
  c.max_agents_per_user = 2;
  EXPECT_EQ(PerUserRefusal(c, "alice", 1), std::nullopt);
  EXPECT_EQ(PerUserRefusal(c, "alice", 2),
            "alice runs 2 agents, the most one user may run (MaxAgentsPerUser=2 in "
            "/etc/nova/nova.conf); wait for one to finish or kill one");
  c.max_agents_per_user = 1;
  EXPECT_EQ(PerUserRefusal(c, "alice", 1),
            "alice runs 1 agent, the most one user may run (MaxAgentsPerUser=1 in "
            "/etc/nova/nova.conf); wait for one to finish or kill one");
}

TEST(AdmissionGate, ClosesAtTheThresholdAndReopensOnlyBelowTheLowerMark) {
  Config c;  // closes at 85, reopens below 80
  AdmissionGate gate(c);
  EXPECT_TRUE(gate.open());
  EXPECT_EQ(gate.Observe(84.9), AdmissionGate::Change::kNone);
  EXPECT_EQ(gate.Observe(85.0), AdmissionGate::Change::kClosed);
  EXPECT_FALSE(gate.open());
  // Hovering between the two marks does not flap.
  for (double used : {84.0, 86.0, 80.0, 84.9}) {
    EXPECT_EQ(gate.Observe(used), AdmissionGate::Change::kNone) << used;
    EXPECT_FALSE(gate.open()) << used;
  }
  EXPECT_EQ(gate.Observe(79.9), AdmissionGate::Change::kReopened);
  EXPECT_TRUE(gate.open());
  EXPECT_EQ(gate.Observe(84.0), AdmissionGate::Change::kNone);
  EXPECT_TRUE(gate.open());
}

TEST(Admission, AClosedGateRefusesBetweenTheMarksAndSaysWhenItReopens) {
  Config c;
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(82), {}, 4 * kGiB, /*gate_open=*/false),
            "host memory is 82.0% used; admission closed at 85% and reopens below 80% "
            "(AdmissionReopenPercent); wait for agents to finish or free memory");
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(82), {}, 4 * kGiB, /*gate_open=*/true), std::nullopt);
}

TEST(AdmissionState, RoundTripsThroughItsFile) {
  std::string path = testing::TempDir() + "/nova-admission-" + std::to_string(getpid()) + ".json";
  EXPECT_FALSE(ReadAdmissionState(path).has_value());
  WriteAdmissionState(path, AdmissionState{false, 1234, 86.5});
  auto back = ReadAdmissionState(path);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->open);
  EXPECT_EQ(back->changed_usec, 1234);
  EXPECT_EQ(back->used_percent, 86.5);
  { std::ofstream(path) << "{\"open\": \"no\"}"; }
  EXPECT_FALSE(ReadAdmissionState(path).has_value());  // not what novad writes: ignored
  std::remove(path.c_str());
}

}  // namespace
}  // namespace nova
