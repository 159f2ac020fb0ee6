// The watcher's real host: /proc/meminfo, the agents' cgroups, cgroup.kill
// and the journal. Agents are found through the agents slice's cgroup, so a
// look at every agent's memory costs a few reads per agent and no D-Bus call.
#pragma once

#include <string>
#include <vector>

#include "agent_name.h"
#include "memory_watch.h"
#include "outcome.h"
#include "systemd.h"

namespace nova {

class LinuxWatchHost : public WatchHost {
 public:
  LinuxWatchHost(Systemd& systemd, const OutcomeStore& outcomes,
                 std::string agents_cgroup = kAgentsCgroup);

  HostMemory ReadMemory() override;
  std::vector<AgentMemory> ReadAgents() override;
  // Writes cgroup.kill (Linux >= 5.14): the kernel kills every process of
  // the cgroup at once and nothing can fork away meanwhile. Older kernels
  // fall back to systemd's KillUnit(all, SIGKILL).
  void KillAgent(const std::string& agent, const KillMarker& marker) override;
  std::optional<uint64_t> AgentAnonMemory(const std::string& agent) override;
  std::chrono::steady_clock::time_point Now() override;
  void Sleep(std::chrono::milliseconds duration) override;
  void Emit(const WatchEvent& event) override;

 private:
  std::string CgroupOf(const std::string& agent) const;

  Systemd& systemd_;
  const OutcomeStore& outcomes_;
  std::string agents_cgroup_;
};

}  // namespace nova
