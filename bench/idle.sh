#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: novad's RSS and CPU
# while idle with N agents, with the priority sweep off and on; the part of
# many.sh that answers "what does novad cost a host of 300 agents", in a few
# minutes instead of many.sh's half hour. Agents are spawned by parallel
# clients and are the agent's full unit (standard sandbox, soft-deadline
# timer). Goal: RSS <= 8 MiB, CPU <= 0.5% with 300 agents.
# timeout: 1800
source "$NOVA_TEST_LIB"
N=300
PAR=8
nova_config "MemoryMax=16M" "MaxAgents=$((N + 50))" "TimeoutStop=3s"
ws=$(workdir bench)

idle() {  # LABEL: RSS and CPU share of novad over 30 s of quiet, and its busiest threads
  local pid ticks0 ticks1 hz rss t
  local -A before
  pid=$(systemctl show -P MainPID novad)
  sleep 5
  for t in /proc/"$pid"/task/*; do before[${t##*/}]=$(awk '{print $14 + $15}' "$t/stat"); done
  ticks0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 30
  ticks1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  hz=$(getconf CLK_TCK)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  printf '  %-34s RSS %5.1f MiB, CPU %.2f%% (goal: <= 8 MiB, <= 0.5%%)\n' "$1" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" \
    "$(awk -v d="$((ticks1 - ticks0))" -v hz="$hz" 'BEGIN {print 100 * d / hz / 30}')"
  # novad names its threads (watcher, worker-N, metrics; the bus thread is novad).
  for t in /proc/"$pid"/task/*; do
    [[ -n ${before[${t##*/}]:-} ]] || continue
    echo "$(($(awk '{print $14 + $15}' "$t/stat") - ${before[${t##*/}]})) $(cat "$t/comm")"
  done | sort -rn | awk -v hz="$hz" '$1 > 0 && n++ < 3 {printf "    %-12s %.2f%%\n", $2, 100 * $1 / hz / 30}'
}

echo "== novad idle with $N agents ($PAR parallel clients spawned them)"
idle "no agents:"
seq 1 "$N" | xargs -P "$PAR" -I{} novactl spawn "i{}" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
expect_eq "agents active" "$N" "$(systemctl list-units --state=active --no-legend 'nova-agent-i*.service' | wc -l)"
idle "after the spawns, sweep off:"
restart_novad
idle "restarted, sweep off:"
cp /etc/default/novad /etc/default/novad.bench 2>/dev/null || : >/etc/default/novad.bench
echo "CODER_PROC_PRIO_MGMT=1" >>/etc/default/novad
restart_novad
idle "restarted, priority sweep on:"
mv /etc/default/novad.bench /etc/default/novad
restart_novad
novactl kill --all --force >/dev/null
expect_no_agent_units
