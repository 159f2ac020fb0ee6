#!/bin/bash
# novactl logs shows an agent's output from the journal, also after it ended.
# timeout: 90
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir logs)
novactl spawn talker --workdir "$ws" -- sh -c 'echo "hello from the agent"; echo "to stderr" >&2' >/dev/null
wait_until 20 "talker finished" is_gone talker
logs=$(novactl logs talker)
expect_contains logs "hello from the agent" "$logs"
expect_contains logs "to stderr" "$logs"
expect_eq "last line" "to stderr" "$(novactl logs talker -n 1)"
run_expect_fail 2 novactl logs 'bad name'
