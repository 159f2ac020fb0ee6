#include "systemd.h"

#include <gtest/gtest.h>

#include "agent_name.h"

namespace nova {
namespace {

TEST(UnitObjectPath, EncodesLikeSdBus) {
  EXPECT_EQ(UnitObjectPath("nova-agent-a_1.service"),
            "/org/freedesktop/systemd1/unit/nova_2dagent_2da_5f1_2eservice");
  EXPECT_EQ(UnitObjectPath("novad.service"), "/org/freedesktop/systemd1/unit/novad_2eservice");
}

}  // namespace
}  // namespace nova

namespace nova {
namespace {

TEST(SoftTimerNameTest, GivesTheAgentOfItsOwnTimersOnly) {
  EXPECT_EQ(AgentNameFromSoftTimer("nova-soft-a1.timer"), "a1");
  EXPECT_EQ(AgentNameFromSoftTimer(SoftTimerUnit("agent_7-x")), "agent_7-x");
  EXPECT_EQ(AgentNameFromSoftTimer("nova-soft-a1.service"), std::nullopt);
  EXPECT_EQ(AgentNameFromSoftTimer("nova-soft-.timer"), std::nullopt);
  EXPECT_EQ(AgentNameFromSoftTimer("nova-soft--a.timer"), std::nullopt);
  EXPECT_EQ(AgentNameFromSoftTimer("nova-soft-a\\x2db.timer"), std::nullopt);
  EXPECT_EQ(AgentNameFromSoftTimer("other-soft-a1.timer"), std::nullopt);
}

TEST(SoftDeadlineRealtimeTest, MovesTheMonotonicElapseOntoTheRealtimeClock) {
  EXPECT_EQ(SoftDeadlineRealtime(5'000'000, 2'000'000, 100'000'000), 103'000'000u);
  EXPECT_EQ(SoftDeadlineRealtime(1'000'000, 2'000'000, 100'000'000), 100'000'000u);  // past: now
  EXPECT_EQ(SoftDeadlineRealtime(0, 2'000'000, 100'000'000), std::nullopt);
  EXPECT_EQ(SoftDeadlineRealtime(kInfinity, 2'000'000, 100'000'000), std::nullopt);
}

}  // namespace
}  // namespace nova
