#!/bin/bash
# Many agents of several users: status lists every one of them, with its user;
# a multi-kill (`novactl kill a b c`) and `kill --all` stop exactly the
# caller's named agents and never another user's; a name the caller does not
# own is one line and exit 6 (not running: 5) while the others are still
# stopped; bad input kills nothing.
# timeout: 600
source "$NOVA_TEST_LIB"
nova_config "MemoryMax=16M" "MaxAgents=100" "TimeoutStop=3s"
ws=$(workdir many)
members nova-mara nova-milo
spawn() { "$@" --workdir "$ws" --soft-timeout 20m -- /usr/bin/sleep 600 >/dev/null; }
running() { systemctl list-units --state=active --no-legend "nova-agent-$1*.service" | wc -l; }

for i in $(seq -w 1 15); do
  spawn as nova-mara novactl spawn "mara-$i"
  spawn as nova-milo novactl spawn "milo-$i"
done
for i in $(seq -w 1 10); do spawn novactl spawn "root-$i"; done
expect_eq "agents running" 40 "$(running '')"

# status: every agent listed once, with its own user; --json the same.
table=$(novactl status)
expect_contains "the header counts them all" "Agents: 40 running" "$table"
for who in mara milo; do
  expect_eq "$who's rows" 15 "$(grep -c "^$who-[0-9][0-9] .* nova-$who " <<<"$table")"
done
expect_eq "root's rows" 10 "$(grep -c '^root-[0-9][0-9] .* root ' <<<"$table")"
json=$(as nova-milo novactl status --json)
expect_eq "a member's --json lists every agent" 40 "$(jq '.agents | length' <<<"$json")"
expect_eq "each agent once" 40 "$(jq -r '.agents[].name' <<<"$json" | sort -u | wc -l)"
expect_eq "mara's agents are hers" 15 "$(jq '[.agents[] | select(.user == "nova-mara" and (.name | startswith("mara-")))] | length' <<<"$json")"
expect_eq "all running, with a pid and a soft deadline" 40 "$(jq '[.agents[] | select(.sub_state == "running" and .main_pid > 0 and .soft_deadline_usec != null and .command == ["/usr/bin/sleep", "600"])] | length' <<<"$json")"

# Bad input first: nothing is killed.
run_expect_fail 2 as nova-mara novactl kill mara-01 'bad name' mara-02
expect_contains "an invalid name" "bad name" "$ERR"
run_expect_fail 2 as nova-mara novactl kill --all mara-01
run_expect_fail 2 as nova-mara novactl kill --user nova-mara
run_expect_fail 2 as nova-mara novactl kill
run_expect_fail 6 as nova-mara novactl kill --all --user nova-milo
expect_contains "only root names another user" "only root may kill another user's agents" "$ERR"
expect_eq "nothing was killed" 40 "$(running '')"

# A multi-kill with another user's agent in it: the caller's go, milo's stays.
rc=0
out=$(as nova-mara novactl kill mara-01 mara-02 milo-01 mara-03 2>"$ws/err") || rc=$?
expect_eq "exit code for a name not hers" 6 "$rc"
expect_eq "one line for it" 1 "$(wc -l <"$ws/err")"
expect_contains "the line names it" 'agent "milo-01" runs as nova-milo' "$(cat "$ws/err")"
expect_eq "the others were stopped" 3 "$(grep -c '^Stopped agent mara-0[123]\.$' <<<"$out")"
for a in mara-01 mara-02 mara-03; do is_stopped "$a" || fail "$a still runs"; done
expect_eq "milo-01 still runs" active "$(systemctl is-active nova-agent-milo-01.service)"

# One not running: exit 5, the others stopped.
rc=0
as nova-mara novactl kill mara-04 mara-99 mara-05 >/dev/null 2>"$ws/err" || rc=$?
expect_eq "exit code for a name not running" 5 "$rc"
expect_contains "the line names it" 'no running agent named "mara-99"' "$(cat "$ws/err")"
expect_eq "mara's left" 10 "$(running mara-)"

# kill --all as a member: all of hers, none of milo's or root's.
out=$(as nova-mara novactl kill --all --force)
expect_eq "mara's --all stopped ten" 10 "$(grep -c '^Stopped agent mara-.* (SIGKILL)\.$' <<<"$out")"
expect_eq "mara has none left" 0 "$(running mara-)"
expect_eq "milo's all run" 15 "$(running milo-)"
expect_eq "root's all run" 10 "$(running root-)"
expect_eq "nothing left for mara" "No running agents to kill." "$(as nova-mara novactl kill --all)"
wait_until 20 "mara-06's outcome says who" eval 'novactl status mara-06 | grep -q "killed by nova-mara (kill --force)"'

# root: --all --user picks one user's, --all the rest.
novactl kill --all --user nova-milo >/dev/null
expect_eq "milo has none left" 0 "$(running milo-)"
expect_eq "root's still run" 10 "$(running root-)"
novactl kill --all >/dev/null
expect_no_agent_units
