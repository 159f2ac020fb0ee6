#include "admission.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;

HostMemory UsedPercent(double percent, uint64_t total = 64 * kGiB) {
  return HostMemory{total, static_cast<uint64_t>(total * (100 - percent) / 100)};
}

TEST(MaxAgents, FollowsTheOperationsGuide) {
  Config c;
  // 1.5 TB host, 4G per agent: (1536 - 2% - 13%) / 4 = 326, the guide's ~325.
  EXPECT_EQ(AutoMaxAgents(c, 1536 * kGiB), 326u);
  EXPECT_EQ(AutoMaxAgents(c, 64 * kGiB), 13u);
  EXPECT_EQ(AutoMaxAgents(c, 2 * kGiB), 1u);  // never 0
  c.max_agents = 300;
  EXPECT_EQ(MaxAgents(c, 1536 * kGiB), 300u);
}

TEST(Admission, AdmitsBelowTheThreshold) {
  Config c;
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(84.9), 0), std::nullopt);
}

TEST(Admission, RefusesAtTheThresholdWithTheFigures) {
  Config c;
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(85), 0),
            "host memory is 85.0% used, at or above the admission threshold of 85%; "
            "wait for agents to finish or free memory");
  EXPECT_NE(AdmissionRefusal(c, UsedPercent(99), 0), std::nullopt);
}

TEST(Admission, RefusesAtTheAgentMaximum) {
  Config c;
  c.max_agents = 3;
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(10), 2), std::nullopt);
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(10), 3),
            "3 agents are running, the maximum is 3 (MaxAgents); wait for one to "
            "finish or kill one");
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
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(82), 0, /*gate_open=*/false),
            "host memory is 82.0% used; admission closed at 85% and reopens below 80% "
            "(AdmissionReopenPercent); wait for agents to finish or free memory");
  EXPECT_EQ(AdmissionRefusal(c, UsedPercent(82), 0, /*gate_open=*/true), std::nullopt);
}

}  // namespace
}  // namespace nova
