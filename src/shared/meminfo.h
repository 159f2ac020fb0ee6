// Host memory as the kernel reports it. "Used" is MemTotal - MemAvailable:
// MemAvailable already counts reclaimable page cache as free and tmpfs/shmem
// pages as used (without swap they cannot be reclaimed), which is exactly
// the memory agents can still get.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nova {

struct HostMemory {
  uint64_t total = 0;       // bytes
  uint64_t available = 0;   // bytes
  uint64_t swap_total = 0;  // bytes
  uint64_t used() const { return total > available ? total - available : 0; }
  double used_percent() const {
    return total == 0 ? 0 : 100.0 * static_cast<double>(used()) / total;
  }
};

// Parses the text of /proc/meminfo; throws if MemTotal or MemAvailable is missing.
HostMemory ParseMeminfo(std::string_view text);

// "85.2%": a share of host memory, one decimal.
std::string FormatPercent(double percent);
// "85%", "72.5%": a configured threshold, as written.
std::string FormatThreshold(double percent);
HostMemory ReadHostMemory();

// /proc/meminfo kept open and read again from its start: one pread per
// reading, for the watcher that reads it up to every 20 ms.
class MeminfoReader {
 public:
  MeminfoReader();
  ~MeminfoReader();
  MeminfoReader(const MeminfoReader&) = delete;
  MeminfoReader& operator=(const MeminfoReader&) = delete;
  HostMemory Read();  // throws as ParseMeminfo does

 private:
  int fd_ = -1;
  std::string text_;
};

}  // namespace nova
