#!/bin/bash
# An agent's environment stays inside the agent: a preloaded library,
# LD_DEBUG_OUTPUT, GCONV_PATH and forged SERVICE_RESULT/EXIT_*/MONITOR_* never
# reach anything that runs as root, and the recorded outcome comes from
# systemd, not from variables the agent set. For every way the agent ends.
# timeout: 150
source "$NOVA_TEST_LIB"
use_small_agents
useradd --create-home nova-mallory 2>/dev/null || true
usermod -aG nova nova-mallory
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
ws=/srv/ws-mallory
rm -rf "$ws"; mkdir -p "$ws"; chown nova-mallory: "$ws"
so=/usr/local/bin/nova-preload-marker.so
[[ -f $so ]] || fail "test helper $so missing"

hostile=(--env LD_PRELOAD="$so" --env NOVA_PRELOAD_MARKER="$ws" --env LD_DEBUG=all
  --env LD_DEBUG_OUTPUT="$ws/lddebug" --env GCONV_PATH="$ws/gconv"
  --env SERVICE_RESULT=oom-kill --env EXIT_CODE=killed --env EXIT_STATUS=KILL
  --env MONITOR_SERVICE_RESULT=oom-kill --env MONITOR_UNIT=nova-agent-other.service)

outcome_of() { novactl status --all --json | jq -r --arg n "$1" '.finished[] | select(.agent == $n) | .description'; }
recorded() { [[ -n $(outcome_of "$1") ]]; }

# 1. It exits by itself with status 3.
as nova-mallory novactl spawn pre-exit --workdir "$ws" "${hostile[@]}" -- /bin/sh -c 'exit 3' >/dev/null
wait_until 20 "pre-exit's outcome recorded" recorded pre-exit
expect_eq "outcome from systemd, not the forged variables" "exited 3" "$(outcome_of pre-exit)"

# 2. Killed by its owner, 3. stopped from outside with systemctl, 4. hard timeout.
as nova-mallory novactl spawn pre-kill --workdir "$ws" "${hostile[@]}" -- /bin/sleep 300 >/dev/null
as nova-mallory novactl kill pre-kill >/dev/null
wait_until 20 "pre-kill's outcome recorded" recorded pre-kill
expect_eq "kill outcome" "killed by nova-mallory (kill)" "$(outcome_of pre-kill)"
as nova-mallory novactl spawn pre-stop --workdir "$ws" "${hostile[@]}" -- /bin/sleep 300 >/dev/null
systemctl stop nova-agent-pre-stop.service
wait_until 20 "pre-stop's outcome recorded" recorded pre-stop
expect_eq "outcome of systemctl stop" "killed by signal TERM" "$(outcome_of pre-stop)"
as nova-mallory novactl spawn pre-time --workdir "$ws" --timeout 2s "${hostile[@]}" -- /bin/sleep 300 >/dev/null
wait_until 30 "pre-time's outcome recorded" recorded pre-time
expect_eq "timeout outcome" "hard timeout (stopped at RuntimeMaxSec)" "$(outcome_of pre-time)"

# 5. novad is down when the agent ends: the outcome is still recorded.
as nova-mallory novactl spawn pre-down --workdir "$ws" "${hostile[@]}" -- /bin/sh -c 'sleep 3; exit 4' >/dev/null
systemctl stop novad
wait_until 20 "pre-down's outcome recorded with novad stopped" recorded pre-down
expect_eq "outcome while novad was down" "exited 4" "$(outcome_of pre-down)"
restart_novad

# The library did run, in the agent, as the agent's user: the attack was real.
compgen -G "$ws/marker.*.uid$(id -u nova-mallory)" >/dev/null || fail "the preloaded library never ran in the agent"
echo "ok: the preloaded library ran inside the agent, as nova-mallory"
root_owned=$(find "$ws" -user root -printf '%p\n')
expect_eq "files in the workdir owned by root (markers, LD_DEBUG output)" "" "$root_owned"
expect_eq "markers left by a root process anywhere" "" \
  "$(find / -xdev -name 'marker.*.uid0' -printf '%p\n' 2>/dev/null)"
expect_eq "nothing in the agent's unit runs privileged" "" \
  "$(systemctl show -P ExecStopPost nova-outcome-failure@pre-exit.service 2>/dev/null)"
expect_no_agent_units
