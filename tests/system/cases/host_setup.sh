#!/bin/bash
# novactl setup-host checks, then applies only what it is asked, safely and
# idempotently (--dry-run changes nothing); in the workspace pool it makes,
# members make their own slots, which no other member can touch; novactl
# doctor says whether the host is ready and what to fix.
# timeout: 150
source "$NOVA_TEST_LIB"
sysctl -qw kernel.pid_max=32768 fs.inotify.max_user_instances=128 kernel.yama.ptrace_scope=0

out=$(novactl setup-host)
echo "$out"
expect_contains "cgroup v2" "ok    cgroup v2" "$out"
expect_contains "memory controller" "ok    memory controller" "$out"
expect_contains "pids controller" "ok    pids controller" "$out"
expect_contains "pid_max" "32768, below 4194304; fix: novactl setup-host --sysctl" "$out"
expect_contains "ptrace_scope" "0, below 1; fix: novactl setup-host --sysctl" "$out"
expect_contains "swap" "none on the host" "$out"

out=$(novactl setup-host --all --dry-run)
expect_contains "dry run" "would: raise" "$out"
expect_eq "pid_max after --dry-run" 32768 "$(cat /proc/sys/kernel/pid_max)"
[[ ! -e /etc/sysctl.d/60-nova.conf && ! -e /var/nova-agents ]] || fail "--dry-run changed the host"
echo "ok: --dry-run changed nothing"

run_expect_fail 6 setpriv --reuid=nobody --regid=nogroup --clear-groups novactl setup-host --sysctl
expect_contains "non-root" "run it as root" "$ERR"

novactl setup-host --sysctl
expect_eq "pid_max" 4194304 "$(cat /proc/sys/kernel/pid_max)"
expect_eq "inotify instances" 8192 "$(cat /proc/sys/fs/inotify/max_user_instances)"
expect_eq "ptrace only by ancestors" 1 "$(cat /proc/sys/kernel/yama/ptrace_scope)"
expect_contains "sysctl.d file" "kernel.pid_max = 4194304" "$(cat /etc/sysctl.d/60-nova.conf)"
[[ ! -e /var/nova-agents ]] || fail "--sysctl alone touched the workspaces"
echo "ok: only --sysctl was applied"

novactl setup-host --all --scratch-size 64M
expect_eq "scratch is a tmpfs" tmpfs "$(stat -f -c %T /var/nova-agents/scratch)"
expect_eq "scratch size" $((64 << 20)) "$(df --output=size -B1 /var/nova-agents/scratch | tail -n1 | tr -d ' ')"
expect_eq "scratch mode" 1777 "$(stat -c %a /var/nova-agents/scratch)"
expect_eq "scratch survives reboots" enabled "$(systemctl is-enabled 'var-nova\x2dagents-scratch.mount')"
pool=/var/nova-agents/pool
expect_eq "pool owner and mode" "root:nova 1770" "$(stat -c '%U:%G %a' "$pool")"
expect_eq "slots made in advance" 0 "$(find "$pool" -mindepth 1 | wc -l)"

# Members make their own slots; no other member may write in one, rename it
# or remove it, and users outside group nova cannot enter the pool.
for u in nova-fay nova-gus nova-hal; do useradd --create-home "$u" 2>/dev/null || true; done
usermod -aG nova nova-fay
usermod -aG nova nova-gus
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
as nova-fay mkdir -m 700 "$pool/ws-001"
as nova-fay touch "$pool/ws-001/work"
expect_eq "fay's slot" "nova-fay 700" "$(stat -c '%U %a' "$pool/ws-001")"
! as nova-gus mkdir -m 700 "$pool/ws-001" 2>/dev/null || fail "gus made a slot fay has"
! as nova-gus touch "$pool/ws-001/evil" 2>/dev/null || fail "gus wrote in fay's slot"
! as nova-gus mv "$pool/ws-001" "$pool/ws-mine" 2>/dev/null || fail "gus renamed fay's slot"
! as nova-gus rm -rf "$pool/ws-001" 2>/dev/null || fail "gus removed fay's slot"
[[ -e $pool/ws-001/work && ! -e $pool/ws-001/evil ]] || fail "fay's slot was changed by gus"
echo "ok: another member cannot write in, rename or remove a member's slot"
! as nova-hal ls "$pool" >/dev/null 2>&1 || fail "a user outside group nova listed the pool"
! as nova-hal mkdir "$pool/ws-hal" 2>/dev/null || fail "a user outside group nova made a slot"
echo "ok: users outside group nova cannot enter the pool"
as nova-gus mkdir -m 700 "$pool/ws-002"
expect_eq "gus's own slot" "nova-gus 700" "$(stat -c '%U %a' "$pool/ws-002")"

# A slot other members may write (as setup-host made them before) is reported
# and repaired in place; a symlink a member leaves in the pool is not followed.
mkdir "$pool/ws-old"
chown root:nova "$pool/ws-old"
chmod 2775 "$pool/ws-old"
touch "$pool/ws-old/keep"
as nova-gus ln -s /tmp "$pool/ws-tmp"
chmod 0775 "$pool"
out=$(novactl setup-host)
expect_contains "shared slot reported" "1 slot(s) other members may write (ws-old)" "$out"
out=$(novactl setup-host --all)
expect_contains "pool repaired" "done: make $pool root:nova, mode 1770" "$out"
expect_contains "slot repaired" "done: take write permission for group and others from 1 slot(s)" "$out"
expect_eq "pool mode repaired" "root:nova 1770" "$(stat -c '%U:%G %a' "$pool")"
expect_eq "old slot no longer group-writable" 2755 "$(stat -c %a "$pool/ws-old")"
[[ -e $pool/ws-old/keep ]] || fail "setup-host deleted a file in a slot"
expect_eq "fay's slot untouched" "nova-fay 700" "$(stat -c '%U %a' "$pool/ws-001")"
expect_eq "/tmp untouched through the symlink" 1777 "$(stat -c %a /tmp)"
out=$(novactl setup-host --all)
expect_contains "third run" "Nothing to do: the host is set up as asked." "$out"
expect_contains "pool ok" "root:nova 1770, 3 slot(s), each writable by its maker" "$out"

out=$(novactl doctor)
echo "$out"
expect_contains doctor "This host is ready to run agents." "$out"
expect_eq "doctor --json ready" true "$(novactl doctor --json | jq .ready)"
systemctl stop novad
rc=0
out=$(novactl doctor) || rc=$?
expect_eq "doctor exit status with novad stopped" 1 "$rc"
expect_contains doctor "FAIL  novad" "$out"
expect_contains doctor "novad.service is inactive; fix: systemctl enable --now novad" "$out"
restart_novad

systemctl disable --now --quiet 'var-nova\x2dagents-scratch.mount'
rm -rf /var/nova-agents /etc/sysctl.d/60-nova.conf "/etc/systemd/system/var-nova\x2dagents-scratch.mount"
for u in nova-fay nova-gus nova-hal; do userdel --remove "$u" 2>/dev/null || true; done
systemctl daemon-reload
