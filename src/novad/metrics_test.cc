#include "metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "errors.h"
#include "files.h"

namespace nova {
namespace {
namespace fs = std::filesystem;
using testing::HasSubstr;
using testing::Not;

AgentSample Agent(std::string name, uint64_t memory) {
  AgentSample a;
  a.agent = std::move(name);
  a.user = "dana";
  a.memory_current = memory;
  a.memory_max = 256ULL << 20;
  a.tasks_current = 3;
  a.tasks_max = 512;
  a.cpu_usage_usec = 1500000;
  a.oom_kills = 2;
  return a;
}

TEST(RenderMetrics, GivesTheHostEachAgentAndNovadsCounters) {
  MetricsInput in;
  in.host.total = 8ULL << 30;
  in.host.available = 6ULL << 30;
  in.admission_open = false;
  in.agents = {Agent("build", 100 << 20)};
  in.counters.relief_kills = 4;
  in.counters.admission_refusals = 7;
  std::string text = RenderMetrics(in);
  EXPECT_THAT(text, HasSubstr("# TYPE nova_host_memory_used_bytes gauge\n"
                              "nova_host_memory_used_bytes 2147483648\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_admission_open 0\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_agents 1\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_agent_memory_usage_bytes{agent=\"build\",user=\"dana\"} "
                              "104857600\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_agent_spec_memory_limit_bytes{agent=\"build\","
                              "user=\"dana\"} 268435456\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_agent_tasks{agent=\"build\",user=\"dana\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("\nnova_agent_spec_tasks_limit{agent=\"build\",user=\"dana\"} 512\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE nova_agent_cpu_usage_seconds_total counter\n"
                              "nova_agent_cpu_usage_seconds_total{agent=\"build\",user=\"dana\"} "
                              "1.5\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_agent_oom_events_total{agent=\"build\",user=\"dana\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_relief_kills_total 4\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_admission_refusals_total 7\n"));
}

TEST(RenderMetrics, LeavesOutLimitsThatAreUnlimited) {
  MetricsInput in;
  in.agents = {Agent("a", 1)};
  in.agents[0].memory_max.reset();
  in.agents[0].tasks_max.reset();
  std::string text = RenderMetrics(in);
  EXPECT_THAT(text, Not(HasSubstr("nova_agent_spec_memory_limit_bytes{")));
  EXPECT_THAT(text, Not(HasSubstr("nova_agent_spec_tasks_limit{")));
  EXPECT_THAT(text, HasSubstr("nova_agent_memory_usage_bytes{agent=\"a\""));
}

TEST(RenderMetrics, EscapesLabelValuesSoNoneAddsALineOrALabel) {
  MetricsInput in;
  in.agents = {Agent("a", 1)};
  in.agents[0].user = "x\",evil=\"1\nnova_relief_kills_total 999\\";
  std::string text = RenderMetrics(in);
  EXPECT_THAT(text, HasSubstr("user=\"x\\\",evil=\\\"1\\nnova_relief_kills_total 999\\\\\"}"));
  EXPECT_THAT(text, Not(HasSubstr("\nnova_relief_kills_total 999")));
}

TEST(Metrics, ReactionIsAHistogramWithCumulativeBuckets) {
  Metrics metrics;
  metrics.ObserveReaction(0.02);
  metrics.ObserveReaction(0.15);
  metrics.ObserveReaction(0.15);
  metrics.ObserveReaction(30);  // beyond the last bucket: only +Inf
  metrics.CountReliefKill();
  MetricsInput in;
  in.counters = metrics.Snapshot();
  std::string text = RenderMetrics(in);
  EXPECT_THAT(text, HasSubstr("nova_watcher_reaction_seconds_bucket{le=\"0.01\"} 0\n"
                              "nova_watcher_reaction_seconds_bucket{le=\"0.025\"} 1\n"
                              "nova_watcher_reaction_seconds_bucket{le=\"0.05\"} 1\n"
                              "nova_watcher_reaction_seconds_bucket{le=\"0.1\"} 1\n"
                              "nova_watcher_reaction_seconds_bucket{le=\"0.2\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("nova_watcher_reaction_seconds_bucket{le=\"5\"} 3\n"
                              "nova_watcher_reaction_seconds_bucket{le=\"+Inf\"} 4\n"
                              "nova_watcher_reaction_seconds_sum 30.32\n"
                              "nova_watcher_reaction_seconds_count 4\n"));
  EXPECT_THAT(text, HasSubstr("\nnova_relief_kills_total 1\n"));
}

// The watcher's host as CountingWatchHost sees it: readings and a clock.
class ScriptedHost : public WatchHost {
 public:
  HostMemory memory{100, 100, 0};
  std::chrono::steady_clock::time_point now;
  std::vector<std::string> emitted;
  HostMemory ReadMemory() override { return memory; }
  std::vector<AgentMemory> ReadAgents() override { return {}; }
  void KillAgent(const std::string&, const KillMarker&) override {}
  std::optional<uint64_t> AgentAnonMemory(const std::string&) override { return 0; }
  std::chrono::steady_clock::time_point Now() override { return now; }
  void Sleep(std::chrono::milliseconds d) override { now += d; }
  void Emit(const WatchEvent& e) override { emitted.push_back(e.action); }
  OomSource& Oom() override { throw std::logic_error("not used"); }
  void Used(uint64_t percent) { memory.available = 100 - percent; }
};

WatchEvent Kill(std::string trigger, bool dry_run = false) {
  WatchEvent e;
  e.action = watch_action::kKill;
  e.trigger = std::move(trigger);
  e.dry_run = dry_run;
  return e;
}

TEST(CountingWatchHost, TimesTheFirstKillOfEachCrossingFromTheLastReadingBelow) {
  ScriptedHost inner;
  Metrics metrics;
  CountingWatchHost host(inner, metrics, 95);
  inner.Used(90);
  host.ReadMemory();  // below: the crossing comes after this
  inner.now += std::chrono::milliseconds(30);
  inner.Used(96);
  host.ReadMemory();
  inner.now += std::chrono::milliseconds(50);
  host.Emit(Kill("watcher"));  // 80 ms after the last reading below
  inner.now += std::chrono::milliseconds(500);
  host.ReadMemory();
  host.Emit(Kill("watcher"));          // the same relief's second victim: counted, not timed
  host.Emit(Kill("watcher", true));    // a dry run kills nothing
  host.Emit(Kill("relieve by root"));  // asked for, not a reaction
  MetricsCounters c = metrics.Snapshot();
  EXPECT_EQ(c.relief_kills, 3u);
  EXPECT_EQ(c.reaction_count, 1u);
  EXPECT_NEAR(c.reaction_sum, 0.08, 1e-9);
  EXPECT_EQ(inner.emitted.size(), 4u);  // every event still reaches the journal

  inner.Used(50);
  host.ReadMemory();
  inner.Used(97);
  inner.now += std::chrono::milliseconds(20);
  host.Emit(Kill("watcher"));  // a new crossing: timed again
  EXPECT_EQ(metrics.Snapshot().reaction_count, 2u);
}

class MetricsFiles : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nova-metrics-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Put(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  fs::path dir_;
};

TEST_F(MetricsFiles, WriteReplacesTheFileWholeAndLeavesNothingElse) {
  std::string path = (dir_ / "nova.prom").string();
  WriteMetricsFile(path, "first\n");
  WriteMetricsFile(path, "second\n");
  EXPECT_EQ(ReadFile(path).value_or(""), "second\n");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(MetricsFiles, WriteReplacesALinkInsteadOfWritingThroughIt) {
  std::string victim = (dir_ / "victim").string();
  Put(victim, "keep\n");
  std::string path = (dir_ / "nova.prom").string();
  fs::create_symlink(victim, path);
  WriteMetricsFile(path, "metrics\n");
  EXPECT_EQ(ReadFile(victim).value_or(""), "keep\n");
  EXPECT_FALSE(fs::is_symlink(path));
  EXPECT_EQ(ReadFile(path).value_or(""), "metrics\n");
}

TEST_F(MetricsFiles, WriteIntoAMissingDirectorySaysWhere) {
  try {
    WriteMetricsFile((dir_ / "missing" / "nova.prom").string(), "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot write metrics in " + (dir_ / "missing").string()));
  }
}

TEST_F(MetricsFiles, ReadsEachAgentsCgroupAndSkipsWhatIsNotAnAgent) {
  fs::path a = dir_ / "nova-agent-build.service";
  Put(a / "memory.current", "1048576\n");
  Put(a / "memory.max", "max\n");
  Put(a / "pids.current", "4\n");
  Put(a / "pids.max", "64\n");
  Put(a / "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
  Put(a / "memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\noom_group_kill 0\n");
  Put(dir_ / "nova-agent-build-soft.timer" / "memory.current", "1\n");
  Put(dir_ / "other.service" / "memory.current", "1\n");
  auto samples = ReadAgentSamples(dir_.string());
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].agent, "build");
  EXPECT_EQ(samples[0].memory_current, 1048576u);
  EXPECT_FALSE(samples[0].memory_max.has_value());
  EXPECT_EQ(samples[0].tasks_current, 4u);
  EXPECT_EQ(samples[0].tasks_max, 64u);
  EXPECT_EQ(samples[0].cpu_usage_usec, 2500000u);
  EXPECT_EQ(samples[0].oom_kills, 2u);
}

TEST_F(MetricsFiles, TheSamplerRereadsLimitsEveryFewMinutesAndOomKillsWhenTheSliceCountMoves) {
  fs::path a = dir_ / "nova-agent-build.service";
  Put(dir_ / "memory.events", "oom_kill 0\n");  // the slice's, counting its agents'
  Put(a / "memory.current", "100\n");
  Put(a / "memory.max", "1000\n");
  Put(a / "pids.current", "1\n");
  Put(a / "pids.max", "64\n");
  Put(a / "cpu.stat", "usage_usec 1\n");
  Put(a / "memory.events", "oom_kill 0\n");
  AgentSampler sampler(dir_.string(), /*hierarchical_events=*/true);
  auto t0 = std::chrono::steady_clock::time_point();
  ASSERT_EQ(sampler.Read(t0).size(), 1u);

  Put(a / "memory.current", "200\n");
  Put(a / "memory.max", "2000\n");
  Put(a / "memory.events", "oom_kill 1\n");  // the slice's not yet moved: not read
  auto second = sampler.Read(t0 + std::chrono::seconds(15));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].memory_current, 200u);  // read every time
  EXPECT_EQ(second[0].memory_max, 1000u);     // within the interval
  EXPECT_EQ(second[0].oom_kills, 0u);

  Put(dir_ / "memory.events", "oom_kill 1\n");
  auto third = sampler.Read(t0 + AgentSampler::kLimitsRereadInterval);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].memory_max, 2000u);
  EXPECT_EQ(third[0].oom_kills, 1u);

  // Spawned again under the same name: a new cgroup, read whole at once.
  fs::remove_all(a);
  Put(a / "memory.current", "10\n");
  Put(a / "memory.max", "3000\n");
  Put(a / "memory.events", "oom_kill 2\n");  // its own, whatever the slice says
  auto again = sampler.Read(t0 + std::chrono::seconds(61));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].memory_current, 10u);
  EXPECT_EQ(again[0].memory_max, 3000u);
  EXPECT_EQ(again[0].oom_kills, 2u);

  // Without hierarchical counts, each agent's memory.events every time.
  AgentSampler local(dir_.string(), /*hierarchical_events=*/false);
  local.Read(t0);
  Put(a / "memory.events", "oom_kill 3\n");
  EXPECT_EQ(local.Read(t0 + std::chrono::seconds(1))[0].oom_kills, 3u);
}

// systemd makes an agent's cgroup as root and hands it to User= only once
// the agent's first process runs: a sample taken in between must not name
// root for good.
TEST_F(MetricsFiles, TheSamplerNamesTheUserOnceSystemdHandsTheCgroupOver) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  fs::path a = dir_ / "nova-agent-build.service";
  Put(a / "memory.current", "100\n");
  AgentSampler sampler(dir_.string(), /*hierarchical_events=*/true);
  auto t0 = std::chrono::steady_clock::time_point();
  auto before = sampler.Read(t0);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].user, "root");

  const uid_t nobody = 65534;
  ASSERT_EQ(chown(a.c_str(), nobody, nobody), 0);
  auto after = sampler.Read(t0 + std::chrono::seconds(1));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0].user, "root");
  struct passwd* pw = getpwuid(nobody);
  EXPECT_EQ(after[0].user, pw ? std::string(pw->pw_name) : std::to_string(nobody));
}

// After the handover window, an agent still root's is root's: its owner is
// no longer asked at each read.
TEST_F(MetricsFiles, TheSamplerStopsAskingARootAgentsOwnerAfterTheHandoverWindow) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  fs::path a = dir_ / "nova-agent-root.service";
  Put(a / "memory.current", "100\n");
  AgentSampler sampler(dir_.string(), /*hierarchical_events=*/true);
  auto t0 = std::chrono::steady_clock::time_point();
  EXPECT_EQ(sampler.Read(t0)[0].user, "root");
  EXPECT_EQ(sampler.Read(t0 + AgentSampler::kOwnerHandoverWindow)[0].user, "root");
  ASSERT_EQ(chown(a.c_str(), 65534, 65534), 0);
  EXPECT_EQ(sampler.Read(t0 + AgentSampler::kOwnerHandoverWindow + std::chrono::seconds(1))[0].user,
            "root");
}

// Nor once two reads in a row saw a process in it: systemd hands the cgroup
// over as the first process starts.
TEST_F(MetricsFiles, TheSamplerStopsAskingARootAgentsOwnerOnceItRuns) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  fs::path a = dir_ / "nova-agent-running.service";
  Put(a / "memory.current", "100\n");
  Put(a / "pids.current", "0\n");
  AgentSampler sampler(dir_.string(), /*hierarchical_events=*/true);
  auto t0 = std::chrono::steady_clock::time_point();
  EXPECT_EQ(sampler.Read(t0)[0].user, "root");
  Put(a / "pids.current", "1\n");
  EXPECT_EQ(sampler.Read(t0 + std::chrono::seconds(15))[0].user, "root");
  EXPECT_EQ(sampler.Read(t0 + std::chrono::seconds(30))[0].user, "root");
  ASSERT_EQ(chown(a.c_str(), 65534, 65534), 0);
  EXPECT_EQ(sampler.Read(t0 + std::chrono::seconds(45))[0].user, "root");
}

}  // namespace
}  // namespace nova
