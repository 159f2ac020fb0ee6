// systemd's watchdog for novad (WatchdogSec= in novad.service). Only the
// memory watcher's thread pings it, so systemd restarts novad when the
// guardian itself stops looking at memory, whatever the other threads do.
#pragma once

#include <chrono>
#include <optional>

#include "duration.h"

namespace nova {

// How often to ping a watchdog of `timeout`: four times per timeout, so that
// one late wake-up of a busy host does not cost a restart.
Usec WatchdogPingInterval(Usec timeout);

class Watchdog {
 public:
  // From systemd's WATCHDOG_USEC/WATCHDOG_PID for this process (novad's own
  // environment, set by systemd); disabled without them.
  static Watchdog FromSystemd();
  explicit Watchdog(std::optional<Usec> timeout);

  bool enabled() const { return timeout_.has_value(); }
  std::optional<Usec> timeout() const { return timeout_; }
  // Pings when a ping is due at `now`; returns when the next one is.
  std::chrono::steady_clock::time_point PingIfDue(std::chrono::steady_clock::time_point now);

 private:
  std::optional<Usec> timeout_;
  std::chrono::steady_clock::time_point next_ping_{};
};

// sd_notify(READY=1) and (STOPPING=1) to systemd; nothing outside systemd.
void NotifyReady();
void NotifyStopping();

}  // namespace nova
