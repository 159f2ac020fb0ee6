#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: the watcher's reaction
# time, from the moment host memory crosses ReliefPercent to the victim's
# kill, over TRIALS trials. Each trial a hog grows past the threshold; an
# independent observer outside the agents (memcross, reading /proc/meminfo
# every millisecond, real-time scheduled so that it is punctual) records when
# host memory crossed it, and the kill's time is the one novad puts in its
# kill event (NOVA_TIME_USEC, taken once cgroup.kill is written). A negative
# figure means novad saw the crossing before the observer did.
# Goal: median under 200 ms. The anchor printed beside it is the watcher's
# slowest poll (WatchIntervalMax): what a fixed-interval poller would need.
# timeout: 2400
source "$NOVA_TEST_LIB"
TRIALS=${TRIALS:-21}
RELIEF=50
nova_config "MaxAgents=20" "TimeoutStop=3s" "AdmissionPercent=45" "AdmissionReopenPercent=40" \
  "ReliefPercent=$RELIEF" "ReliefTargetPercent=30"
ws=$(workdir reaction)
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
used_pct() { novactl watch --json --count 1 | jq '.host.memory_used_percent | floor'; }
# A ballast agent holds a share so that each hog has less to grow; the hog
# crosses the threshold larger than the ballast, so the hog is the victim.
ballast=$((total_mib * 18 / 100))
novactl spawn ballast --workdir "$ws" -- memhog "$ballast" >/dev/null
wait_until 120 "ballast holds its memory" \
  eval "journalctl -u nova-agent-ballast.service --no-pager | grep -q holding"
note "MemTotal ${total_mib} MiB, ${ballast} MiB ballast, $(used_pct)% used; relief at ${RELIEF}%"
samples=()
for ((t = 1; t <= TRIALS; t++)); do
  rm -f "$ws/crossed"
  chrt -f 50 memcross "$RELIEF" "$ws/crossed" 300 &
  observer=$!
  novactl spawn "hog$t" --workdir "$ws" -- memhog $((total_mib * 45 / 100)) >/dev/null
  wait_until 300 "hog$t killed" is_gone "hog$t"
  wait "$observer" || fail "the observer never saw host memory cross ${RELIEF}%"
  crossed=$(cat "$ws/crossed")
  killed=$(novactl events --json -n 20 |
    jq "[.[] | select(.action == \"kill\" and .agent == \"hog$t\")][-1].time_usec")
  [[ $killed != null ]] || fail "no kill event for hog$t"
  ms=$(jq -n "($killed - $crossed) / 1000")
  note "trial $t: $ms ms"
  samples+=("$ms")
  wait_until 60 "memory back under admission" eval '(($(used_pct) < 40))'
done
median=$(printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
max=$(printf '%s\n' "${samples[@]}" | sort -n | tail -n1)
min=$(printf '%s\n' "${samples[@]}" | sort -n | head -n1)
echo "reaction from crossing ${RELIEF}% to the kill, $TRIALS trials (ms):"
echo "  median $median   min $min   max $max"
echo "  anchor: a fixed 1000 ms poller (WatchIntervalMax) reacts in 500 ms on average"
echo "  ratio median / 200 ms goal: $(jq -n "$median / 200 * 100 | round / 100")"
novactl kill --force ballast >/dev/null
