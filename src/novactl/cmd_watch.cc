#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent_memory.h"
#include "build_config.h"
#include "commands.h"
#include "config.h"
#include "duration.h"
#include "errors.h"
#include "json_output.h"
#include "memory_report.h"
#include "text.h"

namespace nova {
void AddWatchCommand(CLI::App& app) {
  struct Options {
    std::string interval = "1s";
    unsigned count = 0;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("watch", "Show host and per-agent memory, live");
  cmd->footer(
      "\nRedraws in place on a terminal (Ctrl-C to stop); otherwise prints one frame\n"
      "after the other. Reads /proc/meminfo and the agents' cgroups directly, so it\n"
      "works while novad is down. --json prints one JSON object per line and frame.");
  cmd->add_option("--interval,-i", o->interval, "Time between frames (default 1s)");
  cmd->add_option("--count,-c", o->count, "Stop after this many frames (default: never)");
  cmd->add_flag("--json", o->json, "One JSON object per frame and line");
  cmd->callback([o] {
    Usec interval = ParseDurationOrThrow("--interval", o->interval);
    if (interval < std::chrono::milliseconds(100)) {
      throw Error(ErrorKind::kInvalidArgument,
                  "--interval " + Printable(o->interval) + " is too short; expected 100ms or more");
    }
    Config config = LoadConfig(kConfigPath);
    bool redraw = !o->json && isatty(STDOUT_FILENO);
    for (unsigned frame = 1;; ++frame) {
      WatchFrame f{ReadHostMemory(), ReadAgentMemory(), RealtimeUsec()};
      if (o->json) {
        std::cout << JsonText(WatchFrameToJson(f, config)) << std::endl;
      } else {
        // Home and clear-to-end, so the frame replaces the last one.
        std::cout << (redraw ? "\x1b[H\x1b[2J" : (frame > 1 ? "\n" : ""))
                  << FormatWatchFrame(f, config) << std::flush;
      }
      if (o->count && frame >= o->count) return;
      std::this_thread::sleep_for(interval);
    }
  });
}

}  // namespace nova
