#!/bin/bash
# Runs the named system tests in a fresh VM of their own, or opens a shell in
# one: the way to debug a single test outside ctest.
#
#   run.sh TEST...     e.g. run.sh oom kill
#   run.sh --shell     a root shell in the VM, Nova installed and running
#
# Needs NOVA_VM_DEB (the folder scripts/build-deb.sh fills) or NOVA_VM_STAGE,
# and NOVA_VM_HELPERS for tests using memhog; see docs/testing.md, or use
# ctest: ctest --test-dir build -R system.oom
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export NOVA_VM_SESSION=${NOVA_VM_SESSION:-$(mktemp -d "${TMPDIR:-/tmp}/nova-vm.XXXXXX")}
if [[ ${1:-} == --shell ]]; then
  exec "$here/session.sh" shell
fi
[[ $# -gt 0 ]] || { echo "usage: run.sh TEST... | run.sh --shell" >&2; exit 2; }
trap '"$here/session.sh" stop' EXIT
"$here/session.sh" start
status=0
for t in "$@"; do
  "$here/session.sh" exec "$t" || status=1
done
exit $status
