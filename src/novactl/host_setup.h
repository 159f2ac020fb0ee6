// Host set-up and readiness: the operations guide's setup-agent-host.sh done
// safely. Facts are read from the host once; what to report and what to do
// are pure functions of them, so every decision is unit-tested and applying
// is a list of small, idempotent steps that --dry-run only prints.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config.h"
#include "meminfo.h"

namespace nova {

// The workspace pool, where members of group nova make their own slots (one
// folder per agent's workspace). It is root:nova, mode 1770: only root and
// the group may enter; a member's slot is that member's, mode 0700, so no
// other member may write in it; and the sticky bit keeps others from
// renaming or removing it. setup-host makes no slot itself: a folder made in
// advance would be writable by every member or by none.
struct PoolFacts {
  bool present = false;  // the path exists
  bool folder = false;   // and is a folder, not a symlink
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0;                      // permission bits, with setuid, setgid and sticky
  std::string owner;                      // "root:nova": names, or numbers where there are none
  bool listed = false;                    // the caller could read the slots in it
  int slots = 0;                          // folders in it
  std::vector<std::string> shared_slots;  // those someone besides the owner may write
};

inline constexpr uint32_t kPoolMode = 01770;

struct HostFacts {
  bool cgroup2 = false;                       // /sys/fs/cgroup is cgroup2fs
  std::set<std::string> controllers;          // cgroup.controllers of the root
  std::set<std::string> subtree_controllers;  // enabled for children
  uint64_t swap_total = 0;                    // bytes, from /proc/meminfo
  std::map<std::string, uint64_t> sysctls;    // current values of kSysctlTargets
  bool scratch_mounted = false;               // a tmpfs at the scratch path
  uint64_t scratch_size = 0;
  PoolFacts pool;
  std::optional<uint32_t> nova_gid;  // the nova group
  bool memory_pressure = false;      // /proc/pressure/memory (PSI) is there
  bool cgroup_kill = false;          // cgroup.kill exists (Linux >= 5.14)
};

// Kernel limits for many processes, raised (never lowered) by --sysctl.
inline const std::map<std::string, uint64_t> kSysctlTargets = {
    {"kernel.pid_max", 4194304},
    {"fs.inotify.max_user_watches", 1048576},
    {"fs.inotify.max_user_instances", 8192},
    {"fs.file-max", 9223372036854775807ULL},
    {"fs.nr_open", 1048576},
    // Only a process's ancestors may ptrace it or write its /proc/PID/mem, so an
    // agent cannot take over a command its owner runs in it with `novactl exec`.
    {"kernel.yama.ptrace_scope", 1},
};

struct SetupPaths {
  std::string agents_root = "/var/nova-agents";  // the guide's layout
  std::string sysctl_file = "/etc/sysctl.d/60-nova.conf";
  std::string scratch() const { return agents_root + "/scratch"; }
  std::string pool() const { return agents_root + "/pool"; }
};

struct SetupOptions {
  bool sysctl = false;
  bool scratch = false;
  bool workspaces = false;
  bool dry_run = false;
  std::string scratch_size = "10%";  // tmpfs size=, of RAM
};

// One line of a report: what was checked, whether it is fine, what to do.
struct Check {
  std::string name;
  enum Status { kOk, kWarn, kFail } status = kOk;
  std::string detail;
  std::string fix;  // empty when nothing to do
};

// A step of set-up: what it does, and the work itself.
struct Step {
  std::string description;
  std::function<void()> apply;
};

HostFacts ReadHostFacts(const SetupPaths& paths);

// One check each, so that setup-host and doctor pick theirs by name of
// function, not by the text of a check.
Check CgroupCheck(const HostFacts& facts);
std::vector<Check> ControllerChecks(const HostFacts& facts);  // memory, pids
Check SwapCheck(const HostFacts& facts);
std::vector<Check> SysctlChecks(const HostFacts& facts);
Check ScratchCheck(const HostFacts& facts);
Check PoolCheck(const HostFacts& facts);
Check NovaGroupCheck(const HostFacts& facts);

// What setup-host reports about a host (cgroups, controllers, swap, limits,
// scratch, workspaces), before it does anything.
std::vector<Check> HostChecks(const HostFacts& facts, const SetupOptions& options);

// The steps that bring the host to what `options` asks for; none when it is
// there already (so a second run does nothing).
std::vector<Step> PlanSetup(const HostFacts& facts, const SetupOptions& options,
                            const SetupPaths& paths);

// The systemd mount unit name for a path ("/var/nova-agents/scratch" ->
// "var-nova\x2dagents-scratch.mount").
std::string MountUnitName(const std::string& path);

std::string FormatChecks(const std::vector<Check>& checks);
nlohmann::json ChecksToJson(const std::vector<Check>& checks);

}  // namespace nova
