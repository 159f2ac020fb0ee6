#include "memory_watch.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

namespace nova {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;

// No OOM kills: the watcher's OOM scan is tested in oom_notice_test.cc.
class NoOom : public OomSource {
 public:
  int scans = 0;
  std::vector<AgentOomCount> ReadOomCounts() override {
    ++scans;
    return {};
  }
  std::vector<std::string> ReadKernelLog() override { return {}; }
  std::optional<OomKillsByAgent> LoadOomKills() override { return OomKillsByAgent{}; }
  void SaveOomKills(const OomKillsByAgent&) override {}
  int64_t RealtimeUsec() override { return 0; }
};

// A host of 100 GiB whose agents give their memory back when killed, after
// `release_delay` of the watcher's sleeping.
class FakeHost : public WatchHost {
 public:
  struct Agent {
    uint64_t memory = 0;
    bool killed = false;
    std::chrono::steady_clock::time_point released_at;
  };

  uint64_t total = 100 * kGiB;
  uint64_t other_used = 10 * kGiB;  // memory that is not the agents'
  std::map<std::string, Agent> agents;
  std::chrono::milliseconds release_delay{20};
  std::map<std::string, uint64_t> growth_per_second;  // applied as the clock moves
  bool never_release = false;
  std::string refuse_kill;  // KillAgent throws for this agent
  std::chrono::steady_clock::time_point clock;
  std::vector<std::string> kills;
  std::vector<KillMarker> markers;
  std::vector<WatchEvent> events;
  // For each kill: whether every earlier victim had given its memory back.
  std::vector<bool> earlier_victims_released;

  void Add(const std::string& name, uint64_t gib) { agents[name].memory = gib * kGiB; }
  void SetUsedPercent(double percent) {  // by memory outside the agents
    uint64_t agents_used = AgentsUsed();
    other_used = static_cast<uint64_t>(total * percent / 100) - agents_used;
  }
  uint64_t AgentsUsed() const {
    uint64_t sum = 0;
    for (const auto& [name, a] : agents) {
      if (!Released(a)) sum += a.memory;
    }
    return sum;
  }
  bool Released(const Agent& a) const {
    return a.killed && !never_release && clock >= a.released_at;
  }
  std::vector<std::string> Actions() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.action + (e.agent.empty() ? "" : " " + e.agent));
    return out;
  }

  HostMemory ReadMemory() override {
    uint64_t used = other_used + AgentsUsed();
    return HostMemory{total, total - std::min(used, total)};
  }
  int agent_reads = 0;
  std::vector<AgentMemory> ReadAgents() override {
    ++agent_reads;
    std::vector<AgentMemory> out;
    for (const auto& [name, a] : agents) {
      if (!Released(a)) out.push_back({name, a.memory, 0});
    }
    return out;
  }
  void KillAgent(const std::string& agent, const KillMarker& marker) override {
    if (agent == refuse_kill) throw std::runtime_error("Permission denied");
    bool all_released = true;
    for (const auto& victim : kills) all_released = all_released && Released(agents[victim]);
    earlier_victims_released.push_back(all_released);
    kills.push_back(agent);
    markers.push_back(marker);
    agents[agent].killed = true;
    agents[agent].released_at = clock + release_delay;
  }
  std::optional<uint64_t> AgentAnonMemory(const std::string& agent) override {
    const Agent& a = agents.at(agent);
    if (Released(a)) return std::nullopt;
    return a.memory;
  }
  std::chrono::steady_clock::time_point Now() override { return clock; }
  void Sleep(std::chrono::milliseconds d) override {
    clock += d;
    for (const auto& [name, rate] : growth_per_second) {
      if (!agents[name].killed) agents[name].memory += rate / 1000 * d.count();
    }
  }
  void Emit(const WatchEvent& event) override { events.push_back(event); }
  OomSource& Oom() override { return oom; }
  NoOom oom;
};

TEST(VictimOrder, LargestMemoryFirstTiesByName) {
  auto order = VictimOrder({{"b", 2 * kGiB}, {"small", kGiB}, {"big", 8 * kGiB}, {"a", 2 * kGiB}});
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0].agent, "big");
  EXPECT_EQ(order[1].agent, "a");
  EXPECT_EQ(order[2].agent, "b");
  EXPECT_EQ(order[3].agent, "small");
}

std::vector<RankedVictim> SteadyRanking(const std::vector<AgentMemory>& agents) {
  return RankVictims(agents, GrowthTracker(), {}, std::chrono::seconds(5));
}

TEST(PlanRelief, TakesTheLargestUntilBelowTheTarget) {
  HostMemory m{100 * kGiB, 4 * kGiB};  // 96% used
  auto plan =
      PlanRelief(m, 75, SteadyRanking({{"a", 5 * kGiB}, {"b", 20 * kGiB}, {"c", 10 * kGiB}}));
  // 96 - 20 = 76 (not below 75), - 10 = 66.
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].memory.agent, "b");
  EXPECT_EQ(plan[1].memory.agent, "c");
  EXPECT_TRUE(
      PlanRelief(HostMemory{100 * kGiB, 30 * kGiB}, 75, SteadyRanking({{"a", kGiB}})).empty());
}

TEST(PollInterval, ShrinksWithTheHeadroomToRelief) {
  Config c;  // relief 95, target 75: 20 points of span; 1 s down to 20 ms
  EXPECT_EQ(PollInterval(c, 10), std::chrono::seconds(1));
  EXPECT_EQ(PollInterval(c, 75), std::chrono::seconds(1));
  EXPECT_EQ(PollInterval(c, 85), std::chrono::milliseconds(510));
  EXPECT_EQ(PollInterval(c, 95), std::chrono::milliseconds(20));
  EXPECT_EQ(PollInterval(c, 99), std::chrono::milliseconds(20));
  Usec previous = PollInterval(c, 70);
  for (double used = 70; used <= 96; used += 0.5) {
    EXPECT_LE(PollInterval(c, used), previous) << used;
    previous = PollInterval(c, used);
  }
}

TEST(PollInterval, ARiseLooksAgainBeforeItCouldCrossRelief) {
  Config c;
  // 80% used: 755 ms by headroom alone.
  EXPECT_EQ(PollInterval(c, 80, 0), std::chrono::milliseconds(755));
  EXPECT_EQ(PollInterval(c, 80, -5), std::chrono::milliseconds(755));  // falling
  // Rising 20 points/s: relief in 750 ms, so look within 375 ms.
  EXPECT_EQ(PollInterval(c, 80, 20), std::chrono::milliseconds(375));
  // Slow rises change nothing; very fast ones stop at WatchIntervalMin.
  EXPECT_EQ(PollInterval(c, 80, 1), std::chrono::milliseconds(755));
  EXPECT_EQ(PollInterval(c, 80, 10000), std::chrono::milliseconds(20));
}

TEST(MemoryWatcherCheck, AFastRiseShortensTheNextLook) {
  Config c;
  FakeHost host;
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  host.SetUsedPercent(40);
  EXPECT_EQ(watcher.Check(), std::chrono::seconds(1));
  host.Sleep(std::chrono::seconds(1));
  host.SetUsedPercent(70);  // 30 points/s: relief (95) in 833 ms
  EXPECT_EQ(watcher.Check(), std::chrono::microseconds(416666));
}

TEST(Relieve, KillsTheLargestOneAtATimeUntilBelowTheTarget) {
  Config c;
  FakeHost host;
  host.Add("small", 5);
  host.Add("big", 30);
  host.Add("mid", 15);
  host.SetUsedPercent(96);  // 46 GiB outside agents
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);

  ReliefResult r = watcher.Relieve(75, false, "watcher");
  // 96 - 30 = 66 < 75: only the largest dies.
  EXPECT_EQ(host.kills, std::vector<std::string>({"big"}));
  EXPECT_TRUE(r.reached_target);
  EXPECT_NEAR(r.after.used_percent(), 66, 0.01);

  host.Add("big2", 12);
  host.SetUsedPercent(97);
  host.kills.clear();
  host.events.clear();
  r = watcher.Relieve(40, false, "novactl relieve (uid 0)");
  // 97 - 15 (mid) = 82, - 12 (big2) = 70, - 5 (small) = 65: all three, largest first.
  EXPECT_EQ(host.kills, std::vector<std::string>({"mid", "big2", "small"}));
  EXPECT_FALSE(r.reached_target);
  EXPECT_EQ(host.Actions(), std::vector<std::string>({"relief-started", "kill mid", "kill big2",
                                                      "kill small", "relief-incomplete"}));
  EXPECT_EQ(host.events[1].agent_memory, 15 * kGiB);
  EXPECT_NEAR(host.events[1].host.used_percent(), 97, 0.01);
  EXPECT_EQ(host.events[1].threshold_percent, 40);
  EXPECT_EQ(host.events[1].trigger, "novactl relieve (uid 0)");
  EXPECT_EQ(host.events[1].message,
            "relief killed agent mid (largest, steady at 15G): host memory 97.0% used (97G of "
            "100G), target below 40%");
  EXPECT_EQ(host.events[1].reason, "largest, steady at 15G");
  EXPECT_EQ(host.markers.back().by, "novad");
  EXPECT_NE(host.markers.back().reason.find("relief (novactl relieve (uid 0))"), std::string::npos);
}

TEST(Relieve, ConfirmsEachVictimsMemoryCameBackBeforeTheNext) {
  Config c;
  FakeHost host;
  host.release_delay = std::chrono::milliseconds(300);
  host.Add("a", 10);
  host.Add("b", 9);
  host.Add("c", 8);
  host.SetUsedPercent(99);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  watcher.Relieve(75, false, "watcher");
  EXPECT_EQ(host.kills, std::vector<std::string>({"a", "b", "c"}));
  EXPECT_EQ(host.earlier_victims_released, std::vector<bool>({true, true, true}));
}

TEST(Relieve, MovesOnWhenAVictimDoesNotGiveMemoryBack) {
  Config c;
  FakeHost host;
  host.never_release = true;
  host.Add("a", 10);
  host.Add("b", 9);
  host.SetUsedPercent(99);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  auto start = host.clock;
  watcher.Relieve(75, false, "watcher");
  EXPECT_EQ(host.kills, std::vector<std::string>({"a", "b"}));
  EXPECT_GE(host.clock - start, 2 * c.relief_confirm_timeout);
  EXPECT_EQ(host.Actions(),
            std::vector<std::string>({"relief-started", "kill a", "confirm-timeout a", "kill b",
                                      "confirm-timeout b", "relief-incomplete"}));
}

TEST(Relieve, AnAgentThatCannotBeKilledIsReportedAndSkipped) {
  Config c;
  FakeHost host;
  host.refuse_kill = "a";
  host.Add("a", 30);
  host.Add("b", 25);
  host.SetUsedPercent(96);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  watcher.Relieve(75, false, "watcher");
  EXPECT_EQ(host.kills, std::vector<std::string>({"b"}));
  EXPECT_EQ(host.Actions(),
            std::vector<std::string>({"relief-started", "kill-failed a", "kill b", "relief-done"}));
  EXPECT_EQ(host.events[1].message, "relief could not kill agent a: Permission denied");
}

TEST(Relieve, DryRunKillsNothingAndReportsThePlan) {
  Config c;
  FakeHost host;
  host.Add("a", 10);
  host.Add("b", 20);
  host.Add("c", 1);
  host.SetUsedPercent(96);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  ReliefResult r = watcher.Relieve(75, true, "watcher");
  EXPECT_TRUE(host.kills.empty());
  EXPECT_TRUE(r.dry_run);
  ASSERT_EQ(r.victims.size(), 2u);
  EXPECT_EQ(host.Actions(),
            std::vector<std::string>({"relief-started", "would-kill b", "would-kill a"}));
  EXPECT_TRUE(host.events[1].dry_run);
}

TEST(Relieve, BelowTheTargetDoesNothing) {
  Config c;
  FakeHost host;
  host.Add("a", 10);
  host.SetUsedPercent(50);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  ReliefResult r = watcher.Relieve(75, false, "novactl relieve (uid 0)");
  EXPECT_TRUE(r.reached_target);
  EXPECT_TRUE(host.kills.empty());
  EXPECT_TRUE(host.events.empty());
}

TEST(MemoryWatcherCheck, ClosesAndReopensAdmissionWithEvents) {
  Config c;
  FakeHost host;
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  host.SetUsedPercent(50);
  EXPECT_EQ(watcher.Check(), std::chrono::seconds(1));
  host.SetUsedPercent(86);
  watcher.Check();
  EXPECT_FALSE(gate.open());
  host.SetUsedPercent(82);
  watcher.Check();
  EXPECT_FALSE(gate.open());
  host.SetUsedPercent(79);
  watcher.Check();
  EXPECT_TRUE(gate.open());
  EXPECT_EQ(host.Actions(), std::vector<std::string>({"admission-closed", "admission-reopened"}));
  EXPECT_EQ(host.events[0].threshold_percent, 85);
  EXPECT_EQ(host.events[1].threshold_percent, 80);
  EXPECT_TRUE(host.kills.empty());
}

TEST(MemoryWatcherCheck, RelievesAtTheReliefThresholdNotBelow) {
  Config c;
  FakeHost host;
  host.Add("a", 30);
  host.Add("b", 10);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  host.SetUsedPercent(94.9);
  watcher.Check();
  EXPECT_TRUE(host.kills.empty());
  host.SetUsedPercent(95);
  Usec next = watcher.Check();
  EXPECT_EQ(host.kills, std::vector<std::string>({"a"}));
  EXPECT_EQ(host.Actions(),
            std::vector<std::string>({"admission-closed", "relief-started", "kill a", "relief-done",
                                      "admission-reopened"}));
  EXPECT_TRUE(gate.open());  // 65% after relief
  // 1 s by headroom, less the time relief took: the OOM scan's cadence.
  EXPECT_LE(next, std::chrono::seconds(1));
  EXPECT_GE(next, std::chrono::milliseconds(900));
}

// The VM run: relief began while one agent was still growing; the
// old order killed a steady, larger agent first and the grower lived on.
TEST(MemoryWatcherCheck, KillsTheGrowerBeforeALargerSteadyAgent) {
  Config c;
  FakeHost host;
  host.Add("steady", 40);
  host.Add("grower", 2);
  host.SetUsedPercent(73);  // 31 GiB outside the agents
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  // The grower takes 1 GiB more every 100 ms (10 GiB/s) and host memory
  // with it, from 73% to 95%: it holds 24 GiB, below steady's 40, then.
  for (int i = 0; host.ReadMemory().used_percent() < 95; ++i) {
    ASSERT_TRUE(host.kills.empty()) << i;
    watcher.Check();
    host.Sleep(std::chrono::milliseconds(100));
    host.agents["grower"].memory += kGiB;
  }
  ASSERT_LT(host.agents["grower"].memory, host.agents["steady"].memory);
  watcher.Check();
  // Killing the grower alone brings memory under 75%: steady lives.
  EXPECT_EQ(host.kills, std::vector<std::string>({"grower"}));
  auto kill = std::find_if(host.events.begin(), host.events.end(),
                           [](const WatchEvent& e) { return e.action == "kill"; });
  ASSERT_NE(kill, host.events.end());
  EXPECT_EQ(kill->reason.rfind("growing 10G/s at ", 0), 0u) << kill->reason;
  EXPECT_NE(kill->reason.find("projected in 5s"), std::string::npos) << kill->reason;
  EXPECT_NE(kill->message.find("relief killed agent grower (growing"), std::string::npos);
  EXPECT_GT(kill->agent_projected, 40 * kGiB);
  EXPECT_NE(host.markers[0].reason.find("chosen as growing"), std::string::npos);
}

// The relief VM case: the largest goes first, its memory takes seconds to
// come back, and meanwhile a smaller agent keeps growing. The next choice
// must still see it growing, not a tracker gone stale during the wait.
TEST(Relieve, KeepsSamplingWhileAVictimGivesItsMemoryBack) {
  Config c;
  FakeHost host;
  host.release_delay = std::chrono::seconds(2);
  host.Add("big", 20);
  host.Add("small", 10);
  host.Add("mid", 12);
  host.SetUsedPercent(99);                     // 79% once big is gone: relief goes on
  host.growth_per_second["small"] = kGiB / 2;  // 0.5 GiB/s: 11G then, 13.5G in 5s
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  for (int i = 0; i < 5; ++i) {
    watcher.Check();  // samples, then relief: used stays above 95 until big is back
    if (!host.kills.empty()) break;
  }
  ASSERT_GE(host.kills.size(), 2u);
  EXPECT_EQ(host.kills[0], "big");
  EXPECT_EQ(host.kills[1], "small");  // 11G and growing, before the steady 12G mid
  std::vector<std::string> reasons;
  for (const auto& e : host.events) {
    if (e.action == "kill") reasons.push_back(e.agent + ": " + e.reason);
  }
  ASSERT_GE(reasons.size(), 2u);
  EXPECT_EQ(reasons[0], "big: largest, steady at 20G");
  EXPECT_EQ(reasons[1].rfind("small: growing 512M/s at 11G, ", 0), 0u) << reasons[1];
}

TEST(MemoryWatcherCheck, FarFromReliefAgentsAreNotSampled) {
  Config c;
  FakeHost host;
  host.Add("a", 1);
  host.SetUsedPercent(30);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  for (int i = 0; i < 5; ++i) {
    watcher.Check();
    host.Sleep(std::chrono::seconds(1));
  }
  // Only the OOM scan ran, once a second; memory.current was never read.
  EXPECT_EQ(host.oom.scans, 5);
  EXPECT_EQ(host.agent_reads, 0);
}

TEST(MemoryWatcherCheck, TheOomScanRunsAboutOnceASecondWhateverTheInterval) {
  Config c;
  c.watch_interval_max = std::chrono::seconds(10);
  FakeHost host;
  host.SetUsedPercent(30);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  EXPECT_EQ(watcher.Check(), std::chrono::seconds(1));
  host.Sleep(std::chrono::milliseconds(400));
  EXPECT_EQ(watcher.Check(), std::chrono::milliseconds(600));
  EXPECT_EQ(host.oom.scans, 1);
  host.Sleep(std::chrono::milliseconds(600));
  watcher.Check();
  EXPECT_EQ(host.oom.scans, 2);
}

TEST(MemoryWatcherCheck, DryRunReportsOncePerMinuteAndKillsNothing) {
  Config c;
  c.relief_dry_run = true;
  FakeHost host;
  host.Add("a", 30);
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  host.SetUsedPercent(96);
  for (int i = 0; i < 10; ++i) {
    watcher.Check();
    host.Sleep(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(host.kills.empty());
  EXPECT_EQ(host.Actions(),
            std::vector<std::string>({"admission-closed", "relief-started", "would-kill a"}));
  host.Sleep(std::chrono::minutes(1));
  watcher.Check();
  EXPECT_EQ(host.events.size(), 5u);
}

TEST(MemoryWatcherCheck, WithNothingLeftToKillRetriesOnlyAfterADelay) {
  Config c;
  FakeHost host;
  AdmissionGate gate(c);
  MemoryWatcher watcher(c, host, gate);
  host.SetUsedPercent(97);
  for (int i = 0; i < 50; ++i) {
    watcher.Check();
    host.Sleep(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(host.Actions(),
            std::vector<std::string>({"admission-closed", "relief-started", "relief-incomplete"}));
  host.Sleep(kReliefRetryDelay);
  watcher.Check();
  EXPECT_EQ(host.events.size(), 5u);
}

}  // namespace
}  // namespace nova
