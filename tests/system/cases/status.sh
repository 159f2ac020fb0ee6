#!/bin/bash
# status (text and JSON) tells the truth: the same figures systemd and the
# kernel report for the agent, and the host header.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir status)
novactl spawn st --workdir "$ws" --memory 96M --tasks 40 --timeout 10m --soft-timeout 5m \
  -- memhog 32 "$ws/progress" >/dev/null
wait_until 30 "hog holds its memory" test -s "$ws/progress"

json=$(novactl status --json)
echo "$json"
agent=$(jq '.agents[] | select(.name == "st")' <<<"$json")
expect_eq state active "$(jq -r .state <<<"$agent")"
expect_eq main_pid "$(prop st MainPID)" "$(jq -r .main_pid <<<"$agent")"
expect_eq memory.max_bytes $((96 << 20)) "$(jq -r .memory.max_bytes <<<"$agent")"
expect_eq tasks.max 40 "$(jq -r .tasks.max <<<"$agent")"
expect_eq user root "$(jq -r .user <<<"$agent")"
expect_eq workdir "$ws" "$(jq -r .workdir <<<"$agent")"
expect_eq command "/usr/local/bin/memhog 32 $ws/progress" "$(jq -r '.command | join(" ")' <<<"$agent")"
cur=$(jq -r .memory.current_bytes <<<"$agent")
real=$(cat "$(agent_cgroup st)/memory.current")
((cur > 32 << 20 && cur < 96 << 20)) || fail "memory.current_bytes $cur not between 32M and 96M"
diff=$((cur > real ? cur - real : real - cur))
((diff < 8 << 20)) || fail "memory.current_bytes $cur vs the cgroup's $real"
echo "ok: memory current $cur (cgroup says $real)"
hard=$(jq -r .hard_deadline_usec <<<"$agent")
soft=$(jq -r .soft_deadline_usec <<<"$agent")
started=$(jq -r .started_at_usec <<<"$agent")
expect_eq "hard deadline - start" 600000000 "$((hard - started))"
((soft - started > 295000000 && soft - started < 305000000)) || fail "soft deadline $((soft - started))us after start"
echo "ok: soft deadline 5 min after start"
total_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
expect_eq memory_total_bytes $((total_kb * 1024)) "$(jq -r .host.memory_total_bytes <<<"$json")"
expect_eq agents_running 1 "$(jq -r .agents_running <<<"$json")"
expect_eq agents_max 20 "$(jq -r .agents_max <<<"$json")"
# "+ 0": jq 1.7 (Debian 13) prints a number as written (85.0), jq 1.6 as a number (85).
expect_eq admission_percent 85 "$(jq -r '.host.admission_percent + 0' <<<"$json")"

text=$(novactl status)
echo "$text"
expect_contains header "Agents: 1 running, maximum 20 (MaxAgents)" "$text"
expect_contains header "admission closes at 85%, relief at 95% (down to 75%)" "$text"
expect_contains row "st    running  " "$text"
expect_contains row "/96M" "$text"
expect_contains row "/40" "$text"
expect_contains row "in 4min" "$text"
expect_contains row "in 9min" "$text"
detail=$(novactl status st)
expect_contains detail "Main PID:       $(prop st MainPID)" "$detail"
novactl kill --force st >/dev/null
run_expect_fail 5 novactl status nosuch
