#!/bin/sh
# Nova's main job on a host without systemd as PID 1: builds Nova, boots the
# project's VM (Debian 12, real systemd, cgroup v2), installs Nova in it and
# runs agents there: spawn, an agent killed alone for outgrowing its memory,
# status, logs, kill. With --shell you get a root shell in that VM instead,
# Nova installed and novad running, to drive it yourself with novactl.
#
# On a host that runs systemd, install Nova directly instead (docs/usage.md).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset system >/dev/null
cmake --build --preset system
rm -rf build/vm-stage
DESTDIR="$PWD/build/vm-stage" cmake --install build >/dev/null
export NOVA_VM_STAGE="$PWD/build/vm-stage" NOVA_VM_HELPERS="$PWD/build/vm-helpers"
if [ "${1:-}" = "--shell" ]; then
  exec tests/system/vm/run.sh --shell
fi
NOVA_VM_SESSION="$PWD/build/vm-demo" tests/system/vm/run.sh demo
