#include "admission.h"

#include <cmath>
#include <cstdio>

namespace nova {

uint64_t AutoMaxAgents(const Config& config, uint64_t memory_total) {
  double share = 1.0 - (config.system_share_percent + config.headroom_percent) / 100.0;
  double for_agents = std::floor(static_cast<double>(memory_total) * share);
  uint64_t count = static_cast<uint64_t>(for_agents / config.memory_max);
  return count > 0 ? count : 1;
}

uint64_t MaxAgents(const Config& config, uint64_t memory_total) {
  return config.max_agents > 0 ? config.max_agents : AutoMaxAgents(config, memory_total);
}

AdmissionGate::Change AdmissionGate::Observe(double used_percent) {
  if (open_ && used_percent >= config_.admission_percent) {
    open_ = false;
    return Change::kClosed;
  }
  if (!open_ && used_percent < config_.admission_reopen_percent) {
    open_ = true;
    return Change::kReopened;
  }
  return Change::kNone;
}

std::optional<std::string> AdmissionRefusal(const Config& config, const HostMemory& memory,
                                            uint64_t agents_running, bool gate_open) {
  char buf[256];
  if (memory.used_percent() >= config.admission_percent) {
    std::snprintf(buf, sizeof buf,
                  "host memory is %.1f%% used, at or above the admission "
                  "threshold of %g%%; wait for agents to finish or free memory",
                  memory.used_percent(), config.admission_percent);
    return buf;
  }
  if (!gate_open) {
    std::snprintf(buf, sizeof buf,
                  "host memory is %.1f%% used; admission closed at %g%% and reopens below "
                  "%g%% (AdmissionReopenPercent); wait for agents to finish or free memory",
                  memory.used_percent(), config.admission_percent, config.admission_reopen_percent);
    return buf;
  }
  uint64_t max = MaxAgents(config, memory.total);
  if (agents_running >= max) {
    std::snprintf(buf, sizeof buf,
                  "%llu agents are running, the maximum is %llu (MaxAgents); "
                  "wait for one to finish or kill one",
                  static_cast<unsigned long long>(agents_running),
                  static_cast<unsigned long long>(max));
    return buf;
  }
  return std::nullopt;
}

}  // namespace nova
