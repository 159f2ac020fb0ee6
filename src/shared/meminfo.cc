#include "meminfo.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "errors.h"
#include "files.h"

namespace nova {

HostMemory ParseMeminfo(std::string_view text) {
  HostMemory memory;
  bool have_total = false, have_available = false;
  std::istringstream in{std::string(text)};
  std::string key;
  uint64_t kib = 0;
  std::string unit_and_rest;
  while (in >> key >> kib) {
    std::getline(in, unit_and_rest);
    if (key == "MemTotal:") {
      memory.total = kib * 1024;
      have_total = true;
    } else if (key == "MemAvailable:") {
      memory.available = kib * 1024;
      have_available = true;
    } else if (key == "SwapTotal:") {
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

}  // namespace nova
