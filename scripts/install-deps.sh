#!/bin/sh
# Installs what building, testing and packaging Nova need on a Debian 12
# host, from the distribution's packages only. Idempotent: does
# nothing when everything is present. Needs root (or sudo).
set -eu

packages="cmake g++ make pkg-config
libsdbus-c++-dev libsdbus-c++-bin nlohmann-json3-dev libcli11-dev libspdlog-dev
libfmt-dev libgtest-dev libgmock-dev libsystemd-dev
dpkg-dev debhelper lintian fakeroot build-essential git
qemu-system-x86 qemu-utils debootstrap e2fsprogs
clang-format jq"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all build and test dependencies are installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing:$missing"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
