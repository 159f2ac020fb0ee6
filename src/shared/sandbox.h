// Sandbox profiles: how much of the host an agent may see and touch. The
// names, their order (a member may not pick one weaker than the operator's
// minimum) and the addresses strict lets through are parsed here, once, for
// nova.conf, the bus and the command line alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unit_properties.h"

namespace nova {

// Ordered from weakest to strongest.
enum class SandboxProfile { kNone = 0, kStandard = 1, kStrict = 2 };

inline constexpr const char* kSandboxProfilesAccepted = "none, standard or strict";

std::optional<SandboxProfile> ParseSandboxProfile(std::string_view name);
const char* SandboxProfileName(SandboxProfile profile);

inline bool WeakerThan(SandboxProfile a, SandboxProfile b) {
  return static_cast<int>(a) < static_cast<int>(b);
}

inline constexpr const char* kAllowIpAccepted =
    "an IPv4 or IPv6 address with an optional /LENGTH (such as 10.0.0.0/8 or ::1), or localhost";

// The most entries an allow list may have, the operator's and a caller's
// together; systemd's BPF firewall takes any number, but nobody needs more.
inline constexpr size_t kMaxAllowIp = 64;

// One --allow-ip or AllowIP= entry: an address with an optional prefix
// length, or "localhost" (127.0.0.0/8 and ::1). Host bits beyond the prefix
// are cleared. nullopt if it is anything else.
std::optional<std::vector<IpPrefix>> ParseAllowIp(std::string_view text);

// "10.0.0.0/8", "::1/128".
std::string FormatIpPrefix(const IpPrefix& prefix);

}  // namespace nova
