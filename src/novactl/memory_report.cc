#include "memory_report.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "size.h"
#include "table.h"
#include "text.h"

namespace nova {
namespace {

// A 40-column gauge with the thresholds marked: | admission, ! relief.
std::string Gauge(const HostMemory& m, const Config& c) {
  constexpr int kWidth = 40;
  auto column = [](double percent) {
    return std::clamp(static_cast<int>(percent * kWidth / 100), 0, kWidth - 1);
  };
  std::string bar(kWidth, '.');
  int filled = static_cast<int>(m.used_percent() * kWidth / 100 + 0.5);
  for (int i = 0; i < std::min(filled, kWidth); ++i) bar[i] = '#';
  bar[column(c.admission_percent)] = '|';
  bar[column(c.relief_percent)] = '!';
  return "[" + bar + "]";
}

std::string LocalTime(int64_t realtime_usec) {
  time_t seconds = static_cast<time_t>(realtime_usec / 1000000);
  tm local{};
  localtime_r(&seconds, &local);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%03d", buf, static_cast<int>(realtime_usec / 1000 % 1000));
  return out;
}

}  // namespace

std::string FormatWatchFrame(const WatchFrame& f, const Config& c) {
  std::string state = f.memory.used_percent() >= c.relief_percent      ? "RELIEF (kills agents)"
                      : f.memory.used_percent() >= c.admission_percent ? "admission closed"
                                                                       : "ok";
  char head[512];
  std::snprintf(head, sizeof head,
                "%s  host memory %s of %s used (%s): %s\n%s  | admission %g%% (reopens below "
                "%g%%)  ! relief %g%% (down to %g%%)\n\n",
                LocalTime(f.realtime_usec).c_str(), FormatSize(f.memory.used()).c_str(),
                FormatSize(f.memory.total).c_str(), FormatPercent(f.memory.used_percent()).c_str(),
                state.c_str(), Gauge(f.memory, c).c_str(), c.admission_percent,
                c.admission_reopen_percent, c.relief_percent, c.relief_target_percent);
  std::string out = head;
  if (f.agents.empty()) return out + "No agents running.\n";
  std::vector<std::vector<std::string>> rows;
  uint64_t sum = 0;
  for (const AgentMemory& a : VictimOrder(f.agents)) {
    sum += a.current;
    double of_host = f.memory.total ? 100.0 * static_cast<double>(a.current) / f.memory.total : 0;
    rows.push_back({Printable(a.agent), FormatSize(a.current),
                    a.max == kInfinity ? "-" : FormatSize(a.max), FormatPercent(of_host)});
  }
  out += RenderTable({"AGENT", "MEMORY", "LIMIT", "OF HOST"}, rows);
  return out + "\n" + std::to_string(f.agents.size()) + " agent(s), " + FormatSize(sum) +
         " in all; largest first (relief's order for steady agents).\n";
}

nlohmann::json WatchFrameToJson(const WatchFrame& f, const Config& c) {
  nlohmann::json agents = nlohmann::json::array();
  for (const AgentMemory& a : VictimOrder(f.agents)) {
    agents.push_back({{"name", a.agent},
                      {"memory_current_bytes", a.current},
                      {"memory_max_bytes",
                       a.max == kInfinity ? nlohmann::json(nullptr) : nlohmann::json(a.max)}});
  }
  return {{"time_usec", f.realtime_usec},
          {"host",
           {{"memory_total_bytes", f.memory.total},
            {"memory_used_bytes", f.memory.used()},
            {"memory_used_percent", f.memory.used_percent()},
            {"admission_percent", c.admission_percent},
            {"admission_reopen_percent", c.admission_reopen_percent},
            {"relief_percent", c.relief_percent},
            {"relief_target_percent", c.relief_target_percent}}},
          {"agents", agents}};
}

std::string FormatWatchEvents(const std::vector<RecordedWatchEvent>& events) {
  if (events.empty()) return "No watcher events.\n";
  std::string out;
  for (const auto& r : events) {
    // Read back from the journal: shown escaped, whoever wrote it. novad
    // escapes what agents control (an OOM-killed process's name) before it
    // logs it, so a message without control characters is shown as it is,
    // not with each of its backslashes doubled.
    const std::string& message = r.event.message;
    out += LocalTime(r.realtime_usec) + "  " +
           (FindControl(message) ? Printable(message) : message) + "\n";
  }
  return out;
}

std::string FormatRelief(const ReliefReport& r) {
  double target = r.target_percent;
  char line[256];
  std::string out;
  if (r.victims.empty() && r.reached_target) {
    std::snprintf(line, sizeof line,
                  "Host memory is %s used, already below %g%%; no agent was killed.\n",
                  FormatPercent(r.used_percent_before).c_str(), target);
    return line;
  }
  std::snprintf(line, sizeof line, "Host memory was %s used; target below %g%%.\n",
                FormatPercent(r.used_percent_before).c_str(), target);
  out += line;
  for (const AgentMemory& v : r.victims) {
    out += (r.dry_run ? "Would kill agent " : "Killed agent ") + Printable(v.agent) + " (" +
           FormatSize(v.current) + ")\n";
  }
  if (r.dry_run) {
    out += "Dry run: nothing was killed.\n";
  } else {
    std::snprintf(line, sizeof line, "Host memory is now %s used%s.\n",
                  FormatPercent(r.used_percent_after).c_str(),
                  r.reached_target ? "" : "; no agent is left to kill, the rest is not Nova's");
    out += line;
  }
  return out;
}

nlohmann::json ReliefToJson(const ReliefReport& r) {
  double target = r.target_percent;
  nlohmann::json victims = nlohmann::json::array();
  for (const AgentMemory& v : r.victims) {
    victims.push_back({{"name", v.agent}, {"memory_current_bytes", v.current}});
  }
  return {{"target_percent", target},
          {"dry_run", r.dry_run},
          {"used_percent_before", r.used_percent_before},
          {"used_percent_after", r.used_percent_after},
          {"reached_target", r.reached_target},
          {r.dry_run ? "would_kill" : "killed", victims}};
}

}  // namespace nova
