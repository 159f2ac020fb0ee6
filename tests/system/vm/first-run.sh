#!/bin/bash
# A new user's first run: scripts/nova-vm.sh's path into the VM (run.sh, then
# session.sh start, which builds the image and reads its folder from
# build-image.sh's stdout) from an EMPTY image cache, then a trivial check in
# the VM. The other system tests boot an image their fixture built first, so
# only this test sees that path break. Afterwards the image it built moves to
# the shared image cache when that holds none of the same key (so the suite
# does not build it twice), and its own cache is removed.
#
# Nova goes in as `cmake --install` of the build tree (NOVA_FIRST_RUN_BUILD),
# not as the .deb every other case installs: so this test needs no package
# and runs while the package is built, the image being what it tests.
#
# Environment: NOVA_FIRST_RUN_BUILD (the cmake build folder) and
# NOVA_VM_HELPERS as for run.sh; NOVA_FIRST_RUN_DIR (default: a new folder
# under $TMPDIR) holds the cache, the installed tree and the session.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${NOVA_FIRST_RUN_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/nova-first-run.XXXXXX")}
shared_cache=${NOVA_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nova/vm}
rm -rf "$dir"
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
build=${NOVA_FIRST_RUN_BUILD:?NOVA_FIRST_RUN_BUILD must name the cmake build folder}
DESTDIR=$dir/stage cmake --install "$build" >/dev/null
unset NOVA_VM_DEB
export NOVA_VM_STAGE=$dir/stage
export NOVA_VM_CACHE=$dir/cache NOVA_VM_SESSION=$dir/session NOVA_VM_EXTRA=$here/first-run-check.sh
start=$SECONDS
echo "first-run: from an empty image cache ($NOVA_VM_CACHE)" >&2
"$here/run.sh" first-run-check
echo "first-run: image built, VM booted, Nova checked and the VM stopped in $((SECONDS - start)) s" >&2
mkdir -p "$shared_cache"
for image in "$dir"/cache/*-*; do
  [[ -f $image/rootfs.img && ! -e $shared_cache/${image##*/} ]] || continue
  mv "$image" "$shared_cache/"
  echo "first-run: its image is now the suite's: $shared_cache/${image##*/}" >&2
done
