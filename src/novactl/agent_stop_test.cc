// Which agents novactl kill waits for, and which `kill --all` picks.
#include "agent_stop.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

AgentUnitInfo Agent(const std::string& name, const std::string& user,
                    const std::string& state = "active") {
  AgentUnitInfo a;
  a.name = name;
  a.user = user;
  a.active_state = state;
  return a;
}

TEST(StopTrackerTest, AnUnloadedAgentIsGoneAtOnce) {
  StopTracker tracker({"a", "b", "c"}, 2s);
  auto t0 = StopTracker::Clock::now();
  EXPECT_EQ(tracker.Update({{"b", {"deactivating", "stop-sigterm"}}}, t0), Strings{"b"});
  EXPECT_EQ(tracker.Update({}, t0 + 10ms), Strings{});
}

TEST(StopTrackerTest, AStoppedButLoadedAgentIsGoneOnlyAfterSettling) {
  StopTracker tracker({"a"}, 2s);
  auto t0 = StopTracker::Clock::now();
  EXPECT_EQ(tracker.Update({{"a", {"inactive", "dead"}}}, t0), Strings{"a"});
  EXPECT_EQ(tracker.Update({{"a", {"inactive", "dead"}}}, t0 + 1s), Strings{"a"});
  EXPECT_EQ(tracker.Update({{"a", {"inactive", "dead"}}}, t0 + 3s), Strings{});
}

TEST(StopTrackerTest, AnAgentRunningAgainRestartsItsSettling) {
  StopTracker tracker({"a"}, 2s);
  auto t0 = StopTracker::Clock::now();
  tracker.Update({{"a", {"inactive", "dead"}}}, t0);
  tracker.Update({{"a", {"active", "running"}}}, t0 + 1s);  // a new run under that name
  EXPECT_EQ(tracker.Update({{"a", {"failed", "failed"}}}, t0 + 2500ms), Strings{"a"});
  EXPECT_EQ(tracker.Update({{"a", {"failed", "failed"}}}, t0 + 5s), Strings{});
}

TEST(StopTrackerTest, OtherAgentsInTheListingDoNotMatter) {
  StopTracker tracker({"a"}, 2s);
  EXPECT_EQ(tracker.Update({{"z", {"active", "running"}}}, StopTracker::Clock::now()), Strings{});
}

TEST(AgentsToKillTest, AMemberGetsOnlyTheirOwnLiveAgents) {
  std::vector<AgentUnitInfo> agents = {Agent("b1", "bob"), Agent("a1", "alice"),
                                       Agent("a2", "alice", "deactivating"),
                                       Agent("a3", "alice", "failed"), Agent("a0", "alice")};
  EXPECT_EQ(AgentsToKill(agents, std::string("alice")), (Strings{"a0", "a1", "a2"}));
  EXPECT_EQ(AgentsToKill(agents, std::string("bob")), Strings{"b1"});
  EXPECT_EQ(AgentsToKill(agents, std::string("carol")), Strings{});
}

TEST(AgentsToKillTest, NoUserMeansEveryLiveAgent) {
  std::vector<AgentUnitInfo> agents = {Agent("b1", "bob"), Agent("a1", "alice"),
                                       Agent("x", "alice", "inactive")};
  EXPECT_EQ(AgentsToKill(agents, std::nullopt), (Strings{"a1", "b1"}));
}

TEST(AgentsToKillTest, AUserNameIsMatchedWhole) {
  std::vector<AgentUnitInfo> agents = {Agent("a1", "alice2"), Agent("a2", "alic")};
  EXPECT_EQ(AgentsToKill(agents, std::string("alice")), Strings{});
}

}  // namespace
}  // namespace nova
