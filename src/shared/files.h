// Reading a whole small file (/proc, /sys, configuration) the one way: a
// read(2) loop into a string, no stream. novad reads such files in loops
// (every agent's cgroup, /proc/meminfo every tick), where a stream per file
// was most of the cost.
#pragma once

#include <optional>
#include <string>

namespace nova {

// How the kernel makes a file's contents. kOne: in one piece, whole at each
// read that asks for more than it holds (seq_file's single record:
// /proc/meminfo, /proc/loadavg, /proc/PID/cgroup and oom_score_adj, a
// cgroup's memory.current, cpu.stat, memory.events), so a read shorter than
// asked is the end and a small file costs one read, not a second one to see
// the end. kAny: anything else (a file on disk, cgroup.procs, which the
// kernel lists a pid at a time and may return short before its end).
enum class Pieces { kAny, kOne };

// The file's contents, or nullopt when it cannot be opened or read.
std::optional<std::string> ReadFile(const std::string& path, Pieces pieces = Pieces::kAny);

// The same into OUT (its capacity reused), for NAME below the directory open
// at DIR_FD (AT_FDCWD: NAME is a path); false when it cannot be opened or read.
bool ReadSmallFile(int dir_fd, const char* name, std::string& out, Pieces pieces = Pieces::kAny);

// The whole of an open file read again from offset 0 (/proc and cgroupfs
// make their contents anew at each read from the start), so that a file read
// every tick costs one pread (kOne); false on a read error.
bool ReadFromStart(int fd, std::string& out, Pieces pieces = Pieces::kAny);

}  // namespace nova
