#!/bin/bash
# A command that backgrounds its work and exits (sh -c 'server &') keeps
# running as the agent until its last process exits; then the agent ends and
# its unit goes away, its outcome kept.
# timeout: 90
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir bg)
novactl spawn bg --workdir "$ws" -- sh -c 'sleep 4 &' >/dev/null
sleep 1.5
expect_eq "agent active after sh exited" active "$(systemctl is-active nova-agent-bg.service)"
expect_contains "status lists it" "bg" "$(novactl status)"
wait_until 20 "agent ends with its last process" is_gone bg
expect_contains "outcome" "exited 0" "$(novactl status bg)"
expect_eq "no failed units pile up" "" "$(systemctl list-units --failed --no-legend 'nova-*')"
