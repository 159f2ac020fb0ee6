#include "priority_sweep.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

PriorityPolicy Policy(int oom, int nice) {
  PriorityPolicy p;
  p.enabled = true;
  p.own_oom_score_adj = -900;  // novad's
  p.oom_score_adj = oom;
  p.nice = nice;
  return p;
}

TEST(Sweep, ProcessesAtTheDefaultGetThePolicy) {
  SweepDecision d = DecideSweep({0, 0}, Policy(998, 5));
  EXPECT_TRUE(d.set_nice);
  EXPECT_TRUE(d.set_oom_score_adj);
}

TEST(Sweep, AUserChosenNiceIsLeftAlone) {
  EXPECT_FALSE(DecideSweep({3, 998}, Policy(998, 5)).set_nice);
  EXPECT_FALSE(DecideSweep({5, 998}, Policy(998, 5)).set_nice);  // already right
}

TEST(Sweep, OnlyPolicyLikeOomScoresAreReset) {
  EXPECT_TRUE(DecideSweep({0, 1000}, Policy(998, 5)).set_oom_score_adj);
  EXPECT_TRUE(DecideSweep({0, -900}, Policy(998, 5)).set_oom_score_adj);
  EXPECT_FALSE(DecideSweep({0, 300}, Policy(998, 5)).set_oom_score_adj);  // custom
  EXPECT_FALSE(DecideSweep({0, 998}, Policy(998, 5)).set_oom_score_adj);  // already right
}

TEST(Sweep, NothingWhenThePolicyIsOff) {
  SweepDecision d = DecideSweep({0, 0}, PriorityPolicy{});
  EXPECT_FALSE(d.set_nice);
  EXPECT_FALSE(d.set_oom_score_adj);
}

}  // namespace
}  // namespace nova
