#include "outcome.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent_hook.h"

namespace nova {
namespace {

Outcome Make(std::string result, std::string code, std::string status, uint64_t ooms = 0) {
  return OutcomeFromServiceEnvironment(
      "a1", {{"SERVICE_RESULT", result}, {"EXIT_CODE", code}, {"EXIT_STATUS", status}}, ooms, 42);
}

TEST(Outcome, DescribesWhatHappened) {
  EXPECT_EQ(DescribeOutcome(Make("success", "exited", "0")), "exited 0");
  EXPECT_EQ(DescribeOutcome(Make("exit-code", "exited", "3")), "exited 3");
  EXPECT_EQ(DescribeOutcome(Make("signal", "killed", "KILL", 1)), "oom-killed (memory limit)");
  EXPECT_EQ(DescribeOutcome(Make("oom-kill", "killed", "KILL")), "oom-killed (memory limit)");
  EXPECT_EQ(DescribeOutcome(Make("timeout", "killed", "TERM")),
            "hard timeout (stopped at RuntimeMaxSec)");
  EXPECT_EQ(DescribeOutcome(Make("signal", "killed", "TERM")), "killed by signal TERM");
  EXPECT_EQ(DescribeOutcome(Make("success", "exited", "0", 2)),
            "exited 0; 2 process(es) oom-killed");
  EXPECT_EQ(DescribeOutcome(Make("exit-code", "exited", "203")),
            "failed to start: the command could not be executed (203/EXEC)");
  Outcome killed = Make("signal", "killed", "KILL");
  killed.killed = KillMarker{"alice", "kill --force"};
  EXPECT_EQ(DescribeOutcome(killed), "killed by alice (kill --force)");
}

TEST(Outcome, RoundTripsThroughJson) {
  Outcome o = Make("signal", "killed", "KILL", 1);
  o.killed = KillMarker{"novad", "relief"};
  Outcome back = OutcomeFromJson(OutcomeToJson(o));
  EXPECT_EQ(back.agent, "a1");
  EXPECT_EQ(back.service_result, "signal");
  EXPECT_EQ(back.exit_status, "KILL");
  EXPECT_EQ(back.oom_kills, 1u);
  EXPECT_EQ(back.finished_at_usec, 42);
  ASSERT_TRUE(back.killed);
  EXPECT_EQ(back.killed->by, "novad");
}

TEST(OutcomeStore, KeepsOutcomesAndConsumesKillMarkers) {
  auto dir =
      std::filesystem::temp_directory_path() / ("nova-outcome-test-" + std::to_string(::getpid()));
  OutcomeStore store(dir / "state", dir / "run");
  EXPECT_EQ(store.Read("a1"), std::nullopt);
  store.WriteKillMarker("a1", {"bob", "kill"});
  auto marker = store.TakeKillMarker("a1");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->by, "bob");
  EXPECT_EQ(store.TakeKillMarker("a1"), std::nullopt);  // taken once
  store.Write(Make("success", "exited", "0"));
  ASSERT_TRUE(store.Read("a1"));
  EXPECT_EQ(store.ReadAll().size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(AgentHook, ReadsCgroupAndOomKills) {
  EXPECT_EQ(CgroupFromProcSelf("0::/nova.slice/nova-agents.slice/nova-agent-a1.service\n"),
            "/nova.slice/nova-agents.slice/nova-agent-a1.service");
  EXPECT_EQ(CgroupFromProcSelf("12:pids:/x\n0::/y\n"), "/y");
  EXPECT_EQ(ParseOomKills("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"), 2u);
  EXPECT_EQ(ParseOomKills(""), 0u);
}

}  // namespace
}  // namespace nova
