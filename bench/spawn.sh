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
nova_config "MemoryMax=16M" "MaxAgents=400" "TimeoutStop=3s"
ws=$(workdir bench)
source "$(dirname "$0")/bench_lib.sh"  # the anchor: the agent's own unit (systemd_run)

nova() { novactl spawn "$1" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null; }
nova_one_unit() { novactl spawn "$1" --workdir "$ws" --soft-timeout 0 -- /usr/bin/sleep 3600 >/dev/null; }
unit_of_way() { [[ $1 == systemd_run ]] && echo "$2.service" || echo "nova-agent-$2.service"; }
clear_agents() {  # and wait for their recorders, so the next way does not share the CPUs with them
  systemctl stop 'nova-agent-*.service' 'nova-soft-*' 'anchor-*.service' 2>/dev/null || true
  settle
  systemctl reset-failed 'nova-*' 'anchor-*' 2>/dev/null || true
}

systemd_run anchor-probe
nova_one_unit probe
same_unit anchor-probe probe
systemctl stop anchor-probe.service nova-agent-probe.service

declare -A samples
for ((i = 0; i < RUNS; i++)); do
  for way in systemd_run nova nova_one_unit; do  # interleaved, so drift hits all alike
    name=$([[ $way == systemd_run ]] && echo "anchor-b$i" || echo "b$way$i")
    t0=$(now_ns)
    $way "$name"
    t1=$(now_ns)
    [[ $(systemctl is-active "$(unit_of_way "$way" "$name")") == active ]] || fail "$way $name not active"
    samples[$way]+="$(((t1 - t0) / 1000)) "
    systemctl stop "$(unit_of_way "$way" "$name")"
    settle  # the next way's spawn must not share the CPUs with this one's recorder
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
  for ((i = 0; i < BATCH; i++)); do $way "$([[ $way == systemd_run ]] && echo anchor-c$i || echo c$i)"; done
  t1=$(now_ns)
  pattern=$([[ $way == systemd_run ]] && echo 'anchor-c*.service' || echo 'nova-agent-c*.service')
  [[ $(active_count "$pattern") -eq $BATCH ]] || fail "$way: not all $BATCH agents active"
  total[$way]=$(((t1 - t0) / 1000))
  printf '  %-14s %8.2f\n' "$way" "$(awk -v u="${total[$way]}" 'BEGIN {print u / 1e6}')"
done
clear_agents
for way in nova nova_one_unit; do
  printf '  ratio %s / systemd_run: %.2f\n' "$way" "$(awk -v a="${total[$way]}" -v b="${total[systemd_run]}" 'BEGIN {print a / b}')"
done
