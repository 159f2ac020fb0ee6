#!/bin/bash
# Containment 1: a hog that allocates past its MemoryMax is killed by the
# memory cgroup's OOM killer; its sibling and novad keep running; status
# reports the hog's outcome as an OOM kill.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir oom)
novad_pid=$(systemctl show -P MainPID novad)
novactl spawn sibling --workdir "$ws" --memory 64M -- memhog 16 "$ws/sibling.progress" >/dev/null
novactl spawn hog --workdir "$ws" --memory 64M -- memhog 400 >/dev/null
wait_until 60 "hog is gone" is_gone hog
expect_eq "hog's cgroup OOM kill in the kernel log" yes \
  "$(journalctl -k -b --no-pager | grep -q 'Memory cgroup out of memory' && echo yes)"
expect_contains "hog's outcome" "oom-killed (memory limit)" "$(novactl status hog)"
expect_eq "hog's outcome in JSON" 1 "$(novactl status hog --json | jq -r '.agent.oom_kills >= 1 | if . then 1 else 0 end')"
expect_eq "sibling still active" active "$(systemctl is-active nova-agent-sibling.service)"
p1=$(cat "$ws/sibling.progress"); sleep 1; p2=$(cat "$ws/sibling.progress")
((p2 > p1)) || fail "sibling stopped making progress ($p1 -> $p2)"
echo "ok: sibling progresses ($p1 -> $p2)"
expect_eq "novad survived" "$novad_pid" "$(systemctl show -P MainPID novad)"
expect_contains "novad answers" "Agents: 1 running" "$(novactl status)"
novactl kill --force sibling >/dev/null
