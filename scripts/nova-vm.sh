#!/bin/sh
# Nova's main job on a host without systemd as PID 1: builds Nova's .deb,
# boots the project's VM (Debian 12, real systemd, cgroup v2), installs the
# package in it and runs agents there: spawn, an agent killed alone for
# outgrowing its memory, status, logs, kill, the memory watcher and relief.
# The tour's transcript lands in build/vm-demo/transcript.txt (the README's
# example). With --shell you get a root shell in that VM instead, Nova
# installed and novad running, to drive it yourself with novactl.
#
# NOVA_VM_DISTRO=debian13 does the same in Debian 13 (systemd 257), with the
# package built for it (in a Debian 13 chroot when this host is Debian 12).
#
# The first run builds the package and the VM image (debootstrap from the
# Debian archive, cached in ~/.cache/nova/vm); a rerun with nothing changed
# reuses both. On a host that runs systemd, install Nova directly instead
# (docs/usage.md).
set -eu
cd "$(dirname "$0")/.."
case ${1:-} in
  "" | --shell) ;;
  *) echo "usage: scripts/nova-vm.sh [--shell]" >&2; exit 2 ;;
esac
say() { echo "nova-vm: $*" >&2; }
export NOVA_VM_DISTRO=${NOVA_VM_DISTRO:-debian12}
case $NOVA_VM_DISTRO in
  debian12) release=bookworm ;;
  debian13) release=trixie ;;
  *) say "NOVA_VM_DISTRO must be debian12 or debian13, not '$NOVA_VM_DISTRO'"; exit 2 ;;
esac
start=$(date +%s)

scripts/install-deps.sh >&2
# The VM installs the package, which has novactl and novad: cmake builds only
# the small test helpers the VM also gets (memhog and the like).
say "building the VM's test helpers (cmake --preset system; memhog, preload marker)"
cmake --preset system >/dev/null
cmake --build build --target memhog preload_marker >/dev/null
scripts/build-deb.sh --release "$release" >/dev/null  # the .deb the VM installs with apt, as users do
export NOVA_VM_DEB="$PWD/build/deb-$release" NOVA_VM_HELPERS="$PWD/build/vm-helpers"
if [ "${1:-}" = "--shell" ]; then
  exec tests/system/vm/run.sh --shell
fi
session=$PWD/build/vm-demo
NOVA_VM_SESSION=$session tests/system/vm/run.sh demo
cp "$session/share/results/demo.transcript" "$session/transcript.txt"
say "done in $(($(date +%s) - start)) s; the tour's transcript: build/vm-demo/transcript.txt"
