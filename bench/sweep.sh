#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: the priority sweep's CPU
# cost with PROCS processes in agent units, against a scan of every process
# in /proc measured in the same run (the anchor). Goal: at least 5x less.
# timeout: 1800
source "$NOVA_TEST_LIB"
AGENTS=10
PER_AGENT=500
ROUNDS=50
nova_config "MaxAgents=50" "TimeoutStop=3s"
ws=$(workdir bench)
for ((i = 0; i < AGENTS; i++)); do
  novactl spawn "procs$i" --workdir "$ws" --tasks $((PER_AGENT + 20)) -- /bin/bash -c \
    "for ((n = 0; n < $PER_AGENT; n++)); do /bin/sleep 3600 & done; wait" >/dev/null
done
count() { cat /sys/fs/cgroup/nova.slice/nova-agents.slice/*/cgroup.procs | wc -l; }
want=$((AGENTS * (PER_AGENT + 1)))
wait_until 900 "$want processes in agent units" eval '(($(count) >= want))'
nova-bench-sweep "$ROUNDS"
systemctl stop 'nova-agent-*.service' 2>/dev/null || true
