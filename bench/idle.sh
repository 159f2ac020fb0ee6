#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: novad's RSS and CPU
# while idle with N agents, after they are killed and spawned again (a leak
# would grow), and with the priority sweep off and on (quiet, and with a
# shell forking two processes a second beside the agents); the part of
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
source "$(dirname "$0")/bench_lib.sh"

echo "== novad idle with $N agents ($PAR parallel clients spawned them)"
echo "  (transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled);" \
  "novad's $(grep THP_enabled "/proc/$(systemctl show -P MainPID novad)/status" | tr -d '\t'))"
idle "no agents:"
seq 1 "$N" | xargs -P "$PAR" -I{} novactl spawn "i{}" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
expect_eq "agents active" "$N" "$(systemctl list-units --state=active --no-legend 'nova-agent-i*.service' | wc -l)"
idle "after the spawns, sweep off:"
# What the spawns leave in novad's memory: grown once (fragments, caches),
# or again with every round (a leak)? The same 300 killed and spawned anew.
novactl kill --all --force >/dev/null
# Their outcome recorders run one after the other: about 30 s for 300.
expect_no_agent_units 300
seq 1 "$N" | xargs -P "$PAR" -I{} novactl spawn "i{}" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
expect_eq "agents active" "$N" "$(systemctl list-units --state=active --no-legend 'nova-agent-i*.service' | wc -l)"
idle "killed and spawned again, sweep off:"
restart_novad
idle "restarted, sweep off:"
cp /etc/default/novad /etc/default/novad.bench 2>/dev/null || : >/etc/default/novad.bench
echo "CODER_PROC_PRIO_MGMT=1" >>/etc/default/novad
restart_novad
idle "restarted, priority sweep on:"
# A host's other services fork now and then; each new pid makes the sweep
# look (the quiet phase above has none): a shell forking two a second.
(while :; do /bin/true; sleep 1; done) &
forker=$!
idle "sweep on, 2 forks a second:"
kill "$forker"
mv /etc/default/novad.bench /etc/default/novad
restart_novad
novactl kill --all --force >/dev/null
expect_no_agent_units
