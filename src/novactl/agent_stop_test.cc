// Which agents novactl kill waits for, and which `kill --all` picks.
#include "agent_stop.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

using Strings = std::vector<std::string>;

AgentUnitInfo Agent(const std::string& name, const std::string& user,
                    const std::string& state = "active") {
  AgentUnitInfo a;
  a.name = name;
  a.user = user;
  a.active_state = state;
  return a;
}

TEST(StopTrackerTest, AnUnloadedAgentIsStoppedAtOnce) {
  StopTracker tracker({"a", "b", "c"});
  EXPECT_EQ(tracker.Update({{"b", {"deactivating", "stop-sigterm"}}}), Strings{"b"});
  EXPECT_EQ(tracker.Update({}), Strings{});
}

TEST(StopTrackerTest, AnInactiveOrFailedAgentIsStopped) {
  // systemctl stop's moment: its recorder is queued then, and writes the
  // outcome a moment later.
  StopTracker tracker({"a", "b", "c"});
  EXPECT_EQ(tracker.Update({{"a", {"inactive", "dead", 0}},
                            {"b", {"failed", "failed", 0}},
                            {"c", {"active", "running", 7}}}),
            Strings{"c"});
}

TEST(StopTrackerTest, OtherAgentsInTheListingDoNotMatter) {
  StopTracker tracker({"a"});
  EXPECT_EQ(tracker.Update({{"z", {"active", "running"}}}), Strings{});
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
