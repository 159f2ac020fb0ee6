// systemd's watchdog for novad (WatchdogSec= in novad.service). Only the
// memory watcher's thread pings it, so systemd restarts novad when the
// guardian itself stops looking at memory, whatever the other threads do.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "duration.h"

namespace nova {

// How often to ping a watchdog of `timeout`: four times per timeout, so that
// one late wake-up of a busy host does not cost a restart.
Usec WatchdogPingInterval(Usec timeout);

// Where systemd listens for a service's notifications ($NOTIFY_SOCKET),
// with one socket kept open: sd_notify makes, sets up and closes a socket at
// each call (ten system calls), for a ping every few seconds; this is one
// sendto, to the address each time (systemd makes the socket anew when it
// re-executes).
class NotifySocket {
 public:
  // nullptr unless ADDRESS is a path ("/run/systemd/notify") or an abstract
  // name ("@..."), or when no socket can be made.
  static std::shared_ptr<NotifySocket> Open(const std::string& address);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  bool Send(std::string_view message) const;

 private:
  NotifySocket() = default;
  int fd_ = -1;
  sockaddr_un address_{};
  socklen_t length_ = 0;
};

class Watchdog {
 public:
  // From systemd's WATCHDOG_USEC/WATCHDOG_PID and NOTIFY_SOCKET for this
  // process (novad's own environment, set by systemd); disabled without them.
  static Watchdog FromSystemd();
  // Pings go to NOTIFY, or through sd_notify without it (or when a send fails).
  explicit Watchdog(std::optional<Usec> timeout, std::shared_ptr<NotifySocket> notify = nullptr);

  bool enabled() const { return timeout_.has_value(); }
  std::optional<Usec> timeout() const { return timeout_; }
  // Pings when a ping is due at `now`; returns when the next one is.
  std::chrono::steady_clock::time_point PingIfDue(std::chrono::steady_clock::time_point now);

 private:
  std::optional<Usec> timeout_;
  std::shared_ptr<NotifySocket> notify_;
  std::chrono::steady_clock::time_point next_ping_{};
};

// sd_notify(READY=1) and (STOPPING=1) to systemd; nothing outside systemd.
void NotifyReady();
void NotifyStopping();

}  // namespace nova
