// OOM kills inside running agents, noticed and reported. With
// OOMPolicy=continue a process killed at the agent's MemoryMax (a compiler,
// a test runner) leaves the agent running and systemd reports nothing until
// the agent ends. novad reads each agent's memory.events oom_kill, about once
// a second, and logs a watcher event for every rise: the count comes from
// the kernel's counter, which only the kernel writes; which process died
// comes from the kernel's log (/dev/kmsg), where the agent controls the
// process name and the names of its own sub-cgroups, so those records are
// parsed only where the kernel's own text decides, and the name is escaped.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oom_kills.h"
#include "watch_events.h"

namespace nova {

// One agent's kernel counter.
struct AgentOomCount {
  std::string agent;
  uint64_t cgroup_id = 0;  // the inode of its cgroup directory
  uint64_t oom_kills = 0;  // memory.events oom_kill
};

// A process the kernel's log says it OOM-killed in an agent.
struct KernelOomKill {
  std::string agent;
  int64_t pid = 0;
  std::string process;  // escaped (Printable)
};

// The agent whose cgroup a kernel "oom-kill:" record names, and the killed
// pid, or nullopt when the record is not one or names no agent. The first
// '/' of the record starts the OOM's memory cgroup path (oom_memcg=, or
// task_memcg= after global_oom): nothing before it is the agent's (the
// cpuset= leaf name cannot hold a '/'), and the path's first three
// components are systemd's (nova.slice, nova-agents.slice, the agent's
// unit), so an agent cannot make the record name another agent. The pid is
// read from the end, after the agent-controlled task name.
std::optional<KernelOomKill> ParseOomSummary(std::string_view message);
// The pid and the task name of "...out of memory: Killed process PID (COMM)
// total-vm:..." (the name decoded from the kernel log's \xNN and escaped
// again with Printable), or nullopt.
std::optional<KernelOomKill> ParseKilledProcess(std::string_view message);

// Pairs the two records of each kill by pid. Feed it every message read from
// the kernel log; Take() hands out, per agent, the kills it has seen.
class KernelOomLog {
 public:
  void Feed(std::string_view message);
  // The kills seen in `agent` since the last Take, oldest first.
  std::vector<KernelOomKill> Take(const std::string& agent);
  bool Has(const std::string& agent) const;
  // Forgets agents that are no longer running.
  void Forget(const std::vector<AgentOomCount>& running);

 private:
  std::map<int64_t, std::string> agent_of_pid_;  // from oom-kill summaries, bounded
  std::map<std::string, std::vector<KernelOomKill>> kills_;
};

// What OomNotices reads and keeps: the OS side (watch_host.cc) or a fake.
class OomSource {
 public:
  virtual ~OomSource() = default;
  virtual std::vector<AgentOomCount> ReadOomCounts() = 0;
  // The messages of the kernel log's records since the last call (the
  // first call starts at the log's end: older kills are not this novad's).
  virtual std::vector<std::string> ReadKernelLog() = 0;
  // The last recorded state; nullopt when there is none (a fresh boot).
  virtual std::optional<OomKillsByAgent> LoadOomKills() = 0;
  virtual void SaveOomKills(const OomKillsByAgent& kills) = 0;
  virtual int64_t RealtimeUsec() = 0;
};

// How often the counters are read.
inline constexpr std::chrono::seconds kOomScanInterval(1);

class OomNotices {
 public:
  // One look: returns an oom-kill event (action, agent, message, counts;
  // the caller adds host memory) for each agent whose count rose. On the
  // first look with no recorded state, today's counts are the baseline and
  // nothing is reported; with one, a rise since it (kills while novad was
  // down) is reported once, a new cgroup under an old name counts from 0.
  std::vector<WatchEvent> Scan(OomSource& source);
  const OomKillsByAgent& kills() const { return kills_; }

 private:
  bool loaded_ = false;
  OomKillsByAgent kills_;
  KernelOomLog log_;
  // Agents whose rise had no kernel record yet: reported at the next look,
  // so that a record printed just after the counter rose still names it.
  std::map<std::string, uint64_t> deferred_;
};

}  // namespace nova
