#!/bin/sh
# Builds the Debian package from packaging/debian with the standard tools
# (dpkg-buildpackage, debhelper's dh with the CMake build system), offline,
# in a copy of the source tree, then checks it with lintian: any error or
# warning fails. The .deb lands in build/deb/, with the hash of its inputs
# next to it (inputs.sha256). The inputs are what a commit of this tree would
# hold: the tracked files and new ones not ignored, packaging/ among them. A
# rerun whose inputs hash the same reuses that .deb instead of building it
# again (minutes on 2 cores); NOVA_DEB_REBUILD=1 builds it anyway.
#
# Prints the .deb's path on stdout; progress goes to stderr.
# Set-up on a fresh host: scripts/install-deps.sh (the build dependencies in
# packaging/debian/control, plus lintian and git).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/deb
cd "$root"

for tool in git dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || {
    echo "build-deb: $tool not found; install the build dependencies: scripts/install-deps.sh" >&2
    exit 2
  }
done

# The inputs that exist (a tracked file deleted in the work tree is not one).
inputs() {
  git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f do if [ -e "$f" ]; then printf "%s\0" "$f"; fi; done' sh
}
hash=$({ inputs | xargs -0 sha256sum; inputs | xargs -0 stat -c '%a %n'; } | sha256sum | cut -c1-64)

deb=$(ls "$out"/nova_*.deb 2>/dev/null || true)
if [ -z "${NOVA_DEB_REBUILD:-}" ] && [ -n "$deb" ] && [ "$(echo "$deb" | wc -l)" -eq 1 ] &&
  [ "$(cat "$out/inputs.sha256" 2>/dev/null)" = "$hash" ]; then
  echo "build-deb: reusing build/deb/$(basename "$deb"): its inputs are unchanged" \
    "(NOVA_DEB_REBUILD=1 builds it anew)" >&2
  echo "$deb"
  exit 0
fi

rm -rf "$out"
mkdir -p "$out/nova"
inputs | xargs -0 cp --parents -t "$out/nova"
cp -r packaging/debian "$out/nova/debian"
cd "$out/nova"
echo "build-deb: building the package with dpkg-buildpackage: configure, compile, unit tests" \
  "(a few minutes on 2 cores); log: build/deb/build.log" >&2
DEB_BUILD_OPTIONS="parallel=$(nproc)" \
  "$root/scripts/progress.sh" "build-deb: dpkg-buildpackage" "$out/build.log" dpkg-buildpackage -b -us -uc
cd "$out"
rm -rf nova
deb=$(ls "$out"/nova_*.deb)
echo "build-deb: checking $(basename "$deb") with lintian" >&2
"$root/scripts/progress.sh" "build-deb: lintian" "$out/lintian.log" \
  lintian --fail-on error,warning --display-info "$deb"
cat "$out/lintian.log" >&2  # what it found, if anything: none of it is an error or a warning
echo "$hash" >"$out/inputs.sha256"
echo "build-deb: $(basename "$deb") built and checked" >&2
echo "$deb"
