// A host that passes every check, for the setup-host and doctor tests to
// change one fact at a time.
#pragma once

#include <string>
#include <vector>

#include "host_setup.h"

namespace nova {

inline HostFacts ReadyHost() {
  HostFacts f;
  f.cgroup2 = true;
  f.controllers = {"cpu", "io", "memory", "pids"};
  f.subtree_controllers = {"memory", "pids"};
  f.sysctls = kSysctlTargets;
  f.scratch_mounted = true;
  f.scratch_size = 1ULL << 30;
  f.pool.present = f.pool.folder = f.pool.listed = true;
  f.pool.uid = 0;
  f.pool.gid = 997;
  f.pool.mode = 01770;
  f.pool.owner = "root:nova";
  f.pool.slots = 3;
  f.nova_gid = 997;
  f.memory_pressure = true;
  f.cgroup_kill = true;
  return f;
}

inline const Check& Find(const std::vector<Check>& checks, const std::string& name) {
  for (const auto& c : checks) {
    if (c.name == name) return c;
  }
  static Check none{"(missing)", Check::kFail, "", ""};
  return none;
}

}  // namespace nova
