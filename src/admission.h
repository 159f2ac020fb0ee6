// Admission control: whether one more agent may start. Pure decisions on
// figures read elsewhere, so they are tested exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config.h"
#include "meminfo.h"

namespace nova {

// The operations guide's rationale: memory left for agents after the
// system's share and the headroom, divided by the per-agent limit (at least 1).
uint64_t AutoMaxAgents(const Config& config, uint64_t memory_total);

// config.max_agents, or AutoMaxAgents when it is 0 (auto).
uint64_t MaxAgents(const Config& config, uint64_t memory_total);

// Admission with hysteresis, so that it does not flap around one number: it
// closes when host memory reaches AdmissionPercent and reopens only once it
// is below AdmissionReopenPercent. novad's watcher feeds it.
class AdmissionGate {
 public:
  enum class Change { kNone, kClosed, kReopened };
  explicit AdmissionGate(const Config& config) : config_(config) {}
  Change Observe(double used_percent);
  bool open() const { return open_; }

 private:
  const Config& config_;
  bool open_ = true;
};

// A one-line reason to refuse a new agent, or nullopt to admit it. Memory at
// or above AdmissionPercent refuses even before the gate has seen it.
std::optional<std::string> AdmissionRefusal(const Config& config, const HostMemory& memory,
                                            uint64_t agents_running, bool gate_open = true);

}  // namespace nova
