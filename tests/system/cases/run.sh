#!/bin/bash
# novactl run: spawn, the agent's output on novactl's stdout, and novactl's
# exit code is the agent's: its exit status, or the documented codes for an
# OOM kill (122), a hard timeout (124), relief (121) and a kill (123);
# SIGTERM or SIGINT to novactl stops the agent first (143, 130).
# timeout: 180
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir run)
members nova-dana

# run_rc NAME [OPTIONS] -- CMD...: novactl run's exit code; its stdout and
# stderr in $ws/NAME.out and $ws/NAME.err.
run_rc() {
  local name=$1 rc=0
  shift
  novactl run "$name" --workdir "$ws" "$@" > "$ws/$name.out" 2> "$ws/$name.err" || rc=$?
  echo "$rc"
}

expect_eq "exit 3 is novactl's exit 3" 3 "$(run_rc run-three -- sh -c 'echo one; echo two >&2; exit 3')"
expect_eq "the agent's output, stdout and stderr, on stdout" "one
two" "$(cat "$ws/run-three.out")"
expect_eq "stderr says how it ended" "novactl: agent run-three exited 3 (exit 3)" "$(cat "$ws/run-three.err")"
expect_eq "exit 0" 0 "$(run_rc run-zero -- sh -c 'echo fine')"
expect_eq "nothing on stderr then" "" "$(cat "$ws/run-zero.err")"
expect_eq "a member's run, streamed from the journal as that member" "4 mine" \
  "$(rc=0; out=$(cd "$ws" && as nova-dana novactl run run-dana --workdir "$ws" -- sh -c 'echo mine; exit 4') || rc=$?; echo "$rc $out")"
expect_eq "OOM-killed at its MemoryMax: 122" 122 "$(run_rc run-hog --memory 64M -- memhog 400)"
expect_contains "and says so" "oom-killed (memory limit) (exit 122)" "$(cat "$ws/run-hog.err")"
expect_eq "the hard timeout: 124" 124 "$(run_rc run-slow --timeout 2s -- sleep 60)"
expect_contains "and says so" "hard timeout" "$(cat "$ws/run-slow.err")"

novactl spawn run-taken --workdir "$ws" -- sleep 600 >/dev/null
run_expect_fail 4 novactl run run-taken --workdir "$ws" -- true
expect_eq "a refused spawn leaves the running agent alone" active "$(systemctl is-active nova-agent-run-taken.service)"
novactl kill --force run-taken >/dev/null

# Stopped by someone else's novactl kill: 123; by relief: 121.
novactl run run-victim --workdir "$ws" -- sh -c 'echo up; exec sleep 600' > "$ws/run-victim.out" 2>&1 &
runner=$!
wait_until 15 "run-victim is up" grep -q up "$ws/run-victim.out"
novactl kill run-victim >/dev/null
rc=0; wait "$runner" || rc=$?
expect_eq "killed with novactl kill: 123" 123 "$rc"
novactl run run-big --workdir "$ws" --memory 256M -- memhog 150 > "$ws/run-big.out" 2>&1 &
runner=$!
wait_until 30 "run-big holds its memory" grep -q holding "$ws/run-big.out"
novactl relieve --target 1 >/dev/null || true
rc=0; wait "$runner" || rc=$?
expect_eq "killed by relief: 121" 121 "$rc"

# SIGTERM and SIGINT to novactl run stop the agent, then it exits 128+signal.
for sig in TERM INT; do
  name=run-sig-${sig,,}
  novactl run "$name" --workdir "$ws" -- sh -c 'echo up; exec sleep 600' > "$ws/$name.out" 2> "$ws/$name.err" &
  runner=$!
  wait_until 15 "$name is up" grep -q up "$ws/$name.out"
  kill -s "$sig" "$runner"
  rc=0; wait "$runner" || rc=$?
  expect_eq "novactl run after SIG$sig" "$((128 + $(kill -l "$sig")))" "$rc"
  expect_eq "$name is stopped" yes "$(is_stopped "$name" && echo yes)"
  wait_until 20 "$name's outcome says novactl run killed it" eval "novactl status $name | grep -q 'killed by root (kill)'"
  expect_contains "novactl says why it stopped the agent" "SIG$sig received: stopping agent $name" \
    "$(cat "$ws/$name.err")"
done
