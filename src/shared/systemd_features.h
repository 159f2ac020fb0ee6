// Everything Nova does differently by systemd version is decided here, from
// the version the running manager reports, so no other file compares
// version numbers.
#pragma once

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
};

}  // namespace nova
