#!/bin/bash
# The watcher with thresholds sized for the VM: three hogs push host memory
# past admission (a spawn is refused with the figures) and then past relief.
# novad kills the largest agents first, one at a time, until memory is under
# the target; the smallest survives, no process is OOM-killed anywhere (kernel
# log), novad lives, every decision is in the journal and `novactl events`,
# the victims' outcomes name novad's relief, and admission reopens.
# timeout: 300
source "$NOVA_TEST_LIB"
use_small_agents "MemoryMax=4G" "AdmissionPercent=50" "AdmissionReopenPercent=45" \
  "ReliefPercent=70" "ReliefTargetPercent=35"
ws=$(workdir relief)
novad_pid=$(systemctl show -P MainPID novad)
since=$(date '+%Y-%m-%d %H:%M:%S')
start_usec=$(date +%s%6N)
used_pct() { novactl watch --json --count 1 | jq '.host.memory_used_percent | floor'; }
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
base=$(used_pct)
note "MemTotal ${total_mib} MiB, ${base}% used before the hogs"
((base < 20)) || fail "the VM is already ${base}% used"
mib() { echo $((total_mib * $1 / 100)); }

# big 28% and mid 14% at once; small grows 1 MiB every 8 ms up to 35%, so
# host memory climbs through admission (50%) to relief (70%) over seconds,
# when small holds about 70 - 28 - 14 - base < 28%. Relief ranks by the
# memory each is about to hold: big and the still-growing small, in either
# order (small's projection may pass big's), and killing both brings memory
# under 35%; mid, steady and smaller, survives.
novactl spawn big --workdir "$ws" -- memhog "$(mib 28)" >/dev/null
novactl spawn mid --workdir "$ws" -- memhog "$(mib 14)" "$ws/mid.progress" >/dev/null
novactl spawn small --workdir "$ws" -- memhog "$(mib 35)" - 8 >/dev/null
wait_until 120 "host memory at the admission threshold" eval '(($(used_pct) >= 51))'

run_expect_fail 3 novactl spawn late --workdir "$ws" -- /bin/sleep 60
expect_contains "refusal" "at or above the admission threshold of 50%" "$ERR"
is_gone late || fail "the refused agent left a unit behind"

wait_until 180 "big is gone" is_gone big
wait_until 60 "small is gone" is_gone small
sleep 2
expect_eq "mid survives" active "$(systemctl is-active nova-agent-mid.service)"
after=$(used_pct)
((after < 35)) || fail "host memory is ${after}% used after relief, target below 35%"
echo "ok: host memory ${after}% used after relief (target below 35%)"

events=$(novactl events --json -n 100 | jq "[.[] | select(.time_usec >= $start_usec)]")
echo "$events" | jq -c '.[] | {action, agent, host_memory_percent, threshold_percent}'
expect_eq "relief's kills" "big small" \
  "$(echo "$events" | jq -r '[.[] | select(.action == "kill") | .agent] | sort | join(" ")')"
expect_eq "small was chosen as growing" true \
  "$(echo "$events" | jq '[.[] | select(.action == "kill" and .agent == "small")][0].reason | startswith("growing ")')"
expect_eq "every kill says why" true \
  "$(echo "$events" | jq '[.[] | select(.action == "kill") | .reason | length > 0] | all')"
expect_eq "first kill answers relief at >= 70%" true \
  "$(echo "$events" | jq '[.[] | select(.action == "relief-started")][0].host_memory_percent >= 70')"
mid_memory=$(novactl watch --json --count 1 | jq '.agents[] | select(.name == "mid") | .memory_current_bytes')
expect_eq "each victim held more than the survivor" true \
  "$(echo "$events" | jq "[.[] | select(.action == \"kill\") | .agent_memory > $mid_memory] | all")"
expect_eq "relief done below the target" true \
  "$(echo "$events" | jq '[.[] | select(.action == "relief-done")][-1].host_memory_percent < 35')"
expect_eq "admission closed then reopened" "admission-closed admission-reopened" \
  "$(echo "$events" | jq -r '[.[] | select(.action | startswith("admission"))] | map(.action) | join(" ")')"
expect_contains "structured entry in the journal" "NOVA_AGENT=big" \
  "$(journalctl -b MESSAGE_ID=04e3b80fca2848339fcc32052574fbd2 NOVA_ACTION=kill -o verbose --no-pager)"
expect_contains "big's outcome" "killed by novad (relief (watcher)" "$(novactl status --all)"

kernel=$(journalctl -k --since "$since" --no-pager)
expect_not_contains "kernel log since the hogs" "Killed process" "$kernel"
expect_not_contains "kernel log since the hogs" "invoked oom-killer" "$kernel"
expect_eq "novad survived" "$novad_pid" "$(systemctl show -P MainPID novad)"
p1=$(cat "$ws/mid.progress"); sleep 1; p2=$(cat "$ws/mid.progress")
((p2 > p1)) || fail "mid stopped making progress ($p1 -> $p2)"
echo "ok: mid progresses ($p1 -> $p2)"

novactl spawn late --workdir "$ws" -- /bin/sleep 60 >/dev/null
echo "ok: a spawn is admitted again"
novactl kill --force late >/dev/null
novactl kill --force mid >/dev/null
