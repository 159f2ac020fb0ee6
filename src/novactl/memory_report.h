// What novactl shows of host memory and the watcher: the live `watch` frame,
// the `events` history and the result of `relieve`, as text and as JSON.
// Pure formatting, so it is tested exactly.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "agent_memory.h"
#include "config.h"
#include "meminfo.h"
#include "watch_events.h"

namespace nova {

struct WatchFrame {
  HostMemory memory;
  std::vector<AgentMemory> agents;  // any order; shown largest first
  int64_t realtime_usec = 0;
};

std::string FormatWatchFrame(const WatchFrame& frame, const Config& config);
nlohmann::json WatchFrameToJson(const WatchFrame& frame, const Config& config);

// One line per event, oldest first: local time, action, message.
std::string FormatWatchEvents(const std::vector<RecordedWatchEvent>& events);

// What novad's Relieve answers.
struct ReliefReport {
  double target_percent = 0;
  double used_percent_before = 0;
  double used_percent_after = 0;
  std::vector<AgentMemory> victims;  // killed, or would be in a dry run
  bool dry_run = false;
  bool reached_target = false;
};

std::string FormatRelief(const ReliefReport& report);
nlohmann::json ReliefToJson(const ReliefReport& report);

}  // namespace nova
