#!/usr/bin/env bash
# Builds the Debian image the system tests boot: a real systemd as PID 1,
# dbus, cgroup v2 and a stock Debian kernel, all from Debian packages.
# NOVA_VM_DISTRO picks the release: debian12 (bookworm, systemd 252; the
# default) or debian13 (trixie, systemd 257).
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
distro=${NOVA_VM_DISTRO:-debian12}

# What the guest needs: systemd and dbus to be a real host, the kernel, the
# libraries Nova links against (each release names its own) and the small
# tools the tests use, from debootstrap; then, with apt in the new root, the
# tools an agent's real work needs for the sandbox tests (git, make and gcc, a
# Python venv, npm: some 300 packages debootstrap's own ordering cannot
# configure), and what the benchmarks and metrics tests compare Nova with
# (earlyoom, stress-ng, Prometheus's node exporter and curl to scrape it).
packages=(
  systemd systemd-sysv dbus libpam-systemd linux-image-amd64 kmod udev
  procps psmisc util-linux e2fsprogs jq
)
work_tools=(git make gcc libc6-dev python3 python3-venv python3-setuptools npm sudo
  earlyoom stress-ng prometheus-node-exporter curl)
case $distro in
  debian12) suite=bookworm packages+=(libsdbus-c++1 libspdlog1.10 libfmt9) ;;
  debian13) suite=trixie packages+=(libsdbus-c++2 libspdlog1.15 libfmt10) ;;
  *) echo "build-image: NOVA_VM_DISTRO must be debian12 or debian13, not '$distro'" >&2; exit 2 ;;
esac

key=$( { cat "$0" "$here/guest-boot.service" "$here/guest-boot.sh"; echo "$distro $suite $mirror ${packages[*]} ${work_tools[*]}"; } |
  sha256sum | cut -c1-16)
dir="$cache_root/$distro-$key"

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
  "(${#packages[@]} packages asked for, about 130 with their dependencies), then apt-get install" \
  "${work_tools[*]} (about 370 more)" >&2
start=$SECONDS
"$here/../../../scripts/progress.sh" -s "$debootstrap_progress" "build-image: debootstrap" "$work/debootstrap.log" \
  debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$root" "$mirror"
unmount_root
echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"  # no daemon starts in the new root
chmod 0755 "$root/usr/sbin/policy-rc.d"
"$here/../../../scripts/progress.sh" "build-image: apt-get install" "$work/apt.log" \
  unshare --mount --propagation private sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" &&
      exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends \"\$@\"" sh "$@"' \
    sh "$root" "${work_tools[@]}"
rm -f "$root/usr/sbin/policy-rc.d"
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
# earlyoom and the node exporter are there to be started by the cases and
# benchmarks that compare or scrape; left running, earlyoom would kill what the
# other cases measure.
chroot "$root" systemctl disable --quiet earlyoom.service prometheus-node-exporter.service
printf '9p\n9pnet\n9pnet_virtio\n' >"$root/etc/modules-load.d/nova-vm.conf"

install -m 0644 "$here/guest-boot.service" "$root/etc/systemd/system/nova-vm-boot.service"
install -m 0755 "$here/guest-boot.sh" "$root/usr/local/sbin/nova-vm-boot"
ln -sf /etc/systemd/system/nova-vm-boot.service "$root/etc/systemd/system/multi-user.target.wants/nova-vm-boot.service"

# The newest kernel and its initrd (the /vmlinuz links where the release makes them).
kernel=$(ls -v "$root"/boot/vmlinuz-* | tail -n 1)
cp -L "$kernel" "$work/vmlinuz"
cp -L "$root/boot/initrd.img-${kernel##*/vmlinuz-}" "$work/initrd.img"
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
