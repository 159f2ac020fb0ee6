#!/usr/bin/env bash
# Builds the Debian 12 image the system tests boot: a real systemd as PID 1,
# dbus, cgroup v2 and a stock Debian kernel, all from Debian packages.
#
# The image is cached under $NOVA_VM_CACHE keyed by a hash of this script and
# the package list, so it is rebuilt only when what goes into it changes. The
# image holds no Nova code: the test harness shares the freshly built tree into
# each boot, so rebuilding Nova never rebuilds the image.
#
# Prints the cache directory (holding rootfs.img, vmlinuz, initrd.img) on stdout,
# as its only line: callers read it as the image's path. Everything else, the
# tools' chatter included, goes to stderr.
set -euo pipefail
exec 3>&1 1>&2

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${NOVA_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nova/vm}
mirror=${NOVA_VM_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

# What the guest needs: systemd and dbus to be a real host, the kernel, the
# libraries Nova links against, and the small tools the tests use.
packages=(
  systemd systemd-sysv dbus libpam-systemd linux-image-amd64 kmod udev
  procps psmisc util-linux e2fsprogs jq
  git make gcc libc6-dev python3 python3-venv python3-setuptools sudo
  libsdbus-c++1 libspdlog1.10 libfmt9
)

key=$( { cat "$0" "$here/guest-boot.service" "$here/guest-boot.sh"; echo "$mirror ${packages[*]}"; } |
  sha256sum | cut -c1-16)
dir="$cache_root/debian12-$key"

if [[ -f "$dir/rootfs.img" && -f "$dir/vmlinuz" && -f "$dir/initrd.img" ]]; then
  echo "$dir" >&3
  exit 0
fi

for tool in debootstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || {
    echo "build-image: $tool not found; install the build dependencies (scripts/install-deps.sh)" >&2
    exit 2
  }
done
[[ $(id -u) -eq 0 ]] || { echo "build-image: debootstrap needs root (run as root)" >&2; exit 2; }

mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/build.XXXXXX")
root="$work/root"
# debootstrap leaves /proc of the new root mounted when it is interrupted (or
# the unmount finds it busy): unmount it before anything is removed.
unmount_root() { if mountpoint -q "$root/proc" 2>/dev/null; then umount -l "$root/proc"; fi; }
trap 'unmount_root; rm -rf "$work"' EXIT

# What debootstrap is at, for the heartbeat: downloading, then extracting,
# unpacking and configuring, each with its count so far.
debootstrap_progress='
  /^I: (Retrieving|Extracting|Unpacking|Configuring) [^ ]+/ && !/(InRelease|Packages|packages\.\.\.|system\.\.\.) *$/ {
    verb = $2; n[verb]++; what = $3; sub(/\.\.\.$/, "", what)
  }
  END {
    if (verb == "") exit
    if (verb == "Retrieving") printf "downloading packages: %d so far (%s)\n", n[verb], what
    else printf "%d packages downloaded; %s: %d so far (%s)\n", n["Retrieving"], tolower(verb), n[verb], what
  }'
echo "build-image: building the VM image (key $key), once: debootstrap $suite from $mirror" \
  "(${#packages[@]} packages asked for, about 130 with their dependencies)" >&2
start=$SECONDS
"$here/../../../scripts/progress.sh" -s "$debootstrap_progress" "build-image: debootstrap" "$work/debootstrap.log" \
  debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$root" "$mirror"
unmount_root
debs=("$root"/var/cache/apt/archives/*.deb)
echo "build-image: ${#debs[@]} packages installed, $(du -cm "${debs[@]}" | tail -n 1 | cut -f1)M downloaded" >&2

# A plain, quiet test host: root without password on the serial console (the
# image never leaves this machine), no network, no timers that wake at random.
echo nova-vm >"$root/etc/hostname"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$root/etc/fstab"
chroot "$root" passwd -d root >/dev/null
mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
cat >"$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
EOF
for unit in systemd-timesyncd.service e2scrub_all.timer e2scrub_reap.service \
  fstrim.timer apt-daily.timer apt-daily-upgrade.timer man-db.timer getty@tty1.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
printf '9p\n9pnet\n9pnet_virtio\n' >"$root/etc/modules-load.d/nova-vm.conf"

install -m 0644 "$here/guest-boot.service" "$root/etc/systemd/system/nova-vm-boot.service"
install -m 0755 "$here/guest-boot.sh" "$root/usr/local/sbin/nova-vm-boot"
ln -sf /etc/systemd/system/nova-vm-boot.service "$root/etc/systemd/system/multi-user.target.wants/nova-vm-boot.service"

cp -L "$root/vmlinuz" "$work/vmlinuz"
cp -L "$root/initrd.img" "$work/initrd.img"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*

# mkfs.ext4 -q still prints "Creating regular file" on stdout, which is the
# image path for our callers: its chatter goes to stderr with the rest.
echo "build-image: writing the root file system ($(du -sm "$root" | cut -f1)M of files) to rootfs.img, a 3G sparse file" >&2
mkfs.ext4 -q -F -L nova-root -d "$root" "$work/rootfs.img" 3G
rm -rf "$root"
mkdir -p "$dir"
mv "$work/rootfs.img" "$work/vmlinuz" "$work/initrd.img" "$dir/"
echo "build-image: image ready in $((SECONDS - start)) s: $dir ($(du -sm "$dir" | cut -f1)M on disk)" >&2
echo "$dir" >&3
