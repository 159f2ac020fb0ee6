#!/bin/sh
# Builds the Debian package from packaging/debian with the standard tools
# (dpkg-buildpackage, debhelper's dh with the CMake build system), offline,
# in a copy of the source tree, then checks it with lintian: any error or
# warning fails. The .deb lands in build/deb/.
#
# Set-up on a fresh host: scripts/install-deps.sh (or: apt-get build-dep ./packaging).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/deb
rm -rf "$out"
mkdir -p "$out/nova"
cd "$root"
# The tracked files and new ones not ignored: what a commit of this tree would hold.
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$out/nova"
cp -r packaging/debian "$out/nova/debian"
cd "$out/nova"
echo "build-deb: dpkg-buildpackage in $out/nova" >&2
DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1 || {
  tail -n 40 "$out/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed; full log: $out/build.log" >&2
  exit 1
}
cd "$out"
rm -rf nova
deb=$(ls "$out"/nova_*.deb)
echo "build-deb: lintian $(basename "$deb")" >&2
lintian --fail-on error,warning --display-info "$deb"
echo "$deb"
