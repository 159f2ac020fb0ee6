// The watcher's decisions in the journal: one structured entry each, under
// one MESSAGE_ID, with the agent, its memory, host memory, the threshold and
// the action as fields. `journalctl MESSAGE_ID=…` and `novactl events` read
// them back; nothing else needs to keep a history.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "meminfo.h"

typedef struct sd_journal sd_journal;

namespace nova {

// What the watcher did: the NOVA_ACTION of its journal entries.
namespace watch_action {
inline constexpr const char* kAdmissionClosed = "admission-closed";
inline constexpr const char* kAdmissionReopened = "admission-reopened";
inline constexpr const char* kReliefStarted = "relief-started";
inline constexpr const char* kKill = "kill";
inline constexpr const char* kWouldKill = "would-kill";
inline constexpr const char* kKillFailed = "kill-failed";
inline constexpr const char* kConfirmTimeout = "confirm-timeout";
inline constexpr const char* kReliefDone = "relief-done";
inline constexpr const char* kReliefIncomplete = "relief-incomplete";
// The kernel OOM-killed a process inside a running agent (OOMPolicy=continue).
inline constexpr const char* kOomKill = "oom-kill";
}  // namespace watch_action

// One decision of the watcher, as it goes to the journal and `novactl events`.
struct WatchEvent {
  std::string action;  // one of watch_action::k*
  std::string agent;   // empty for host-wide events
  uint64_t agent_memory = 0;
  HostMemory host;
  double threshold_percent = 0;  // the threshold the action answers to
  std::string trigger;           // "watcher", or who asked for relief
  bool dry_run = false;
  // kill and would-kill: why relief chose this agent ("growing 180M/s at
  // 250M, 1.2G projected in 5s", "largest, steady at 307M"), its measured
  // growth (bytes/s, negative when shrinking) and projected memory.
  std::string reason;
  int64_t agent_growth = 0;
  uint64_t agent_projected = 0;
  // oom-kill: the agent's OOM kills so far, how many are new, and the last
  // process killed (pid 0 and "" when the kernel log did not say; the name
  // is the agent's and escaped).
  uint64_t oom_kills = 0;
  uint64_t oom_new = 0;
  int64_t oom_pid = 0;
  std::string oom_process;
  std::string message;  // one line for humans
};

inline constexpr const char* kWatchMessageId = "04e3b80fca2848339fcc32052574fbd2";

// Sends `event` to the journal; prints it on stderr if there is no journal.
void JournalWatchEvent(const WatchEvent& event);

struct RecordedWatchEvent {
  int64_t realtime_usec = 0;  // when novad acted (NOVA_TIME_USEC)
  WatchEvent event;
};

// What ReadWatchEvents matches: the MESSAGE_ID, and the fields journald
// itself sets from the sender's credentials (_UID, _SYSTEMD_UNIT), which no
// client can forge. Anyone may log an entry with novad's MESSAGE_ID and
// fields of their choosing; only root in novad.service is novad.
std::vector<std::string> WatchEventMatches();

// novad's watcher entries in the journal, read once or followed. Throws
// Unavailable when the system journal cannot be read (the caller needs root
// or group adm or systemd-journal).
class WatchEventJournal {
 public:
  WatchEventJournal();
  ~WatchEventJournal();
  WatchEventJournal(const WatchEventJournal&) = delete;
  WatchEventJournal& operator=(const WatchEventJournal&) = delete;

  // The last `count` events, or with `since_usec` the last `count` of those
  // logged since then (CLOCK_REALTIME), oldest first. Next() goes on after
  // the newest there is.
  std::vector<RecordedWatchEvent> Read(size_t count, std::optional<int64_t> since_usec);
  // The events logged after those read so far, waiting up to `timeout_usec`
  // for the first.
  std::vector<RecordedWatchEvent> Next(uint64_t timeout_usec);

 private:
  sd_journal* journal_ = nullptr;
};

// The last `count` watcher events (since `since_usec` when given), oldest first.
std::vector<RecordedWatchEvent> ReadWatchEvents(size_t count,
                                                std::optional<int64_t> since_usec = std::nullopt);

nlohmann::json WatchEventToJson(const RecordedWatchEvent& event);

}  // namespace nova
