// The unit properties Nova hands systemd, as plain values: what novad builds
// (spawn_spec) and what the systemd boundary translates to D-Bus types, so
// that the policy above never sees sdbus-c++.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nova {

// An ExecStart= entry, D-Bus type (sasb).
struct ExecCommand {
  std::string path;
  std::vector<std::string> argv;
  bool ignore_failure = false;
  bool operator==(const ExecCommand&) const = default;
};

// A LoadCredential= entry, D-Bus type (ss): the credential's name and the
// file systemd copies it from when the agent starts.
struct CredentialFile {
  std::string name;
  std::string path;
  bool operator==(const CredentialFile&) const = default;
};

// A TimersMonotonic= entry, D-Bus type (st): a base such as "OnActiveSec".
struct MonotonicTimer {
  std::string base;
  uint64_t usec = 0;
  bool operator==(const MonotonicTimer&) const = default;
};

// An IPAddressAllow=/IPAddressDeny= entry, D-Bus type (iayu): AF_INET or
// AF_INET6, the address's 4 or 16 bytes, the prefix length.
struct IpPrefix {
  int32_t family = 0;
  std::vector<uint8_t> address;
  uint32_t prefix_length = 0;
  bool operator==(const IpPrefix&) const = default;
};

// SystemCallFilter= and RestrictAddressFamilies=, D-Bus type (bas): whether
// `names` is an allow list (true) or a deny list, and the names.
struct NameFilter {
  bool allow = true;
  std::vector<std::string> names;
  bool operator==(const NameFilter&) const = default;
};

// A BindPaths= entry, D-Bus type (ssbt): source, destination, whether a
// missing source is ignored, mount flags (MS_REC for a recursive bind).
struct BindPath {
  std::string source;
  std::string destination;
  bool ignore_missing = false;
  uint64_t flags = 0;
  bool operator==(const BindPath&) const = default;
};

// A TemporaryFileSystem= entry, D-Bus type (ss): the path and mount options
// such as "ro".
struct TemporaryFileSystem {
  std::string path;
  std::string options;
  bool operator==(const TemporaryFileSystem&) const = default;
};

using PropertyValue =
    std::variant<bool, int32_t, uint32_t, uint64_t, std::string, std::vector<std::string>,
                 std::vector<ExecCommand>, std::vector<MonotonicTimer>, std::vector<CredentialFile>,
                 std::vector<IpPrefix>, NameFilter, std::vector<BindPath>,
                 std::vector<TemporaryFileSystem>>;

struct UnitProperty {
  std::string name;
  PropertyValue value;
  bool operator==(const UnitProperty&) const = default;
};

using UnitProperties = std::vector<UnitProperty>;

// Units created in the same transaction as the main one: (name, properties).
using AuxUnits = std::vector<std::pair<std::string, UnitProperties>>;

}  // namespace nova
