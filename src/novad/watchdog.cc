#include "watchdog.h"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace nova {

Usec WatchdogPingInterval(Usec timeout) {
  return std::max(Usec(timeout.count() / 4), Usec(std::chrono::milliseconds(1)));
}

std::shared_ptr<NotifySocket> NotifySocket::Open(const std::string& address) {
  if (address.size() < 2 || (address[0] != '/' && address[0] != '@')) return nullptr;
  std::shared_ptr<NotifySocket> notify(new NotifySocket);
  bool path = address[0] == '/';  // a path ends with a NUL, an abstract name not
  if (address.size() + (path ? 1 : 0) > sizeof notify->address_.sun_path) return nullptr;
  notify->address_.sun_family = AF_UNIX;
  std::memcpy(notify->address_.sun_path, address.data(), address.size());
  if (!path) notify->address_.sun_path[0] = '\0';
  notify->length_ =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() + (path ? 1 : 0));
  notify->fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (notify->fd_ < 0) return nullptr;
  return notify;
}

NotifySocket::~NotifySocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool NotifySocket::Send(std::string_view message) const {
  return ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                  reinterpret_cast<const sockaddr*>(&address_),
                  length_) == static_cast<ssize_t>(message.size());
}

Watchdog Watchdog::FromSystemd() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    const char* address = std::getenv("NOTIFY_SOCKET");
    return Watchdog(Usec(usec), NotifySocket::Open(address ? address : ""));
  }
  return Watchdog(std::nullopt);
}

Watchdog::Watchdog(std::optional<Usec> timeout, std::shared_ptr<NotifySocket> notify)
    : timeout_(timeout), notify_(std::move(notify)) {}

std::chrono::steady_clock::time_point Watchdog::PingIfDue(
    std::chrono::steady_clock::time_point now) {
  if (!timeout_) return std::chrono::steady_clock::time_point::max();
  if (now >= next_ping_) {
    if (!notify_ || !notify_->Send("WATCHDOG=1")) sd_notify(0, "WATCHDOG=1");
    next_ping_ = now + WatchdogPingInterval(*timeout_);
  }
  return next_ping_;
}

void NotifyReady() { sd_notify(0, "READY=1"); }
void NotifyStopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace nova
