#!/bin/bash
# One test VM for a whole ctest run: booted once, then each system test is sent
# to it in turn through the 9p share, so a test costs its own run time only.
#
#   session.sh start            boot the VM, install Nova, wait until ready
#   session.sh exec TEST        run tests/system/cases/TEST.sh inside; print its
#                               log as it grows (and the guest journal on failure)
#   session.sh stop             power the VM off
#
# Environment: NOVA_VM_SESSION (the session folder, required); what to install:
# NOVA_VM_DEB (a folder holding the built nova_*.deb, installed with apt as a
# user would) or else NOVA_VM_STAGE (a `cmake --install` tree, copied in);
# NOVA_VM_HELPERS (built test helpers), NOVA_VM_DISTRO (debian12, the
# default, or debian13: the image build-image.sh makes), NOVA_VM_CACHE
# (image cache), NOVA_VM_MEMORY (default 6G).
# Every wait has a deadline: boot 300 s (a boot the emulator breaks is tried
# again, three boots in all; a case it breaks is run once more in a fresh VM:
# emulator_fault), each test its "# timeout:" header plus 60 s, a VM 1 hour.
# Exit status: 0 on success, 1 on a test failure or time-out, 2 on a missing
# prerequisite.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cases=$(cd "$here/../cases" && pwd)
session=${NOVA_VM_SESSION:?NOVA_VM_SESSION must name the session folder}
share=$session/share

die() { echo "session.sh: $*" >&2; exit 2; }
alive() { [[ -f $session/qemu.pid ]] && kill -0 "$(cat "$session/qemu.pid")" 2>/dev/null; }
console_tail() {
  echo "----- VM console (last ${1:-60} lines) -----"
  tail -n "${1:-60}" "$session/console.log" 2>/dev/null | tr -d '\r' || true
}
last_console_line() {  # the boot is quiet until the guest installs Nova
  local line
  # Terminal sequences go first (Debian 13's getty resets the console with some).
  line=$(tr -d '\r' <"$session/console.log" 2>/dev/null |
    sed -E $'s/\x1b\\[[0-9;?!]*[A-Za-z]//g; s/\x1b\\][^\x07]*\x07//g' | tr -d '\000-\010\013-\037' |
    grep -v '^ *$' | tail -n 1 | cut -c1-100 || true)
  echo "${line:-kernel and systemd starting}"
}
header() {  # header FIELD TEST DEFAULT: the number in a "# FIELD: N" line of a test
  local v
  v=$(sed -n "s/^# $1: *\([0-9]*\).*/\1/p" "$share/cases/$2.sh" 2>/dev/null | head -n1)
  echo "${v:-$3}"
}

# Software emulation (TCG, two vCPUs) now and then breaks the guest kernel
# while it patches its own code live: a stray int3 oopses (seen in Debian
# 13's 6.12, at boot and mid-run), or both vCPUs spin for good (soft
# lockups, seen in Debian 12's boot). emulator_fault OFFSET [boot] names
# such a fault in the console after byte OFFSET, and fails if there is none;
# while booting (nothing of Nova runs yet) any kernel panic counts as one.
emulator_fault() {
  local seen signatures='Oops: int3|BUG: soft lockup'
  [[ ${2:-} == boot ]] && signatures+='|Kernel panic'
  seen=$(tail -c +$(($1 + 1)) "$session/console.log" 2>/dev/null | tr -d '\r' |
    grep -a -m1 -o -E "$signatures" || true)
  case $seen in
    'Oops: int3') echo "the guest kernel hit a stray int3 of its live code patching" ;;
    'BUG: soft lockup') echo "the guest's vCPUs locked up (kernel soft lockup)" ;;
    'Kernel panic') alive && return 1; echo "the guest kernel panicked" ;;
    *) return 1 ;;
  esac
}

kill_vm() {
  alive || return 0
  kill -- -"$(cat "$session/qemu.pid")" 2>/dev/null || kill "$(cat "$session/qemu.pid")" 2>/dev/null || true
  local waited=0
  while alive && ((waited++ < 50)); do sleep 0.2; done
}

start() {
  command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found; run scripts/install-deps.sh"
  command -v qemu-img >/dev/null || die "qemu-img not found; run scripts/install-deps.sh"
  local stage=${NOVA_VM_STAGE:-} debs=${NOVA_VM_DEB:-}
  if [[ -n $debs ]]; then
    compgen -G "$debs/nova_*.deb" >/dev/null ||
      die "NOVA_VM_DEB must be a folder with nova_*.deb (scripts/build-deb.sh); got '$debs'"
  elif [[ -z $stage || ! -x $stage/usr/sbin/novad ]]; then
    die "set NOVA_VM_DEB to a folder with nova_*.deb, or NOVA_VM_STAGE to a 'cmake --install' tree"
  fi
  local mode=${1:-serve}
  alive && stop
  rm -rf "$session"
  mkdir -p "$share/results" "$share/queue" "$share/bin" "$share/debs" "$session/empty"
  if [[ -n $debs ]]; then
    cp "$debs"/nova_*.deb "$share/debs/"
    stage=$session/empty  # nothing to copy in: the package has it all
  fi
  # build-image.sh prints the image's folder as its only line on stdout (its
  # progress goes to stderr); anything else there is a bug, said as such.
  local image
  image=$("$here/build-image.sh")
  [[ $image != *$'\n'* && -f $image/rootfs.img && -f $image/vmlinuz && -f $image/initrd.img ]] ||
    die "build-image.sh printed '$image' on stdout, which is not an image folder (rootfs.img, vmlinuz, initrd.img)"
  cp "$here/guest-run.sh" "$share/"
  cp -r "$cases" "$share/cases"
  # NOVA_VM_EXTRA: more scripts to offer as cases, e.g. the benchmarks.
  local extra
  for extra in ${NOVA_VM_EXTRA:-}; do cp "$extra" "$share/cases/"; done
  [[ -n ${NOVA_VM_HELPERS:-} ]] && cp -r "$NOVA_VM_HELPERS/." "$share/bin/"
  echo "$mode" > "$share/mode"
  # panic=1 with -no-reboot: a guest kernel that panics ends QEMU at once
  # instead of leaving a dead VM to time out.
  local qemu=(qemu-system-x86_64 -accel tcg -smp 2 -m "${NOVA_VM_MEMORY:-6G}"
    -no-reboot -nic none
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img"
    -append "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0 panic=1"
    -drive "file=$session/disk.qcow2,if=virtio,format=qcow2"
    -virtfs "local,path=$share,mount_tag=nova-run,security_model=none"
    -virtfs "local,path=$stage,mount_tag=nova-stage,security_model=none,readonly=on")
  if [[ $mode == shell ]]; then
    qemu-img create -q -f qcow2 -b "$image/rootfs.img" -F raw "$session/disk.qcow2"
    echo "session.sh: booting a VM and installing Nova in it (about a minute, software emulation)." >&2
    echo "            You get a root shell on its console; novad runs once it says 'nova-vm: Nova" >&2
    echo "            installed'. Agents default to MemoryMax=256M here (/etc/nova/nova.conf), so" >&2
    echo "            many fit in the VM's ${NOVA_VM_MEMORY:-6G}; the shipped file is /run/nova-default.conf." >&2
    echo "            Tests: /run/nova-host/cases/NAME.sh. Leave with 'poweroff' (or Ctrl-A X)." >&2
    exec "${qemu[@]}" -nographic
  fi
  # A boot the emulator breaks (emulator_fault) is tried again on a fresh
  # disk, up to three times in all. Any other failure ends the run.
  local attempt start next fault
  for attempt in 1 2 3; do
    rm -f "$session/disk.qcow2" "$session/console.log"
    qemu-img create -q -f qcow2 -b "$image/rootfs.img" -F raw "$session/disk.qcow2"
    echo "session.sh: booting the test VM (image $(basename "$image")) and installing Nova in it" >&2
    setsid timeout --kill-after=10 3600 "${qemu[@]}" -display none -monitor none \
      -serial "file:$session/console.log" </dev/null >"$session/qemu.out" 2>&1 &
    echo $! > "$session/qemu.pid"
    start=$SECONDS next=$((SECONDS + 15))
    until [[ -e $share/ready ]]; do
      if ((SECONDS >= next)); then
        echo "session.sh: booting, $((SECONDS - start)) s (at most 300): $(last_console_line)" >&2
        next=$((SECONDS + 15))
      fi
      if [[ -s $share/results/setup.tap ]]; then
        cat "$share/results/setup.tap" "$share/results/setup.log" 2>/dev/null || true
        console_tail 80
        stop
        echo "session.sh: FAIL: Nova could not be set up in the VM" >&2
        exit 1
      fi
      if fault=$(emulator_fault 0 boot) && ((attempt < 3)); then
        console_tail 30
        echo "session.sh: $fault while booting (attempt $attempt of 3); booting again" >&2
        kill_vm
        continue 2
      fi
      if ! alive; then
        cat "$session/qemu.out" >&2 || true
        console_tail 80
        echo "session.sh: FAIL: the VM stopped before it was ready" >&2
        exit 1
      fi
      if ((SECONDS - start > 300)); then
        console_tail 80
        stop
        echo "session.sh: FAIL: the VM was not ready within 300 s" >&2
        exit 1
      fi
      sleep 0.5
    done
    break
  done
  echo "session.sh: VM ready in $((SECONDS - start)) s" >&2
}

# A case that fails because the emulator broke the guest kernel meanwhile
# (emulator_fault, in the console since the case began; seen about once in
# twenty full runs) is run once more in a freshly booted VM, said in the log;
# the broken VM's console is kept. Any other failure is a failure.
exec_test() {
  local name=$1 status=0 fault
  case_console_start=$(stat -c %s "$session/console.log" 2>/dev/null || echo 0)
  run_case "$name" || status=$?
  if ((status != 0)) && fault=$(emulator_fault "$case_console_start"); then
    echo "session.sh: $fault while running $name (software emulation, not Nova);" >&2
    echo "session.sh: booting a fresh VM and running $name once more" >&2
    reboot_after_emulator_fault "$name"
    status=0
    run_case "$name" || status=$?
  fi
  return $status
}

# A fresh VM for the rest of the run; the results so far and the broken VM's
# console (as console-broken-in-TEST.log) stay in the session folder.
reboot_after_emulator_fault() {
  local keep
  keep=$(mktemp -d)
  cp -a "$share/results" "$keep/results"
  cp "$session/console.log" "$keep/console-broken-in-$1.log"
  kill_vm
  start serve
  cp -a "$keep/results/." "$share/results/"
  cp "$keep/console-broken-in-$1.log" "$session/"
  rm -rf "$keep"
}

run_case() {
  local name=$1
  [[ -f $share/cases/$name.sh ]] || die "no such system test: $name (see tests/system/cases/)"
  alive || { echo "session.sh: FAIL: the test VM is not running (session.sh start)" >&2; exit 1; }
  rm -f "$share/results/$name".*
  local deadline
  deadline=$(($(header timeout "$name" 120) + 60))
  echo "$name" > "$share/queue/.$name"
  mv "$share/queue/.$name" "$share/queue/$name"
  # The test's log is shown as it grows (the guest writes it into the share),
  # with a line every 15 s when it stays quiet.
  local start=$SECONDS status=0 shown=0 next=$((SECONDS + 15))
  show_log() {  # what was added since the last call (the guest renames .part to .log at the end)
    local f=$share/results/$name.log.part new
    [[ -f $f ]] || f=$share/results/$name.log
    tail -c +$((shown + 1)) "$f" >"$session/log.new" 2>/dev/null || true
    new=$(stat -c %s "$session/log.new")
    if ((new > 0)); then
      cat "$session/log.new"
      shown=$((shown + new))
      next=$((SECONDS + 15))
    fi
  }
  until [[ -s $share/results/$name.tap ]]; do
    show_log
    if ((SECONDS >= next)); then
      echo "session.sh: $name running, $((SECONDS - start)) s (deadline ${deadline} s)" >&2
      next=$((SECONDS + 15))
    fi
    if ! alive; then
      echo "session.sh: FAIL: the VM died while running $name" >&2
      console_tail 80
      status=1
      break
    fi
    if ((SECONDS - start > deadline)); then
      echo "session.sh: FAIL: no result for $name within ${deadline}s" >&2
      console_tail 40
      status=1
      break
    fi
    sleep 0.2
  done
  show_log
  if [[ -s $share/results/$name.tap ]]; then
    cat "$share/results/$name.tap"
    grep -q '^ok ' "$share/results/$name.tap" || status=1
  fi
  if [[ $status -ne 0 && -s $share/results/$name.journal ]]; then
    echo "----- guest journal during $name -----"
    cat "$share/results/$name.journal"
  fi
  return $status
}

stop() {
  alive || return 0
  touch "$share/poweroff"
  local start=$SECONDS
  while alive && ((SECONDS - start < 60)); do sleep 0.5; done
  if alive; then
    echo "session.sh: the VM did not power off within 60 s; killing it" >&2
    kill -- -"$(cat "$session/qemu.pid")" 2>/dev/null || kill "$(cat "$session/qemu.pid")" || true
  fi
  cat "$share/results/"*.tap > "$session/results.tap" 2>/dev/null || true
  echo "session.sh: VM stopped; results in $session/results.tap" >&2
}

case ${1:-} in
  start) start serve ;;
  shell) start shell ;;
  exec) [[ $# -eq 2 ]] || die "usage: session.sh exec TEST"; exec_test "$2" ;;
  stop) stop ;;
  *) die "usage: session.sh start|exec TEST|stop|shell" ;;
esac
