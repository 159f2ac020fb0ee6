// nova-agent-hook: the small program systemd runs on an agent's behalf.
//   exit NAME          ExecStopPost (privileged): records the agent's outcome.
//   soft-warning NAME  run by the agent's soft-deadline timer: SIGUSR1 to the
//                      agent's main process only, once.
// Both run inside systemd's own lifecycle of the agent, so they happen even
// while novad is stopped or restarting.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "outcome.h"

namespace nova {

// The oom_kill counter of a memory.events file.
uint64_t ParseOomKills(std::string_view memory_events);

// The cgroup v2 path in /proc/self/cgroup ("0::/a/b.service" -> "/a/b.service").
std::string CgroupFromProcSelf(std::string_view proc_self_cgroup);

// The outcome of agent `name` from the variables systemd gives ExecStopPost.
Outcome OutcomeFromServiceEnvironment(const std::string& name,
                                      const std::map<std::string, std::string>& env,
                                      uint64_t oom_kills, int64_t now_usec);

int RunAgentHook(int argc, char** argv);

}  // namespace nova
