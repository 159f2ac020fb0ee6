#!/bin/bash
# A spawn whose workdir never answers (a FUSE file system that reads no
# request) hangs in systemd's start job. Meanwhile other clients' spawns,
# kills and status complete, and the watcher still relieves a hog; at
# StartTimeout novad kills and removes the stuck unit, and its caller gets
# one line and exit 7. Nothing of it starts later.
# timeout: 300
source "$NOVA_TEST_LIB"
use_small_agents "StartTimeout=50s" "MemoryMax=4G" "AdmissionPercent=30" \
  "AdmissionReopenPercent=25" "ReliefPercent=40" "ReliefTargetPercent=20"
ws=$(workdir stuck)
mnt=/srv/stuck-fuse
mkdir -p "$mnt"
novad_pid=$(systemctl show -P MainPID novad)
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
mib() { echo $((total_mib * $1 / 100)); }

fusehang "$mnt" >"$ws/fusehang.out" &
helper=$!
cleanup() {
  kill "$helper" 2>/dev/null || true  # its exit aborts the connection: waiters fail at once
  wait "$helper" 2>/dev/null || true
  grep -q " $mnt " /proc/self/mountinfo && umount -l "$mnt"
  true
}
trap cleanup EXIT
wait_until 10 "the file system that never answers is mounted" grep -q " $mnt " /proc/self/mountinfo

# novactl checks the workdir itself and would hang there; it runs in a mount
# namespace of its own where the mount is detached (the plain directory
# below it shows), while novad and systemd see the file system that hangs.
began=$SECONDS
(rc=0
 unshare --mount --propagation private sh -c \
   "fusehang -u $mnt && exec novactl spawn stuck --workdir $mnt -- /bin/sleep 600" \
   >"$ws/stuck.out" 2>"$ws/stuck.err" || rc=$?
 echo $rc >"$ws/stuck.rc") &
client=$!
wait_until 30 "the stuck agent's start job hangs" \
  eval '[[ $(systemctl show -P ActiveState nova-agent-stuck.service) == activating ]]'

t0=$(date +%s%3N)
novactl spawn quick --workdir "$ws" -- /bin/sleep 600 >/dev/null
novactl status quick >/dev/null
novactl kill --force quick >/dev/null
t1=$(date +%s%3N)
note "spawn, status and kill of another agent took $((t1 - t0)) ms"
((t1 - t0 < 20000)) || fail "other calls took $((t1 - t0)) ms while a spawn hung"
expect_eq "the stuck start meanwhile" activating "$(systemctl show -P ActiveState nova-agent-stuck.service)"

novactl spawn hog --workdir "$ws" -- memhog "$(mib 50)" - 2 >/dev/null
wait_until 60 "the watcher relieved the hog" is_gone hog
expect_eq "the stuck start meanwhile" activating "$(systemctl show -P ActiveState nova-agent-stuck.service)"

wait "$client"
took=$((SECONDS - began))
expect_eq "the stuck spawn's exit code" 7 "$(cat "$ws/stuck.rc")"
err=$(cat "$ws/stuck.err")
[[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || fail "more than one line: $err"
expect_contains "the stuck spawn's line" \
  'agent "stuck" failed to start: its start job did not finish within 50s (StartTimeout), so novad killed and removed it' "$err"
note "the stuck spawn failed after ${took}s"
((took >= 45 && took < 100)) || fail "the stuck spawn failed after ${took}s, StartTimeout is 50s"
is_gone stuck || fail "the stuck unit is still loaded: $(systemctl status nova-agent-stuck.service 2>&1)"
echo "ok: the stuck unit is gone"
sleep 3
is_gone stuck || fail "the stuck unit came back"
expect_no_agent_units
expect_eq "novad lived" "$novad_pid" "$(systemctl show -P MainPID novad)"
cleanup
trap - EXIT
grep -q " $mnt " /proc/self/mountinfo && fail "$mnt is still mounted"
echo "ok: the file system is gone"
