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
  // ProtectControlGroupsEx=private|strict (systemd 257): the agent gets its
  // own cgroup namespace, so /sys/fs/cgroup is its own cgroup (the agent's
  // view of its limits) and it sees no other agent's; strict (the sandboxed
  // profiles) mounts it read-only. Older: the agent's cgroup directory is
  // bind-mounted read-only on /sys/fs/cgroup (BindReadOnlyPaths=), and the
  // sandboxed profiles add ProtectControlGroups=yes.
  bool cgroup_namespace() const { return version >= 257; }
  // RestrictNamespaces= with no namespace allowed (0) survives a
  // daemon-reload (257). systemd 252 writes it to the transient unit file as
  // "RestrictNamespaces=", which reads back as "all allowed"; there the
  // profiles allow the cgroup namespace only, which needs CAP_SYS_ADMIN the
  // agent does not have, and which 252 writes and reads back as it is.
  bool restrict_all_namespaces() const { return version >= 257; }

  // What the sandbox profiles lack on this systemd, one line each, for
  // `novactl doctor`: the property, the version that has it, what agents get
  // instead. A spawn never fails for it.
  std::vector<std::string> missing_sandbox_features() const {
    std::vector<std::string> missing;
    if (!cgroup_namespace()) {
      missing.push_back(
          "ProtectControlGroupsEx=strict (systemd 257): sandboxed agents get "
          "ProtectControlGroups=yes and their own cgroup bound on /sys/fs/cgroup instead; "
          "they can read, not write, other agents' cgroups under /sys/fs/cgroup/nova.slice");
    }
    return missing;
  }
};

}  // namespace nova
