// `novactl doctor`: is this host ready to run agents, and if not, what to
// fix. The host's own checks come from host_setup; doctor adds what only a
// running Nova can tell (systemd, novad, the configuration, the policy,
// capacity). Pure functions of facts read once, so every verdict is tested.
#pragma once

#include <string>
#include <vector>

#include "admission.h"
#include "config.h"
#include "host_setup.h"
#include "meminfo.h"

namespace nova {

// What `novactl doctor` knows beyond the host facts.
struct DoctorInputs {
  unsigned systemd_version = 0;  // 0 when systemd cannot be reached
  std::string novad_state;       // ActiveState of novad.service; empty if not loaded
  std::string config_error;      // empty when the configuration loads
  Config config;
  HostMemory memory;
  AgentLoad agents;                  // memory committed only with MaxAgents=auto
  bool priority_management = false;  // CODER_PROC_PRIO_MGMT in novad's environment file
};

// Whether the default MemoryMax fits the host: above its memory every spawn
// without --memory is refused (a failure); above the memory set aside for
// agents with MaxAgents=auto, admission refuses them (a warning).
Check AgentMemoryCheck(const Config& config, uint64_t memory_total);

// The sandbox in force, and what the profiles lack on this systemd (a
// warning: they degrade, spawns never fail for it).
Check SandboxCheck(const DoctorInputs& in);

// Is this host ready to run agents, and if not, what to fix.
std::vector<Check> DoctorChecks(const HostFacts& facts, const DoctorInputs& in);

}  // namespace nova
