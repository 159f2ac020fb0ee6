#!/bin/bash
# Containment 7: children started with &, setsid, a double fork or nohup never
# leave the agent's unit, and all are gone after novactl kill.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir escape)
novactl spawn escape --workdir "$ws" -- sh -c \
  'sleep 1001 & sleep 1002 & setsid sleep 1003 & (sleep 1004 &) ; nohup sleep 1005 >/dev/null 2>&1 &' >/dev/null
wait_until 10 "five sleeps started" eval '(($(pgrep -c -f "^sleep 100[1-5]$") == 5))'
sleep 1  # the shell has exited by now; the agent lives on (ExitType=cgroup)
expect_eq "agent active after its main process exited" active "$(systemctl is-active nova-agent-escape.service)"
procs=$(cat "$(agent_cgroup escape)/cgroup.procs")
for pid in $(pgrep -f '^sleep 100[1-5]$'); do
  grep -qx "$pid" <<<"$procs" || fail "pid $pid ($(cat /proc/$pid/cmdline | tr '\0' ' ')) is outside the agent's cgroup"
done
echo "ok: all five are in the agent's cgroup"
novactl kill escape
expect_eq "sleeps left after kill" 0 "$(pgrep -c -f '^sleep 100[1-5]$' || true)"
expect_no_agent_units
