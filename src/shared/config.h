// novad's configuration: every policy number in one place, with the defaults
// of the operations guide and the unit post-mortem, overridable in
// /etc/nova/nova.conf. novactl reads the same file so that `status` shows the
// thresholds in force even while novad is down.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duration.h"
#include "sandbox.h"
#include "unit_properties.h"

namespace nova {

// Bounds a spawn may ask for, whoever asks; the configuration's defaults and
// ceilings are held to them too.
inline constexpr Usec kMinRuntime = std::chrono::seconds(1);
inline constexpr uint64_t kMinMemoryMax = 16ULL << 20;  // 16M
inline constexpr uint64_t kMaxTasksMax = 4194304;       // the kernel's pid_max limit
inline constexpr Usec kMaxRuntime = std::chrono::hours(24 * 7);
// StartTimeout's bounds: novactl's calls give up after 180 s.
inline constexpr Usec kMinStartTimeout = std::chrono::seconds(1);
inline constexpr Usec kMaxStartTimeout = std::chrono::seconds(120);

struct Config {
  // Per-agent defaults (each overridable per spawn).
  uint64_t memory_max = 4ULL << 30;
  uint64_t tasks_max = 512;
  Usec runtime_max = std::chrono::minutes(30);
  Usec soft_timeout = std::chrono::minutes(15);
  Usec timeout_stop = std::chrono::seconds(10);
  // How long a spawn waits for its start job; past it novad kills and
  // removes the unit and the spawn fails (a workdir that never answers).
  Usec start_timeout = std::chrono::seconds(60);
  // The most a caller other than root may ask for; the defaults above stay
  // within them. Agents and the nova group are not trusted with the host.
  uint64_t memory_max_ceiling = 4ULL << 30;
  uint64_t tasks_max_ceiling = 512;
  Usec runtime_max_ceiling = std::chrono::minutes(30);
  // How many agents one user other than root may run at once; 0 = no limit
  // beyond MaxAgents.
  uint64_t max_agents_per_user = 0;
  // Host memory thresholds, percent of MemTotal used (MemTotal - MemAvailable).
  double admission_percent = 85;
  double admission_reopen_percent = 80;  // hysteresis: closed admission reopens below this
  double relief_percent = 95;
  double relief_target_percent = 75;
  // The watcher: report relief instead of killing; how often it reads
  // /proc/meminfo (the interval shrinks from max to min as the headroom to
  // ReliefPercent shrinks); how long a killed agent may take to give its
  // memory back before relief moves on; the PSI stall (per 1 s window) that
  // wakes it at once, 0 for none.
  bool relief_dry_run = false;
  Usec watch_interval_max = std::chrono::seconds(1);
  Usec watch_interval_min = std::chrono::milliseconds(20);
  Usec relief_confirm_timeout = std::chrono::seconds(5);
  Usec pressure_stall = std::chrono::milliseconds(100);
  // Whether agents may connect to the system bus (and so ask novad or
  // systemd anything); off, an agent's unit makes the bus socket and the
  // users' runtime directories (their user managers) inaccessible.
  bool agent_system_bus = false;
  // Prometheus metrics, for the node exporter's textfile collector; written
  // only while its directory exists, so a host without the exporter is left alone.
  std::string metrics_file = "/var/lib/prometheus/node-exporter/nova.prom";
  // How often the file is rewritten: Prometheus commonly scrapes every 15 s,
  // and each rewrite reads every agent's cgroup.
  Usec metrics_interval = std::chrono::seconds(15);
  // The sandbox profile of a spawn that names none, and the weakest one a
  // caller other than root may ask for (the default is held to it too).
  SandboxProfile sandbox = SandboxProfile::kStandard;
  SandboxProfile sandbox_minimum = SandboxProfile::kStandard;
  // The addresses a strict agent may reach (IPAddressAllow=), as written and
  // parsed; empty = none at all, not even loopback.
  std::vector<std::string> allow_ip_text;
  std::vector<IpPrefix> allow_ip;
  // 0 = auto: admit while the running agents' MemoryMax plus the new one's
  // fit in the memory set aside for agents (total - system share - headroom).
  uint64_t max_agents = 0;
  double system_share_percent = 2;  // guide: 32 GB of 1.5 TB
  double headroom_percent = 13;     // guide: 200 GB of 1.5 TB
};

// Parses the text of a configuration file: "Key=Value" lines, '#' comments,
// blank lines. Unknown keys, bad values, limits no spawn would accept,
// defaults above their ceilings and inconsistent thresholds throw
// InvalidArgument naming the file, the line and what is accepted.
Config ParseConfig(std::string_view text, std::string_view origin);

// Reads `path`; a missing file means all defaults.
Config LoadConfig(const std::string& path);

}  // namespace nova
