#!/bin/sh
# Builds the Debian package from packaging/debian with the standard tools
# (dpkg-buildpackage, debhelper's dh with the CMake build system), offline,
# in a copy of the source tree, then checks it with lintian: any error or
# warning fails. The .deb for release R lands in build/deb-R/ (build/deb-bookworm/
# on Debian 12, build/deb-trixie/ for Debian 13), with the hash of its inputs
# next to it (inputs.sha256). The inputs are what a commit of this tree would
# hold: the tracked files and new ones not ignored, packaging/ among them. A
# rerun whose inputs hash the same reuses that .deb instead of building it
# again (minutes on 2 cores); NOVA_DEB_REBUILD=1 builds it anyway.
#
# Prints the .deb's path on stdout; progress goes to stderr.
# Set-up on a fresh host: scripts/install-deps.sh (the build dependencies in
# packaging/debian/control, plus lintian and git).
#
#   scripts/build-deb.sh                   for this host's release, built here
#   scripts/build-deb.sh --release R       for release R (bookworm or trixie; debian12,
#                                          debian13): here if it is this host's, else in
#                                          a chroot of R that scripts/debian-chroot.sh
#                                          makes once in ~/.cache/nova/chroot-R (or
#                                          $NOVA_CHROOT_CACHE/chroot-R); needs root
#   scripts/build-deb.sh --chroot DIR      in the chroot DIR, for its release
#
# A .deb built on Debian 12 does not install on Debian 13 and back (its
# dependencies name each release's library packages), so each release gets
# its own, built and lintian-checked on that release. By hand, as root:
#
#   scripts/debian-chroot.sh trixie /srv/chroot/nova-trixie     # or bookworm; from Debian packages only
#   scripts/build-deb.sh --chroot /srv/chroot/nova-trixie       # -> build/deb-trixie/nova_*.deb
#
# The tree is copied to build/deb-R/nova and that folder is bind-mounted into
# the chroot (in a private mount namespace, gone when the script ends).
set -eu
usage() { echo "usage: $0 [--release bookworm|trixie | --chroot DIR]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
chroot_dir="" release=$host_release
case "${1:-}" in
  --chroot)
    [ $# -eq 2 ] && [ -d "$2" ] || usage
    chroot_dir=$(cd "$2" && pwd)
    ;;
  --release)
    [ $# -eq 2 ] || usage
    case $2 in
      bookworm | debian12 | 12) release=bookworm ;;
      trixie | debian13 | 13) release=trixie ;;
      *) echo "build-deb: unknown release '$2' (bookworm or trixie, or debian12, debian13)" >&2; exit 2 ;;
    esac
    if [ "$release" != "$host_release" ]; then
      [ "$(id -u)" -eq 0 ] || { echo "build-deb: building for $release on $host_release needs a chroot, and root" >&2; exit 2; }
      chroot_dir=${NOVA_CHROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nova}/chroot-$release
      "$root/scripts/debian-chroot.sh" "$release" "$chroot_dir"
    fi
    ;;
  "") ;;
  *) usage ;;
esac
[ -n "$release" ] || { echo "build-deb: this host's /etc/os-release names no VERSION_CODENAME" >&2; exit 2; }
if [ -n "$chroot_dir" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "build-deb: --chroot needs root" >&2; exit 2; }
  release=$(. "$chroot_dir/etc/os-release" && echo "${VERSION_CODENAME:-}")
  [ -n "$release" ] && [ -x "$chroot_dir/usr/bin/dpkg-buildpackage" ] || {
    echo "build-deb: $chroot_dir is no build chroot; make one with scripts/debian-chroot.sh" >&2
    exit 2
  }
fi
out=$root/build/deb-$release

# step LABEL LOG DIR CMD...: runs CMD in $out/DIR with progress.sh's heartbeat,
# on the host or, with --chroot, in the chroot, where $out is bind-mounted at
# /srv/nova-deb (in a private mount namespace).
enter_chroot='c=$1 out=$2 dir=$3; shift 3
  mount -t proc proc "$c/proc" && mount --rbind /dev "$c/dev" &&
    mount --bind "$out" "$c/srv/nova-deb" &&
    exec chroot "$c" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LANG=C.UTF-8 DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS" \
      sh -c "cd /srv/nova-deb/$dir && exec \"\$@\"" sh "$@"'
step() {
  label=$1 log=$2 dir=$3
  shift 3
  if [ -z "$chroot_dir" ]; then
    "$root/scripts/progress.sh" "$label" "$log" sh -c 'cd "$1" && shift && exec "$@"' sh "$out/$dir" "$@"
    return
  fi
  mkdir -p "$chroot_dir/srv/nova-deb"
  "$root/scripts/progress.sh" "$label" "$log" \
    unshare --mount --propagation private sh -c "$enter_chroot" sh "$chroot_dir" "$out" "$dir" "$@"
}

cd "$root"

tools="git"
[ -n "$chroot_dir" ] || tools="git dpkg-buildpackage dh lintian"
for tool in $tools; do
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
  echo "build-deb: reusing $deb: its inputs are unchanged" \
    "(NOVA_DEB_REBUILD=1 builds it anew)" >&2
  echo "$deb"
  exit 0
fi

rm -rf "$out"
mkdir -p "$out/nova"
inputs | xargs -0 cp --parents -t "$out/nova"
cp -r packaging/debian "$out/nova/debian"
where=${chroot_dir:+in the $release chroot $chroot_dir}
export DEB_BUILD_OPTIONS="parallel=$(nproc)"
# NOVA_DEB_HOST_TESTED=1: the same tree's unit tests run in this host's own
# build (the test suite runs them beside this), so a package built here, with
# the same compiler and libraries, does not build them again (nocheck: minutes
# on 2 cores). In a chroot, another release's, they are built and run.
steps="configure, compile, unit tests"
if [ "${NOVA_DEB_HOST_TESTED:-0}" = 1 ] && [ -z "$chroot_dir" ]; then
  DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS nocheck"
  steps="configure, compile; no unit tests, this host's build runs them (nocheck)"
fi
echo "build-deb: building the package with dpkg-buildpackage ${where:-on this host}," \
  "a few minutes on 2 cores: $steps; log: $out/build.log" >&2
step "build-deb: dpkg-buildpackage" "$out/build.log" nova dpkg-buildpackage -b -us -uc
rm -rf "$out/nova"
deb=$(ls "$out"/nova_*.deb)
echo "build-deb: checking $(basename "$deb") with lintian ${where:-on this host}" >&2
step "build-deb: lintian" "$out/lintian.log" . lintian --fail-on error,warning --display-info "$(basename "$deb")"
# What it found, if anything: none of it is an error or a warning.
grep -v '^running with root privileges' "$out/lintian.log" >&2 || true
echo "$hash" >"$out/inputs.sha256"
echo "build-deb: $(basename "$deb") built and checked" >&2
echo "$deb"
