#include "agent_hook.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

TEST(AgentHook, CountsOomKillsUntilTheRunsEndEntry) {
  RunEndTally tally;
  tally.Observe("39f53479d3a045ac8e11786248231fbf");  // "Started"
  tally.Observe(kUnitOutOfMemoryMessageId);
  tally.Observe(kUnitOutOfMemoryMessageId);
  EXPECT_FALSE(tally.ended());
  tally.Observe(kUnitFailureResultMessageId);
  EXPECT_TRUE(tally.ended());
  EXPECT_EQ(tally.oom_kills(), 2u);
  RunEndTally clean;
  clean.Observe(kUnitSuccessMessageId);
  EXPECT_TRUE(clean.ended());
  EXPECT_EQ(clean.oom_kills(), 0u);
}

TEST(AgentHook, TakesTheOutcomeFromMonitorVariablesOnly) {
  Outcome o = OutcomeFromMonitorEnvironment("a1",
                                            {{"MONITOR_SERVICE_RESULT", "signal"},
                                             {"MONITOR_EXIT_CODE", "killed"},
                                             {"MONITOR_EXIT_STATUS", "KILL"},
                                             {"SERVICE_RESULT", "success"},
                                             {"EXIT_CODE", "exited"}},
                                            1, 42);
  EXPECT_EQ(o.service_result, "signal");
  EXPECT_EQ(o.exit_code, "killed");
  EXPECT_EQ(DescribeOutcome(o), "oom-killed (memory limit)");
}

}  // namespace
}  // namespace nova
