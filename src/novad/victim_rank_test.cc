#include "victim_rank.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr uint64_t kMiB = 1ULL << 20;

struct Clock {
  std::chrono::steady_clock::time_point now{};
  void Advance(milliseconds d) { now += d; }
};

std::vector<std::string> Names(const std::vector<RankedVictim>& ranked) {
  std::vector<std::string> out;
  for (const auto& v : ranked) out.push_back(v.memory.agent);
  return out;
}

// The case: a steady 307M agent larger, at the crossing, than one
// growing 150M/s; the grower will hold more by the time relief could look
// again, so it goes first.
TEST(RankVictims, AGrowerGoesBeforeALargerSteadyAgent) {
  Clock c;
  GrowthTracker growth;
  for (int i = 0; i <= 10; ++i) {
    growth.Observe({{"steady", 307 * kMiB, 0}, {"grower", (100 + 15 * i) * kMiB, 0}}, c.now);
    if (i < 10) c.Advance(milliseconds(100));
  }
  auto ranked = RankVictims({{"steady", 307 * kMiB, 0}, {"grower", 250 * kMiB, 0}}, growth, c.now,
                            seconds(5));
  EXPECT_EQ(Names(ranked), std::vector<std::string>({"grower", "steady"}));
  EXPECT_TRUE(ranked[0].growing);
  EXPECT_NEAR(ranked[0].growth_per_second, 150.0 * kMiB, kMiB);
  EXPECT_NEAR(static_cast<double>(ranked[0].projected), 1000.0 * kMiB, 5.0 * kMiB);
  EXPECT_FALSE(ranked[1].growing);
  EXPECT_EQ(ranked[1].projected, 307 * kMiB);
  EXPECT_EQ(VictimReason(ranked[0], seconds(5)), "growing 150M/s at 250M, 1000M projected in 5s");
  EXPECT_EQ(VictimReason(ranked[1], seconds(5)), "largest, steady at 307M");
}

TEST(RankVictims, SteadyAgentsStayLargestFirstTiesByName) {
  Clock c;
  GrowthTracker growth;
  std::vector<AgentMemory> agents = {
      {"b", 200 * kMiB, 0}, {"small", 10 * kMiB, 0}, {"big", 800 * kMiB, 0}, {"a", 200 * kMiB, 0}};
  for (int i = 0; i < 5; ++i) {
    growth.Observe(agents, c.now);
    c.Advance(milliseconds(200));
  }
  EXPECT_EQ(Names(RankVictims(agents, growth, c.now, seconds(5))),
            std::vector<std::string>({"big", "a", "b", "small"}));
}

TEST(RankVictims, OneSampleIsSteady) {
  Clock c;
  GrowthTracker growth;
  growth.Observe({{"new", 50 * kMiB, 0}}, c.now);
  auto ranked = RankVictims({{"new", 50 * kMiB, 0}}, growth, c.now, seconds(5));
  EXPECT_FALSE(ranked[0].growing);
  EXPECT_EQ(ranked[0].growth_per_second, 0);
  EXPECT_EQ(ranked[0].projected, 50 * kMiB);
  // Never observed at all (appeared since the last read): steady too.
  ranked = RankVictims({{"unseen", 60 * kMiB, 0}}, growth, c.now, seconds(5));
  EXPECT_EQ(ranked[0].projected, 60 * kMiB);
}

TEST(RankVictims, SamplesTooCloseTogetherSayNothing) {
  Clock c;
  GrowthTracker growth;
  growth.Observe({{"x", 10 * kMiB, 0}}, c.now);
  c.Advance(milliseconds(20));
  growth.Observe({{"x", 30 * kMiB, 0}}, c.now);
  EXPECT_EQ(growth.Rate("x", c.now), 0);
}

TEST(RankVictims, ShrinkingProjectsToItsCurrentMemory) {
  Clock c;
  GrowthTracker growth;
  for (int i = 0; i <= 5; ++i) {
    growth.Observe({{"shrinker", (600 - 50 * i) * kMiB, 0}, {"steady", 400 * kMiB, 0}}, c.now);
    if (i < 5) c.Advance(milliseconds(100));
  }
  auto ranked = RankVictims({{"shrinker", 350 * kMiB, 0}, {"steady", 400 * kMiB, 0}}, growth, c.now,
                            seconds(5));
  EXPECT_EQ(Names(ranked), std::vector<std::string>({"steady", "shrinker"}));
  EXPECT_LT(ranked[1].growth_per_second, 0);
  EXPECT_EQ(ranked[1].projected, 350 * kMiB);  // never below what it holds
  EXPECT_EQ(VictimReason(ranked[1], seconds(5)), "largest, shrinking at 350M");
}

TEST(RankVictims, AProjectionStopsAtTheAgentsOwnLimit) {
  Clock c;
  GrowthTracker growth;
  growth.Observe({{"capped", 100 * kMiB, 256 * kMiB}, {"steady", 300 * kMiB, 0}}, c.now);
  c.Advance(milliseconds(500));
  growth.Observe({{"capped", 200 * kMiB, 256 * kMiB}, {"steady", 300 * kMiB, 0}}, c.now);
  auto ranked = RankVictims({{"capped", 200 * kMiB, 256 * kMiB}, {"steady", 300 * kMiB, 0}}, growth,
                            c.now, seconds(5));
  // 200M/s for 5s would be 1.2G, but its MemoryMax is 256M: the kernel
  // OOM-kills it there, so the steady 300M agent holds more.
  EXPECT_EQ(Names(ranked), std::vector<std::string>({"steady", "capped"}));
  EXPECT_EQ(ranked[1].projected, 256 * kMiB);
}

TEST(RankVictims, OldSamplesExpire) {
  Clock c;
  GrowthTracker growth;
  growth.Observe({{"x", 10 * kMiB, 0}}, c.now);
  c.Advance(seconds(10));
  growth.Observe({{"x", 900 * kMiB, 0}}, c.now);
  // Growth ten seconds ago is not growth now.
  EXPECT_EQ(growth.Rate("x", c.now), 0);
  c.Advance(milliseconds(200));
  growth.Observe({{"x", 900 * kMiB, 0}}, c.now);
  EXPECT_EQ(growth.Rate("x", c.now), 0);
  // A tracker not fed for a while says nothing either.
  c.Advance(seconds(3));
  EXPECT_EQ(growth.Rate("x", c.now), 0);
}

TEST(GrowthTracker, ForgetsAgentsThatVanishAndStaysSmall) {
  Clock c;
  GrowthTracker growth;
  std::vector<AgentMemory> agents;
  for (int i = 0; i < 300; ++i) agents.push_back({"agent-" + std::to_string(i), kMiB, 0});
  for (int round = 0; round < 100; ++round) {
    growth.Observe(agents, c.now);
    c.Advance(milliseconds(20));
  }
  EXPECT_EQ(growth.size(), 300u);
  agents.resize(10);  // 290 ended between two reads
  growth.Observe(agents, c.now);
  EXPECT_EQ(growth.size(), 10u);
  EXPECT_EQ(growth.Rate("agent-200", c.now), 0);
}

// Gaming: each agent's projection is made of its own samples only. A hog
// that swings its own memory wildly changes nothing of its neighbour's rank.
TEST(RankVictims, AnAgentCannotMakeAnotherLookLikeTheRunaway) {
  Clock c;
  GrowthTracker growth;
  for (int i = 0; i <= 10; ++i) {
    uint64_t attacker = (i % 2 ? 900 : 100) * kMiB;
    growth.Observe({{"attacker", attacker, 0}, {"victim", 400 * kMiB, 0}}, c.now);
    if (i < 10) c.Advance(milliseconds(100));
  }
  auto ranked = RankVictims({{"attacker", 100 * kMiB, 0}, {"victim", 400 * kMiB, 0}}, growth, c.now,
                            seconds(5));
  EXPECT_EQ(ranked[1].memory.agent == "victim" ? ranked[1].projected : ranked[0].projected,
            400 * kMiB);
  EXPECT_EQ(growth.Rate("victim", c.now), 0);
}

}  // namespace
}  // namespace nova
