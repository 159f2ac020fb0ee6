#!/bin/sh
# Nova's main job on a host without systemd as PID 1: builds Nova and its
# .deb, boots the project's VM (Debian 12, real systemd, cgroup v2), installs
# the package in it and
# runs agents there: spawn, an agent killed alone for outgrowing its memory,
# status, logs, kill. With --shell you get a root shell in that VM instead,
# Nova installed and novad running, to drive it yourself with novactl.
#
# On a host that runs systemd, install Nova directly instead (docs/usage.md).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset system >/dev/null
cmake --build --preset system         # novactl, novad, and the VM's test helpers
scripts/build-deb.sh >/dev/null       # the .deb the VM installs with apt, as users do
export NOVA_VM_DEB="$PWD/build/deb" NOVA_VM_HELPERS="$PWD/build/vm-helpers"
if [ "${1:-}" = "--shell" ]; then
  exec tests/system/vm/run.sh --shell
fi
NOVA_VM_SESSION="$PWD/build/vm-demo" tests/system/vm/run.sh demo
