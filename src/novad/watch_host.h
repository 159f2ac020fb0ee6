// The watcher's real host: /proc/meminfo, the agents' cgroups, cgroup.kill,
// the journal, and for OOM kills inside agents their memory.events, the
// kernel log (/dev/kmsg) and RUNTIME/oom-kills.json. Agents are found through the agents slice's
// cgroup, so a look at every agent's memory costs a few reads per agent and no D-Bus call.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "agent_name.h"
#include "meminfo.h"
#include "memory_watch.h"
#include "outcome.h"
#include "systemd.h"

namespace nova {

// Each agent's memory.events oom_kill, the kernel log's new records, and the
// recorded counts in RUNTIME/oom-kills.json.
class LinuxOomSource : public OomSource {
 public:
  LinuxOomSource(std::string agents_cgroup, std::string state_file);
  ~LinuxOomSource() override;
  LinuxOomSource(const LinuxOomSource&) = delete;
  LinuxOomSource& operator=(const LinuxOomSource&) = delete;

  // Reads every agent's memory.events only when the slice's own oom_kill
  // (the subtree's total) moved since the last read.
  std::vector<AgentOomCount> ReadOomCounts() override;
  // Opens /dev/kmsg at the first call, at its end; without it (no
  // permission, no such device) kills are still counted, unnamed.
  std::vector<std::string> ReadKernelLog() override;
  std::optional<OomKillsByAgent> LoadOomKills() override;
  void SaveOomKills(const OomKillsByAgent& kills) override;
  int64_t RealtimeUsec() override;

 private:
  std::string agents_cgroup_;
  std::string state_file_;
  std::optional<uint64_t> last_slice_total_;  // the slice's oom_kill at the last full read
  std::vector<AgentOomCount> last_counts_;    // that read's counts
  int kmsg_ = -1;
  bool kmsg_tried_ = false;
  bool save_failed_ = false;
};

// At most this many of a victim's processes are reaped from novad, found in
// at most this many of its cgroups; the rest free their memory as they exit,
// as they would anyway. It keeps a fork bomb from costing novad thousands of
// descriptors, and a tree of cgroups from holding up the watcher.
inline constexpr size_t kMaxReapedProcesses = 256;
inline constexpr size_t kMaxReapedCgroups = 1024;

// A pidfd for each process of CGROUP's subtree, at most MAX_PROCESSES found
// in at most MAX_CGROUPS cgroups (CGROUP's own first); the caller closes them.
std::vector<int> OpenPidfds(const std::string& cgroup, size_t max_processes, size_t max_cgroups);

class LinuxWatchHost : public WatchHost {
 public:
  LinuxWatchHost(Systemd& systemd, const OutcomeStore& outcomes,
                 std::string agents_cgroup = kAgentsCgroup);

  HostMemory ReadMemory() override;
  std::vector<AgentMemory> ReadAgents() override;
  // Writes cgroup.kill (Linux >= 5.14): the kernel kills every process of
  // the cgroup at once and nothing can fork away meanwhile. Older kernels
  // fall back to systemd's KillUnit(all, SIGKILL). The victims' memory is
  // then reaped with process_mrelease (Linux >= 5.15), as earlyoom does.
  void KillAgent(const std::string& agent, const KillMarker& marker) override;
  std::optional<uint64_t> AgentAnonMemory(const std::string& agent) override;
  std::chrono::steady_clock::time_point Now() override;
  void Sleep(std::chrono::milliseconds duration) override;
  void Emit(const WatchEvent& event) override;
  OomSource& Oom() override { return oom_; }

 private:
  std::string CgroupOf(const std::string& agent) const;

  Systemd& systemd_;
  const OutcomeStore& outcomes_;
  std::string agents_cgroup_;
  LinuxOomSource oom_;
  MeminfoReader meminfo_;  // kept open: the watcher reads it every tick
};

}  // namespace nova
