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

# What an agent prints reaches the terminal escaped: no escape sequence, no
# carriage return to overwrite a line; UTF-8 is kept.
novactl spawn painter --workdir "$ws" -- sh -c 'printf "red \033[31mtext\033]0;title\007\n"; printf "over\rwrite caf\303\251\n"' >/dev/null
wait_until 20 "painter finished" is_gone painter
logs=$(novactl logs painter)
expect_contains "escape sequences shown escaped" 'red \e[31mtext\e]0;title\x07' "$logs"
expect_contains "carriage return shown escaped" 'over\x0dwrite café' "$logs"
expect_not_contains "no raw escape character" $'\033' "$logs"
expect_not_contains "no raw carriage return" $'\r' "$logs"

# --follow keeps printing until stopped, and leaves no journalctl behind.
novactl spawn follower --workdir "$ws" -- sh -c 'printf "first \033[2J\n"; sleep 600' >/dev/null
wait_until 20 "follower wrote" eval 'novactl logs follower | grep -q first'
rc=0
out=$(timeout 3 novactl logs --follow follower) || rc=$?
expect_eq "follow ended by timeout's SIGTERM" 124 "$rc"
expect_contains "follow shows the output escaped" 'first \e[2J' "$out"
expect_eq "journalctl processes left" 0 "$(pgrep -c -f 'journalctl.*nova-agent-follower' || true)"
novactl kill follower >/dev/null

run_expect_fail 5 novactl logs nosuch
expect_contains "unknown agent" 'no agent named "nosuch"' "$ERR"
