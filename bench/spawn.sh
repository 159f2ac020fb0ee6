#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: how long `novactl spawn`
# takes to give an active agent, against `systemd-run` creating the same unit
# with the same properties directly (the anchor, measured in the same run).
#   1. median of RUNS single spawns each way (agent killed between runs);
#   2. BATCH agents spawned back to back each way, total time, in ROUNDS
#      rounds with the ways' order turned each round.
# Nova is measured twice: with its default soft-deadline timer (two units per
# agent) and with --soft-timeout 0 (one unit, exactly what systemd-run makes).
# timeout: 3000
source "$NOVA_TEST_LIB"
RUNS=30
BATCH=99
ROUNDS=3
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

# Back to back in ROUNDS rounds, the ways' order turned by one each round, so
# that no way always follows the same one (the order weighed up to 0.3 when
# each way ran its BATCH in one go). The units stay until the end: each way
# spawns beside as many units as the others did at its turn.
echo "$BATCH agents back to back each way, in $ROUNDS rounds of $((BATCH / ROUNDS)), the order turned each round (s):"
clear_agents
ways=(systemd_run nova nova_one_unit)
declare -A total=([systemd_run]=0 [nova]=0 [nova_one_unit]=0) prefix=([systemd_run]=anchor-c [nova]=c [nova_one_unit]=d)
per=$((BATCH / ROUNDS))
for ((r = 0; r < ROUNDS; r++)); do
  for ((w = 0; w < ${#ways[@]}; w++)); do
    way=${ways[$(((w + r) % ${#ways[@]}))]}
    settle
    t0=$(now_ns)
    for ((i = r * per; i < (r + 1) * per; i++)); do $way "${prefix[$way]}$i"; done
    t1=$(now_ns)
    total[$way]=$((total[$way] + (t1 - t0) / 1000))
  done
done
for way in "${ways[@]}"; do
  pattern=$([[ $way == systemd_run ]] && echo 'anchor-c*.service' || echo "nova-agent-${prefix[$way]}*.service")
  [[ $(active_count "$pattern") -eq $((per * ROUNDS)) ]] || fail "$way: not all $((per * ROUNDS)) agents active"
  printf '  %-14s %8.2f\n' "$way" "$(awk -v u="${total[$way]}" 'BEGIN {print u / 1e6}')"
done
clear_agents
for way in nova nova_one_unit; do
  printf '  ratio %s / systemd_run: %.2f\n' "$way" "$(awk -v a="${total[$way]}" -v b="${total[systemd_run]}" 'BEGIN {print a / b}')"
done
