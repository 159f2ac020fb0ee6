#include "watchdog.h"

#include <systemd/sd-daemon.h>

#include <algorithm>

namespace nova {

Usec WatchdogPingInterval(Usec timeout) {
  return std::max(Usec(timeout.count() / 4), Usec(std::chrono::milliseconds(1)));
}

Watchdog Watchdog::FromSystemd() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return Watchdog(Usec(usec));
  return Watchdog(std::nullopt);
}

Watchdog::Watchdog(std::optional<Usec> timeout) : timeout_(timeout) {}

std::chrono::steady_clock::time_point Watchdog::PingIfDue(
    std::chrono::steady_clock::time_point now) {
  if (!timeout_) return std::chrono::steady_clock::time_point::max();
  if (now >= next_ping_) {
    sd_notify(0, "WATCHDOG=1");
    next_ping_ = now + WatchdogPingInterval(*timeout_);
  }
  return next_ping_;
}

void NotifyReady() { sd_notify(0, "READY=1"); }
void NotifyStopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace nova
