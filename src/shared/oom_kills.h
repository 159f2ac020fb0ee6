// OOM kills inside running agents, as novad records them in
// RUNTIME/oom-kills.json: with OOMPolicy=continue a process killed at the
// agent's MemoryMax leaves the agent running, and systemd says nothing of it
// until the agent ends. novad counts each agent's memory.events oom_kill and
// publishes the count and the last killed process here, so that `novactl
// status`, which runs without novad, shows them; the file also keeps a
// restarted novad from reporting the same kills again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace nova {

struct AgentOomKills {
  // The agent's cgroup (inode of its directory): a new run under the same
  // name is a new cgroup and starts from 0.
  uint64_t cgroup_id = 0;
  uint64_t count = 0;        // memory.events oom_kill
  std::string last_process;  // escaped (Printable); "" when the kernel log did not say
  int64_t last_pid = 0;      // 0 when unknown
  int64_t last_usec = 0;     // CLOCK_REALTIME when novad noticed it
};

// By agent name; only agents with at least one kill.
using OomKillsByAgent = std::map<std::string, AgentOomKills>;

inline constexpr const char* kOomKillsFile = "oom-kills.json";

// Atomic replace (world-readable); throws Failed.
void WriteOomKills(const std::string& path, const OomKillsByAgent& kills);
// nullopt when the file is missing or unreadable; entries that do not parse
// are left out.
std::optional<OomKillsByAgent> ReadOomKills(const std::string& path);

// "2 (last: cc1plus, pid 1234, 14:02:11)" in local time; "0" for none.
std::string DescribeOomKills(const AgentOomKills& kills);

// The inode of an agent's cgroup directory, or nullopt when it is gone.
std::optional<uint64_t> CgroupId(const std::string& cgroup_dir);

}  // namespace nova
