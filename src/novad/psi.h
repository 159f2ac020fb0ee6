// A PSI trigger on /proc/pressure/memory: the kernel wakes novad the moment
// tasks stall on memory for longer than a threshold within a window, instead
// of novad finding out at its next read of /proc/meminfo.
#pragma once

#include <optional>
#include <string>

#include "duration.h"

namespace nova {

class PressureTrigger {
 public:
  // Arms "some STALL WINDOW". On failure (no PSI in this kernel, booted with
  // psi=0) returns nullopt and says why in `why`.
  static std::optional<PressureTrigger> Open(Usec stall, Usec window, std::string* why,
                                             const std::string& path = "/proc/pressure/memory");
  PressureTrigger(PressureTrigger&& other) noexcept;
  PressureTrigger& operator=(PressureTrigger&&) = delete;
  ~PressureTrigger();

  // Poll it for POLLPRI.
  int fd() const { return fd_; }

 private:
  explicit PressureTrigger(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace nova
