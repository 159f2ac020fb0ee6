#include "environment.h"

#include <gtest/gtest.h>

#include "errors.h"

namespace nova {
namespace {

std::string Problem(const std::vector<std::string>& env) {
  try {
    ValidateEnvironment(env);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(Environment, AcceptsAssignments) {
  EXPECT_EQ(Problem({"A=1", "B_2=", "PATH=/usr/bin:/bin", "X=a=b"}), "");
}

TEST(Environment, RefusesCoderProcVariables) {
  EXPECT_EQ(Problem({"OK=1", "CODER_PROC_PRIO_MGMT=1"}),
            "--env \"CODER_PROC_PRIO_MGMT=1\": CODER_PROC_* variables configure "
            "novad's priority policy and are never passed to agents; set them in "
            "novad's environment file");
  EXPECT_NE(Problem({"CODER_PROC_ANYTHING="}), "");
  EXPECT_EQ(Problem({"CODER_PROCESS=1"}), "");  // only the CODER_PROC_ prefix
}

TEST(Environment, RefusesMalformedEntries) {
  EXPECT_EQ(Problem({"NOEQUALS"}), "--env \"NOEQUALS\": no '='; use NAME=VALUE");
  EXPECT_NE(Problem({"=x"}), "");
  EXPECT_NE(Problem({"1A=x"}), "");
  EXPECT_NE(Problem({"A-B=x"}), "");
  EXPECT_NE(Problem({"A=line\nbreak"}), "");
}

TEST(Environment, ShowsTheRefusedValueEscaped) {
  EXPECT_EQ(Problem({"A=line\nbreak"}),
            "--env \"A=line\\nbreak\": the value contains a newline or NUL");
  EXPECT_EQ(Problem({"\x1b[2J"}), "--env \"\\e[2J\": no '='; use NAME=VALUE");
}

TEST(Environment, KnowsThePolicyVariables) {
  for (const auto& v : kCoderProcVariables) EXPECT_TRUE(IsCoderProcVariable(v));
  EXPECT_FALSE(IsCoderProcVariable("HOME"));
}

}  // namespace
}  // namespace nova
