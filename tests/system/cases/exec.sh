#!/bin/bash
# novactl exec: a command run inside a running agent is in the agent's
# cgroup (counted against its memory and task limits, given the priority
# policy, killed with the agent), on the caller's terminal, with its own exit
# status; only the agent's user or root may do it, and novad's Attach
# refuses every process but the caller's own child.
# timeout: 210
source "$NOVA_TEST_LIB"
cp /etc/default/novad /tmp/novad.env.orig
trap 'cp /tmp/novad.env.orig /etc/default/novad' EXIT
printf '%s\n' CODER_PROC_PRIO_MGMT=1 CODER_PROC_NICE_SCORE=7 > /etc/default/novad
use_small_agents
ws=$(workdir exec)
members nova-dana nova-egon

as nova-dana novactl spawn ex --workdir "$ws" --memory 96M --tasks 8 -- sleep 600 >/dev/null
cgroup=$(agent_cgroup ex)

expect_contains "the command runs in the agent's cgroup" "/nova-agents.slice/nova-agent-ex.service" \
  "$(cd "$ws" && as nova-dana novactl exec ex -- cat /proc/self/cgroup)"
expect_eq "it runs as the caller" nova-dana "$(cd "$ws" && as nova-dana novactl exec ex -- id -un)"
expect_eq "stdin is the caller's" "from the caller" \
  "$(echo 'from the caller' | (cd "$ws" && as nova-dana novactl exec ex -- cat))"
rc=0
(cd "$ws" && as nova-dana novactl exec ex -- sh -c 'echo out; echo err >&2; exit 3') \
  > "$ws/out" 2> "$ws/err" || rc=$?
expect_eq "the command's exit status" 3 "$rc"
expect_eq "its stdout" out "$(cat "$ws/out")"
expect_eq "its stderr, and nothing from novactl" err "$(cat "$ws/err")"
expect_eq "the priority policy applies before the command runs" 7 \
  "$(cd "$ws" && as nova-dana novactl exec ex -- sh -c 'ps -o nice= -p $$' | tr -d ' ')"

# Counted against the agent's limits: a hog above the agent's MemoryMax is
# OOM-killed inside the agent (the agent itself, OOMPolicy=continue, runs on),
# and forks beyond its TasksMax fail.
oom_before=$(sed -n 's/^oom_kill //p' "$cgroup/memory.events")
rc=0
(cd "$ws" && as nova-dana novactl exec ex -- memhog 300) >/dev/null 2>&1 || rc=$?
expect_eq "a hog run in the agent is SIGKILLed (128+9)" 137 "$rc"
oom_after=$(sed -n 's/^oom_kill //p' "$cgroup/memory.events")
((oom_after > oom_before)) || fail "the agent's memory.events oom_kill stayed at $oom_after"
echo "ok: the kill is the agent's OOM kill (oom_kill $oom_before -> $oom_after)"
expect_eq "the agent runs on" active "$(systemctl is-active nova-agent-ex.service)"
# (dash gives up at the first fork that fails, with exit 2)
out=$(cd "$ws" && as nova-dana novactl exec ex -- sh -c \
  'trap "kill \$(jobs -p) 2>/dev/null" EXIT; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done' 2>&1) || true
expect_contains "forks beyond the agent's TasksMax=8 fail" "fork" "$out"

# Killed with the agent, and novactl passes the signal's status on.
(cd "$ws" && as nova-dana novactl exec ex -- sh -c 'echo $$ > '"$ws"'/pid; exec sleep 600') &
exec_pid=$!
wait_until 10 "the exec'd command started" test -s "$ws/pid"
pid=$(cat "$ws/pid")
expect_contains "its pid is in the agent's cgroup.procs" " $pid " " $(tr '\n' ' ' < "$cgroup/cgroup.procs") "
wait_until 20 "the agent's TasksCurrent counts it (2)" eval '(($(prop ex TasksCurrent) == 2))'
as nova-dana novactl kill ex >/dev/null
rc=0
wait "$exec_pid" || rc=$?
expect_eq "novactl exec ends when the agent is killed (SIGTERM: 143)" 143 "$rc"
[[ ! -e /proc/$pid ]] || fail "the exec'd command $pid outlived its agent"
echo "ok: the exec'd command died with the agent"

# Refusals: one line, the documented exit code, nothing run.
as nova-dana novactl spawn ex-dana --workdir "$ws" -- sleep 600 >/dev/null
as nova-egon novactl spawn ex-egon --workdir "$ws" -- sleep 600 >/dev/null
run_expect_fail 6 as nova-egon novactl exec ex-dana -- touch "$ws/egon-was-here"
expect_contains "another member is refused" "only its user or root may run commands in it" "$ERR"
[[ ! -e $ws/egon-was-here ]] || fail "egon's command ran"
run_expect_fail 5 as nova-dana novactl exec ghost -- true
expect_contains "an agent that is not running" 'no running agent named "ghost"' "$ERR"
run_expect_fail 5 as nova-dana novactl exec ex -- true
run_expect_fail 2 as nova-dana novactl exec ex-dana -- no-such-command-here
expect_contains "a command that is not there" "not found on PATH" "$ERR"
expect_contains "root may run in a member's agent" "/nova-agent-ex-dana.service" \
  "$(novactl exec ex-dana -- cat /proc/self/cgroup)"
rc=0
out=$(cd "$ws" && as nova-dana novactl exec ex-dana -- novactl exec ex-dana -- true 2>&1) || rc=$?
expect_eq "novactl inside an agent is refused (agents cannot manage agents)" 6 "$rc"
expect_contains "and says so" "agents cannot manage agents" "$out"

# novad's Attach, called directly as an attacker would: a member moving
# another's process (dana's agent's), root's process, or a process of their
# own that is not the caller's child, into their agent. All refused, none moved.
attach() { as nova-egon busctl call org.nova.Nova1 /org/nova/Nova1 org.nova.Nova1.Manager Attach su "$@"; }
dana_pid=$(prop ex-dana MainPID)
run_expect_fail 1 attach ex-egon "$dana_pid"
expect_contains "another member's process" "is not a child of the calling process" "$ERR"
sleep 600 &
root_pid=$!
run_expect_fail 1 attach ex-egon "$root_pid"
expect_contains "root's process" "is not a child of the calling process" "$ERR"
setpriv --reuid=nova-egon --regid=nova-egon --init-groups sleep 600 &
egon_pid=$!
sleep 0.5
run_expect_fail 1 attach ex-egon "$egon_pid"
expect_contains "egon's own process that is not the caller's child" "not a child" "$ERR"
run_expect_fail 1 attach ex-dana "$egon_pid"
expect_contains "into another member's agent" "only its user or root" "$ERR"
for p in "$root_pid" "$egon_pid"; do
  expect_not_contains "process $p's cgroup" nova-agents.slice "$(cat /proc/"$p"/cgroup)"
done
kill "$root_pid" "$egon_pid" 2>/dev/null || true
expect_eq "dana's agent still has only its own process" 1 "$(prop ex-dana TasksCurrent)"
novactl kill ex-dana >/dev/null
novactl kill ex-egon >/dev/null

# An agent's processes run as the same user as a command its owner runs in it
# with exec, but outside the sandbox: with kernel.yama.ptrace_scope=0 the agent
# can open the command's memory (and so take it over); with 1, which
# `setup-host --sysctl` sets, only the command's ancestors can.
scope_before=$(cat /proc/sys/kernel/yama/ptrace_scope)
trap 'cp /tmp/novad.env.orig /etc/default/novad; sysctl -qw kernel.yama.ptrace_scope=$scope_before' EXIT
pt=$(workdir exec-ptrace)
# (one line: novactl refuses newlines in an argument)
probe='while :; do if [ -s trigger ]; then pid=$(cat trigger); rm -f trigger;'\
' if (exec 3</proc/"$pid"/mem) 2>/dev/null; then echo opened; else echo refused; fi > result.tmp;'\
' mv result.tmp result; fi; sleep 0.1; done'
as nova-dana novactl spawn ex-pt --workdir "$pt" -- sh -c "$probe" >/dev/null
try_mem() {
  rm -f "$pt/result"
  # The command waits, alive, until the agent has tried.
  (cd "$pt" && timeout 20 setpriv --reuid=nova-dana --regid=nova-dana --init-groups novactl exec ex-pt -- \
    sh -c 'echo $$ > trigger; until [ -s result ]; do sleep 0.1; done') ||
    fail "the agent never tried the exec'd command's memory"
  cat "$pt/result"
}
sysctl -qw kernel.yama.ptrace_scope=0
expect_eq "with ptrace_scope=0 the agent can open the exec'd command's memory" opened "$(try_mem)"
sysctl -qw kernel.yama.ptrace_scope=1
expect_eq "with ptrace_scope=1 it cannot" refused "$(try_mem)"
novactl kill ex-pt >/dev/null
