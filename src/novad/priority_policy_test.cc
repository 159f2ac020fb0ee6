#include "priority_policy.h"

#include <gtest/gtest.h>

#include <map>

namespace nova {
namespace {

PriorityPolicy Compute(const std::map<std::string, std::string>& env, int own_oom, int own_nice) {
  return ComputePriorityPolicy(
      [&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
      },
      own_oom, own_nice);
}

TEST(PriorityPolicy, PresenceEnablesItEvenEmpty) {
  EXPECT_FALSE(Compute({}, 0, 0).enabled);
  EXPECT_FALSE(Compute({{"CODER_PROC_OOM_SCORE", "10"}}, 0, 0).enabled);
  EXPECT_TRUE(Compute({{"CODER_PROC_PRIO_MGMT", ""}}, 0, 0).enabled);
  EXPECT_TRUE(Compute({{"CODER_PROC_PRIO_MGMT", "0"}}, 0, 0).enabled);
}

TEST(PriorityPolicy, OomScoreTableFromTheSeed) {
  EXPECT_EQ(ChildOomScore(-1000), 0);
  EXPECT_EQ(ChildOomScore(-1), 0);
  EXPECT_EQ(ChildOomScore(0), 998);
  EXPECT_EQ(ChildOomScore(997), 998);
  EXPECT_EQ(ChildOomScore(998), 1000);
  EXPECT_EQ(ChildOomScore(1000), 1000);
  EXPECT_EQ(Compute({{"CODER_PROC_PRIO_MGMT", "1"}}, -900, -5).oom_score_adj, 0);
}

TEST(PriorityPolicy, NiceIsOwnPlusFiveCappedAt19) {
  EXPECT_EQ(ChildNice(-5), 0);
  EXPECT_EQ(ChildNice(0), 5);
  EXPECT_EQ(ChildNice(14), 19);
  EXPECT_EQ(ChildNice(19), 19);
  EXPECT_EQ(Compute({{"CODER_PROC_PRIO_MGMT", "1"}}, 0, 10).nice, 15);
}

TEST(PriorityPolicy, ExplicitValuesWithinRangeWin) {
  auto p = Compute({{"CODER_PROC_PRIO_MGMT", "1"},
                    {"CODER_PROC_OOM_SCORE", "-1000"},
                    {"CODER_PROC_NICE_SCORE", "19"}},
                   0, 0);
  EXPECT_EQ(p.oom_score_adj, -1000);
  EXPECT_EQ(p.nice, 19);
  EXPECT_TRUE(p.problems.empty());
}

TEST(PriorityPolicy, BadValuesNameTheVariableTheValueAndTheRange) {
  auto p = Compute({{"CODER_PROC_PRIO_MGMT", "1"},
                    {"CODER_PROC_OOM_SCORE", "1001"},
                    {"CODER_PROC_NICE_SCORE", "high"}},
                   0, 0);
  EXPECT_EQ(p.oom_score_adj, 998);
  EXPECT_EQ(p.nice, 5);
  ASSERT_EQ(p.problems.size(), 2u);
  EXPECT_EQ(p.problems[0],
            "invalid CODER_PROC_OOM_SCORE=\"1001\": out of range; accepted: -1000 to 1000; "
            "using the default 998");
  EXPECT_EQ(p.problems[1],
            "invalid CODER_PROC_NICE_SCORE=\"high\": not a number; accepted: -20 to 19; "
            "using the default 5");
}

TEST(PriorityPolicy, CustomOomScoresAreThoseThePolicyWouldNotSet) {
  EXPECT_FALSE(IsCustomOomScore(0, -900));
  EXPECT_FALSE(IsCustomOomScore(998, -900));
  EXPECT_FALSE(IsCustomOomScore(1000, -900));
  EXPECT_FALSE(IsCustomOomScore(-900, -900));
  EXPECT_TRUE(IsCustomOomScore(500, -900));
  EXPECT_TRUE(IsCustomOomScore(-17, -900));
}

}  // namespace
}  // namespace nova
