#include "psi.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace nova {

std::optional<PressureTrigger> PressureTrigger::Open(Usec stall, Usec window, std::string* why,
                                                     const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *why = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string trigger =
      "some " + std::to_string(stall.count()) + " " + std::to_string(window.count());
  if (::write(fd, trigger.c_str(), trigger.size() + 1) < 0) {
    *why = path + ": arming \"" + trigger + "\": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  return PressureTrigger(fd);
}

PressureTrigger::PressureTrigger(PressureTrigger&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

PressureTrigger::~PressureTrigger() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace nova
