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

// An ExecStartEx= entry, D-Bus type (sasas): flags such as "no-env-expand".
struct ExecCommandEx {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::string> flags;
  bool operator==(const ExecCommandEx&) const = default;
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

using PropertyValue = std::variant<bool, int32_t, uint64_t, std::string, std::vector<std::string>,
                                   std::vector<ExecCommand>, std::vector<ExecCommandEx>,
                                   std::vector<MonotonicTimer>, std::vector<CredentialFile>>;

struct UnitProperty {
  std::string name;
  PropertyValue value;
  bool operator==(const UnitProperty&) const = default;
};

using UnitProperties = std::vector<UnitProperty>;

// Units created in the same transaction as the main one: (name, properties).
using AuxUnits = std::vector<std::pair<std::string, UnitProperties>>;

}  // namespace nova
