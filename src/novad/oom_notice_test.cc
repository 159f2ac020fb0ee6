#include "oom_notice.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "watch_host.h"

namespace nova {
namespace {

// What the kernel (6.1, 6.12) logs for a kill at an agent's MemoryMax.
const char* kSummary =
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
    "oom_memcg=/nova.slice/nova-agents.slice/nova-agent-build.service,"
    "task_memcg=/nova.slice/nova-agents.slice/nova-agent-build.service,task=cc1plus,pid=1234,"
    "uid=1000";
const char* kKilled =
    "Memory cgroup out of memory: Killed process 1234 (cc1plus) total-vm:812340kB, "
    "anon-rss:260000kB, file-rss:1200kB, shmem-rss:0kB, UID:1000 pgtables:900kB "
    "oom_score_adj:0";

TEST(ParseOomSummary, NamesTheAgentAndThePid) {
  auto k = ParseOomSummary(kSummary);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->agent, "build");
  EXPECT_EQ(k->pid, 1234);
  auto global = ParseOomSummary(
      "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
      "task_memcg=/nova.slice/nova-agents.slice/nova-agent-x_1.service/sub,task=a,pid=7,uid=0");
  ASSERT_TRUE(global);
  EXPECT_EQ(global->agent, "x_1");
  EXPECT_EQ(global->pid, 7);
}

TEST(ParseOomSummary, OtherRecordsAndOtherCgroupsAreNotAgents) {
  EXPECT_FALSE(ParseOomSummary("Out of memory: Killed process 1 (init)"));
  EXPECT_FALSE(ParseOomSummary(
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/system.slice/foo.service,task_memcg=/system.slice/foo.service,task=foo,pid=9,"
      "uid=0"));
  // The slice's own limit: no agent's cgroup first.
  EXPECT_FALSE(ParseOomSummary(
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/nova.slice/nova-agents.slice,task_memcg=/nova.slice/nova-agents.slice/"
      "nova-agent-a.service,task=a,pid=9,uid=0"));
  EXPECT_FALSE(ParseOomSummary("oom-kill:garbage"));
}

// An agent names its own sub-cgroups (Delegate=yes), its cpuset's leaf and
// its processes: none of them can move the record onto another agent, nor
// change the pid.
TEST(ParseOomSummary, AnAgentCannotPinItsKillOnAnother) {
  // Y's sub-cgroups spell out X's path after ",task_memcg=".
  auto k = ParseOomSummary(
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=,oom_memcg=,mems_allowed=0,"
      "oom_memcg=/nova.slice/nova-agents.slice/nova-agent-y.service/,task_memcg=/nova.slice/"
      "nova-agents.slice/nova-agent-x.service,task_memcg=/nova.slice/nova-agents.slice/"
      "nova-agent-y.service/,task_memcg=/nova.slice/nova-agents.slice/nova-agent-x.service,"
      "task=,pid=1,uid=0,pid=4242,uid=1001");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->agent, "y");
  EXPECT_EQ(k->pid, 4242);
}

TEST(ParseKilledProcess, PidAndEscapedName) {
  auto k = ParseKilledProcess(kKilled);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->pid, 1234);
  EXPECT_EQ(k->process, "cc1plus");
  // The kernel log shows control bytes and '\' as \xNN; they come out escaped
  // as everywhere else in Nova, never raw.
  auto hostile = ParseKilledProcess(
      "Memory cgroup out of memory: Killed process 77 (\\x1b[2J\\x07) total-vm:1kB, anon-rss:1kB");
  ASSERT_TRUE(hostile);
  EXPECT_EQ(hostile->process, "\\e[2J\\x07");
  // A name holding ") total-vm:" ends at the last one, which is the kernel's.
  auto tricky = ParseKilledProcess(
      "Out of memory: Killed process 78 (a) total-vm:b) total-vm:100kB, anon-rss:1kB");
  ASSERT_TRUE(tricky);
  EXPECT_EQ(tricky->process, "a) total-vm:b");
  EXPECT_FALSE(ParseKilledProcess("someone: Killed process 1 (x) total-vm:1kB"));
  EXPECT_FALSE(ParseKilledProcess("Out of memory: Killed process x1 (x) total-vm:1kB"));
}

TEST(KernelOomLog, PairsTheTwoRecordsByPid) {
  KernelOomLog log;
  log.Feed(kKilled);  // no summary first: not known to be an agent's
  EXPECT_FALSE(log.Has("build"));
  log.Feed(kSummary);
  log.Feed("some other kernel line");
  log.Feed(kKilled);
  ASSERT_TRUE(log.Has("build"));
  auto kills = log.Take("build");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].process, "cc1plus");
  EXPECT_EQ(kills[0].pid, 1234);
  EXPECT_FALSE(log.Has("build"));
}

class FakeOom : public OomSource {
 public:
  std::vector<AgentOomCount> counts;
  std::vector<std::string> log;
  std::optional<OomKillsByAgent> saved;
  int saves = 0;
  int64_t now = 1'700'000'000'000'000;

  std::vector<AgentOomCount> ReadOomCounts() override { return counts; }
  std::vector<std::string> ReadKernelLog() override { return std::exchange(log, {}); }
  std::optional<OomKillsByAgent> LoadOomKills() override { return saved; }
  void SaveOomKills(const OomKillsByAgent& kills) override {
    saved = kills;
    ++saves;
  }
  int64_t RealtimeUsec() override { return now; }
  void Kill(const std::string& agent, int64_t pid, const std::string& comm) {
    for (auto& c : counts) {
      if (c.agent == agent) ++c.oom_kills;
    }
    log.push_back(
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
        "oom_memcg=/nova.slice/nova-agents.slice/nova-agent-" +
        agent + ".service,task_memcg=/nova.slice/nova-agents.slice/nova-agent-" + agent +
        ".service,task=" + comm + ",pid=" + std::to_string(pid) + ",uid=0");
    log.push_back("Memory cgroup out of memory: Killed process " + std::to_string(pid) + " (" +
                  comm + ") total-vm:1kB, anon-rss:1kB");
  }
};

TEST(OomNotices, ReportsEachRiseWithTheProcess) {
  FakeOom host;
  host.saved = OomKillsByAgent{};
  host.counts = {{"build", 11, 0}, {"quiet", 12, 0}};
  OomNotices notices;
  EXPECT_TRUE(notices.Scan(host).empty());
  host.Kill("build", 1234, "cc1plus");
  auto events = notices.Scan(host);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].action, "oom-kill");
  EXPECT_EQ(events[0].agent, "build");
  EXPECT_EQ(events[0].oom_kills, 1u);
  EXPECT_EQ(events[0].oom_new, 1u);
  EXPECT_EQ(events[0].oom_pid, 1234);
  EXPECT_EQ(events[0].oom_process, "cc1plus");
  EXPECT_EQ(events[0].message,
            "OOM kill in agent build: the kernel killed process cc1plus (pid 1234); 1 OOM "
            "kill(s) in it so far");
  EXPECT_TRUE(notices.Scan(host).empty());  // no rise, no event
  host.Kill("build", 1300, "ld");
  host.Kill("build", 1301, "ld.gold");
  events = notices.Scan(host);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].oom_kills, 3u);
  EXPECT_EQ(events[0].oom_new, 2u);
  EXPECT_EQ(events[0].oom_process, "ld.gold");
  ASSERT_TRUE(host.saved);
  EXPECT_EQ(host.saved->at("build").count, 3u);
  EXPECT_EQ(host.saved->at("build").last_pid, 1301);
  EXPECT_EQ(host.saved->count("quiet"), 0u);
}

TEST(OomNotices, ARiseWithoutARecordWaitsOneLookThenIsReportedUnnamed) {
  FakeOom host;
  host.saved = OomKillsByAgent{};
  host.counts = {{"a", 11, 0}};
  OomNotices notices;
  notices.Scan(host);
  host.counts[0].oom_kills = 1;  // the kernel counted; its log line not read yet
  EXPECT_TRUE(notices.Scan(host).empty());
  host.log.push_back(
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/"
      "nova.slice/nova-agents.slice/nova-agent-a.service,task_memcg=/nova.slice/"
      "nova-agents.slice/nova-agent-a.service,task=late,pid=5,uid=0");
  host.log.push_back("Memory cgroup out of memory: Killed process 5 (late) total-vm:1kB");
  auto events = notices.Scan(host);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].oom_process, "late");
  // The kernel rate-limits its report: counted, never named.
  host.counts[0].oom_kills = 2;
  EXPECT_TRUE(notices.Scan(host).empty());
  events = notices.Scan(host);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].oom_process, "");
  EXPECT_EQ(events[0].oom_pid, 0);
  EXPECT_EQ(events[0].message,
            "OOM kill in agent a: a process was killed (the kernel log did not name it); 2 OOM "
            "kill(s) in it so far");
}

TEST(OomNotices, ARestartedNovadDoesNotReportOldKillsAgain) {
  FakeOom host;
  host.saved = OomKillsByAgent{};
  host.counts = {{"build", 11, 0}};
  {
    OomNotices first;
    first.Scan(host);
    host.Kill("build", 10, "cc1plus");
    ASSERT_EQ(first.Scan(host).size(), 1u);
  }
  OomNotices second;  // novad restarted; the state file survived in /run
  EXPECT_TRUE(second.Scan(host).empty());
  EXPECT_EQ(second.kills().at("build").count, 1u);
  // A kill while novad was down is reported once, unnamed (the log is read
  // from its end).
  host.counts[0].oom_kills = 2;
  OomNotices third;
  EXPECT_TRUE(third.Scan(host).empty());  // waits one look for a record
  auto events = third.Scan(host);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].oom_new, 1u);
}

TEST(OomNotices, WithNoStateAtAllTodaysCountsAreTheBaseline) {
  FakeOom host;  // nothing saved: a fresh boot, or /run/nova was emptied
  host.counts = {{"old", 11, 4}};
  OomNotices notices;
  EXPECT_TRUE(notices.Scan(host).empty());
  ASSERT_TRUE(host.saved);
  EXPECT_EQ(host.saved->at("old").count, 4u);
  host.Kill("old", 3, "x");
  EXPECT_EQ(notices.Scan(host).size(), 1u);
}

TEST(OomNotices, ANewRunUnderTheSameNameCountsFromZero) {
  FakeOom host;
  host.saved = OomKillsByAgent{{"a", AgentOomKills{11, 3, "x", 1, 1}}};
  host.counts = {{"a", 99, 1}};  // another cgroup: a new run of "a"
  OomNotices notices;
  notices.Scan(host);  // deferred: no record yet
  auto events = notices.Scan(host);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].oom_kills, 1u);
  EXPECT_EQ(host.saved->at("a").cgroup_id, 99u);
}

TEST(OomNotices, EndedAgentsAreDropped) {
  FakeOom host;
  host.saved = OomKillsByAgent{};
  host.counts = {{"a", 11, 0}};
  OomNotices notices;
  notices.Scan(host);
  host.Kill("a", 3, "x");
  notices.Scan(host);
  EXPECT_EQ(host.saved->size(), 1u);
  host.counts.clear();
  notices.Scan(host);
  EXPECT_TRUE(host.saved->empty());
}

// Another agent's hostile records never move a kill onto "build".
TEST(OomNotices, RecordsOfOneAgentNeverNameAnothersKill) {
  FakeOom host;
  host.saved = OomKillsByAgent{};
  host.counts = {{"build", 11, 0}, {"evil", 12, 0}};
  OomNotices notices;
  notices.Scan(host);
  host.Kill("evil", 66, "x,pid=1,uid=0");
  auto events = notices.Scan(host);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].agent, "evil");
  EXPECT_EQ(events[0].oom_pid, 66);
  EXPECT_EQ(events[0].oom_process, "x,pid=1,uid=0");
}

// The agents' memory.events are read only when the slice's total moved: the
// kernel counts an agent's OOM kill in every ancestor's memory.events too.
TEST(LinuxOomSource, ReadsTheAgentsOnlyWhenTheSliceCountMoves) {
  namespace fs = std::filesystem;
  fs::path slice = fs::path(testing::TempDir()) / "oom-agents.slice";
  fs::remove_all(slice);
  fs::create_directories(slice / "nova-agent-a.service");
  auto events = [](const fs::path& dir, int kills) {
    std::ofstream(dir / "memory.events")
        << "low 0\nhigh 0\nmax 3\noom 1\noom_kill " << kills << "\noom_group_kill 0\n";
  };
  events(slice, 0);
  events(slice / "nova-agent-a.service", 0);
  LinuxOomSource source(slice.string(), (slice / "state.json").string());
  auto first = source.ReadOomCounts();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].agent, "a");
  EXPECT_EQ(first[0].oom_kills, 0u);

  events(slice / "nova-agent-a.service", 1);  // the slice has not moved: not read
  EXPECT_EQ(source.ReadOomCounts()[0].oom_kills, 0u);
  events(slice, 1);
  EXPECT_EQ(source.ReadOomCounts()[0].oom_kills, 1u);

  fs::remove_all(slice / "nova-agent-a.service");  // gone with the slice's count unchanged
  events(slice, 1);
  EXPECT_EQ(source.ReadOomCounts().size(), 1u);  // the last read still stands
  fs::remove_all(slice);
}

}  // namespace
}  // namespace nova
