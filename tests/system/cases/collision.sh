#!/bin/bash
# A second spawn of a live name is refused with one line and leaves the first
# agent untouched.
# timeout: 90
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir collide)
novactl spawn twin --workdir "$ws" -- sleep 600 >/dev/null
pid=$(prop twin MainPID)
invocation=$(prop twin InvocationID)
run_expect_fail 4 novactl spawn twin --workdir "$ws" -- sleep 601
expect_eq error 'novactl: agent "twin" is already running (nova-agent-twin.service, active); kill it first or choose another name' "$ERR"
expect_eq "first agent's pid" "$pid" "$(prop twin MainPID)"
expect_eq "first agent's invocation" "$invocation" "$(prop twin InvocationID)"
expect_contains "first agent's command" "argv[]=/usr/bin/sleep 600 " "$(prop twin ExecStart)"
novactl kill --force twin >/dev/null
# Once it is gone, the name is free again.
novactl spawn twin --workdir "$ws" -- sleep 602 >/dev/null
expect_contains "new agent's command" "argv[]=/usr/bin/sleep 602 " "$(prop twin ExecStart)"
novactl kill --force twin >/dev/null
expect_no_agent_units
