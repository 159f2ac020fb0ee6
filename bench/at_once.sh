#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: many agents at once,
# the part of many.sh (its section 6) that answers "how fast can an operator
# start and stop a host's worth of agents", in minutes instead of many.sh's
# hour. N agents spawned by PAR parallel `novactl spawn` clients, against N
# sequential `systemd-run`s of the agent's own unit (the anchor); then all
# stopped by one `novactl kill --all` (one KillMany call), against N
# sequential `systemctl stop`s. Goal: each at least 5x faster than its
# sequential anchor.
# timeout: 2400
source "$NOVA_TEST_LIB"
N=300
PAR=8
nova_config "MemoryMax=16M" "MaxAgents=$((N + 50))" "TimeoutStop=3s"
ws=$(workdir bench)
source "$(dirname "$0")/bench_lib.sh"

check_anchor

echo "== $N agents: sequential anchors, then $PAR parallel novactl clients and one kill --all (s)"
t0=$(now_ns)
for ((i = 1; i <= N; i++)); do systemd_run "anchor-$i"; done
t1=$(now_ns)
seq_start=$((t1 - t0))
expect_eq "anchors active" "$N" "$(active_count 'anchor-*.service')"
t0=$(now_ns)
for ((i = 1; i <= N; i++)); do systemctl stop "anchor-$i.service"; done
t1=$(now_ns)
seq_stop=$((t1 - t0))

t0=$(now_ns)
seq 1 "$N" | xargs -P "$PAR" -I{} novactl spawn "p{}" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
t1=$(now_ns)
par=$((t1 - t0))
expect_eq "agents active" "$N" "$(active_count 'nova-agent-p*.service')"
t0=$(now_ns)
novactl kill --all >/dev/null
t1=$(now_ns)
all=$((t1 - t0))
# kill returns once the agents are stopped; systemd then runs their outcome
# recorders (one after the other) and unloads the units.
until [[ -z $(systemctl list-units --all --no-legend 'nova-agent-*' 'nova-outcome-*') ]]; do
  (($(now_ns) - t1 < 600000000000)) || fail "units still loaded 600 s after kill --all"
  sleep 0.5
done
t2=$(now_ns)
printf '  sequential systemd-run %8.2f\n  %d novactl clients      %8.2f   %sx faster (goal >= 5)\n' \
  "$(secs "$seq_start")" "$PAR" "$(secs "$par")" "$(ratio "$seq_start" "$par")"
printf '  sequential systemctl stop %5.2f\n  novactl kill --all        %5.2f   %sx faster (goal >= 5)\n' \
  "$(secs "$seq_stop")" "$(secs "$all")" "$(ratio "$seq_stop" "$all")"
printf '  every outcome recorded and unit unloaded %.2f s after kill --all returned\n' "$(secs $((t2 - t1)))"
