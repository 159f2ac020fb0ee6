#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: many.sh's section 5 on
# its own, in minutes. N agents and N anchor units with the same properties
# (systemd-run, bench_lib.sh), then killed one by one, `novactl kill`
# interleaved with `systemctl stop` of an anchor. Goal: ratio <= 1.
# Also: how long `status` of a just-killed agent takes (it waits for the
# outcome being recorded).
# timeout: 1800
source "$NOVA_TEST_LIB"
N=${N:-40}
nova_config "MemoryMax=16M" "MaxAgents=$((N + 50))" "TimeoutStop=3s"
ws=$(workdir bench)
source "$(dirname "$0")/bench_lib.sh"

systemd_run anchor-probe
novactl spawn probe --workdir "$ws" --soft-timeout 0 -- /usr/bin/sleep 3600 >/dev/null
same_unit anchor-probe probe
systemctl stop anchor-probe.service nova-agent-probe.service
for ((i = 1; i <= N; i++)); do
  systemd_run "anchor-$i"
  novactl spawn "a$i" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
done
echo "== $N agents killed one by one, interleaved with systemctl stop (s)"
declare -A kill_total=([systemctl_stop]=0 [novactl_kill]=0)
for ((i = 1; i <= N; i++)); do
  t0=$(now_ns); systemctl stop "anchor-$i.service"; t1=$(now_ns)
  kill_total[systemctl_stop]=$((kill_total[systemctl_stop] + t1 - t0))
  t0=$(now_ns); novactl kill "a$i" >/dev/null; t1=$(now_ns)
  kill_total[novactl_kill]=$((kill_total[novactl_kill] + t1 - t0))
done
printf '  systemctl_stop %8.2f\n  novactl_kill   %8.2f\n' "$(secs "${kill_total[systemctl_stop]}")" "$(secs "${kill_total[novactl_kill]}")"
echo "  ratio novactl_kill / systemctl_stop: $(ratio "${kill_total[novactl_kill]}" "${kill_total[systemctl_stop]}")"
novactl spawn last --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
novactl kill last >/dev/null
t0=$(now_ns); out=$(novactl status last); t1=$(now_ns)
expect_contains "status right after the kill" "killed by root (kill)" "$out"
echo "  status of the agent just killed: $(secs $((t1 - t0))) s"
expect_no_agent_units
