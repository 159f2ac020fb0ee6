// novad's threads carry names (watcher, worker-N, metrics, reaper), so that
// `top -H`, `ps -L` and /proc/PID/task/TID/comm tell an operator, and a
// benchmark, which of them spends the CPU.
#pragma once

#include <sys/prctl.h>

#include <string>

namespace nova {

// Names the calling thread; the kernel keeps the first 15 bytes.
inline void NameThisThread(const std::string& name) { ::prctl(PR_SET_NAME, name.c_str(), 0, 0, 0); }

}  // namespace nova
