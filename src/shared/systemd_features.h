// Everything Nova does differently by systemd version is decided here, from
// the version the running manager reports, so no other file compares
// version numbers.
#pragma once

#include <string>
#include <vector>

namespace nova {

// The oldest systemd Nova runs on: OnSuccess=/OnFailure= with $MONITOR_*
// for the outcome units (250), ExitType=cgroup (250).
inline constexpr unsigned kMinSystemdVersion = 250;

// What the running systemd can do, which decides a few properties.
struct SystemdFeatures {
  unsigned version = 0;
  // The agent lives until its last process exits (systemd 250).
  bool exit_type_cgroup() const { return version >= 250; }
  bool supported() const { return version >= kMinSystemdVersion; }
  // ProtectControlGroups=strict (systemd 257): a sandboxed agent gets its own
  // cgroup namespace, /sys/fs/cgroup read-only, and sees no other agent's
  // cgroup. Older: ProtectControlGroups=yes, the whole tree read-only.
  bool protect_control_groups_strict() const { return version >= 257; }

  // What the sandbox profiles lack on this systemd, one line each, for
  // `novactl doctor`: the property, the version that has it, what agents get
  // instead. A spawn never fails for it.
  std::vector<std::string> missing_sandbox_features() const {
    std::vector<std::string> missing;
    if (!protect_control_groups_strict()) {
      missing.push_back(
          "ProtectControlGroupsEx=strict (systemd 257): sandboxed agents get "
          "ProtectControlGroups=yes instead and can read, not write, other agents' cgroups "
          "under /sys/fs/cgroup");
    }
    return missing;
  }
};

}  // namespace nova
