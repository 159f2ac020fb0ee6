#include <unistd.h>

#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "agent_logs.h"
#include "commands.h"
#include "duration.h"
#include "json_output.h"
#include "memory_report.h"
#include "since.h"
#include "watch_events.h"

namespace nova {
namespace {

struct EventsOptions {
  size_t lines = 50;
  bool lines_given = false;
  std::string since;
  bool follow = false;
  bool json = false;
};

void PrintEvents(const std::vector<RecordedWatchEvent>& events, bool json, bool json_lines) {
  if (json && json_lines) {
    for (const auto& e : events) std::cout << WatchEventToJson(e).dump() << "\n";
  } else if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : events) j.push_back(WatchEventToJson(e));
    std::cout << JsonText(j, 2) << "\n";
  } else if (!events.empty() || !json_lines) {
    std::cout << FormatWatchEvents(events);
  }
  std::cout.flush();
}

void RunEvents(const EventsOptions& o) {
  std::optional<int64_t> since;
  if (!o.since.empty()) since = ParseSinceOrThrow("--since", o.since, RealtimeUsec());
  // With --since every event from then on, unless -n caps them too.
  size_t count = since && !o.lines_given ? std::numeric_limits<size_t>::max() : o.lines;
  WatchEventJournal journal;
  auto events = journal.Read(count, since);
  if (!o.follow) {
    PrintEvents(events, o.json, false);
    if (events.empty() && geteuid() != 0) {
      std::cerr << "(novad's entries are visible only to root and to groups adm and "
                   "systemd-journal)"
                << std::endl;
    }
    return;
  }
  if (events.empty() && geteuid() != 0) {
    std::cerr << "(novad's entries are visible only to root and to groups adm and "
                 "systemd-journal; waiting for new ones)"
              << std::endl;
  }
  StopSignals signals;  // Ctrl-C ends the follow cleanly
  PrintEvents(events, o.json, true);
  while (!signals.Take()) PrintEvents(journal.Next(250000), o.json, true);
}

}  // namespace

void AddEventsCommand(CLI::App& app) {
  auto o = std::make_shared<EventsOptions>();
  CLI::App* cmd =
      app.add_subcommand("events", "Show the memory watcher's decisions and OOM kills in agents");
  cmd->footer(
      std::string("\nAdmission closed/reopened, relief started/done, agents killed (or, in a\n"
                  "dry run, that would be) and why each was chosen (\"growing 180M/s at 250M,\n"
                  "1.1G projected in 5s\", \"largest, steady at 307M\"), OOM kills inside\n"
                  "running agents (the agent's count and the process killed, escaped), read\n"
                  "from the journal, where each is a structured entry: journalctl MESSAGE_ID=") +
      kWatchMessageId +
      " -o verbose\n"
      "Reading novad's entries needs root or membership of group adm or systemd-journal.\n\n"
      "--since takes what journalctl does: \"10 min ago\", -1h, \"2024-05-01 12:00\"\n"
      "(local time), 2024-05-01T12:00:00Z, 12:00 (today), today, yesterday, @SECONDS.\n"
      "--follow prints the events there are, then each new one as novad logs it, until\n"
      "Ctrl-C; with --json, one JSON object per line (JSON Lines) instead of an array.\n\n"
      "Examples:\n"
      "  novactl events --since \"10 min ago\"\n"
      "  novactl events --follow --json | jq -c 'select(.action == \"kill\")'");
  cmd->add_option("--lines,-n", o->lines,
                  "How many of the latest events (default 50; with --since, all unless given)")
      ->check(CLI::PositiveNumber)
      ->each([o](const std::string&) { o->lines_given = true; });
  cmd->add_option("--since,-S", o->since, "Only events since this time, e.g. \"10 min ago\"");
  cmd->add_flag("--follow,-f", o->follow, "Keep printing new events as they come (Ctrl-C stops)");
  cmd->add_flag("--json", o->json, "Print JSON instead of text");
  cmd->callback([o] { RunEvents(*o); });
}

}  // namespace nova
