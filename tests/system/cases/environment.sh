#!/bin/bash
# Containment 8: CODER_PROC_* never reaches an agent, not from novad's own
# environment, not from systemd's manager environment, not from --env; other
# variables do.
# timeout: 90
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir env)
cp /etc/default/novad /tmp/novad.env.orig 2>/dev/null || true
printf 'CODER_PROC_PRIO_MGMT=1\nCODER_PROC_NICE_SCORE=5\n' > /etc/default/novad
restart_novad
expect_contains "novad's environment" "CODER_PROC_PRIO_MGMT=1" \
  "$(tr '\0' '\n' < /proc/"$(systemctl show -P MainPID novad)"/environ)"
systemctl set-environment CODER_PROC_PRIO_MGMT=1 CODER_PROC_OOM_SCORE=10 FROM_MANAGER=yes

novactl spawn envy --workdir "$ws" --env GREETING=hello --env EMPTY= -- sh -c 'env > env.out; sleep 600' >/dev/null
wait_until 10 "env written" test -s "$ws/env.out"
env_out=$(cat "$ws/env.out")
expect_contains "agent env" "GREETING=hello" "$env_out"
expect_contains "agent env" "EMPTY=" "$env_out"
expect_contains "agent env" "NOVA_AGENT_NAME=envy" "$env_out"
expect_contains "agent env" "FROM_MANAGER=yes" "$env_out"
expect_not_contains "agent env" "CODER_PROC_" "$env_out"

run_expect_fail 2 novactl spawn envy2 --workdir "$ws" --env CODER_PROC_OOM_SCORE=5 -- true
novactl kill --force envy >/dev/null
systemctl unset-environment CODER_PROC_PRIO_MGMT CODER_PROC_OOM_SCORE FROM_MANAGER
mv /tmp/novad.env.orig /etc/default/novad 2>/dev/null || rm -f /etc/default/novad
expect_no_agent_units
