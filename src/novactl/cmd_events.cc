#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "json_output.h"
#include "memory_report.h"
#include "watch_events.h"

namespace nova {

void AddEventsCommand(CLI::App& app) {
  struct Options {
    size_t lines = 50;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("events", "Show the memory watcher's decisions");
  cmd->footer(
      std::string("\nAdmission closed/reopened, relief started/done, agents killed (or, in a\n"
                  "dry run, that would be), read from the journal, where each is a structured\n"
                  "entry: journalctl MESSAGE_ID=") +
      kWatchMessageId +
      " -o verbose\n"
      "Reading novad's entries needs root or membership of group adm or systemd-journal.");
  cmd->add_option("--lines,-n", o->lines, "How many of the latest events")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json, "Print a JSON array instead of text");
  cmd->callback([o] {
    auto events = ReadWatchEvents(o->lines);
    if (o->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& e : events) j.push_back(WatchEventToJson(e));
      std::cout << JsonText(j, 2) << std::endl;
      return;
    }
    std::cout << FormatWatchEvents(events);
    if (events.empty() && geteuid() != 0) {
      std::cerr << "(novad's entries are visible only to root and to groups adm and "
                   "systemd-journal)"
                << std::endl;
    }
  });
}

}  // namespace nova
