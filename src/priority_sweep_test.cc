#include "priority_sweep.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

PriorityPolicy Policy(int oom, int nice) {
  PriorityPolicy p;
  p.enabled = true;
  p.oom_score_adj = oom;
  p.nice = nice;
  return p;
}

TEST(Sweep, ProcessesAtTheDefaultGetThePolicy) {
  SweepDecision d = DecideSweep({0, 0}, Policy(998, 5), -900);
  EXPECT_TRUE(d.set_nice);
  EXPECT_TRUE(d.set_oom_score_adj);
}

TEST(Sweep, AUserChosenNiceIsLeftAlone) {
  EXPECT_FALSE(DecideSweep({3, 998}, Policy(998, 5), -900).set_nice);
  EXPECT_FALSE(DecideSweep({5, 998}, Policy(998, 5), -900).set_nice);  // already right
}

TEST(Sweep, OnlyPolicyLikeOomScoresAreReset) {
  const int own = -900;
  EXPECT_TRUE(DecideSweep({0, 1000}, Policy(998, 5), own).set_oom_score_adj);
  EXPECT_TRUE(DecideSweep({0, -900}, Policy(998, 5), own).set_oom_score_adj);
  EXPECT_FALSE(DecideSweep({0, 300}, Policy(998, 5), own).set_oom_score_adj);  // custom
  EXPECT_FALSE(DecideSweep({0, 998}, Policy(998, 5), own).set_oom_score_adj);  // already right
}

TEST(Sweep, NothingWhenThePolicyIsOff) {
  SweepDecision d = DecideSweep({0, 0}, PriorityPolicy{}, -900);
  EXPECT_FALSE(d.set_nice);
  EXPECT_FALSE(d.set_oom_score_adj);
}

}  // namespace
}  // namespace nova
