#include "meminfo.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>

#include "errors.h"
#include "files.h"
#include "text.h"

namespace nova {

HostMemory ParseMeminfo(std::string_view text) {
  HostMemory memory;
  bool have_total = false, have_available = false;
  // Lines of "Key:   123 kB".
  while (!text.empty()) {
    std::string_view line = TakeLine(text);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon), rest = line.substr(colon + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    uint64_t kib = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
    if (ec != std::errc() || kib > UINT64_MAX / 1024) continue;
    if (key == "MemTotal") {
      memory.total = kib * 1024;
      have_total = true;
    } else if (key == "MemAvailable") {
      memory.available = kib * 1024;
      have_available = true;
    } else if (key == "SwapTotal") {
      memory.swap_total = kib * 1024;
    }
  }
  if (!have_total || !have_available) {
    throw Error(ErrorKind::kFailed,
                "/proc/meminfo lacks MemTotal or MemAvailable (Linux >= 3.14 "
                "is required)");
  }
  return memory;
}

std::string FormatPercent(double percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", percent);
  return buf;
}

std::string FormatThreshold(double percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", percent);
  return buf;
}

HostMemory ReadHostMemory() { return ParseMeminfo(ReadFile("/proc/meminfo").value_or("")); }

MeminfoReader::MeminfoReader() : fd_(::open("/proc/meminfo", O_RDONLY | O_CLOEXEC)) {}

MeminfoReader::~MeminfoReader() {
  if (fd_ >= 0) ::close(fd_);
}

HostMemory MeminfoReader::Read() {
  if (fd_ < 0 || !ReadFromStart(fd_, text_, Pieces::kOne)) return ReadHostMemory();
  return ParseMeminfo(text_);
}

}  // namespace nova
