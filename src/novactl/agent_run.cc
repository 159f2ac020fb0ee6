#include "agent_run.h"

#include <string.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <iostream>
#include <memory>
#include <thread>

#include "agent_logs.h"
#include "agent_name.h"
#include "agent_stop.h"
#include "build_config.h"
#include "duration.h"
#include "errors.h"
#include "journal.h"
#include "nova_client.h"
#include "systemd.h"
#include "text.h"

namespace nova {
namespace {

// How long after the unit is gone the outcome may take to be recorded (its
// own unit runs then), and how long the journal is then given to deliver
// the agent's last lines.
constexpr auto kOutcomeWait = std::chrono::seconds(30);
constexpr auto kJournalDrain = std::chrono::milliseconds(500);

// The agent's output from the journal, from `since_usec` on, as it comes.
class AgentOutput {
 public:
  AgentOutput(const std::string& unit, int64_t since_usec) {
    int r = sd_journal_open(&journal_, SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) {
      throw Error(ErrorKind::kUnavailable,
                  std::string("cannot open the journal: ") + std::strerror(-r));
    }
    std::string match = "_SYSTEMD_UNIT=" + unit;
    sd_journal_add_match(journal_, match.data(), match.size());
    sd_journal_seek_realtime_usec(journal_, static_cast<uint64_t>(since_usec));
  }
  ~AgentOutput() { sd_journal_close(journal_); }
  AgentOutput(const AgentOutput&) = delete;
  AgentOutput& operator=(const AgentOutput&) = delete;

  // Prints what arrived; true if anything did.
  bool Print() {
    bool any = false;
    while (sd_journal_next(journal_) > 0) {
      std::string line = Printable(JournalField(journal_, "MESSAGE")) + "\n";
      ssize_t ignored = write(STDOUT_FILENO, line.data(), line.size());
      (void)ignored;
      any = true;
    }
    return any;
  }
  void Wait(std::chrono::milliseconds timeout) {
    sd_journal_wait(journal_, static_cast<uint64_t>(timeout.count()) * 1000);
  }

  // Prints until nothing new came for a while.
  void Drain() {
    auto quiet_since = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - quiet_since < kJournalDrain) {
      if (Print()) quiet_since = std::chrono::steady_clock::now();
      Wait(std::chrono::milliseconds(100));
    }
  }

 private:
  sd_journal* journal_ = nullptr;
};

}  // namespace

int SignalNumber(std::string_view name) {
  if (name.starts_with("SIG")) name.remove_prefix(3);
  int number = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec == std::errc() && end == name.data() + name.size()) return number;
  for (int s = 1; s < NSIG; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev && name == abbrev) return s;
  }
  return 0;
}

int RunExitCode(const Outcome& o) {
  if (o.killed) {
    return o.killed->by == "novad" && o.killed->reason.starts_with("relief") ? kRunExitRelief
                                                                             : kRunExitKilled;
  }
  if (OomKilled(o)) return kRunExitOom;
  if (o.service_result == "timeout") return kRunExitTimeout;
  if (o.exit_code == "exited") {
    int status = 0;
    auto [end, ec] =
        std::from_chars(o.exit_status.data(), o.exit_status.data() + o.exit_status.size(), status);
    if (ec == std::errc() && end == o.exit_status.data() + o.exit_status.size() && status >= 0 &&
        status <= 255) {
      return status;
    }
    return kRunExitNoOutcome;
  }
  if (o.exit_code == "killed" || o.exit_code == "dumped") {
    int signal = SignalNumber(o.exit_status);
    return signal > 0 ? 128 + signal : kRunExitNoOutcome;
  }
  return o.service_result == "success" ? 0 : kRunExitNoOutcome;
}

int RunAgent(const SpawnRequest& request) {
  const std::string& name = request.name;
  std::string unit = AgentUnit(name);
  // Blocked before the spawn, so that a Ctrl-C during it still stops the agent.
  StopSignals signals;
  NovaClient client;
  int64_t started = RealtimeUsec();
  client.Spawn(request);
  AgentOutput output(unit, started);
  auto systemd = ConnectSystemd();

  auto stop = [&](int signal) {
    std::cerr << "novactl: SIG" << sigabbrev_np(signal) << " received: stopping agent " << name
              << std::endl;
    AgentKiller killer;
    for (const auto& refusal : killer.Kill({name}, false)) {
      // Not found: it ended meanwhile.
      if (refusal.kind != ErrorKind::kNotFound) throw Error(refusal.kind, refusal.message);
    }
    killer.WaitUntilStopped(false);
    output.Drain();
    return 128 + signal;
  };

  for (;;) {
    output.Print();
    if (int signal = signals.Take()) return stop(signal);
    auto state = systemd->GetUnitState(unit);
    if (!state || !state->live()) break;
    output.Wait(std::chrono::milliseconds(200));
  }

  OutcomeStore outcomes(kStateDir, kRuntimeDir);
  auto deadline = std::chrono::steady_clock::now() + kOutcomeWait;
  std::optional<Outcome> outcome;
  for (;;) {
    outcome = outcomes.Read(name);
    if (outcome && outcome->finished_at_usec >= started) break;
    if (int signal = signals.Take()) return 128 + signal;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(ErrorKind::kFailed, "agent \"" + name + "\" ended but its outcome was not " +
                                          "recorded within " + FormatDuration(kOutcomeWait) +
                                          "; see novactl status " + name);
    }
    output.Print();
    output.Wait(std::chrono::milliseconds(100));
  }
  output.Drain();
  int code = RunExitCode(*outcome);
  if (code != 0) {
    std::cerr << "novactl: agent " << name << " " << Printable(DescribeOutcome(*outcome))
              << " (exit " << code << ")" << std::endl;
  }
  return code;
}

}  // namespace nova
