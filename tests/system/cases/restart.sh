#!/bin/bash
# Agents do not depend on novad: restarting or stopping it leaves every agent
# running, status works while it is down, and a new novad finds them again.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir restart)
for a in r1 r2; do novactl spawn $a --workdir "$ws" -- sleep 600 >/dev/null; done
p1=$(prop r1 MainPID)
p2=$(prop r2 MainPID)
old_novad=$(systemctl show -P MainPID novad)

restart_novad
[[ $(systemctl show -P MainPID novad) != "$old_novad" ]] || fail "novad did not restart"
expect_eq "r1 after novad restart" "$p1" "$(prop r1 MainPID)"
expect_eq "r2 after novad restart" "$p2" "$(prop r2 MainPID)"
expect_contains "novad's journal" "2 running agent(s) found" "$(journalctl -u novad -b --no-pager)"

systemctl stop novad
expect_eq "r1 with novad stopped" "$p1" "$(prop r1 MainPID)"
text=$(novactl status)
expect_contains "status with novad stopped" "Agents: 2 running" "$text"
expect_eq "status --json with novad stopped" "r1 r2" "$(novactl status --json | jq -r '[.agents[].name] | join(" ")')"
run_expect_fail 8 novactl kill r1
expect_eq error "novactl: novad is not running (org.nova.Nova1 has no owner on the system bus); start it with: systemctl start novad" "$ERR"

# The bus activates nothing; the operator starts novad and it carries on.
systemctl start novad
novactl kill r1 >/dev/null
expect_eq "r2 untouched by r1's kill" "$p2" "$(prop r2 MainPID)"
novactl kill --force r2 >/dev/null
expect_no_agent_units
