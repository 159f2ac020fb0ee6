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

// No newest-pid file: every pass is made, whatever the host forks meanwhile.
const std::string kEveryPass;

// An agents slice of one agent, "a", under the test's temporary folder, with
// a file beside it for the kernel's newest pid; removed at the end.
struct OneAgentSlice {
  explicit OneAgentSlice(const std::string& name)
      : path(std::filesystem::path(testing::TempDir()) / name),
        procs(path / "nova-agent-a.service" / "cgroup.procs"),
        loadavg(path / "loadavg") {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(procs.parent_path());
    std::ofstream(procs) << "5000001\n";
  }
  ~OneAgentSlice() { std::filesystem::remove_all(path); }
  void NewestPid(const std::string& pid) const {
    std::ofstream(loadavg) << "0.10 0.05 0.01 1/300 " << pid << "\n";
  }
  std::filesystem::path path, procs, loadavg;
};

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
  PrioritySweeper sweeper(Policy(998, 5), slice.string(), kEveryPass);

  SweepStats first = sweeper.Sweep();
  EXPECT_EQ(first.processes, 3);
  EXPECT_EQ(first.examined, 3);
  EXPECT_EQ(sweeper.Sweep().examined, 0);
  std::ofstream(slice / "nova-agent-b.service" / "cgroup.procs") << "5000003\n5000004\n";
  SweepStats after_fork = sweeper.Sweep();
  EXPECT_EQ(after_fork.processes, 4);
  EXPECT_EQ(after_fork.examined, 1);
  EXPECT_EQ(sweeper.Sweep(/*full=*/true).examined, 4);
  EXPECT_EQ(PrioritySweeper(PriorityPolicy{}, slice.string(), kEveryPass).Sweep().examined,
            0);  // disabled
  fs::remove_all(slice);
}

// The sweep keeps each agent's cgroup.procs open between passes; what it
// reads must still be what is there now, as agents come, go and come back.
TEST(Sweeper, FollowsAgentsThatComeGoAndComeBack) {
  namespace fs = std::filesystem;
  fs::path slice = fs::path(testing::TempDir()) / "sweep-churn.slice";
  fs::remove_all(slice);
  auto agent = [&](const std::string& name, const std::string& pids) {
    fs::create_directories(slice / name);
    std::ofstream(slice / name / "cgroup.procs") << pids;
  };
  agent("nova-agent-a.service", "5000001\n");
  agent("nova-agent-b.service", "5000002\n");
  PrioritySweeper sweeper(Policy(998, 5), slice.string(), kEveryPass);
  EXPECT_EQ(sweeper.Sweep().processes, 2);

  fs::remove_all(slice / "nova-agent-b.service");  // b is gone
  EXPECT_EQ(sweeper.Sweep().processes, 1);

  // a is spawned again: a new cgroup under the same name, with new pids. The
  // old, deleted file would still read "5000001".
  fs::remove_all(slice / "nova-agent-a.service");
  agent("nova-agent-a.service", "5000011\n5000012\n");
  SweepStats again = sweeper.Sweep();
  EXPECT_EQ(again.processes, 2);
  EXPECT_EQ(again.examined, 2);

  // The slice itself is removed with its last agent and made anew.
  fs::remove_all(slice);
  EXPECT_EQ(sweeper.Sweep().processes, 0);
  agent("nova-agent-c.service", "5000021\n");
  SweepStats fresh = sweeper.Sweep();
  EXPECT_EQ(fresh.processes, 1);
  EXPECT_EQ(fresh.examined, 1);
  fs::remove_all(slice);
}

// Agents are delegated their subtree: processes in cgroups an agent made
// below its own are the agent's too.
TEST(Sweeper, WalksTheCgroupsAnAgentMakes) {
  namespace fs = std::filesystem;
  fs::path slice = fs::path(testing::TempDir()) / "sweep-nested.slice";
  fs::remove_all(slice);
  fs::path agent = slice / "nova-agent-a.service";
  fs::create_directories(agent / "build" / "worker");
  std::ofstream(agent / "cgroup.procs") << "";
  std::ofstream(agent / "build" / "cgroup.procs") << "5000001\n";
  std::ofstream(agent / "build" / "worker" / "cgroup.procs") << "5000002\n5000003\n";
  PrioritySweeper sweeper(Policy(998, 5), slice.string(), kEveryPass);
  SweepStats stats = sweeper.Sweep();
  EXPECT_EQ(stats.processes, 3);
  EXPECT_EQ(stats.examined, 3);
  fs::remove_all(slice);
}

// Whether an agent has sub-cgroups is asked at full passes (and of new
// agents), so that a steady pass reads one file per agent: a sub-cgroup made
// later is walked from the next full pass on, and from then at every pass.
TEST(Sweeper, ASubCgroupMadeLaterIsWalkedFromTheNextFullPass) {
  namespace fs = std::filesystem;
  fs::path slice = fs::path(testing::TempDir()) / "sweep-later.slice";
  fs::remove_all(slice);
  fs::path agent = slice / "nova-agent-a.service";
  fs::create_directories(agent);
  std::ofstream(agent / "cgroup.procs") << "5000001\n";
  PrioritySweeper sweeper(Policy(998, 5), slice.string(), kEveryPass);
  EXPECT_EQ(sweeper.Sweep().processes, 1);
  fs::create_directories(agent / "build");
  std::ofstream(agent / "build" / "cgroup.procs") << "5000002\n";
  EXPECT_EQ(sweeper.Sweep().processes, 1);  // a steady pass: not asked yet
  EXPECT_EQ(sweeper.Sweep(/*full=*/true).processes, 2);
  SweepStats steady = sweeper.Sweep();
  EXPECT_EQ(steady.processes, 2);
  EXPECT_EQ(steady.examined, 0);
  fs::remove_all(slice);
}

// A pass reads nothing while the kernel hands out no pid: nothing new can be
// in an agent. After a new pid one more pass is made, for a child that joins
// its agent's cgroup just after a pass read it.
TEST(Sweeper, SkipsPassesWhileNoPidIsHandedOut) {
  OneAgentSlice slice("sweep-quiet.slice");
  slice.NewestPid("5000001");
  PrioritySweeper sweeper(Policy(998, 5), slice.path.string(), slice.loadavg.string());

  SweepStats first = sweeper.Sweep();  // the first is full
  EXPECT_FALSE(first.skipped);
  EXPECT_EQ(first.examined, 1);
  EXPECT_FALSE(sweeper.Sweep().skipped);  // the one after a new pid
  SweepStats quiet = sweeper.Sweep();
  EXPECT_TRUE(quiet.skipped);
  EXPECT_EQ(quiet.processes, 0);

  // A skipped pass reads nothing (the kernel never adds a process without a
  // new pid; the file changes here only to show it). A new pid: a pass, and
  // the one after it, which sees a process that joined late.
  std::ofstream(slice.procs) << "5000001\n5000002\n";
  EXPECT_TRUE(sweeper.Sweep().skipped);
  slice.NewestPid("5000002");
  SweepStats after_fork = sweeper.Sweep();
  EXPECT_FALSE(after_fork.skipped);
  EXPECT_EQ(after_fork.processes, 2);
  EXPECT_EQ(after_fork.examined, 1);
  std::ofstream(slice.procs) << "5000001\n5000002\n5000003\n";  // joined late
  SweepStats settling = sweeper.Sweep();
  EXPECT_FALSE(settling.skipped);
  EXPECT_EQ(settling.examined, 1);
  EXPECT_TRUE(sweeper.Sweep().skipped);

  // Asked for, a full pass is made whatever the newest pid.
  SweepStats full = sweeper.Sweep(/*full=*/true);
  EXPECT_FALSE(full.skipped);
  EXPECT_EQ(full.examined, 3);
}

// What the kernel's file says is not trusted to skip anything unless it
// parses: an unreadable or odd one means every pass is made.
TEST(Sweeper, MakesEveryPassWhenTheNewestPidIsUnknown) {
  OneAgentSlice slice("sweep-unknown.slice");
  slice.NewestPid("not-a-pid");
  for (const auto& file : {slice.path / "absent", slice.loadavg}) {
    PrioritySweeper sweeper(Policy(998, 5), slice.path.string(), file.string());
    for (int pass = 0; pass < 4; ++pass) {
      SweepStats stats = sweeper.Sweep();
      EXPECT_FALSE(stats.skipped) << file << " pass " << pass;
      EXPECT_EQ(stats.processes, 1) << file << " pass " << pass;
    }
  }
}

// While few pids are handed out, a pass looks each one up in /proc instead
// of reading every agent's cgroup.procs; what it finds in an agent unit is
// examined once.
TEST(Sweeper, LooksUpTheNewPidsWhileFewAreHandedOut) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(testing::TempDir()) / "sweep-new-pids";
  fs::remove_all(root);
  fs::path slice = root / "nova-agents.slice", proc = root / "proc", loadavg = root / "loadavg";
  fs::create_directories(proc);
  for (int i = 0; i < 9; ++i) {
    fs::path agent = slice / ("nova-agent-a" + std::to_string(i) + ".service");
    fs::create_directories(agent);
    std::ofstream(agent / "cgroup.procs") << 5000000 + i << "\n";
  }
  auto process_in = [&](long pid, const std::string& cgroup) {
    fs::create_directories(proc / std::to_string(pid));
    std::ofstream(proc / std::to_string(pid) / "cgroup") << "0::" << cgroup << "\n";
  };
  auto newest = [&](long pid) { std::ofstream(loadavg) << "0.10 0.05 0.01 1/300 " << pid << "\n"; };
  newest(5000008);
  PrioritySweeper sweeper(Policy(998, 5), slice.string(), loadavg.string(), proc.string(),
                          root.string());
  EXPECT_EQ(sweeper.Sweep().examined, 9);     // the first pass is full
  EXPECT_FALSE(sweeper.Sweep().by_new_pids);  // the one after it: no pass before to start from
  EXPECT_TRUE(sweeper.Sweep().skipped);

  // Three pids: an agent's process (in a cgroup the agent made), a
  // service's, and one already ended.
  process_in(5000009, "/nova-agents.slice/nova-agent-a0.service/build");
  process_in(5000010, "/system.slice/cron.service");
  newest(5000011);
  SweepStats forked = sweeper.Sweep();
  EXPECT_TRUE(forked.by_new_pids);
  EXPECT_EQ(forked.looked_up, 2);
  EXPECT_EQ(forked.processes, 1);
  EXPECT_EQ(forked.examined, 1);

  // A process that joined an agent's cgroup after that pass saw it
  // elsewhere is examined by the next; the one seen already is not again.
  process_in(5000010, "/nova-agents.slice/nova-agent-a1.service");
  SweepStats settling = sweeper.Sweep();
  EXPECT_TRUE(settling.by_new_pids);
  EXPECT_EQ(settling.processes, 2);
  EXPECT_EQ(settling.examined, 1);
  EXPECT_TRUE(sweeper.Sweep().skipped);

  // A cgroup whose name starts like the slice's is not in it.
  process_in(5000012, "/nova-agents.slice-other/x.service");
  newest(5000012);
  SweepStats beside = sweeper.Sweep();
  EXPECT_TRUE(beside.by_new_pids);
  EXPECT_EQ(beside.looked_up, 1);
  EXPECT_EQ(beside.processes, 0);

  // More pids than a third of the cgroups a pass reads: every cgroup.procs.
  newest(5000100);
  SweepStats many = sweeper.Sweep();
  EXPECT_FALSE(many.by_new_pids);
  EXPECT_EQ(many.processes, 9);
  // The pid counter wrapped around: every cgroup.procs too.
  sweeper.Sweep();
  newest(301);
  EXPECT_FALSE(sweeper.Sweep().by_new_pids);
  fs::remove_all(root);
}

TEST(Sweeper, FullPassesComeSoonerOnlyAfterPassesThatSkippedSeenPids) {
  using namespace std::chrono_literals;
  EXPECT_TRUE(FullSweepDue(std::nullopt, false, false));  // the first
  EXPECT_TRUE(FullSweepDue(61s, false, false));           // the quiet one
  EXPECT_TRUE(FullSweepDue(11s, true, true));
  EXPECT_FALSE(FullSweepDue(11s, true, false));  // every new pid was looked up
  EXPECT_FALSE(FullSweepDue(11s, false, true));  // no pid handed out
  EXPECT_FALSE(FullSweepDue(9s, true, true));
}

}  // namespace
}  // namespace nova
