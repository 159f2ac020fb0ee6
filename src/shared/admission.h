// Admission control: whether one more agent may start. Pure decisions on
// figures read elsewhere, so they are tested exactly.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "meminfo.h"
#include "systemd.h"

namespace nova {

// The memory set aside for agents, the operations guide's rationale: what is
// left of MemTotal after the system's share and the headroom.
uint64_t MemoryForAgents(const Config& config, uint64_t memory_total);

// What admission weighs about the agents already there.
struct AgentLoad {
  uint64_t running = 0;
  // The MemoryMax their units were given, summed: what they may come to use.
  // Weighed only with MaxAgents=auto.
  uint64_t memory_committed = 0;
};

// The live agents among `units`. One without a memory limit counts as the
// whole host, since it may take it all.
AgentLoad MeasureLoad(const std::vector<AgentUnitInfo>& units, uint64_t memory_total);

// Admission with hysteresis, so that it does not flap around one number: it
// closes when host memory reaches AdmissionPercent and reopens only once it
// is below AdmissionReopenPercent. novad's watcher feeds it.
class AdmissionGate {
 public:
  enum class Change { kNone, kClosed, kReopened };
  explicit AdmissionGate(const Config& config) : config_(config) {}
  Change Observe(double used_percent);
  bool open() const { return open_.load(); }

 private:
  const Config& config_;
  std::atomic<bool> open_{true};  // read by other threads (spawns, metrics)
};

// The gate's state as novad publishes it in RUNTIME/admission.json, so that
// `novactl status`, which runs without novad, can say that hysteresis holds
// admission closed. Written when the gate changes and when novad starts.
struct AdmissionState {
  bool open = true;
  int64_t changed_usec = 0;  // CLOCK_REALTIME of the last change
  double used_percent = 0;   // host memory used then
};
inline constexpr const char* kAdmissionStateFile = "admission.json";
// Atomic replace (world-readable); throws Failed.
void WriteAdmissionState(const std::string& path, const AdmissionState& state);
// nullopt when missing or unreadable.
std::optional<AdmissionState> ReadAdmissionState(const std::string& path);

// A one-line reason to refuse a new agent that asks for `memory_max`, or
// nullopt to admit it. Memory at or above AdmissionPercent refuses even
// before the gate has seen it. With MaxAgents=auto the agents' committed
// memory plus the new one's must fit in MemoryForAgents; with a number, the
// count of agents must stay below it.
std::optional<std::string> AdmissionRefusal(const Config& config, const HostMemory& memory,
                                            const AgentLoad& load, uint64_t memory_max,
                                            bool gate_open = true);

// A one-line reason to refuse one more agent to `user`, who runs
// `agents_of_user` already, or nullopt when MaxAgentsPerUser allows it. Root
// is not held to it; the caller decides who is.
std::optional<std::string> PerUserRefusal(const Config& config, const std::string& user,
                                          uint64_t agents_of_user);

}  // namespace nova
