#!/bin/bash
# systemd knows when the guardian is stuck: novad is Type=notify with a
# watchdog only its memory watcher pings. Frozen (SIGSTOP), it is aborted and
# restarted within the watchdog time; every agent keeps running, and the new
# novad's watcher relieves a hog again.
# timeout: 240
source "$NOVA_TEST_LIB"
use_small_agents "MemoryMax=4G" "AdmissionPercent=30" "AdmissionReopenPercent=25" \
  "ReliefPercent=40" "ReliefTargetPercent=20"
ws=$(workdir watchdog)
expect_eq "novad's type" notify "$(systemctl show -P Type novad)"
expect_eq "novad's watchdog" 10s "$(systemctl show -P WatchdogUSec novad)"
expect_eq "novad's restart policy" on-failure "$(systemctl show -P Restart novad)"
used_pct() { novactl watch --json --count 1 | jq '.host.memory_used_percent | floor'; }
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
mib() { echo $((total_mib * $1 / 100)); }
base=$(used_pct)
((base < 15)) || fail "the VM is already ${base}% used"

for a in w1 w2; do novactl spawn $a --workdir "$ws" -- sleep 600 >/dev/null; done
p1=$(prop w1 MainPID)
p2=$(prop w2 MainPID)
old=$(systemctl show -P MainPID novad)
restarts=$(systemctl show -P NRestarts novad)
since=$(date '+%Y-%m-%d %H:%M:%S')

kill -STOP "$old"
frozen=$SECONDS
restarted() {
  local now
  now=$(systemctl show -P MainPID novad)
  [[ $now != 0 && $now != "$old" ]] && systemctl is-active --quiet novad
}
wait_until 40 "systemd restarted the frozen novad" restarted
took=$((SECONDS - frozen))
note "frozen novad replaced after ${took}s (WatchdogSec=10s, RestartSec=1s)"
((took >= 7)) || fail "novad was replaced after ${took}s, before its watchdog could fire"
((took <= 25)) || fail "novad was replaced only after ${took}s"
expect_eq "novad's restarts" $((restarts + 1)) "$(systemctl show -P NRestarts novad)"
expect_contains "novad's journal" "Watchdog timeout" \
  "$(journalctl -u novad --since "$since" --no-pager)"
kill -0 "$old" 2>/dev/null && fail "the frozen novad ($old) still exists"
echo "ok: the frozen novad is gone"
expect_eq "w1 untouched" "$p1" "$(prop w1 MainPID)"
expect_eq "w2 untouched" "$p2" "$(prop w2 MainPID)"
expect_contains "the new novad" "2 running agent(s) found" \
  "$(journalctl -u novad --since "$since" --no-pager)"

# The new novad's watcher: a hog grows past ReliefPercent and is killed.
start_usec=$(date +%s%6N)
novactl spawn hog --workdir "$ws" -- memhog "$(mib 50)" - 2 >/dev/null
wait_until 90 "the hog is relieved" is_gone hog
expect_eq "relief's kill" hog "$(novactl events --json -n 50 |
  jq -r "[.[] | select(.time_usec >= $start_usec and .action == \"kill\") | .agent] | join(\" \")")"
expect_contains "the hog's outcome" "killed by novad (relief (watcher)" "$(novactl status hog)"
expect_eq "w1 after relief" "$p1" "$(prop w1 MainPID)"
novactl kill --force w1 >/dev/null
novactl kill --force w2 >/dev/null
expect_no_agent_units
