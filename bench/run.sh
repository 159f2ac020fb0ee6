#!/bin/bash
# Runs a benchmark inside the test VM (real systemd) and prints its report.
#   bench/run.sh spawn | many | idle | at_once | kill | admission | sweep | reaction | earlyoom | load  [more, in the same VM]
# Build the package first (scripts/nova-vm.sh does), or set NOVA_VM_DEB, or
# NOVA_VM_STAGE to a `cmake --install` tree (DESTDIR=... cmake --install
# build), quicker while iterating; NOVA_VM_DISTRO=debian13 runs it in
# Debian 13. The
# helpers the benchmarks run in the VM are built here, in build/ as
# configured by cmake --preset system, unless NOVA_VM_HELPERS names others.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
name=${1:?usage: bench/run.sh spawn|many|idle|at_once|kill|admission|sweep|reaction|earlyoom|load [more...]}
case ${NOVA_VM_DISTRO:-debian12} in debian13) release=trixie ;; *) release=bookworm ;; esac
[[ -n ${NOVA_VM_STAGE:-} ]] || export NOVA_VM_DEB=${NOVA_VM_DEB:-$root/build/deb-$release}
if [[ -z ${NOVA_VM_HELPERS:-} ]]; then
  echo "bench: building the VM's helpers (memhog, nova-bench-sweep, memcross, fusehang)" >&2
  cmake --build "$root/build" --target memhog nova-bench-sweep memcross fusehang >&2
  export NOVA_VM_HELPERS=$root/build/vm-helpers
fi
export NOVA_VM_SESSION=${NOVA_VM_SESSION:-$root/build/vm-bench}
extra=("$here/bench_lib.sh")  # what the benchmarks source, beside them
for bench in "$@"; do extra+=("$here/$bench.sh"); done
export NOVA_VM_EXTRA="${extra[*]}"
session="$root/tests/system/vm/session.sh"
trap '"$session" stop' EXIT
"$session" start
status=0
for bench in "$@"; do "$session" exec "$bench" || status=1; done
exit $status
