#!/bin/bash
# An OOM kill inside a running agent is reported (issue 11 item 4): with
# OOMPolicy=continue a process killed at the agent's MemoryMax leaves the
# agent running; novad notices the new oom_kill in its memory.events and
# logs an oom-kill event with the count and the process the kernel names.
# `novactl events` and `novactl status` (NAME, the list, --json) show it, a
# second kill raises the count, a restarted novad does not report the same
# kills again, and a hostile process name reaches no terminal raw.
# timeout: 180
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir oom_notice)
novactl spawn oomy --workdir "$ws" --memory 64M -- sleep 600 >/dev/null
cgroup=$(agent_cgroup oomy)
start_usec=$(date +%s%6N)
oom_events() {
  novactl events --json -n 200 |
    jq -c "[.[] | select(.action == \"oom-kill\" and .agent == \"oomy\" and .time_usec >= ${1:-$start_usec})]"
}

# A compiler-like hog, run inside the agent, killed at the agent's 64M.
rc=0
novactl exec oomy -- memhog 300 >/dev/null 2>&1 || rc=$?
expect_eq "the hog is SIGKILLed (128+9)" 137 "$rc"
expect_eq "the kernel counted it" 1 "$(sed -n 's/^oom_kill //p' "$cgroup/memory.events")"
expect_eq "the agent runs on" active "$(systemctl is-active nova-agent-oomy.service)"
wait_until 15 "novad reports the OOM kill" eval '[[ $(oom_events | jq length) -ge 1 ]]'
first=$(oom_events | jq '.[0]')
echo "$first"
kernel_pid=$(journalctl -k -b --no-pager | sed -n 's/.*Killed process \([0-9]*\) (memhog).*/\1/p' | tail -1)
expect_eq "event: count" 1 "$(jq .oom_kills <<<"$first")"
expect_eq "event: process" memhog "$(jq -r .oom_process <<<"$first")"
expect_eq "event: the kernel's pid" "$kernel_pid" "$(jq .oom_pid <<<"$first")"
expect_contains "text event" "OOM kill in agent oomy: the kernel killed process memhog (pid $kernel_pid); 1 OOM kill(s)" \
  "$(novactl events -n 20)"
expect_contains "journal fields" "NOVA_OOM_PROCESS=memhog" \
  "$(journalctl -b MESSAGE_ID=04e3b80fca2848339fcc32052574fbd2 NOVA_ACTION=oom-kill -o verbose --no-pager)"
expect_contains "status NAME" "OOM kills:      1 (last: memhog, pid $kernel_pid, " "$(novactl status oomy)"
expect_contains "the status list" "oomy: 1 (last: memhog, pid $kernel_pid, " "$(novactl status)"
json=$(novactl status oomy --json)
expect_eq "status --json count" 1 "$(jq .agent.oom_kills <<<"$json")"
expect_eq "status --json process" memhog "$(jq -r .agent.last_oom_kill.process <<<"$json")"
expect_eq "status --json pid" "$kernel_pid" "$(jq .agent.last_oom_kill.pid <<<"$json")"

# A second kill, by a process whose name (its comm, from the executable's
# file name) holds terminal escapes: the count rises, the name is escaped.
mkdir -p "$ws/hostile"
cp "$(command -v memhog)" "$ws/hostile/"$'\e[31mx\a'
rc=0
novactl exec oomy -- sh -c "exec $ws/hostile/* 300" >/dev/null 2>&1 || rc=$?
expect_eq "the second hog is SIGKILLed" 137 "$rc"
wait_until 15 "novad reports the second kill" eval '[[ $(oom_events | jq length) -ge 2 ]]'
second=$(oom_events | jq '.[1]')
echo "$second"
expect_eq "event: the count rose" 2 "$(jq .oom_kills <<<"$second")"
expect_eq "event: the name, escaped" '\e[31mx\x07' "$(jq -r .oom_process <<<"$second")"
text=$(novactl events -n 20)
expect_contains "text event, escaped" 'process \e[31mx\x07 (pid ' "$text"
[[ $text != *$'\e'* && $text != *$'\a'* ]] || fail "novactl events printed a raw escape"
status=$(novactl status oomy)
expect_contains "status NAME, escaped" 'OOM kills:      2 (last: \e[31mx\x07, pid ' "$status"
[[ $status != *$'\e'* ]] || fail "novactl status printed a raw escape"
all=$(novactl status)
[[ $all != *$'\e'* ]] || fail "novactl status (the list) printed a raw escape"
expect_contains "the status list" 'oomy: 2 (last: \e[31mx\x07' "$all"
expect_eq "status --json count" 2 "$(novactl status oomy --json | jq .agent.oom_kills)"
expect_eq "the agent still runs on" active "$(systemctl is-active nova-agent-oomy.service)"

# A restarted novad reports nothing it reported before.
restart_usec=$(date +%s%6N)
restart_novad
sleep 4
expect_eq "no event after the restart" 0 "$(oom_events "$restart_usec" | jq length)"
expect_contains "status after the restart" "OOM kills:      2 (last: " "$(novactl status oomy)"

# A new run under the same name starts from 0.
novactl kill --force oomy >/dev/null
novactl spawn oomy --workdir "$ws" --memory 64M -- sleep 600 >/dev/null
expect_contains "a new run's status" "OOM kills:      0" "$(novactl status oomy)"
expect_eq "a new run's --json" 0 "$(novactl status oomy --json | jq .agent.oom_kills)"
novactl kill --force oomy >/dev/null
rm -rf "$ws/hostile"
