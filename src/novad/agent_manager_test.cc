// AgentManager's own decisions against an in-memory Systemd: which calls it
// makes, in which order, and that refusals touch nothing. What systemd then
// does with those calls is proved by the system tests in a real systemd.
#include "agent_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "agent_name.h"
#include "errors.h"
#include "users.h"

namespace nova {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;

// The recorded outcome of alice's agent a1, which exited 0.
Outcome AlicesFinishedA1() {
  Outcome o;
  o.agent = "a1";
  o.user = "alice";
  o.exit_code = "exited";
  o.exit_status = "0";
  return o;
}

class FakeSystemd : public Systemd {
 public:
  std::map<std::string, AgentUnitInfo> agents;  // by agent name
  std::vector<std::string> calls;
  std::string start_result = "done";
  bool agent_ends_at_once = false;  // the command exits before novad looks

  // Where "systemd" makes each agent's cgroup with its memory.max, as a
  // real one does before the unit says activating; none when empty.
  std::filesystem::path cgroups;
  int list_agents_calls = 0;  // the listing that costs a round trip per agent
  int lookups = 0;            // the calls that cost one round trip each (not the start)
  std::map<std::string, UnitState> others;  // units other than agents, by unit name
  std::function<void()> on_unit_states;     // runs at each UnitStates

  unsigned Version() override { return 252; }
  std::optional<int32_t> last_properties_nice, last_properties_oom;
  std::string StartTransientUnit(const std::string& unit, const UnitProperties& props,
                                 const AuxUnits& aux, Usec) override {
    std::string user = "root";
    uint64_t memory_max = kInfinity;
    for (const auto& p : props) {
      if (p.name == "Nice") last_properties_nice = std::get<int32_t>(p.value);
      if (p.name == "OOMScoreAdjust") last_properties_oom = std::get<int32_t>(p.value);
      if (p.name == "User") user = std::get<std::string>(p.value);
      if (p.name == "MemoryMax") memory_max = std::get<uint64_t>(p.value);
    }
    std::string call = "start " + unit;
    for (const auto& [name, props] : aux) call += " +" + name;
    calls.push_back(call);
    if (auto name = AgentNameFromUnit(unit); name && start_result == "done") {
      AgentUnitInfo info;
      info.name = *name;
      info.unit = unit;
      info.active_state = "active";
      info.sub_state = "running";
      info.main_pid = 4242;
      info.user = user;
      info.memory_max = memory_max;
      if (!agent_ends_at_once) {
        agents[*name] = info;
        MakeCgroup(unit, memory_max, user);
      }
    }
    return start_result;
  }
  std::set<std::string> failing_stops;  // units whose StopUnit fails
  std::string StopUnit(const std::string& unit, std::optional<Usec>) override {
    if (failing_stops.count(unit)) throw Error(ErrorKind::kFailed, "stopping " + unit + ": no");
    calls.push_back("stop " + unit);
    if (auto name = AgentNameFromUnit(unit)) agents.erase(*name);
    if (!cgroups.empty()) std::filesystem::remove_all(cgroups / unit);
    return "done";
  }
  // The cgroup as the agent's first process has it: its memory.max, and
  // handed to its User= (Delegate=yes), which only root can do.
  void MakeCgroup(const std::string& unit, uint64_t memory_max, const std::string& user) {
    if (cgroups.empty()) return;
    std::filesystem::create_directories(cgroups / unit);
    std::ofstream(cgroups / unit / "memory.max")
        << (memory_max == kInfinity ? std::string("max") : std::to_string(memory_max)) << "\n";
    if (::geteuid() != 0) return;  // the tests of whose an agent is skip themselves
    const struct passwd* pw = ::getpwnam(user.c_str());
    ASSERT_NE(pw, nullptr) << user;
    ASSERT_EQ(::chown((cgroups / unit).c_str(), pw->pw_uid, pw->pw_gid), 0) << std::strerror(errno);
  }
  void KillUnit(const std::string& unit, const std::string& whom, int signal) override {
    calls.push_back("kill " + unit + " " + whom + " " + std::to_string(signal));
  }
  void ResetFailedUnit(const std::string& unit) override { calls.push_back("reset " + unit); }
  std::function<void(uint32_t)> on_attach;  // what "systemd" does to the process
  void AttachProcesses(const std::string& unit, const std::vector<uint32_t>& pids) override {
    for (uint32_t pid : pids) {
      calls.push_back("attach " + unit + " " + std::to_string(pid));
      if (on_attach) on_attach(pid);
    }
  }
  std::optional<UnitState> GetUnitState(const std::string& unit) override {
    ++lookups;
    return StateOf(unit);
  }
  std::optional<UnitState> StateOf(const std::string& unit) {
    if (auto it = others.find(unit); it != others.end()) return it->second;
    auto agent = GetAgent(AgentNameFromUnit(unit).value_or(""));
    if (!agent) return std::nullopt;
    return UnitState{agent->active_state, agent->sub_state};
  }
  std::map<std::string, UnitState> UnitStates(const std::vector<std::string>& units) override {
    ++lookups;
    if (on_unit_states) on_unit_states();
    std::map<std::string, UnitState> states;
    for (const auto& unit : units) {
      if (auto state = StateOf(unit)) states[unit] = *state;
    }
    return states;
  }
  uint32_t MainPid(const std::string& unit) override {
    ++lookups;
    auto agent = GetAgent(AgentNameFromUnit(unit).value_or(""));
    return agent ? agent->main_pid : 0;
  }
  std::optional<AgentUnitInfo> GetAgent(const std::string& name) override {
    auto it = agents.find(name);
    if (it == agents.end()) return std::nullopt;
    return it->second;
  }
  // One listing, and one batch when a field is asked; the fields not asked
  // for keep their defaults, as systemd is not asked them.
  std::vector<AgentUnitInfo> ListAgentsWith(
      AgentFields fields, const std::vector<std::string>& units,
      std::map<std::string, UnitState>* unit_states) override {
    lookups += fields.memory_max ? 2 : 1;
    unit_states->clear();
    for (const auto& unit : units) {
      if (auto state = StateOf(unit)) (*unit_states)[unit] = *state;
    }
    std::vector<AgentUnitInfo> out;
    for (const auto& [name, a] : agents) {
      AgentUnitInfo& info = out.emplace_back();
      info.name = a.name;
      info.unit = a.unit;
      info.active_state = a.active_state;
      info.sub_state = a.sub_state;
      if (fields.memory_max && a.live()) info.memory_max = a.memory_max;
    }
    return out;
  }
  // A listing, and a batch of User= Gets.
  std::map<std::string, AgentOwner> AgentOwners(const std::vector<std::string>& names) override {
    lookups += 2;
    asked_owners.insert(asked_owners.end(), names.begin(), names.end());
    std::map<std::string, AgentOwner> owners;
    for (const auto& name : names) {
      if (auto it = agents.find(name); it != agents.end()) {
        owners[name] =
            AgentOwner{UnitState{it->second.active_state, it->second.sub_state}, it->second.user};
      }
    }
    return owners;
  }
  std::vector<std::string> asked_owners;  // the names AgentOwners was asked about
  std::optional<std::pair<UnitState, uint32_t>> ServiceState(const std::string& unit) override {
    ++lookups;
    auto agent = GetAgent(AgentNameFromUnit(unit).value_or(""));
    if (!agent) return std::nullopt;
    return std::make_pair(UnitState{agent->active_state, agent->sub_state}, agent->main_pid);
  }
  std::map<std::string, UnitState> AgentStates() override {
    ++lookups;
    std::map<std::string, UnitState> states;
    for (auto& [name, a] : agents) states[name] = UnitState{a.active_state, a.sub_state};
    return states;
  }
  std::vector<AgentUnitInfo> ListAgents() override {
    ++list_agents_calls;
    std::vector<AgentUnitInfo> out;
    for (auto& [n, a] : agents) out.push_back(a);
    return out;
  }
};

class AgentManagerTest : public testing::Test {
 protected:
  AgentManagerTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("nova-manager-test-" + std::to_string(::getpid()))),
        store_(dir_ / "state", dir_ / "run"),
        manager_(
            systemd_, config_, store_, [this] { return memory_; }, "/hook", {}, nullptr, nullptr,
            nullptr, (dir_ / "cgroups").string()) {
    systemd_.cgroups = dir_ / "cgroups";
  }
  ~AgentManagerTest() override { std::filesystem::remove_all(dir_); }

  SpawnRequest Request(const std::string& name) {
    SpawnRequest r;
    r.name = name;
    r.argv = {"/bin/true"};
    r.workdir = "/tmp";
    return r;
  }

  std::string SpawnError(const SpawnRequest& r, Caller caller, ErrorKind expected) {
    try {
      manager_.Spawn(r, caller);
      return "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), expected) << e.what();
      return e.what();
    }
  }

  std::filesystem::path dir_;
  FakeSystemd systemd_;
  Config config_;
  OutcomeStore store_;
  HostMemory memory_{64 * kGiB, 48 * kGiB};  // 25% used
  AgentManager manager_;
};

TEST_F(AgentManagerTest, SpawnStartsTheAgentWithItsSoftTimerInOneCall) {
  SpawnResult r = manager_.Spawn(Request("a1"), Caller{0});
  EXPECT_EQ(r.unit, "nova-agent-a1.service");
  EXPECT_EQ(r.active_state, "active");
  EXPECT_EQ(r.main_pid, 4242u);
  EXPECT_THAT(systemd_.calls, testing::ElementsAre("start nova-agent-a1.service "
                                                   "+nova-soft-a1.timer +nova-soft-a1.service"));
}

TEST_F(AgentManagerTest, NoSoftDeadlineNoTimer) {
  SpawnRequest r = Request("a1");
  r.soft_timeout = Usec(0);
  manager_.Spawn(r, Caller{0});
  EXPECT_THAT(systemd_.calls, testing::ElementsAre("start nova-agent-a1.service"));
}

TEST_F(AgentManagerTest, ASecondSpawnOfALiveNameIsRefusedAndTouchesNothing) {
  manager_.Spawn(Request("a1"), Caller{0});
  systemd_.calls.clear();
  EXPECT_EQ(SpawnError(Request("a1"), Caller{0}, ErrorKind::kAlreadyRunning),
            "agent \"a1\" is already running (nova-agent-a1.service, active); kill it "
            "first or choose another name");
  EXPECT_TRUE(systemd_.calls.empty());
  EXPECT_EQ(systemd_.agents.at("a1").main_pid, 4242u);
}

TEST_F(AgentManagerTest, AdmissionRefusalStartsNothing) {
  memory_ = HostMemory{64 * kGiB, 8 * kGiB};  // 87.5% used
  EXPECT_EQ(SpawnError(Request("a1"), Caller{0}, ErrorKind::kAdmissionRefused),
            "agent \"a1\" refused: host memory is 87.5% used, at or above the admission "
            "threshold of 85%; wait for agents to finish or free memory");
  EXPECT_TRUE(systemd_.calls.empty());
}

TEST_F(AgentManagerTest, TheAgentMaximumIsEnforced) {
  config_.max_agents = 1;
  manager_.Spawn(Request("a1"), Caller{0});
  systemd_.calls.clear();
  EXPECT_THAT(SpawnError(Request("a2"), Caller{0}, ErrorKind::kAdmissionRefused),
              testing::HasSubstr("1 agents are running, the maximum is 1"));
  EXPECT_TRUE(systemd_.calls.empty());
}

TEST_F(AgentManagerTest, ACountedMaximumNeedsOnlyTheStates) {
  config_.max_agents = 5;
  config_.max_agents_per_user = 1;  // root is not held to it
  manager_.Spawn(Request("a1"), Caller{0});
  manager_.Spawn(Request("a2"), Caller{0});
  EXPECT_EQ(systemd_.list_agents_calls, 0);
}

TEST_F(AgentManagerTest, ASpawnLooksUpTwiceBesidesItsStart) {
  // One listing of the agents and the name's recorders, one read of the
  // started unit: what a spawn costs over systemd-run's one call.
  config_.max_agents = 5;
  SpawnResult r = manager_.Spawn(Request("a1"), Caller{0});
  EXPECT_EQ(systemd_.lookups, 2);
  EXPECT_EQ(r.main_pid, 4242u);
  EXPECT_EQ(r.sub_state, "running");
}

TEST_F(AgentManagerTest, AutoAdmissionReadsWhatTheAgentsWereGivenInTheirCgroups) {
  // MaxAgents=auto counts the memory the agents were given: their cgroups'
  // memory.max, whatever their number, at no round trip; the recorders'
  // states come with the listing as under a counted maximum.
  for (int i = 0; i < 50; ++i) {
    SpawnRequest small = Request("a" + std::to_string(i));
    small.memory_max = 256ULL << 20;
    manager_.Spawn(small, Caller{0});
  }
  systemd_.lookups = 0;
  SpawnResult r = manager_.Spawn(Request("b1"), Caller{0});
  EXPECT_EQ(systemd_.lookups, 2);
  EXPECT_EQ(systemd_.list_agents_calls, 0);
  EXPECT_EQ(r.sub_state, "running");
  // What the cgroups say is what counts: a0 raised to 50G (systemctl
  // set-property) leaves no room for another agent of 4G, where the 16.5G
  // the 51 were given at their start would.
  std::ofstream(dir_ / "cgroups" / "nova-agent-a0.service" / "memory.max") << 50 * kGiB << "\n";
  EXPECT_THAT(SpawnError(Request("c1"), Caller{0}, ErrorKind::kAdmissionRefused),
              testing::HasSubstr("agents hold 66.3G of the 54.4G set aside for them"));
}

TEST_F(AgentManagerTest, AutoAdmissionAsksSystemdForAnAgentWithoutACgroup) {
  // An agent systemd lists as live whose cgroup cannot be read (made a
  // moment later, or gone meanwhile): systemd says what it was given.
  AgentUnitInfo other;
  other.name = "other";
  other.unit = AgentUnit("other");
  other.active_state = "activating";
  other.sub_state = "start";
  other.user = "root";
  other.memory_max = 51 * kGiB;
  systemd_.agents["other"] = other;
  systemd_.lookups = 0;
  EXPECT_THAT(SpawnError(Request("a1"), Caller{0}, ErrorKind::kAdmissionRefused),
              testing::HasSubstr("agents hold 51G of the 54.4G set aside for them"));
  EXPECT_EQ(systemd_.lookups, 3);  // the listing, then the listing with the batch
  EXPECT_EQ(systemd_.list_agents_calls, 0);
}

TEST_F(AgentManagerTest, ASpawnWaitsForTheRecorderItsListingSawBusy) {
  config_.max_agents = 5;
  systemd_.others[OutcomeUnitOnFailure("a1")] = UnitState{"activating", "start"};
  int looks = 0;
  systemd_.on_unit_states = [&] {  // the recorder is done by the second look
    ++looks;
    systemd_.others.clear();
  };
  manager_.Spawn(Request("a1"), Caller{0});
  EXPECT_EQ(looks, 1);
  EXPECT_THAT(systemd_.calls, testing::Contains(testing::StartsWith("start nova-agent-a1")));
}

TEST_F(AgentManagerTest, ASpawnWaitsForARecorderStillQueued) {
  // The previous a1 just ended: its recorder's start job is queued and the
  // recorder still says inactive. Starting now would let that recorder take
  // the new agent's owner record for the old agent's outcome.
  config_.max_agents = 5;
  systemd_.others[OutcomeUnitOnSuccess("a1")] = UnitState{"inactive", "dead", 17};
  int looks = 0;
  systemd_.on_unit_states = [&] {
    ++looks;
    if (looks == 2) systemd_.others.clear();  // the recorder ran and went
  };
  manager_.Spawn(Request("a1"), Caller{0});
  EXPECT_EQ(looks, 2);
  EXPECT_THAT(systemd_.calls, testing::Contains(testing::StartsWith("start nova-agent-a1")));
}

TEST_F(AgentManagerTest, AutoAdmitsByTheMemoryAgentsWereGiven) {
  // MaxAgents=auto; 64G host: 54.4G set aside for agents.
  SpawnRequest big = Request("big1");
  big.memory_max = 20 * kGiB;  // root may pass the ceiling
  manager_.Spawn(big, Caller{0});
  big.name = "big2";
  manager_.Spawn(big, Caller{0});
  systemd_.calls.clear();
  big.name = "big3";
  EXPECT_EQ(SpawnError(big, Caller{0}, ErrorKind::kAdmissionRefused),
            "agent \"big3\" refused: agents hold 40G of the 54.4G set aside for them "
            "(MaxAgents=auto: MemTotal - SystemSharePercent - HeadroomPercent); this agent asks "
            "for 20G; wait for one to finish, kill one or ask for less with --memory");
  EXPECT_TRUE(systemd_.calls.empty());
  // What is left still takes a smaller agent, and many small ones.
  SpawnRequest small = Request("small");
  small.memory_max = 14 * kGiB;
  manager_.Spawn(small, Caller{0});
  for (int i = 0; i < 3; ++i) {
    SpawnRequest tiny = Request("tiny" + std::to_string(i));
    tiny.memory_max = 128ULL << 20;
    manager_.Spawn(tiny, Caller{0});
  }
  // Each spawn asked the agents' MemoryMax= only, never every property.
  EXPECT_EQ(systemd_.list_agents_calls, 0);
  // A finished agent gives its share back.
  systemd_.agents.at("big1").active_state = "failed";
  big.name = "big4";
  manager_.Spawn(big, Caller{0});
}

TEST_F(AgentManagerTest, OneUserMayRunAtMostMaxAgentsPerUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root (cgroups are handed to User=)";
  config_.max_agents_per_user = 2;
  const Caller nobody{65534};
  manager_.Spawn(Request("n1"), nobody);
  manager_.Spawn(Request("n2"), nobody);
  EXPECT_EQ(systemd_.agents.at("n1").user, "nobody");
  // Someone else's agents and finished ones do not count.
  AgentUnitInfo theirs = systemd_.agents.at("n1");
  theirs.name = "alice1";
  theirs.unit = AgentUnit("alice1");
  theirs.user = "alice";
  systemd_.agents["alice1"] = theirs;
  AgentUnitInfo finished = systemd_.agents.at("n1");
  finished.name = "old";
  finished.unit = AgentUnit("old");
  finished.active_state = "failed";
  systemd_.agents["old"] = finished;
  systemd_.calls.clear();
  EXPECT_EQ(SpawnError(Request("n3"), nobody, ErrorKind::kAdmissionRefused),
            "agent \"n3\" refused: nobody runs 2 agents, the most one user may run "
            "(MaxAgentsPerUser=2 in /etc/nova/nova.conf); wait for one to finish or kill one");
  EXPECT_TRUE(systemd_.calls.empty());
  // Root is not held to it, even with an explicit MaxAgents: the listing of
  // states and the started unit's, no agent's User= asked.
  config_.max_agents = 10;
  systemd_.lookups = 0;
  manager_.Spawn(Request("r1"), Caller{0});
  EXPECT_EQ(systemd_.lookups, 2);
  // One of theirs ends: room again. A member's spawn reads whose the agents
  // are from their cgroups and asks systemd only about those the cgroups do
  // not tell: alice1, listed with none, and r1, whose cgroup is root's (User=
  // root). The listing, their owners (a listing and a batch of Gets), the
  // started unit's state; never every property.
  systemd_.agents.erase("n1");
  systemd_.lookups = 0;
  systemd_.asked_owners.clear();
  manager_.Spawn(Request("n3"), nobody);
  EXPECT_EQ(systemd_.lookups, 4);
  EXPECT_THAT(systemd_.asked_owners, testing::ElementsAre("alice1", "r1"));
  EXPECT_EQ(systemd_.list_agents_calls, 0);
}

TEST_F(AgentManagerTest, PerUserAdmissionReadsWhoseTheAgentsAreFromTheirCgroups) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root (cgroups are handed to User=)";
  // Beside 40 agents of another user, a member's spawn under
  // MaxAgentsPerUser costs what a counted maximum does: the owners of the
  // agents' cgroups say whose they are, at no round trip per agent.
  config_.max_agents = 100;
  config_.max_agents_per_user = 2;
  const Caller nobody{65534};
  for (int i = 0; i < 40; ++i) {
    SpawnRequest theirs = Request("d" + std::to_string(i));
    theirs.user = "daemon";
    manager_.Spawn(theirs, Caller{0});
  }
  manager_.Spawn(Request("n1"), nobody);
  systemd_.lookups = 0;
  manager_.Spawn(Request("n2"), nobody);
  EXPECT_EQ(systemd_.lookups, 2);  // the listing, the started unit's state
  EXPECT_TRUE(systemd_.asked_owners.empty());
  EXPECT_THAT(SpawnError(Request("n3"), nobody, ErrorKind::kAdmissionRefused),
              testing::HasSubstr("nobody runs 2 agents, the most one user may run"));

  // A cgroup not handed over yet (systemd chowns it as the agent's first
  // process starts) is still root's: systemd says whose that agent is.
  auto n1_cgroup = dir_ / "cgroups" / AgentUnit("n1");
  ASSERT_EQ(::chown(n1_cgroup.c_str(), 0, 0), 0);
  systemd_.lookups = 0;
  EXPECT_THAT(SpawnError(Request("n3"), nobody, ErrorKind::kAdmissionRefused),
              testing::HasSubstr("nobody runs 2 agents"));
  EXPECT_THAT(systemd_.asked_owners, testing::ElementsAre("n1"));
  EXPECT_EQ(systemd_.lookups, 3);  // the listing, n1's owner (a listing and a Get)

  // Only the owner counts, not the name nor what systemd would say of an
  // agent whose cgroup was handed over: an agent of nobody's cannot pass
  // for another user's (chown is root's), and daemon's never count.
  ASSERT_EQ(::chown(n1_cgroup.c_str(), 65534, 65534), 0);
  systemd_.agents.at("n2").user = "daemon";
  systemd_.asked_owners.clear();
  EXPECT_THAT(SpawnError(Request("n3"), nobody, ErrorKind::kAdmissionRefused),
              testing::HasSubstr("nobody runs 2 agents"));
  EXPECT_TRUE(systemd_.asked_owners.empty());
  // One of nobody's ends: room again.
  manager_.Kill("n1", false, nobody);
  manager_.Spawn(Request("n3"), nobody);
}

TEST_F(AgentManagerTest, OnlyRootMayPassTheCeilings) {
  SpawnRequest r = Request("big");
  r.memory_max = 8 * kGiB;
  EXPECT_EQ(SpawnError(r, Caller{65534}, ErrorKind::kPermissionDenied),
            "--memory 8G: above the operator's ceiling of 4G (MemoryMaxCeiling in "
            "/etc/nova/nova.conf); only root may ask for more");
  r.memory_max.reset();
  r.tasks_max = 1024;
  EXPECT_THAT(SpawnError(r, Caller{65534}, ErrorKind::kPermissionDenied),
              testing::HasSubstr("TasksMaxCeiling"));
  r.tasks_max.reset();
  r.runtime_max = std::chrono::hours(2);
  EXPECT_THAT(SpawnError(r, Caller{65534}, ErrorKind::kPermissionDenied),
              testing::HasSubstr("RuntimeMaxCeiling"));
  EXPECT_TRUE(systemd_.calls.empty());
  r.memory_max = 8 * kGiB;
  r.tasks_max = 1024;
  manager_.Spawn(r, Caller{0});
  EXPECT_EQ(systemd_.agents.at("big").memory_max, 8 * kGiB);
}

TEST_F(AgentManagerTest, InvalidInputStartsNothing) {
  SpawnRequest r = Request("a1");
  r.memory_max = 1;
  SpawnError(r, Caller{0}, ErrorKind::kInvalidArgument);
  SpawnError(Request("no/slash"), Caller{0}, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(systemd_.calls.empty());
}

TEST_F(AgentManagerTest, OnlyRootMayNameAnotherUser) {
  SpawnRequest r = Request("a1");
  r.user = "root";
  EXPECT_THAT(SpawnError(r, Caller{65534}, ErrorKind::kPermissionDenied),
              testing::HasSubstr("only root may run an agent as another user"));
  r.user = "no-such-user-nova";
  SpawnError(r, Caller{0}, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(systemd_.calls.empty());
}

TEST_F(AgentManagerTest, AFailedStartIsReportedAndLeavesNoUnit) {
  systemd_.start_result = "failed";
  EXPECT_THAT(SpawnError(Request("a1"), Caller{0}, ErrorKind::kSpawnFailed),
              testing::StartsWith("agent \"a1\" failed to start: start job failed"));
  EXPECT_THAT(systemd_.calls,
              testing::ElementsAre(testing::StartsWith("start nova-agent-a1.service"),
                                   "reset nova-agent-a1.service"));
}

TEST_F(AgentManagerTest, AStartPastStartTimeoutIsKilledStoppedAndForgotten) {
  systemd_.start_result = kJobDeadlinePassed;
  config_.start_timeout = std::chrono::seconds(45);
  EXPECT_EQ(SpawnError(Request("a1"), Caller{0}, ErrorKind::kSpawnFailed),
            "agent \"a1\" failed to start: its start job did not finish within 45s "
            "(StartTimeout), so novad killed and removed it (does the workdir answer?); command: "
            "/bin/true, workdir: /tmp, user: root");
  EXPECT_THAT(
      systemd_.calls,
      testing::ElementsAre("start nova-agent-a1.service +nova-soft-a1.timer +nova-soft-a1.service",
                           "kill nova-agent-a1.service all 9", "stop nova-agent-a1.service",
                           "reset nova-agent-a1.service", "reset nova-agent-a1.service"));
}

TEST_F(AgentManagerTest, SpawnsInFlightCountAsRunning) {
  config_.max_agents = 2;
  SpawnsInFlight in_flight;
  AgentManager manager(
      systemd_, config_, store_, [this] { return memory_; }, "/hook", {}, nullptr, &in_flight);
  auto deciding = in_flight.Decide();
  auto other = in_flight.Reserve("other", {"root", kGiB});
  deciding.unlock();
  manager.Spawn(Request("a1"), Caller{0});  // one running, one starting: the maximum
  systemd_.calls.clear();
  try {
    manager.Spawn(Request("a2"), Caller{0});
    ADD_FAILURE() << "a2 admitted beside a spawn in flight";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kAdmissionRefused);
    EXPECT_THAT(e.what(), testing::HasSubstr("2 agents are running, the maximum is 2"));
  }
  try {
    manager.Spawn(Request("other"), Caller{0});
    ADD_FAILURE() << "a name in flight spawned twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kAlreadyRunning);
    EXPECT_STREQ(e.what(),
                 "agent \"other\" is being started by another call; wait for it or choose "
                 "another name");
  }
  EXPECT_TRUE(systemd_.calls.empty());
}

TEST_F(AgentManagerTest, AReservationEndsWithItsSpawn) {
  SpawnsInFlight in_flight;
  {
    auto deciding = in_flight.Decide();
    auto r = in_flight.Reserve("x", {"u", kGiB});
    EXPECT_TRUE(in_flight.Contains("x"));
    EXPECT_EQ(in_flight.Besides({}).size(), 1u);
    // Once its unit is listed, the listing counts it: not twice.
    EXPECT_TRUE(in_flight.Besides({{"x", UnitState{"activating", "start"}}}).empty());
  }
  EXPECT_FALSE(in_flight.Contains("x"));
}

TEST_F(AgentManagerTest, AnAgentThatEndsAtOnceIsNotAFailure) {
  systemd_.agent_ends_at_once = true;
  SpawnResult r = manager_.Spawn(Request("quick"), Caller{0});
  EXPECT_EQ(r.active_state, "inactive");
  EXPECT_EQ(r.main_pid, 0u);
}

TEST_F(AgentManagerTest, ThePriorityPolicyLandsOnEverySpawn) {
  PriorityPolicy policy;
  policy.enabled = true;
  policy.nice = 5;
  policy.oom_score_adj = 998;
  AgentManager manager(
      systemd_, config_, store_, [this] { return memory_; }, "/hook", policy);
  manager.Spawn(Request("a1"), Caller{0});
  EXPECT_EQ(systemd_.last_properties_nice, 5);
  EXPECT_EQ(systemd_.last_properties_oom, 998);
}

TEST_F(AgentManagerTest, GracefulKillStopsTheUnitAndRecordsWho) {
  manager_.Spawn(Request("a1"), Caller{0});
  systemd_.calls.clear();
  manager_.Kill("a1", false, Caller{0});
  EXPECT_THAT(systemd_.calls, testing::ElementsAre("stop nova-agent-a1.service"));
  auto marker = store_.TakeKillMarker("a1");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->by, "root");
  EXPECT_EQ(marker->reason, "kill");
}

TEST_F(AgentManagerTest, ForceKillSendsSigkillToEveryProcessFirst) {
  manager_.Spawn(Request("a1"), Caller{0});
  systemd_.calls.clear();
  manager_.Kill("a1", true, Caller{0});
  EXPECT_THAT(systemd_.calls, testing::ElementsAre("kill nova-agent-a1.service all 9",
                                                   "stop nova-agent-a1.service"));
}

TEST_F(AgentManagerTest, KillOfAnUnknownAgentIsNotFound) {
  try {
    manager_.Kill("ghost", false, Caller{0});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_STREQ(e.what(), "no running agent named \"ghost\"; see novactl status");
  }
}

TEST_F(AgentManagerTest, OnlyTheAgentsUserOrRootMayKillIt) {
  manager_.Spawn(Request("a1"), Caller{0});
  systemd_.calls.clear();
  EXPECT_THROW(manager_.Kill("a1", true, Caller{65534}), Error);
  EXPECT_TRUE(systemd_.calls.empty());
  EXPECT_EQ(store_.TakeKillMarker("a1"), std::nullopt);
}

// An agent of `user` as the listing shows it.
void AddAgent(FakeSystemd& systemd, const std::string& name, const std::string& user) {
  AgentUnitInfo info;
  info.name = name;
  info.unit = AgentUnit(name);
  info.active_state = "active";
  info.sub_state = "running";
  info.user = user;
  systemd.agents[name] = info;
}

TEST_F(AgentManagerTest, KillManyStopsTheCallersAgentsAndRefusesEachOtherNameAlone) {
  std::string me = UserNameForUid(65534);
  AddAgent(systemd_, "mine-1", me);
  AddAgent(systemd_, "mine-2", me);
  AddAgent(systemd_, "roots", "root");
  AddAgent(systemd_, "stopped", me);
  systemd_.agents["stopped"].active_state = "failed";
  auto refused =
      manager_.KillMany({"mine-1", "roots", "bad name", "ghost", "stopped", "mine-2", "mine-1"},
                        false, Caller{65534});
  std::map<std::string, ErrorKind> kinds;
  for (const auto& r : refused) kinds[r.name] = r.error.kind();
  EXPECT_EQ(kinds, (std::map<std::string, ErrorKind>{{"roots", ErrorKind::kPermissionDenied},
                                                     {"bad name", ErrorKind::kInvalidArgument},
                                                     {"ghost", ErrorKind::kNotFound},
                                                     {"stopped", ErrorKind::kNotFound}}));
  EXPECT_THAT(systemd_.calls, testing::ElementsAre("stop nova-agent-mine-1.service",
                                                   "stop nova-agent-mine-2.service"));
  EXPECT_TRUE(systemd_.GetAgent("roots"));
  EXPECT_EQ(store_.TakeKillMarker("roots"), std::nullopt);
  auto marker = store_.TakeKillMarker("mine-2");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->by, me);
  EXPECT_EQ(marker->reason, "kill");
}

TEST_F(AgentManagerTest, KillManyAsRootStopsEveryonesWithSigkillFirst) {
  AddAgent(systemd_, "a1", UserNameForUid(65534));
  AddAgent(systemd_, "a2", "root");
  EXPECT_TRUE(manager_.KillMany({"a1", "a2"}, true, Caller{0}).empty());
  EXPECT_THAT(
      systemd_.calls,
      testing::ElementsAre("kill nova-agent-a1.service all 9", "stop nova-agent-a1.service",
                           "kill nova-agent-a2.service all 9", "stop nova-agent-a2.service"));
  EXPECT_EQ(store_.TakeKillMarker("a1")->reason, "kill --force");
}

TEST_F(AgentManagerTest, KillManyForgetsTheMarkerOfAStopThatFailed) {
  AddAgent(systemd_, "a1", "root");
  AddAgent(systemd_, "a2", "root");
  systemd_.failing_stops = {"nova-agent-a1.service"};
  auto refused = manager_.KillMany({"a1", "a2"}, false, Caller{0});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused.front().name, "a1");
  EXPECT_EQ(refused.front().error.kind(), ErrorKind::kFailed);
  EXPECT_EQ(store_.TakeKillMarker("a1"), std::nullopt);
  EXPECT_TRUE(store_.TakeKillMarker("a2"));
}

TEST_F(AgentManagerTest, KillManyFromAnAgentOrOfTooManyNamesStopsNothing) {
  AddAgent(systemd_, "a1", "root");
  EXPECT_THROW(manager_.KillMany({"a1"}, false, Caller{0, std::string("x")}), Error);
  std::vector<std::string> many(AgentManager::kMaxKillNames + 1, "a1");
  try {
    manager_.KillMany(many, false, Caller{0});
    ADD_FAILURE() << "too many names were accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
  }
  EXPECT_TRUE(systemd_.calls.empty());
  EXPECT_EQ(store_.TakeKillMarker("a1"), std::nullopt);
}

TEST_F(AgentManagerTest, RefusesEveryCallFromInsideAnAgentWhateverItsUid) {
  manager_.Spawn(Request("a1"), Caller{0});
  systemd_.calls.clear();
  Caller agent{0, std::string("a1")};
  EXPECT_EQ(SpawnError(Request("a2"), agent, ErrorKind::kPermissionDenied),
            "agents cannot manage agents: this call comes from agent \"a1\" "
            "(nova-agent-a1.service)");
  Caller unknown{0, std::string()};
  EXPECT_THAT(SpawnError(Request("a2"), unknown, ErrorKind::kPermissionDenied),
              testing::HasSubstr("a process in the agents' slice"));
  try {
    manager_.Kill("a1", true, agent);
    ADD_FAILURE() << "kill from an agent was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kPermissionDenied);
  }
  EXPECT_TRUE(systemd_.calls.empty());
  EXPECT_TRUE(systemd_.GetAgent("a1"));
}

TEST_F(AgentManagerTest, ANameHeldByAnotherUsersOutcomeIsRefusedNotClobbered) {
  store_.Write(AlicesFinishedA1());
  EXPECT_EQ(SpawnError(Request("a1"), Caller{65534}, ErrorKind::kAlreadyRunning),
            "agent name \"a1\" is held by the recorded outcome of alice's agent; choose another "
            "name (root may reuse it)");
  EXPECT_TRUE(systemd_.calls.empty());
  EXPECT_EQ(store_.Read("a1")->user, "alice");
  manager_.Spawn(Request("a1"), Caller{0});  // root may
}

TEST_F(AgentManagerTest, ASpawnWaitsForThePreviousAgentsUnitToGo) {
  // a1 was stopped a moment ago (novactl kill returns then): its unit is
  // still loaded, and systemd would refuse to make one of that name.
  config_.max_agents = 5;
  AgentUnitInfo old;
  old.name = "a1";
  old.unit = AgentUnit("a1");
  old.active_state = "inactive";
  old.sub_state = "dead";
  systemd_.agents["a1"] = old;
  int looks = 0;
  systemd_.on_unit_states = [&] {
    if (++looks == 2) systemd_.agents.erase("a1");  // unloaded
  };
  manager_.Spawn(Request("a1"), Caller{0});
  EXPECT_EQ(looks, 2);
  EXPECT_THAT(systemd_.calls, testing::Contains(testing::StartsWith("start nova-agent-a1")));
}

TEST_F(AgentManagerTest, AMemberIsCheckedAgainstTheOutcomeAQueuedRecorderWrites) {
  // alice's a1 just ended; its recorder is queued. Another member asking for
  // a1 meanwhile is refused by the outcome that recorder then writes.
  systemd_.others[OutcomeUnitOnSuccess("a1")] = UnitState{"inactive", "dead", 17};
  systemd_.on_unit_states = [&] {
    store_.Write(AlicesFinishedA1());
    systemd_.others.clear();
  };
  EXPECT_THAT(SpawnError(Request("a1"), Caller{65534}, ErrorKind::kAlreadyRunning),
              testing::HasSubstr("held by the recorded outcome of alice's agent"));
  EXPECT_TRUE(systemd_.calls.empty());
  EXPECT_EQ(store_.Read("a1")->user, "alice");
}

TEST_F(AgentManagerTest, RecordsTheOwnerAndHandsSecretsAsRootOnlyFiles) {
  SpawnRequest r = Request("a1");
  r.secrets = {{"token", "s3cret"}};
  manager_.Spawn(r, Caller{0});
  EXPECT_EQ(store_.TakeOwner("a1"), "root");
  auto secret = dir_ / "run" / "secrets" / "a1" / "token";
  EXPECT_TRUE(std::filesystem::exists(secret));
  EXPECT_EQ(std::filesystem::status(secret).permissions(), std::filesystem::perms::owner_read);
}

TEST_F(AgentManagerTest, AFailedStartLeavesNoSecretBehind) {
  systemd_.start_result = "failed";
  SpawnRequest r = Request("a1");
  r.secrets = {{"token", "s3cret"}};
  SpawnError(r, Caller{0}, ErrorKind::kSpawnFailed);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "run" / "secrets" / "a1"));
}

}  // namespace
}  // namespace nova

namespace nova {
namespace {

// The caller's child as novad sees it through its pidfd; `systemd` moves it.
class FakeTarget : public AttachTarget {
 public:
  explicit FakeTarget(ProcessFacts facts) : facts_(std::move(facts)) {}
  uint32_t pid() const override { return 4321; }
  std::optional<ProcessFacts> Facts() override { return facts_; }
  bool Alive() override { return alive_; }
  std::vector<std::string> ApplyPriority(const PriorityPolicy& policy) override {
    priority_applied_ = policy.enabled;
    return {};
  }
  ProcessFacts facts_;
  bool alive_ = true;
  bool priority_applied_ = false;
};

ProcessFacts ChildOf(uint32_t ppid, uint32_t uid) {
  return ProcessFacts{ppid, {uid, uid, uid, uid}, "/user.slice/user-0.slice/session-1.scope"};
}

class AttachTest : public AgentManagerTest {
 protected:
  AttachTest() {
    manager_.Spawn(Request("a1"), Caller{0});
    systemd_.calls.clear();
    systemd_.on_attach = [this](uint32_t) {
      if (move_) target_.facts_.cgroup = "/nova.slice/nova-agents.slice/nova-agent-a1.service";
      if (die_) target_.alive_ = false;
    };
  }
  Caller caller_{0, std::nullopt, 1234};
  FakeTarget target_{ChildOf(1234, 0)};
  bool move_ = true;
  bool die_ = false;
};

TEST_F(AttachTest, MovesTheCallersChildIntoTheAgentsUnit) {
  manager_.Attach("a1", 4321, &target_, caller_);
  EXPECT_EQ(systemd_.calls, (std::vector<std::string>{"attach nova-agent-a1.service 4321"}));
}

TEST_F(AttachTest, RefusesBeforeAskingSystemd) {
  Caller in_agent{0, std::string("b2"), 1234};
  EXPECT_THROW(manager_.Attach("a1", 4321, &target_, in_agent), Error);
  target_.facts_.ppid = 1;  // not the caller's child
  EXPECT_THROW(manager_.Attach("a1", 4321, &target_, caller_), Error);
  EXPECT_THROW(manager_.Attach("a1", 4321, nullptr, caller_), Error);  // no such process
  EXPECT_THROW(manager_.Attach("ghost", 4321, &target_, caller_), Error);
  EXPECT_TRUE(systemd_.calls.empty());
}

TEST_F(AttachTest, AProcessThatDiedAfterItsFactsWereReadIsNotTrusted) {
  target_.alive_ = false;  // its pid may be another's by now
  try {
    manager_.Attach("a1", 4321, &target_, caller_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
  EXPECT_TRUE(systemd_.calls.empty());
}

TEST_F(AttachTest, AProcessThatDiedDuringTheMoveFails) {
  die_ = true;
  try {
    manager_.Attach("a1", 4321, &target_, caller_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFailed);
    EXPECT_STREQ(e.what(), "process 4321 ended while it was being attached to agent \"a1\"");
  }
}

TEST_F(AttachTest, AProcessNotInTheAgentAfterTheMoveFails) {
  move_ = false;
  EXPECT_THROW(manager_.Attach("a1", 4321, &target_, caller_), Error);
}

}  // namespace
}  // namespace nova
