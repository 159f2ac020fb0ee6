#include "agent_name.h"

#include <gtest/gtest.h>

#include "errors.h"

namespace nova {
namespace {

std::string Problem(const std::string& name) {
  try {
    ValidateAgentName(name);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    return e.what();
  }
}

TEST(AgentName, AcceptsLettersDigitsDashAndUnderscore) {
  EXPECT_EQ(Problem("agent-001"), "");
  EXPECT_EQ(Problem("A_b-9"), "");
  EXPECT_EQ(Problem("7"), "");
  EXPECT_EQ(Problem(std::string(64, 'a')), "");
}

TEST(AgentName, RejectsWithWhatWasWrongAndWhatIsAccepted) {
  const std::string accepted =
      "; use 1-64 letters, digits, '-' or '_', starting with a letter or digit";
  EXPECT_EQ(Problem(""), "agent name \"\": empty" + accepted);
  EXPECT_EQ(Problem("-x"), "agent name \"-x\": starts with '-'" + accepted);
  EXPECT_EQ(Problem("_x"), "agent name \"_x\": starts with '_'" + accepted);
  EXPECT_EQ(Problem("a.b"), "agent name \"a.b\": contains '.'" + accepted);
  EXPECT_EQ(Problem("a/b"), "agent name \"a/b\": contains '/'" + accepted);
  EXPECT_EQ(Problem("a b"), "agent name \"a b\": contains ' '" + accepted);
  EXPECT_EQ(Problem(std::string(65, 'a')),
            "agent name \"" + std::string(65, 'a') + "\": too long (65 characters)" + accepted);
  EXPECT_NE(Problem("a\nb"), "");
  EXPECT_NE(Problem("café"), "");
}

TEST(AgentName, ShowsARefusedNameEscapedAndNamesTheCharacter) {
  const std::string accepted =
      "; use 1-64 letters, digits, '-' or '_', starting with a letter or digit";
  EXPECT_EQ(Problem("a\nb"), "agent name \"a\\nb\": contains a newline" + accepted);
  EXPECT_EQ(Problem("\x1b[2J"),
            "agent name \"\\e[2J\": starts with an escape character (ESC)" + accepted);
  EXPECT_EQ(Problem("caf\xc3\xa9"),
            "agent name \"caf\xc3\xa9\": contains a non-ASCII character" + accepted);
  EXPECT_EQ(Problem("a\xff"), "agent name \"a\\xff\": contains a non-ASCII character" + accepted);
  // A long name is cut in the message, which stays one short line.
  EXPECT_EQ(Problem(std::string(1000, 'a')), "agent name \"" + std::string(77, 'a') +
                                                 "...\": too long (1000 characters)" + accepted);
}

TEST(AgentName, MapsToUnitsAndBack) {
  EXPECT_EQ(AgentUnit("agent-001"), "nova-agent-agent-001.service");
  EXPECT_EQ(SoftTimerUnit("a1"), "nova-soft-a1.timer");
  EXPECT_EQ(SoftServiceUnit("a1"), "nova-soft-a1.service");
  EXPECT_EQ(AgentNameFromUnit("nova-agent-agent-001.service"), "agent-001");
  EXPECT_EQ(AgentNameFromUnit("nova-agent-.service"), std::nullopt);
  EXPECT_EQ(AgentNameFromUnit("nova-soft-a1.service"), std::nullopt);
  EXPECT_EQ(AgentNameFromUnit("nova-agent-a1.timer"), std::nullopt);
  EXPECT_EQ(AgentNameFromUnit("novad.service"), std::nullopt);
}

TEST(AgentOfCgroup, TellsAgentsProcessesFromEveryoneElse) {
  EXPECT_EQ(AgentOfCgroup("/nova.slice/nova-agents.slice/nova-agent-a1.service"), "a1");
  EXPECT_EQ(AgentOfCgroup("/nova.slice/nova-agents.slice/nova-agent-a1.service/sub"), "a1");
  EXPECT_EQ(AgentOfCgroup("/nova.slice/nova-agents.slice/other.service"), "");
  EXPECT_EQ(AgentOfCgroup("/nova.slice/nova-agents.slice"), "");
  EXPECT_EQ(AgentOfCgroup("/user.slice/user-1000.slice/session-3.scope"), std::nullopt);
  EXPECT_EQ(AgentOfCgroup("/system.slice/novad.service"), std::nullopt);
  EXPECT_EQ(AgentOfCgroup("/nova-agents.slice.fake/nova-agent-a1.service"), std::nullopt);
  EXPECT_EQ(AgentOfCgroup(""), std::nullopt);
}

TEST(CgroupFromProcCgroup, TakesTheUnifiedHierarchysLine) {
  EXPECT_EQ(CgroupFromProcCgroup("0::/nova.slice/nova-agents.slice/nova-agent-a1.service\n"),
            "/nova.slice/nova-agents.slice/nova-agent-a1.service");
  EXPECT_EQ(CgroupFromProcCgroup("12:pids:/x\n0::/y\n"), "/y");
  EXPECT_EQ(CgroupFromProcCgroup(""), "");
}

TEST(OutcomeUnit, IsATemplateInstanceNamedAfterTheAgent) {
  EXPECT_EQ(OutcomeUnitOnSuccess("agent-001"), "nova-outcome-success@agent-001.service");
  EXPECT_EQ(OutcomeUnitOnFailure("agent-001"), "nova-outcome-failure@agent-001.service");
}

}  // namespace
TEST(AgentInCgroupNamespace, NamesTheAgentOnlyForAValidName) {
  EXPECT_EQ(AgentInCgroupNamespace("agent-7"), std::optional<std::string>("agent-7"));
  EXPECT_EQ(AgentInCgroupNamespace(nullptr), std::nullopt);
  EXPECT_EQ(AgentInCgroupNamespace(""), std::nullopt);
  EXPECT_EQ(AgentInCgroupNamespace("x\e[2J"), std::nullopt);
}

}  // namespace nova
