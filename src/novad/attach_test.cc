// The attach decision for `novactl exec`, exactly: every refusal an attacker
// could aim at (another's process, root's, a stranger's child, a process in
// another agent) and the one-line error it gets.
#include "attach.h"

#include <gtest/gtest.h>

#include "errors.h"

namespace nova {
namespace {

constexpr const char* kStatus =
    "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4321\nPid:\t4321\nPPid:\t1234\n"
    "TracerPid:\t0\nUid:\t1001\t1001\t1001\t1001\nGid:\t1001\t1001\t1001\t1001\n";

AgentUnitInfo Running(const std::string& user) {
  AgentUnitInfo a;
  a.name = "a1";
  a.unit = "nova-agent-a1.service";
  a.active_state = "active";
  a.sub_state = "running";
  a.user = user;
  return a;
}

ProcessFacts Child(uint32_t ppid, uint32_t uid) {
  return ProcessFacts{ppid, {uid, uid, uid, uid}, "/user.slice/user-0.slice/session-1.scope"};
}

std::string Refusal(uint32_t uid, uint32_t pid, const std::optional<AgentUnitInfo>& agent,
                    uint32_t target_pid, const std::optional<ProcessFacts>& target,
                    ErrorKind expected) {
  try {
    CheckAttach(uid, pid, "a1", agent, target_pid, target);
    return "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), expected) << e.what();
    return e.what();
  }
}

TEST(ParseProcStatus, ReadsPPidAndTheFourUids) {
  auto facts = ParseProcStatus(kStatus);
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->ppid, 1234u);
  EXPECT_EQ(facts->uids, (std::vector<uint32_t>{1001, 1001, 1001, 1001}));
}

TEST(ParseProcStatus, RefusesWhatIsNotAProcessStatus) {
  EXPECT_FALSE(ParseProcStatus(""));
  EXPECT_FALSE(ParseProcStatus("PPid:\t12\n"));                 // no Uid
  EXPECT_FALSE(ParseProcStatus("Uid:\t1 1 1 1\n"));             // no PPid
  EXPECT_FALSE(ParseProcStatus("PPid:\tx\nUid:\t1 1 1 1\n"));   // not a number
  EXPECT_FALSE(ParseProcStatus("PPid:\t1\nUid:\t1 1 1\n"));     // three uids
  EXPECT_FALSE(ParseProcStatus("PPid:\t1\nUid:\t1 1 1 1x\n"));  // trailing junk
}

TEST(CheckAttach, TheOwnersChildWithTheOwnersIdsIsAttached) {
  EXPECT_EQ(Refusal(0, 1234, Running("root"), 4321, Child(1234, 0), ErrorKind::kFailed),
            "no error");
}

TEST(CheckAttach, RootMayRunInAnyonesAgent) {
  EXPECT_EQ(Refusal(0, 1234, Running("nobody"), 4321, Child(1234, 0), ErrorKind::kFailed),
            "no error");
}

TEST(CheckAttach, AnAgentThatIsNotRunningIsNotFound) {
  EXPECT_EQ(Refusal(0, 1234, std::nullopt, 4321, Child(1234, 0), ErrorKind::kNotFound),
            "no running agent named \"a1\"; see novactl status");
  auto stopping = Running("root");
  stopping.active_state = "deactivating";
  EXPECT_EQ(Refusal(0, 1234, stopping, 4321, Child(1234, 0), ErrorKind::kNotFound),
            "agent \"a1\" is deactivating, not running; nothing can be run in it");
  auto failed = Running("root");
  failed.active_state = "failed";
  EXPECT_EQ(Refusal(0, 1234, failed, 4321, Child(1234, 0), ErrorKind::kNotFound),
            "no running agent named \"a1\"; see novactl status");
}

TEST(CheckAttach, AMemberMayNotRunInAnothersAgent) {
  EXPECT_EQ(
      Refusal(65534, 1234, Running("root"), 4321, Child(1234, 65534), ErrorKind::kPermissionDenied),
      "agent \"a1\" runs as root; only its user or root may run commands in it");
}

TEST(CheckAttach, AProcessThatIsNotTheCallersChildIsRefused) {
  // Someone else's process, or the caller's grandchild, or a pid reused by
  // a stranger once the caller's child died.
  EXPECT_EQ(Refusal(0, 1234, Running("root"), 4321, Child(999, 0), ErrorKind::kPermissionDenied),
            "process 4321 is not a child of the calling process (1234); only a caller's own "
            "child may be attached");
}

TEST(CheckAttach, AProcessWithAnyOtherIdIsRefused) {
  // A member's child that exec'd a set-uid program runs with euid 0.
  ProcessFacts setuid{1234, {65534, 0, 0, 0}, "/user.slice"};
  EXPECT_EQ(
      Refusal(65534, 1234, Running("nobody"), 4321, setuid, ErrorKind::kPermissionDenied),
      "process 4321 runs with uid 0, not the caller's (65534); only a process with exactly the "
      "caller's ids may be attached");
  // Root may not slip a member's process into an agent either.
  EXPECT_EQ(
      Refusal(0, 1234, Running("root"), 4321, Child(1234, 65534), ErrorKind::kPermissionDenied)
          .substr(0, 38),
      "process 4321 runs with uid 65534, not ");
}

TEST(CheckAttach, AProcessAlreadyInAnAgentIsRefused) {
  ProcessFacts in_agent = Child(1234, 0);
  in_agent.cgroup = "/nova.slice/nova-agents.slice/nova-agent-b2.service";
  EXPECT_EQ(Refusal(0, 1234, Running("root"), 4321, in_agent, ErrorKind::kPermissionDenied),
            "process 4321 is already in the agents' slice "
            "(/nova.slice/nova-agents.slice/nova-agent-b2.service)");
}

TEST(CheckAttach, AProcessThatIsGoneIsNotFound) {
  EXPECT_EQ(Refusal(0, 1234, Running("root"), 4321, std::nullopt, ErrorKind::kNotFound),
            "process 4321 does not exist");
}

TEST(CheckAttach, PidsThatCannotBeAChildAreInvalid) {
  EXPECT_EQ(Refusal(0, 1234, Running("root"), 1, Child(1234, 0), ErrorKind::kInvalidArgument),
            "pid 1 cannot be attached; give a child of yours");
  EXPECT_EQ(Refusal(0, 1234, Running("root"), 0, Child(1234, 0), ErrorKind::kInvalidArgument),
            "pid 0 cannot be attached; give a child of yours");
}

TEST(CheckAttach, TheNameIsValidatedFirst) {
  EXPECT_THROW(CheckAttach(0, 1234, "../x", Running("root"), 4321, Child(1234, 0)), Error);
}

}  // namespace
}  // namespace nova
