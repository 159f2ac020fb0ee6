#!/bin/sh
# Makes (or brings up to date) a Debian chroot in which Nova builds for a given
# release, so that a Debian 12 host can build the Debian 13 package and back:
#
#   scripts/debian-chroot.sh RELEASE DIR     RELEASE: bookworm (12) or trixie (13)
#   scripts/build-deb.sh --chroot DIR        then builds the .deb inside it
#
# Everything comes from Debian's packages: debootstrap (variant buildd) of the
# release from the mirror, then apt-get install of Nova's build dependencies,
# the list in scripts/install-deps.sh less the VM tools (qemu, debootstrap,
# mkfs), which belong on the host. The chroot's apt uses the release's main
# suite only, the same suite the system-test image is made from.
#
# Idempotent: a finished chroot of the same release is kept and only missing
# packages are installed; a chroot of another release is refused, and one whose
# debootstrap did not finish is started anew. Mounts (/proc, /dev) live in a
# private mount namespace and vanish when the script ends. Needs root.
#
# Environment: NOVA_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu

say() { echo "debian-chroot: $*" >&2; }
die() { say "$*"; exit 2; }

[ $# -eq 2 ] || die "usage: $0 bookworm|trixie DIR"
case $1 in
  bookworm | 12 | debian12) release=bookworm ;;
  trixie | 13 | debian13) release=trixie ;;
  *) die "unknown release '$1' (bookworm or trixie)" ;;
esac
dir=$2
mirror=${NOVA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || die "debootstrap and chroot need root"
command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
command -v unshare >/dev/null || die "unshare not found (apt-get install util-linux)"

# The build dependencies: install-deps.sh's list, less what only the host needs.
packages=$(sed -n '/^packages="/,/"$/p' "$here/install-deps.sh" | tr -d '"' | sed 's/^packages=//' |
  tr ' ' '\n' | grep -v -x -E 'qemu-system-x86|qemu-utils|debootstrap|e2fsprogs|' | tr '\n' ' ')
case $packages in
  *libsdbus-c++-dev*) ;;
  *) die "could not read the package list from $here/install-deps.sh" ;;
esac

stamp=$dir/etc/nova-chroot-release
start=$(date +%s)
if [ -f "$stamp" ]; then
  have=$(cat "$stamp")
  [ "$have" = "$release" ] || die "$dir already holds a $have chroot, not $release"
  say "$dir: $release chroot present, checking its packages"
else
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    # Only what an interrupted debootstrap leaves (its debootstrap/ folder) is removed.
    [ "$(cd "$dir" && pwd -P)" != / ] && [ -d "$dir/debootstrap" ] ||
      die "$dir exists, is not empty and is no chroot left by this script; refusing to touch it"
    say "$dir: an unfinished debootstrap, starting it anew"
    rm -rf "$dir"
  fi
  mkdir -p "$dir"
  say "debootstrap $release (variant buildd) from $mirror into $dir"
  log=$(mktemp)
  "$here/progress.sh" "debian-chroot: debootstrap $release" "$log" \
    debootstrap --variant=buildd "$release" "$dir" "$mirror" || die "debootstrap failed (last lines above)"
  rm -f "$log"
  echo "deb $mirror $release main" >"$dir/etc/apt/sources.list"
  # No daemon starts in the chroot; apt fetches no translations or recommends.
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 0755 "$dir/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAcquire::Languages "none";\n' \
    >"$dir/etc/apt/apt.conf.d/90nova"
  echo "$release" >"$stamp"
fi

# Runs a command inside the chroot with /proc and /dev mounted privately:
# in_chroot CMD..., or unshare ... "$enter" sh "$dir" CMD... where a
# command (progress.sh) must be given one.
enter='dir=$1; shift
  mount -t proc proc "$dir/proc" && mount --rbind /dev "$dir/dev" &&
    exec chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"'
in_chroot() { unshare --mount --propagation private sh -c "$enter" sh "$dir" "$@"; }

missing=$(in_chroot sh -c 'for p in "$@"; do
  dpkg-query -W -f="\${Status}" "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
done' sh $packages | tr '\n' ' ')
if [ -n "${missing% }" ]; then
  t=$(date +%s)
  say "installing $(echo $missing | wc -w) packages: $missing"
  log=$dir/var/log/nova-chroot-apt.log
  "$here/progress.sh" "debian-chroot: apt-get install" "$log" \
    unshare --mount --propagation private sh -c "$enter" sh "$dir" \
    sh -c 'apt-get update -q && apt-get install -y -q "$@"' sh $missing ||
    die "apt-get install in the chroot failed (last lines above)"
  in_chroot apt-get clean
fi
versions=$(in_chroot dpkg-query -W -f='${Package} ${Version}\n' g++ cmake libsdbus-c++-dev libsystemd-dev |
  tr '\n' ',' | sed 's/,$//; s/,/, /g')
say "$dir: $release chroot ready in $(($(date +%s) - start)) s ($versions)"
