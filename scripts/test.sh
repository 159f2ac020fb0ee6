#!/bin/sh
# The whole test suite, as CI runs it: installs the dependencies, configures,
# builds, runs the unit tests and the system tests (each in a VM with a real
# systemd). Exits non-zero if any test fails. Run as root (the VM image is
# built with debootstrap).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --workflow --preset system
