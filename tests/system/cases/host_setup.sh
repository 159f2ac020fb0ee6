#!/bin/bash
# novactl setup-host checks, then applies only what it is asked, safely and
# idempotently (--dry-run changes nothing); novactl doctor says whether the
# host is ready and what to fix.
# timeout: 150
source "$NOVA_TEST_LIB"
sysctl -qw kernel.pid_max=32768 fs.inotify.max_user_instances=128

out=$(novactl setup-host)
echo "$out"
expect_contains "cgroup v2" "ok    cgroup v2" "$out"
expect_contains "memory controller" "ok    memory controller" "$out"
expect_contains "pids controller" "ok    pids controller" "$out"
expect_contains "pid_max" "32768, below 4194304; fix: novactl setup-host --sysctl" "$out"
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
expect_contains "sysctl.d file" "kernel.pid_max = 4194304" "$(cat /etc/sysctl.d/60-nova.conf)"
[[ ! -e /var/nova-agents ]] || fail "--sysctl alone touched the workspaces"
echo "ok: only --sysctl was applied"

novactl setup-host --all --scratch-size 64M
expect_eq "scratch is a tmpfs" tmpfs "$(stat -f -c %T /var/nova-agents/scratch)"
expect_eq "scratch size" $((64 << 20)) "$(df --output=size -B1 /var/nova-agents/scratch | tail -n1 | tr -d ' ')"
expect_eq "scratch mode" 1777 "$(stat -c %a /var/nova-agents/scratch)"
expect_eq "scratch survives reboots" enabled "$(systemctl is-enabled 'var-nova\x2dagents-scratch.mount')"
expect_eq "workspace folders" 500 "$(ls -d /var/nova-agents/pool/ws-* | wc -l)"
expect_eq "ws-001 owner and mode" "root:nova 2775" "$(stat -c '%U:%G %a' /var/nova-agents/pool/ws-001)"
expect_eq "ws-500 owner and mode" "root:nova 2775" "$(stat -c '%U:%G %a' /var/nova-agents/pool/ws-500)"

touch /var/nova-agents/pool/ws-007/keep
chmod 0700 /var/nova-agents/pool/ws-042
out=$(novactl setup-host --all)
expect_contains "second run repairs one slot" "1 missing or not set right" "$out"
expect_eq "ws-042 repaired" 2775 "$(stat -c %a /var/nova-agents/pool/ws-042)"
[[ -e /var/nova-agents/pool/ws-007/keep ]] || fail "setup-host deleted a file in a workspace"
out=$(novactl setup-host --all)
expect_contains "third run" "Nothing to do: the host is set up as asked." "$out"

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
systemctl daemon-reload
