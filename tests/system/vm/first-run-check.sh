#!/bin/bash
# Inside the VM of the first-run test (first-run.sh): Nova, installed from the
# build tree, answers and runs an agent.
# timeout: 60
source "$NOVA_TEST_LIB"
expect_eq "novad" active "$(systemctl is-active novad)"
expect_contains "novactl status" "Host memory:" "$(novactl status)"
ws=$(workdir first)
novactl spawn first --workdir "$ws" -- echo hello from a first run >/dev/null
wait_until 30 "the agent ran and ended" is_gone first
expect_contains "novactl logs" "hello from a first run" "$(novactl logs first)"
