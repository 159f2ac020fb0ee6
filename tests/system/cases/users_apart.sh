#!/bin/bash
# Members are kept apart: one cannot kill, read the logs of, or take over the
# name (and so the recorded outcome) of another's agent; what an agent prints
# reaches an admin's terminal escaped.
# timeout: 90
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir apart)
for u in nova-dana nova-egon; do
  useradd --create-home "$u" 2>/dev/null || true
  usermod -aG nova "$u"
done
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }

as nova-dana novactl spawn dana-1 --workdir "$ws" -- /bin/sh -c 'printf "title\033]0;owned\007 clear\033[2J done\n"; exec sleep 600' >/dev/null
wait_until 10 "dana-1 printed" eval 'journalctl -q -o cat _SYSTEMD_UNIT=nova-agent-dana-1.service | grep -q done'
run_expect_fail 6 as nova-egon novactl kill dana-1
expect_contains "egon may not kill it" "only its user or root may kill it" "$ERR"
# Several names (one KillMany call): novad checks each one's owner, so egon's
# own agent stops and dana's is refused in one line and keeps running.
as nova-egon novactl spawn egon-1 --workdir "$ws" -- sleep 600 >/dev/null
rc=0
out=$(as nova-egon novactl kill egon-1 dana-1 2>"$ws/egon-kill.err") || rc=$?
expect_eq "egon's kill of egon-1 and dana-1 exits as not yours" 6 "$rc"
expect_eq "egon's own agent is stopped" "Stopped agent egon-1." "$out"
expect_eq "dana's agent is refused in one line" \
  'novactl: agent "dana-1" runs as nova-dana; only its user or root may kill it' \
  "$(grep -v '^Waiting for agent egon-1 to stop' "$ws/egon-kill.err" || true)"
expect_eq "egon-1 is stopped" yes "$(is_stopped egon-1 && echo yes)"
expect_contains "egon-1's outcome" "killed by nova-egon (kill)" "$(novactl status egon-1)"
expect_eq "dana-1 still running" active "$(systemctl is-active nova-agent-dana-1.service)"
run_expect_fail 6 as nova-egon novactl logs dana-1
expect_contains "egon may not read its logs" "only its user or root may read its logs" "$ERR"
run_expect_fail 4 as nova-egon novactl spawn dana-1 --workdir "$ws" -- /bin/true
expect_eq "dana-1 untouched" active "$(systemctl is-active nova-agent-dana-1.service)"

shown=$(novactl logs dana-1)
[[ $shown != *$'\e'* && $shown != *$'\a'* ]] || fail "novactl logs passed raw control characters: $(printf '%q' "$shown")"
expect_contains "the admin sees the escape sequences escaped" 'title\e]0;owned\x07 clear\e[2J done' "$shown"

as nova-dana novactl kill dana-1 >/dev/null
wait_until 20 "dana-1's outcome recorded" eval 'novactl status dana-1 | grep -q "killed by nova-dana"'
run_expect_fail 4 as nova-egon novactl spawn dana-1 --workdir "$ws" -- /bin/true
expect_contains "the finished name stays dana's" "held by the recorded outcome of nova-dana's agent" "$ERR"
expect_contains "dana's outcome is intact" "killed by nova-dana (kill)" "$(novactl status dana-1)"
as nova-dana novactl spawn dana-1 --workdir "$ws" -- /bin/true >/dev/null
echo "ok: dana may reuse her own name"
wait_until 20 "dana's second run recorded" eval 'novactl status dana-1 | grep -q "exited 0"'
novactl spawn dana-1 --workdir "$ws" -- /bin/sh -c 'exit 7' >/dev/null
wait_until 20 "root's run of the name recorded" eval 'novactl status dana-1 | grep -q "exited 7"'
echo "ok: root may reuse it"
# The name cannot change hands between an agent's end and its recorded
# outcome (its recorder is queued, still "inactive", as the agent ends): two
# loops of egon's try to take dana-2 as it ends, and every try is refused.
as nova-dana novactl spawn dana-2 --workdir "$ws" -- sleep 1 >/dev/null
grab() {  # grab N: tries until the name is taken or held by dana's outcome
  local i
  for i in $(seq 1 40); do
    if as nova-egon novactl spawn dana-2 --workdir "$ws" -- sleep 60 >/dev/null 2>"$ws/grab$1.err"; then
      echo taken >"$ws/grab$1.result"
      return
    fi
    grep -q "held by the recorded outcome" "$ws/grab$1.err" && break
  done
  echo "refused: $(cat "$ws/grab$1.err")" >"$ws/grab$1.result"
}
grab 1 &
grab 2 &
wait
for n in 1 2; do
  expect_contains "egon's grab $n ends refused by dana's outcome" \
    "held by the recorded outcome of nova-dana's agent" "$(cat "$ws/grab$n.result")"
done
expect_contains "dana-2's outcome is dana's" '"user":"nova-dana"' \
  "$(tr -d ' \n' </var/lib/nova/outcomes/dana-2.json)"
expect_contains "dana-2 exited 0" "exited 0" "$(novactl status dana-2)"
# systemd (257 more slowly than 252) may hold the ended agents' units until
# their outcome units have run: wait for them to be collected.
wait_until 20 "no agent unit left" eval '[[ -z $(systemctl list-units --all --no-legend "nova-agent-*" "nova-soft-*") ]]'
expect_no_agent_units
