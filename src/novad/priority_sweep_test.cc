#include "priority_sweep.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

// Pids above the kernel's pid_max never exist, so the sweep decides on them
// without touching any process; what matters here is which it looks at.
TEST(Sweeper, ExaminesOnlyNewProcessesBetweenFullSweeps) {
  namespace fs = std::filesystem;
  fs::path slice = fs::path(testing::TempDir()) / "sweep-agents.slice";
  fs::remove_all(slice);
  fs::create_directories(slice / "nova-agent-a.service");
  fs::create_directories(slice / "nova-agent-b.service");
  std::ofstream(slice / "nova-agent-a.service" / "cgroup.procs") << "5000001\n5000002\n";
  std::ofstream(slice / "nova-agent-b.service" / "cgroup.procs") << "5000003\n";
  PrioritySweeper sweeper(Policy(998, 5), slice.string());

  SweepStats first = sweeper.Sweep();
  EXPECT_EQ(first.processes, 3);
  EXPECT_EQ(first.examined, 3);
  EXPECT_EQ(sweeper.Sweep().examined, 0);
  std::ofstream(slice / "nova-agent-b.service" / "cgroup.procs") << "5000003\n5000004\n";
  SweepStats after_fork = sweeper.Sweep();
  EXPECT_EQ(after_fork.processes, 4);
  EXPECT_EQ(after_fork.examined, 1);
  EXPECT_EQ(sweeper.Sweep(/*full=*/true).examined, 4);
  EXPECT_EQ(PrioritySweeper(PriorityPolicy{}, slice.string()).Sweep().examined, 0);  // disabled
  fs::remove_all(slice);
}

}  // namespace
}  // namespace nova
