#include "agent_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "errors.h"
#include "json_output.h"
#include "text.h"

namespace nova {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;
constexpr int64_t kNow = 1'800'000'000'000'000;

AgentUnitInfo Agent(const std::string& name) {
  AgentUnitInfo u;
  u.name = name;
  u.unit = "nova-agent-" + name + ".service";
  u.active_state = "active";
  u.sub_state = "running";
  u.main_pid = 100;
  u.memory_current = 1 * kGiB;
  u.memory_max = 4 * kGiB;
  u.tasks_current = 7;
  u.tasks_max = 512;
  u.cpu_usage_nsec = 3'000'000'000;
  u.runtime_max_usec = 1800'000'000;
  u.active_enter_usec = kNow - 600'000'000;  // 10 min ago
  u.soft_deadline_usec = kNow + 300'000'000;
  u.user = "alice";
  u.workdir = "/w/ws-1";
  u.argv = {"/usr/bin/cargo", "build"};
  return u;
}

StatusReport Report() {
  Outcome old;
  old.agent = "a1";
  old.service_result = "success";
  old.exit_code = "exited";
  old.exit_status = "0";
  Outcome gone = old;
  gone.agent = "b2";
  gone.exit_status = "3";
  AgentUnitInfo dead = Agent("c3");
  dead.active_state = "failed";
  return BuildStatusReport(HostMemory{16 * kGiB, 12 * kGiB}, Config{}, {Agent("a1"), dead},
                           {old, gone}, kNow);
}

TEST(Status, SeparatesLiveAgentsFromFinishedOnes) {
  StatusReport r = Report();
  ASSERT_EQ(r.agents.size(), 1u);
  EXPECT_EQ(r.agents[0].unit.name, "a1");
  ASSERT_TRUE(r.agents[0].last_outcome);
  ASSERT_EQ(r.finished.size(), 1u);
  EXPECT_EQ(r.finished[0].agent, "b2");
  EXPECT_EQ(r.max_agents, 0u);                           // auto
  EXPECT_EQ(r.memory_committed, 4 * kGiB);               // a1's MemoryMax; c3 has ended
  EXPECT_EQ(r.memory_for_agents, 16 * kGiB * 85 / 100);  // 13.6G
}

TEST(Status, TextShowsHeaderAndEveryColumn) {
  std::string text = FormatStatus(Report(), false);
  EXPECT_THAT(text,
              testing::StartsWith("Host memory: 4G of 16G used (25.0%); admission closes at 85%, "
                                  "relief at 95% (down to 75%)\n"
                                  "Agents: 1 running, holding 4G of the 13.6G set aside for "
                                  "agents (MaxAgents=auto: 85.0% of memory)\n"));
  EXPECT_THAT(text, testing::HasSubstr("NAME  STATE    MEMORY  %HOST  TASKS  CPU  RUNTIME  "
                                       "SOFT     HARD      USER   WORKDIR  LAST OUTCOME  COMMAND"));
  EXPECT_THAT(text, testing::HasSubstr("a1    running  1G/4G   6.2%   7/512  3s   10min    "
                                       "in 5min  in 20min  alice  /w/ws-1  exited 0      "
                                       "/usr/bin/cargo build"));
  EXPECT_THAT(text, testing::HasSubstr("1 finished agent(s) not shown"));
  EXPECT_THAT(FormatStatus(Report(), true), testing::HasSubstr("b2    -      exited 3"));
}

TEST(Status, JsonCarriesTheSameFacts) {
  nlohmann::json j = StatusToJson(Report());
  EXPECT_EQ(j["agents_running"], 1);
  EXPECT_EQ(j["agents_max"], nullptr);  // auto: admission weighs memory, not a count
  EXPECT_EQ(j["agents_memory_committed_bytes"], 4 * kGiB);
  EXPECT_EQ(j["agents_memory_set_aside_bytes"], 16 * kGiB * 85 / 100);
  EXPECT_EQ(j["host"]["memory_used_bytes"], 4 * kGiB);
  EXPECT_EQ(j["host"]["admission_percent"], 85);
  const auto& a = j["agents"][0];
  EXPECT_EQ(a["name"], "a1");
  EXPECT_EQ(a["state"], "active");
  EXPECT_EQ(a["memory"]["current_bytes"], 1 * kGiB);
  EXPECT_EQ(a["memory"]["max_bytes"], 4 * kGiB);
  EXPECT_EQ(a["tasks"]["max"], 512);
  EXPECT_EQ(a["cpu_usec"], 3'000'000);
  EXPECT_EQ(a["runtime_usec"], 600'000'000);
  EXPECT_EQ(a["hard_deadline_usec"], kNow + 1200'000'000);
  EXPECT_EQ(a["soft_deadline_usec"], kNow + 300'000'000);
  EXPECT_EQ(a["command"], nlohmann::json({"/usr/bin/cargo", "build"}));
  EXPECT_EQ(a["last_outcome"]["description"], "exited 0");
  EXPECT_EQ(j["finished"][0]["agent"], "b2");
}

// Every line of `text` is free of control characters and invalid UTF-8.
void ExpectPrintableLines(const std::string& text) {
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    std::string line = text.substr(start, end - start);
    EXPECT_EQ(FindControl(line), std::nullopt) << line;
  }
  EXPECT_EQ(start, text.size()) << "no newline at the end";
}

StatusReport HostileReport() {
  AgentUnitInfo u = Agent("a1");
  u.argv = {"/bin/sh", "-c", "\x1b]0;owned\x07\x1b[2J", "\xff\xfe"};
  u.workdir = "/w/ws-1\nfake line";
  u.user = "alice\r";
  Outcome earlier;
  earlier.agent = "a1";
  earlier.killed = KillMarker{"bob\x1b[31m", "kill\n--force"};
  Outcome gone;
  gone.agent = "b2";
  gone.service_result = "exit-code\x9b";
  gone.exit_code = "\x1b";
  gone.exit_status = "\x07";
  return BuildStatusReport(HostMemory{16 * kGiB, 12 * kGiB}, Config{}, {u}, {earlier, gone}, kNow);
}

TEST(Status, ShowsWhatAgentsControlEscaped) {
  StatusReport r = HostileReport();
  std::string table = FormatStatus(r, true);
  ExpectPrintableLines(table);
  EXPECT_THAT(table, testing::HasSubstr("/w/ws-1\\nfake line"));
  EXPECT_THAT(table, testing::HasSubstr("killed by bob\\e[31m (kill\\n--force)"));
  EXPECT_THAT(table, testing::HasSubstr("/bin/sh -c \\e]0;owned\\x07\\e[2J \\xff\\xfe"));
  std::string one = FormatAgent(r, "a1");
  ExpectPrintableLines(one);
  EXPECT_THAT(one, testing::HasSubstr("User:           alice\\x0d\n"));
  ExpectPrintableLines(FormatAgent(r, "b2"));
  EXPECT_THAT(FormatAgent(r, "b2"), testing::HasSubstr("exit-code\\x9b (\\e \\x07)"));
}

TEST(Status, JsonKeepsAgentStringsExactAndSurvivesInvalidUtf8) {
  nlohmann::json j = StatusToJson(HostileReport());
  EXPECT_EQ(j["agents"][0]["command"][2], "\x1b]0;owned\x07\x1b[2J");
  EXPECT_EQ(j["agents"][0]["workdir"], "/w/ws-1\nfake line");
  std::string text = JsonText(j, 2);
  EXPECT_THAT(text, testing::HasSubstr("\"\\u001b]0;owned\\u0007\\u001b[2J\""));
  EXPECT_THAT(text, testing::HasSubstr("\"\xef\xbf\xbd\xef\xbf\xbd\""));  // was \xff\xfe
}

TEST(Status, CutsALongCommandBetweenCharacters) {
  AgentUnitInfo u = Agent("a1");
  std::string e8;
  for (int i = 0; i < 8; ++i) e8 += "\xc3\xa9";  // é
  u.argv = {"/usr/bin/echo", std::string(21, 'x'), e8};
  StatusReport r = BuildStatusReport(HostMemory{16 * kGiB, 12 * kGiB}, Config{}, {u}, {}, kNow);
  std::string table = FormatStatus(r, false);
  ExpectPrintableLines(table);
  // 48 bytes: 45 before the "...", which would split the fifth é; four are kept.
  EXPECT_THAT(table, testing::HasSubstr(" /usr/bin/echo " + std::string(21, 'x') +
                                        " \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...\n"));
}

TEST(Status, AnExplicitMaximumIsShownAsACount) {
  Config c;
  c.max_agents = 20;
  StatusReport r = BuildStatusReport(HostMemory{16 * kGiB, 12 * kGiB}, c, {Agent("a1")}, {}, kNow);
  EXPECT_THAT(FormatStatus(r, false),
              testing::HasSubstr("\nAgents: 1 running, maximum 20 (MaxAgents)\n"));
  EXPECT_EQ(StatusToJson(r)["agents_max"], 20);
}

// Host at 25% (Report()); the gate closed at 86.5% and, memory now under
// AdmissionPercent (85) but not under AdmissionReopenPercent (80), stays so.
TEST(Status, SaysWhenHysteresisHoldsAdmissionClosed) {
  setenv("TZ", "UTC", 1);
  tzset();
  StatusReport r = Report();
  EXPECT_EQ(AdmissionLine(r), "");  // never published: open
  r.admission = AdmissionState{true, kNow, 10};
  EXPECT_EQ(AdmissionLine(r), "");
  EXPECT_EQ(StatusToJson(r)["admission"]["open"], true);
  r.admission = AdmissionState{false, 1'714'564'800'000'000, 86.5};
  r.memory = HostMemory{100 * kGiB, 18 * kGiB};  // 82% used
  EXPECT_EQ(AdmissionLine(r),
            "Admission: CLOSED since 2024-05-01 12:00:00 (host memory reached 86.5%; "
            "AdmissionPercent=85), held closed by hysteresis though now under it; it reopens "
            "below 80% (AdmissionReopenPercent)\n");
  EXPECT_THAT(FormatStatus(r, false), testing::HasSubstr("\nAdmission: CLOSED since"));
  nlohmann::json j = StatusToJson(r)["admission"];
  EXPECT_EQ(j["open"], false);
  EXPECT_EQ(j["held_by_hysteresis"], true);
  EXPECT_EQ(j["closed_since_usec"], 1'714'564'800'000'000);
  EXPECT_EQ(j["closed_at_percent"], 86.5);
  EXPECT_EQ(j["reopen_percent"], 80);
  r.memory = HostMemory{100 * kGiB, 10 * kGiB};  // 90%: the threshold itself holds it
  EXPECT_THAT(AdmissionLine(r), testing::Not(testing::HasSubstr("hysteresis")));
  EXPECT_EQ(StatusToJson(r)["admission"]["held_by_hysteresis"], false);
}

TEST(Status, AdmissionIsUnknownWhileNovadIsDown) {
  StatusReport r = Report();
  r.novad_running = false;
  r.admission = AdmissionState{false, kNow, 90};  // stale: novad starts open again
  EXPECT_EQ(AdmissionLine(r),
            "Admission: unknown, novad is not running (spawns fail until it is: systemctl start "
            "novad)\n");
  EXPECT_TRUE(StatusToJson(r)["admission"]["open"].is_null());
  EXPECT_EQ(StatusToJson(r)["admission"]["novad_running"], false);
}

TEST(Status, UnknownAgentIsNotFound) {
  EXPECT_NO_THROW(FormatAgent(Report(), "a1"));
  EXPECT_NO_THROW(FormatAgent(Report(), "b2"));
  try {
    FormatAgent(Report(), "zz");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
}

TEST(Status, OneAgentShowsItsSandboxAndExposure) {
  StatusReport r = Report();
  r.agents[0].unit.sandbox = "standard";
  r.agents[0].exposure = 2.06;
  EXPECT_THAT(FormatAgent(r, "a1"),
              testing::HasSubstr("Sandbox:        standard, exposure 2.1 of 10 "
                                 "(systemd-analyze security)\n"));
  nlohmann::json j = StatusToJson(r);
  EXPECT_EQ(j["agents"][0]["sandbox"]["profile"], "standard");
  EXPECT_DOUBLE_EQ(j["agents"][0]["sandbox"]["exposure"].get<double>(), 2.06);
  r.agents[0].exposure.reset();
  EXPECT_THAT(FormatAgent(r, "a1"), testing::HasSubstr("standard, exposure - (systemd"));
  EXPECT_TRUE(StatusToJson(r)["agents"][0]["sandbox"]["exposure"].is_null());
}

// OOM kills inside a running agent, as novad recorded them: shown only for
// the cgroup they were counted in, the process name escaped.
TEST(Status, OomKillsInsideARunningAgent) {
  StatusReport r = Report();
  OomKillsByAgent kills = {{"a1", AgentOomKills{77, 2, "cc1plus", 1234, kNow - 5'000'000}},
                           {"gone", AgentOomKills{5, 1, "x", 1, kNow}}};
  AttachOomKills(r, kills, [](const std::string&) { return std::optional<uint64_t>(77); });
  ASSERT_TRUE(r.agents[0].oom_kills);
  EXPECT_THAT(FormatAgent(r, "a1"),
              testing::HasSubstr("OOM kills:      2 (last: cc1plus, pid 1234, "));
  EXPECT_THAT(
      FormatStatus(r, false),
      testing::HasSubstr("OOM kills inside running agents:\n  a1: 2 (last: cc1plus, pid 1234, "));
  nlohmann::json j = StatusToJson(r);
  EXPECT_EQ(j["agents"][0]["oom_kills"], 2);
  EXPECT_EQ(j["agents"][0]["last_oom_kill"]["process"], "cc1plus");
  EXPECT_EQ(j["agents"][0]["last_oom_kill"]["pid"], 1234);
  EXPECT_EQ(j["agents"][0]["last_oom_kill"]["time_usec"], kNow - 5'000'000);

  // A record of an earlier run under the same name (another cgroup) is not this run's.
  StatusReport other = Report();
  AttachOomKills(other, kills, [](const std::string&) { return std::optional<uint64_t>(78); });
  EXPECT_FALSE(other.agents[0].oom_kills);
  EXPECT_THAT(FormatAgent(other, "a1"), testing::HasSubstr("OOM kills:      0\n"));
  EXPECT_THAT(FormatStatus(other, false), testing::Not(testing::HasSubstr("OOM kills inside")));
  EXPECT_EQ(StatusToJson(other)["agents"][0]["oom_kills"], 0);
  EXPECT_TRUE(StatusToJson(other)["agents"][0]["last_oom_kill"].is_null());

  // A raw escape in the file still reaches no terminal.
  StatusReport hostile = Report();
  kills["a1"].last_process = "\x1b]0;pwned\x07";
  AttachOomKills(hostile, kills, [](const std::string&) { return std::optional<uint64_t>(77); });
  ExpectPrintableLines(FormatAgent(hostile, "a1"));
  ExpectPrintableLines(FormatStatus(hostile, false));
}

}  // namespace
}  // namespace nova
