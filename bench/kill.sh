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

check_anchor
for ((i = 1; i <= N; i++)); do
  systemd_run "anchor-$i"
  novactl spawn "a$i" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
done
echo "== $N agents killed one by one, interleaved with systemctl stop (s)"
kill_one_by_one "$N"
novactl spawn last --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
novactl kill last >/dev/null
t0=$(now_ns); out=$(novactl status last); t1=$(now_ns)
expect_contains "status right after the kill" "killed by root (kill)" "$out"
echo "  status of the agent just killed: $(secs $((t1 - t0))) s"
expect_no_agent_units
