#!/bin/sh
# Builds the Debian package from packaging/debian with the standard tools
# (dpkg-buildpackage, debhelper's dh with the CMake build system), offline,
# in a copy of the source tree, then checks it with lintian: any error or
# warning fails.
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
# Set-up on a fresh host: scripts/install-deps.sh (or: apt-get build-dep ./packaging).
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

rm -rf "$out"
mkdir -p "$out/nova"
cd "$root"
# The tracked files and new ones not ignored: what a commit of this tree would hold.
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$out/nova"
cp -r packaging/debian "$out/nova/debian"
where=${release:+in the $release chroot $chroot_dir}
echo "build-deb: dpkg-buildpackage in $out/nova ${where:-on this host}" >&2
export DEB_BUILD_OPTIONS="parallel=$(nproc)"
in_out nova dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1 || {
  tail -n 40 "$out/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed; full log: $out/build.log" >&2
  exit 1
}
cd "$out"
rm -rf nova
deb=$(ls "$out"/nova_*.deb)
echo "build-deb: lintian $(basename "$deb") ${where:-on this host}" >&2
in_out . lintian --fail-on error,warning --display-info "$(basename "$deb")"
echo "$deb"
