// Agent names and the systemd unit names derived from them. The mapping is
// the whole of Nova's naming contract with systemd: an operator who knows an
// agent's name knows its unit, and `systemctl`/`journalctl` work on it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nova {

inline constexpr size_t kMaxAgentNameLength = 64;
inline constexpr std::string_view kAgentsSlice = "nova-agents.slice";
// The agents slice's cgroup (nova-agents.slice sits in nova.slice).
inline constexpr const char* kAgentsCgroup = "/sys/fs/cgroup/nova.slice/nova-agents.slice";

// Throws InvalidArgument unless `name` is 1-64 letters, digits, '-' or '_',
// starting with a letter or digit.
void ValidateAgentName(std::string_view name);

// nova-agent-NAME.service: the agent itself.
std::string AgentUnit(std::string_view name);
// The agent's cgroup directory: kAgentsCgroup/nova-agent-NAME.service.
std::string AgentCgroupPath(std::string_view name);
// nova-soft-NAME.timer / .service: the agent's soft-deadline warning.
std::string SoftTimerUnit(std::string_view name);
std::string SoftServiceUnit(std::string_view name);
// nova-outcome-success@NAME.service / nova-outcome-failure@NAME.service:
// record how the agent ended (root services of their own, started by systemd
// when the agent's unit goes inactive or failed). Two units, because systemd
// hands the ending unit's result ($MONITOR_*) only to a unit with a single
// trigger, and one unit named in both OnSuccess= and OnFailure= has two.
std::string OutcomeUnitOnSuccess(std::string_view name);
std::string OutcomeUnitOnFailure(std::string_view name);

// The agent name of an agent unit, or nullopt for any other unit.
std::optional<std::string> AgentNameFromUnit(std::string_view unit);

// Whether a cgroup v2 path ("/nova.slice/nova-agents.slice/nova-agent-x.service")
// lies inside the agents' slice: a process there is an agent's, whatever its
// uid. Returns the agent's name ("" if the unit is not one Nova named), or
// nullopt for a cgroup outside the slice.
std::optional<std::string> AgentOfCgroup(std::string_view cgroup);

// The cgroup v2 path of process `pid` from /proc/PID/cgroup ("0::/a/b" ->
// "/a/b"), "" if it cannot be read (the process is gone).
std::string ProcessCgroup(int pid);
std::string CgroupFromProcCgroup(std::string_view proc_pid_cgroup);

}  // namespace nova
