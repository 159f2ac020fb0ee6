// novad's bus contract, in one place: the name and path it serves, the
// option keys of Spawn, and what a spawn asks for and answers. novactl (the
// client), novad (the adaptor) and dbus-xml/org.nova.Nova1.Manager.xml (the
// interface) all follow this file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "duration.h"

namespace nova {

inline constexpr const char* kBusName = "org.nova.Nova1";
inline constexpr const char* kObjectPath = "/org/nova/Nova1";

// Spawn's a{sv} options.
namespace spawn_option {
inline constexpr const char* kWorkingDirectory = "WorkingDirectory";  // s, required
inline constexpr const char* kMemoryMax = "MemoryMax";                // t, bytes
inline constexpr const char* kTasksMax = "TasksMax";                  // t
inline constexpr const char* kRuntimeMaxUSec = "RuntimeMaxUSec";      // t
inline constexpr const char* kSoftTimeoutUSec = "SoftTimeoutUSec";    // t, 0 = none
inline constexpr const char* kEnvironment = "Environment";            // as, K=V
inline constexpr const char* kUser = "User";                          // s
inline constexpr const char* kSecrets = "Secrets";                    // a{say}
inline constexpr const char* kSandbox = "Sandbox";                    // s, a profile name
inline constexpr const char* kAllowIP = "AllowIP";                    // as, --allow-ip entries
inline constexpr const char* kAll[] = {kWorkingDirectory, kMemoryMax,   kTasksMax, kRuntimeMaxUSec,
                                       kSoftTimeoutUSec,  kEnvironment, kUser,     kSecrets,
                                       kSandbox,          kAllowIP};
}  // namespace spawn_option

// What a caller asked for; unset options take the configuration's defaults.
struct SpawnRequest {
  std::string name;
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::string workdir;
  std::vector<std::string> environment;  // NAME=VALUE
  std::optional<uint64_t> memory_max;
  std::optional<uint64_t> tasks_max;
  std::optional<Usec> runtime_max;
  std::optional<Usec> soft_timeout;  // 0 = no soft warning
  std::optional<std::string> user;
  // Secrets by credential name: handed to the agent as systemd credentials
  // ($CREDENTIALS_DIRECTORY/NAME), readable by the agent's user only.
  std::map<std::string, std::string> secrets;
  // The sandbox profile by name, as the caller typed it (novad checks it),
  // and the addresses it adds to strict's allow list.
  std::optional<std::string> sandbox;
  std::vector<std::string> allow_ip;
};

// What Spawn answers: the unit and its state once the start job is done.
struct SpawnResult {
  std::string unit;
  std::string active_state;
  std::string sub_state;
  uint32_t main_pid = 0;
};

// Relieve's target: a percentage of host memory, 0 < target < 100. Throws
// InvalidArgument otherwise; novactl checks before calling, novad again.
void ValidateReliefTarget(double target_percent);

}  // namespace nova
