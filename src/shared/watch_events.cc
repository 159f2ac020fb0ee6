#include "watch_events.h"

#include <syslog.h>
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "duration.h"
#include "errors.h"
#include "journal.h"

namespace nova {
namespace {

int PriorityFor(const std::string& action) {
  if (action == watch_action::kKill || action == watch_action::kKillFailed ||
      action == watch_action::kReliefIncomplete || action == watch_action::kConfirmTimeout ||
      action == watch_action::kOomKill) {
    return LOG_WARNING;
  }
  return LOG_NOTICE;
}

uint64_t Number(const std::string& text) {
  try {
    return text.empty() ? 0 : std::stoull(text);
  } catch (const std::exception&) {
    return 0;
  }
}

double Real(const std::string& text) {
  try {
    return text.empty() ? 0 : std::stod(text);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

void JournalWatchEvent(const WatchEvent& e) {
  char percent[32];
  std::snprintf(percent, sizeof percent, "%.2f", e.host.used_percent());
  char threshold[32];
  std::snprintf(threshold, sizeof threshold, "%g", e.threshold_percent);
  int r = sd_journal_send(
      "MESSAGE=%s", e.message.c_str(), "MESSAGE_ID=%s", kWatchMessageId, "PRIORITY=%d",
      PriorityFor(e.action), "SYSLOG_IDENTIFIER=novad", "NOVA_ACTION=%s", e.action.c_str(),
      "NOVA_AGENT=%s", e.agent.c_str(), "NOVA_AGENT_MEMORY=%llu",
      static_cast<unsigned long long>(e.agent_memory), "NOVA_HOST_MEMORY_PERCENT=%s", percent,
      "NOVA_HOST_MEMORY_USED=%llu", static_cast<unsigned long long>(e.host.used()),
      "NOVA_HOST_MEMORY_TOTAL=%llu", static_cast<unsigned long long>(e.host.total),
      "NOVA_THRESHOLD_PERCENT=%s", threshold, "NOVA_TRIGGER=%s", e.trigger.c_str(),
      "NOVA_DRY_RUN=%d", e.dry_run ? 1 : 0, "NOVA_TIME_USEC=%lld",
      static_cast<long long>(RealtimeUsec()), "NOVA_VICTIM_REASON=%s", e.reason.c_str(),
      "NOVA_AGENT_GROWTH=%lld", static_cast<long long>(e.agent_growth), "NOVA_AGENT_PROJECTED=%llu",
      static_cast<unsigned long long>(e.agent_projected), "NOVA_OOM_KILLS=%llu",
      static_cast<unsigned long long>(e.oom_kills), "NOVA_OOM_NEW=%llu",
      static_cast<unsigned long long>(e.oom_new), "NOVA_OOM_PID=%lld",
      static_cast<long long>(e.oom_pid), "NOVA_OOM_PROCESS=%s", e.oom_process.c_str(), nullptr);
  if (r < 0) std::cerr << "novad: " << e.message << std::endl;
}

std::vector<std::string> WatchEventMatches() {
  return {std::string("MESSAGE_ID=") + kWatchMessageId, "_UID=0", "_SYSTEMD_UNIT=novad.service"};
}

namespace {

RecordedWatchEvent CurrentEvent(sd_journal* j) {
  RecordedWatchEvent rec;
  uint64_t usec = 0;
  sd_journal_get_realtime_usec(j, &usec);
  // When novad acted; the journal's own stamp is when it received the entry.
  uint64_t acted = Number(JournalField(j, "NOVA_TIME_USEC"));
  rec.realtime_usec = static_cast<int64_t>(acted ? acted : usec);
  WatchEvent& e = rec.event;
  e.action = JournalField(j, "NOVA_ACTION");
  e.agent = JournalField(j, "NOVA_AGENT");
  e.agent_memory = Number(JournalField(j, "NOVA_AGENT_MEMORY"));
  e.host.total = Number(JournalField(j, "NOVA_HOST_MEMORY_TOTAL"));
  uint64_t used = Number(JournalField(j, "NOVA_HOST_MEMORY_USED"));
  e.host.available = e.host.total > used ? e.host.total - used : 0;
  e.threshold_percent = Real(JournalField(j, "NOVA_THRESHOLD_PERCENT"));
  e.trigger = JournalField(j, "NOVA_TRIGGER");
  e.dry_run = JournalField(j, "NOVA_DRY_RUN") == "1";
  e.reason = JournalField(j, "NOVA_VICTIM_REASON");
  try {
    std::string growth = JournalField(j, "NOVA_AGENT_GROWTH");
    e.agent_growth = growth.empty() ? 0 : std::stoll(growth);
  } catch (const std::exception&) {
  }
  e.agent_projected = Number(JournalField(j, "NOVA_AGENT_PROJECTED"));
  e.oom_kills = Number(JournalField(j, "NOVA_OOM_KILLS"));
  e.oom_new = Number(JournalField(j, "NOVA_OOM_NEW"));
  e.oom_pid = static_cast<int64_t>(Number(JournalField(j, "NOVA_OOM_PID")));
  e.oom_process = JournalField(j, "NOVA_OOM_PROCESS");
  e.message = JournalField(j, "MESSAGE");
  return rec;
}

}  // namespace

WatchEventJournal::WatchEventJournal() {
  int r = sd_journal_open(&journal_, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
  if (r < 0) {
    throw Error(ErrorKind::kUnavailable,
                std::string("cannot open the system journal: ") + std::strerror(-r));
  }
  // Matches on different fields must all hold.
  for (const std::string& match : WatchEventMatches()) {
    r = sd_journal_add_match(journal_, match.data(), match.size());
    if (r < 0) {
      sd_journal_close(journal_);
      throw Error(ErrorKind::kFailed,
                  "cannot search the journal for " + match + ": " + std::strerror(-r));
    }
  }
}

WatchEventJournal::~WatchEventJournal() { sd_journal_close(journal_); }

std::vector<RecordedWatchEvent> WatchEventJournal::Read(size_t count,
                                                        std::optional<int64_t> since_usec) {
  std::vector<RecordedWatchEvent> events;
  if (since_usec) {
    sd_journal_seek_realtime_usec(journal_,
                                  static_cast<uint64_t>(std::max<int64_t>(*since_usec, 0)));
    while (sd_journal_next(journal_) > 0) {
      events.push_back(CurrentEvent(journal_));
      if (events.size() > count) events.erase(events.begin());
    }
    return events;
  }
  sd_journal_seek_tail(journal_);
  while (events.size() < count && sd_journal_previous(journal_) > 0) {
    events.push_back(CurrentEvent(journal_));
  }
  std::reverse(events.begin(), events.end());
  // Back to the newest, so that Next() gives what comes after it.
  sd_journal_seek_tail(journal_);
  sd_journal_previous(journal_);
  return events;
}

std::vector<RecordedWatchEvent> WatchEventJournal::Next(uint64_t timeout_usec) {
  std::vector<RecordedWatchEvent> events;
  for (int round = 0; round < 2 && events.empty(); ++round) {
    if (round == 1) sd_journal_wait(journal_, timeout_usec);
    while (sd_journal_next(journal_) > 0) events.push_back(CurrentEvent(journal_));
  }
  return events;
}

std::vector<RecordedWatchEvent> ReadWatchEvents(size_t count, std::optional<int64_t> since_usec) {
  return WatchEventJournal().Read(count, since_usec);
}

nlohmann::json WatchEventToJson(const RecordedWatchEvent& r) {
  const WatchEvent& e = r.event;
  nlohmann::json j = {{"time_usec", r.realtime_usec},
                      {"action", e.action},
                      {"host_memory_used", e.host.used()},
                      {"host_memory_total", e.host.total},
                      {"host_memory_percent", e.host.used_percent()},
                      {"threshold_percent", e.threshold_percent},
                      {"trigger", e.trigger},
                      {"dry_run", e.dry_run},
                      {"message", e.message}};
  if (!e.agent.empty()) {
    j["agent"] = e.agent;
    j["agent_memory"] = e.agent_memory;
  }
  if (e.action == watch_action::kKill || e.action == watch_action::kWouldKill) {
    j["reason"] = e.reason;
    j["agent_growth_bytes_per_second"] = e.agent_growth;
    j["agent_projected"] = e.agent_projected;
  }
  if (e.action == watch_action::kOomKill) {
    j["oom_kills"] = e.oom_kills;
    j["oom_new"] = e.oom_new;
    j["oom_pid"] = e.oom_pid == 0 ? nlohmann::json(nullptr) : nlohmann::json(e.oom_pid);
    j["oom_process"] =
        e.oom_process.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.oom_process);
  }
  return j;
}

}  // namespace nova
