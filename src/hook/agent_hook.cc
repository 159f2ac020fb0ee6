#include "agent_hook.h"

#include <signal.h>
#include <systemd/sd-journal.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <vector>

#include "agent_name.h"
#include "build_config.h"
#include "duration.h"
#include "errors.h"
#include "journal.h"
#include "systemd.h"

namespace nova {
namespace {

// How long the journal may lag behind PID 1 before the outcome is written
// without the final OOM count.
constexpr auto kJournalDeadline = std::chrono::seconds(3);

// PID 1's entries for `unit`'s run `invocation`: only systemd itself can
// write entries with _PID=1 and _UID=0 (trusted fields, set by journald), so
// an agent cannot forge them.
RunEndTally TallyRun(const std::string& unit, const std::string& invocation) {
  RunEndTally tally;
  sd_journal* j = nullptr;
  if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM) < 0) return tally;
  std::unique_ptr<sd_journal, decltype(&sd_journal_close)> guard(j, sd_journal_close);
  for (const std::string& match : std::vector<std::string>{"_PID=1", "_UID=0", "UNIT=" + unit,
                                                           "INVOCATION_ID=" + invocation}) {
    sd_journal_add_match(j, match.data(), match.size());
  }
  sd_journal_seek_head(j);
  auto deadline = std::chrono::steady_clock::now() + kJournalDeadline;
  while (!tally.ended()) {
    int r = sd_journal_next(j);
    if (r > 0) {
      tally.Observe(JournalField(j, "MESSAGE_ID"));
      continue;
    }
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    if (r < 0 || left.count() <= 0) break;
    sd_journal_wait(j, static_cast<uint64_t>(left.count()));
  }
  return tally;
}

int RecordOutcome(const std::string& name) {
  std::map<std::string, std::string> env;
  for (const char* key : {"MONITOR_SERVICE_RESULT", "MONITOR_EXIT_CODE", "MONITOR_EXIT_STATUS",
                          "MONITOR_INVOCATION_ID", "MONITOR_UNIT"}) {
    if (const char* value = std::getenv(key)) env[key] = value;
  }
  std::string unit = AgentUnit(name);
  if (env["MONITOR_UNIT"] != unit) {
    // Not started by the agent's own end (e.g. by hand): nothing to record.
    std::cerr << "nova-agent-hook: not started by " << unit << "'s end; nothing recorded"
              << std::endl;
    return 0;
  }
  RunEndTally tally = TallyRun(unit, env["MONITOR_INVOCATION_ID"]);
  if (!tally.ended()) {
    std::cerr << "nova-agent-hook: the journal has no end entry for " << unit
              << " yet; its OOM kill count may be short" << std::endl;
  }
  OutcomeStore store(kStateDir, kRuntimeDir);
  Outcome outcome = OutcomeFromMonitorEnvironment(name, env, tally.oom_kills(), RealtimeUsec());
  outcome.user = store.TakeOwner(name).value_or("");
  outcome.killed = store.TakeKillMarker(name);
  store.Write(outcome);
  store.RemoveSecrets(name);
  std::cout << "agent " << name << ": " << DescribeOutcome(outcome) << std::endl;
  return 0;
}

int SoftWarning(const std::string& name) {
  auto systemd = ConnectSystemd();
  systemd->KillUnit(AgentUnit(name), "main", SIGUSR1);
  std::cout << "agent " << name << ": soft deadline reached, sent SIGUSR1 to its main process"
            << std::endl;
  return 0;
}

}  // namespace

void RunEndTally::Observe(std::string_view message_id) {
  if (message_id == kUnitOutOfMemoryMessageId) {
    ++oom_kills_;
  } else if (message_id == kUnitSuccessMessageId || message_id == kUnitFailureResultMessageId) {
    ended_ = true;
  }
}

Outcome OutcomeFromMonitorEnvironment(const std::string& name,
                                      const std::map<std::string, std::string>& env,
                                      uint64_t oom_kills, int64_t now_usec) {
  auto get = [&](const char* key) {
    auto it = env.find(key);
    return it == env.end() ? std::string() : it->second;
  };
  Outcome o;
  o.agent = name;
  o.service_result = get("MONITOR_SERVICE_RESULT");
  o.exit_code = get("MONITOR_EXIT_CODE");
  o.exit_status = get("MONITOR_EXIT_STATUS");
  o.oom_kills = oom_kills;
  o.finished_at_usec = now_usec;
  return o;
}

int RunAgentHook(int argc, char** argv) {
  std::string usage = "usage: nova-agent-hook outcome|soft-warning AGENT (run by systemd)";
  if (argc != 3) {
    std::cerr << usage << std::endl;
    return 2;
  }
  std::string verb = argv[1], name = argv[2];
  try {
    ValidateAgentName(name);
    if (verb == "outcome") return RecordOutcome(name);
    if (verb == "soft-warning") return SoftWarning(name);
    std::cerr << "nova-agent-hook: unknown verb \"" << verb << "\"; " << usage << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nova-agent-hook: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace nova
