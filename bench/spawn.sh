#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: how long `novactl spawn`
# takes to give an active agent, against `systemd-run` creating the same unit
# with the same properties directly (the anchor, measured in the same run).
#   1. median of RUNS single spawns each way (agent killed between runs);
#   2. BATCH agents spawned back to back each way, total time.
# Nova is measured twice: with its default soft-deadline timer (two units per
# agent) and with --soft-timeout 0 (one unit, exactly what systemd-run makes).
# timeout: 3000
source "$NOVA_TEST_LIB"
RUNS=30
BATCH=100
nova_config "MemoryMax=32M" "MaxAgents=400" "TimeoutStop=3s"
ws=$(workdir bench)
hook=/usr/libexec/nova/nova-agent-hook

now_ns() { date +%s%N; }
systemd_run() {  # the same unit Nova asks for, through systemd-run
  systemd-run --quiet --unit="nova-agent-$1.service" --slice=nova-agents.slice \
    --description="Nova agent $1: /usr/bin/sleep 600" \
    -p Type=exec -p ExitType=cgroup -p WorkingDirectory="$ws" -p User=root \
    -p ExecStopPost="+-$hook exit $1" -p Environment=NOVA_AGENT_NAME="$1" \
    -p UnsetEnvironment="CODER_PROC_PRIO_MGMT CODER_PROC_OOM_SCORE CODER_PROC_NICE_SCORE" \
    -p MemoryAccounting=yes -p MemoryMax=32M -p MemoryHigh=infinity -p MemorySwapMax=0 \
    -p TasksAccounting=yes -p TasksMax=512 -p CPUAccounting=yes -p RuntimeMaxSec=30min \
    -p TimeoutStopSec=3s -p OOMPolicy=continue -p KillMode=control-group \
    -p CollectMode=inactive-or-failed /usr/bin/sleep 600
}
nova() { novactl spawn "$1" --workdir "$ws" -- /usr/bin/sleep 600 >/dev/null; }
nova_one_unit() { novactl spawn "$1" --workdir "$ws" --soft-timeout 0 -- /usr/bin/sleep 600 >/dev/null; }
clear_agents() {
  systemctl stop 'nova-agent-*.service' 'nova-soft-*' 2>/dev/null || true
  systemctl reset-failed 'nova-*' 2>/dev/null || true
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A samples
for ((i = 0; i < RUNS; i++)); do
  for way in systemd_run nova nova_one_unit; do  # interleaved, so drift hits all alike
    t0=$(now_ns)
    $way "b$i"
    t1=$(now_ns)
    [[ $(systemctl is-active "nova-agent-b$i.service") == active ]] || fail "$way b$i not active"
    samples[$way]+="$(((t1 - t0) / 1000)) "
    systemctl stop "nova-agent-b$i.service"
  done
done
echo "single spawn to an active unit, median of $RUNS (ms):"
declare -A med
for way in systemd_run nova nova_one_unit; do
  med[$way]=$(tr ' ' '\n' <<<"${samples[$way]}" | grep . | median)
  printf '  %-14s %8.1f\n' "$way" "$(awk -v u="${med[$way]}" 'BEGIN {print u / 1000}')"
done
for way in nova nova_one_unit; do
  printf '  ratio %s / systemd_run: %.2f\n' "$way" "$(awk -v a="${med[$way]}" -v b="${med[systemd_run]}" 'BEGIN {print a / b}')"
done

echo "$BATCH agents back to back (s):"
declare -A total
for way in systemd_run nova nova_one_unit; do
  clear_agents
  t0=$(now_ns)
  for ((i = 0; i < BATCH; i++)); do $way "c$i"; done
  t1=$(now_ns)
  [[ $(systemctl list-units --state=active --no-legend 'nova-agent-c*' | wc -l) -eq $BATCH ]] ||
    fail "$way: not all $BATCH agents active"
  total[$way]=$(((t1 - t0) / 1000))
  printf '  %-14s %8.2f\n' "$way" "$(awk -v u="${total[$way]}" 'BEGIN {print u / 1e6}')"
done
clear_agents
for way in nova nova_one_unit; do
  printf '  ratio %s / systemd_run: %.2f\n' "$way" "$(awk -v a="${total[$way]}" -v b="${total[systemd_run]}" 'BEGIN {print a / b}')"
done
