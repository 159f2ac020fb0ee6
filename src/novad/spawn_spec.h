// From a spawn request to the exact unit systemd is asked to create. This is
// where Nova's policy becomes unit properties, so it is pure and tested
// property by property; the D-Bus layer only translates the values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config.h"
#include "duration.h"
#include "nova_bus.h"
#include "sandbox.h"
#include "systemd_features.h"
#include "unit_properties.h"

namespace nova {

// A request made whole: validated, defaults applied, user resolved.
struct AgentSpec {
  std::string name;
  std::vector<std::string> argv;
  std::string workdir;
  std::vector<std::string> environment;
  uint64_t memory_max = 0;
  uint64_t tasks_max = 0;
  Usec runtime_max{0};
  Usec soft_timeout{0};
  Usec timeout_stop{0};
  std::string user;
  // The priority policy's values (CODER_PROC_*), when it is enabled.
  std::optional<int> nice;
  std::optional<int> oom_score_adjust;
  // Whether the agent may connect to the system bus (AgentSystemBus=).
  bool system_bus = false;
  // LoadCredential= entries: the secrets novad wrote for this agent.
  std::vector<std::pair<std::string, std::string>> credentials;  // name, root-only file
  // The sandbox profile, and for strict the addresses it may reach (the
  // operator's AllowIP= and the caller's --allow-ip).
  SandboxProfile sandbox = SandboxProfile::kStandard;
  std::vector<IpPrefix> allow_ip;
};

// Where sandboxed agents keep their state: HOME is the agent's own private
// /tmp (PrivateTmp=), so npm, pip, cargo and git caches work, are the agent's
// alone and go with it. The environment variable naming the profile lets the
// agent, `systemctl show` and `novactl status` see which one it has; `none`
// sets neither, exactly as before profiles existed.
inline constexpr const char* kSandboxHome = "/tmp";
inline constexpr const char* kSandboxEnvironment = "NOVA_AGENT_SANDBOX";
// The scratch tmpfs of `novactl setup-host --scratch`, writable in standard.
inline constexpr const char* kScratchDir = "/var/nova-agents/scratch";

// Most secrets per agent and bytes per secret (systemd's own credential
// size limit is 1M).
inline constexpr size_t kMaxSecrets = 32;
inline constexpr size_t kMaxSecretBytes = 1 << 20;

// What the agent unit must never let through: paths an agent could use to
// reach the system bus (and so novad and systemd), or its owner's user
// manager (which starts processes outside the agent's cgroup).
inline const std::vector<std::string> kAgentInaccessiblePaths = {"-/run/dbus/system_bus_socket",
                                                                 "-/run/user"};

// Validates `request` and fills in defaults from `config`. `memory_total`
// bounds MemoryMax. The user is left empty when the request names none.
// Every string headed for systemd is checked for control characters, so none
// can end a line of the transient unit file. Throws InvalidArgument with one
// line naming the option, the value and what is accepted. Unless `privileged`
// (root), asking above the configuration's ceilings throws PermissionDenied
// naming the ceiling and its key.
AgentSpec ResolveSpawn(const SpawnRequest& request, const Config& config, uint64_t memory_total,
                       bool privileged = false);

// The transient agent service, nova-agent-NAME.service.
// The command runs exactly as given: ExecStart with every '$' doubled, so
// systemd expands no "$VAR", also after a daemon-reload. Its outcome is recorded by
// nova-outcome-{success,failure}@NAME.service, which systemd starts when the agent ends
// (OnSuccess=/OnFailure=): nothing runs with more privilege inside the agent.
UnitProperties AgentUnitProperties(const AgentSpec& spec, const SystemdFeatures& features);

// The sandbox profile's own properties (none for `none`), as documented in
// docs/design.md; AgentUnitProperties appends them.
UnitProperties SandboxProperties(const AgentSpec& spec, const SystemdFeatures& features);

// The soft-deadline timer and the one-shot service it triggers, which sends
// SIGUSR1 to the agent's main process once.
UnitProperties SoftTimerProperties(const AgentSpec& spec);
UnitProperties SoftServiceProperties(const AgentSpec& spec, const std::string& hook_path);

// The units created alongside the agent: its soft-deadline timer and
// service, or none when the spec has no soft deadline. The agent Wants= the
// timer, so both start in one transaction.
AuxUnits SoftDeadlineUnits(const AgentSpec& spec, const std::string& hook_path);

}  // namespace nova
