// Reading a whole small file (/proc, /sys, configuration) the one way: a
// read(2) loop into a string, no stream. novad reads such files in loops
// (every agent's cgroup, /proc/meminfo every tick), where a stream per file
// was most of the cost.
#pragma once

#include <optional>
#include <string>

namespace nova {

// The file's contents, or nullopt when it cannot be opened or read.
std::optional<std::string> ReadFile(const std::string& path);

// The same into OUT (its capacity reused), for NAME below the directory open
// at DIR_FD (AT_FDCWD: NAME is a path); false when it cannot be opened or read.
bool ReadSmallFile(int dir_fd, const char* name, std::string& out);

// The whole of an open file read again from offset 0 (/proc and cgroupfs
// make their contents anew at each read from the start), so that a file read
// every tick costs one pread; false on a read error.
bool ReadFromStart(int fd, std::string& out);

}  // namespace nova
