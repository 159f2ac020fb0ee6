// How `novactl run` turns an agent's recorded outcome into its exit code,
// and exec's wait status into its own: exactly the documented table.
#include "agent_run.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "agent_exec.h"

namespace nova {
namespace {

Outcome Ended(std::string result, std::string code, std::string status, uint64_t ooms = 0) {
  Outcome o;
  o.service_result = std::move(result);
  o.exit_code = std::move(code);
  o.exit_status = std::move(status);
  o.oom_kills = ooms;
  return o;
}

TEST(RunExitCode, TheAgentsOwnExitStatusPassesThrough) {
  EXPECT_EQ(RunExitCode(Ended("success", "exited", "0")), 0);
  EXPECT_EQ(RunExitCode(Ended("exit-code", "exited", "3")), 3);
  EXPECT_EQ(RunExitCode(Ended("exit-code", "exited", "255")), 255);
  // A child OOM-killed while the main process went on to exit: its status.
  EXPECT_EQ(RunExitCode(Ended("exit-code", "exited", "2", 1)), 2);
}

TEST(RunExitCode, ASignalIs128PlusItsNumber) {
  EXPECT_EQ(RunExitCode(Ended("signal", "killed", "TERM")), 143);
  EXPECT_EQ(RunExitCode(Ended("signal", "killed", "INT")), 130);
  EXPECT_EQ(RunExitCode(Ended("core-dump", "dumped", "SEGV")), 139);
  EXPECT_EQ(RunExitCode(Ended("signal", "killed", "9")), 137);
}

TEST(RunExitCode, NovasEndingsHaveTheirOwnCodes) {
  EXPECT_EQ(RunExitCode(Ended("oom-kill", "killed", "KILL")), kRunExitOom);
  EXPECT_EQ(RunExitCode(Ended("signal", "killed", "KILL", 1)), kRunExitOom);
  EXPECT_EQ(RunExitCode(Ended("timeout", "killed", "TERM")), kRunExitTimeout);
  Outcome relief = Ended("signal", "killed", "KILL");
  relief.killed = KillMarker{"novad", "relief (watcher): host memory 96.1% used"};
  EXPECT_EQ(RunExitCode(relief), kRunExitRelief);
  Outcome killed = Ended("signal", "killed", "TERM");
  killed.killed = KillMarker{"alice", "kill"};
  EXPECT_EQ(RunExitCode(killed), kRunExitKilled);
  EXPECT_EQ(kRunExitRelief, 121);
  EXPECT_EQ(kRunExitOom, 122);
  EXPECT_EQ(kRunExitKilled, 123);
  EXPECT_EQ(kRunExitTimeout, 124);
}

TEST(RunExitCode, WhatCannotBeToldIsAFailure) {
  EXPECT_EQ(RunExitCode(Ended("exit-code", "exited", "lots")), 1);
  EXPECT_EQ(RunExitCode(Ended("signal", "killed", "NOSUCH")), 1);
  EXPECT_EQ(RunExitCode(Ended("resources", "", "")), 1);
}

TEST(SignalNumber, ReadsSystemdsNamesAndNumbers) {
  EXPECT_EQ(SignalNumber("TERM"), SIGTERM);
  EXPECT_EQ(SignalNumber("SIGKILL"), SIGKILL);
  EXPECT_EQ(SignalNumber("USR1"), SIGUSR1);
  EXPECT_EQ(SignalNumber("15"), 15);
  EXPECT_EQ(SignalNumber("BOGUS"), 0);
  EXPECT_EQ(SignalNumber(""), 0);
}

TEST(ExitStatusOf, ExitCodesAndSignalsAsAShellShowsThem) {
  EXPECT_EQ(ExitStatusOf(3 << 8), 3);  // exited 3
  EXPECT_EQ(ExitStatusOf(SIGKILL), 137);
  EXPECT_EQ(ExitStatusOf(SIGTERM), 143);
}

}  // namespace
}  // namespace nova
