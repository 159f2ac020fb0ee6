#!/bin/sh
# Builds the Debian package from packaging/debian with the standard tools
# (dpkg-buildpackage, debhelper's dh with the CMake build system), offline,
# in a copy of the source tree, then checks it with lintian: any error or
# warning fails. The .deb lands in build/deb/ (build/deb-RELEASE/ with
# --chroot), with the hash of its inputs next to it (inputs.sha256). The inputs are what a commit of this tree would
# hold: the tracked files and new ones not ignored, packaging/ among them. A
# rerun whose inputs hash the same reuses that .deb instead of building it
# again (minutes on 2 cores); NOVA_DEB_REBUILD=1 builds it anyway.
#
# Prints the .deb's path on stdout; progress goes to stderr.
# Set-up on a fresh host: scripts/install-deps.sh (the build dependencies in
# packaging/debian/control, plus lintian and git).
#
#   scripts/build-deb.sh                 for the host's release; the .deb lands in build/deb/
#   scripts/build-deb.sh --chroot DIR    for the release of the chroot DIR, built and
#                                        checked there (its lintian); lands in build/deb-RELEASE/
#
# A .deb built on Debian 12 does not install on Debian 13 and back (its
# dependencies name each release's library packages), so each release gets
# its own, built on that release. To build the other one on this host, as root:
#
#   scripts/debian-chroot.sh trixie /srv/chroot/nova-trixie     # or bookworm; from Debian packages only
#   scripts/build-deb.sh --chroot /srv/chroot/nova-trixie       # -> build/deb-trixie/nova_*.deb
#
# The tree is copied to build/deb*/nova and that folder is bind-mounted into
# the chroot (in a private mount namespace, gone when the script ends).
set -eu
chroot_dir="" release=""
case "${1:-}" in
  --chroot)
    [ $# -eq 2 ] && [ -d "$2" ] || { echo "usage: $0 [--chroot DIR]" >&2; exit 2; }
    chroot_dir=$(cd "$2" && pwd)
    ;;
  "") ;;
  *) echo "usage: $0 [--chroot DIR]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/deb
if [ -n "$chroot_dir" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "build-deb: --chroot needs root" >&2; exit 2; }
  release=$(. "$chroot_dir/etc/os-release" && echo "${VERSION_CODENAME:-}")
  [ -n "$release" ] && [ -x "$chroot_dir/usr/bin/dpkg-buildpackage" ] || {
    echo "build-deb: $chroot_dir is no build chroot; make one with scripts/debian-chroot.sh" >&2
    exit 2
  }
  out=$root/build/deb-$release
fi

# in_out DIR CMD...: runs CMD in $out/DIR, on the host or, with --chroot, in
# the chroot, where $out is bind-mounted at /srv/nova-deb.
in_out() {
  if [ -z "$chroot_dir" ]; then
    (cd "$out/$1" && shift && "$@")
    return
  fi
  mkdir -p "$chroot_dir/srv/nova-deb"
  unshare --mount --propagation private sh -c '
    c=$1 out=$2 dir=$3; shift 3
    mount -t proc proc "$c/proc" && mount --rbind /dev "$c/dev" &&
      mount --bind "$out" "$c/srv/nova-deb" &&
      exec chroot "$c" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS" \
        sh -c "cd /srv/nova-deb/$dir && exec \"\$@\"" sh "$@"' sh "$chroot_dir" "$out" "$@"
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
where=${release:+in the $release chroot $chroot_dir}
echo "build-deb: building the package with dpkg-buildpackage ${where:-on this host}: configure," \
  "compile, unit tests (a few minutes on 2 cores); log: $out/build.log" >&2
export DEB_BUILD_OPTIONS="parallel=$(nproc)"
if [ -z "$chroot_dir" ]; then
  (cd "$out/nova" && "$root/scripts/progress.sh" "build-deb: dpkg-buildpackage" "$out/build.log" \
    dpkg-buildpackage -b -us -uc)
else
  in_out nova dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1 || {
    tail -n 40 "$out/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed; full log: $out/build.log" >&2
    exit 1
  }
fi
cd "$out"
rm -rf nova
deb=$(ls "$out"/nova_*.deb)
echo "build-deb: checking $(basename "$deb") with lintian ${where:-on this host}" >&2
if [ -z "$chroot_dir" ]; then
  "$root/scripts/progress.sh" "build-deb: lintian" "$out/lintian.log" \
    lintian --fail-on error,warning --display-info "$deb"
  cat "$out/lintian.log" >&2  # what it found, if anything: none of it is an error or a warning
else
  in_out . lintian --fail-on error,warning --display-info "$(basename "$deb")"
fi
echo "$hash" >"$out/inputs.sha256"
echo "build-deb: $(basename "$deb") built and checked" >&2
echo "$deb"
