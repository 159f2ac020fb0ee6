#!/bin/bash
# novactl events --since and --follow read novad's decisions back from the
# journal as journalctl would; novactl status says while admission is held
# closed by hysteresis (memory under AdmissionPercent, not yet under
# AdmissionReopenPercent), in text and JSON, and that it is unknown with
# novad down.
# timeout: 240
source "$NOVA_TEST_LIB"
used_pct() { novactl watch --json --count 1 | jq '.host.memory_used_percent | floor'; }
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
mib() { echo $((total_mib * $1 / 100)); }
base=$(used_pct)
((base < 40)) || fail "the VM is already ${base}% used"
# Thresholds around what is used now: admission closes 12 points up and
# reopens only 3 points up; relief far away.
use_small_agents "MemoryMax=2G" "AdmissionPercent=$((base + 12))" \
  "AdmissionReopenPercent=$((base + 3))" "ReliefPercent=95" "ReliefTargetPercent=$((base + 1))"
note "MemTotal ${total_mib} MiB, ${base}% used; admission closes at $((base + 12))%, reopens below $((base + 3))%"
ws=$(workdir events)
start_usec=$(date +%s%6N)
sleep 1

run_expect_fail 2 novactl events --since soon
expect_contains "a bad --since" 'not a time; use e.g. "10 min ago"' "$ERR"
novactl events --follow --json > "$ws/follow.jsonl" 2> "$ws/follow.err" &
follower=$!

expect_not_contains "status while admission is open" "Admission:" "$(novactl status)"
expect_eq "status --json: open" true "$(novactl status --json | jq .admission.open)"

holding() { journalctl -q -o cat "_SYSTEMD_UNIT=nova-agent-$1.service" | grep -q holding; }
novactl spawn ev-keep --workdir "$ws" -- memhog "$(mib 6)" >/dev/null
novactl spawn ev-push --workdir "$ws" -- memhog "$(mib 10)" >/dev/null
wait_until 60 "ev-keep holds its memory" holding ev-keep
wait_until 60 "ev-push holds its memory" holding ev-push
wait_until 20 "admission closed" eval 'novactl status | grep -q "Admission: CLOSED"'
novactl kill --force ev-push >/dev/null
wait_until 30 "memory under AdmissionPercent again" eval '(($(used_pct) < base + 12))'
((($(used_pct)) >= base + 3)) || fail "memory fell under AdmissionReopenPercent too: $(used_pct)%"
sleep 2
status=$(novactl status)
expect_contains "status says hysteresis holds it closed" "held closed by hysteresis though now under it" "$status"
expect_contains "and when it reopens" "reopens below $((base + 3))% (AdmissionReopenPercent)" "$status"
json=$(novactl status --json)
expect_eq "status --json: closed" false "$(jq .admission.open <<<"$json")"
expect_eq "status --json: by hysteresis" true "$(jq .admission.held_by_hysteresis <<<"$json")"
run_expect_fail 3 novactl spawn ev-late --workdir "$ws" -- sleep 60
expect_contains "a spawn meanwhile is refused" "reopens below" "$ERR"

novactl kill --force ev-keep >/dev/null
wait_until 30 "admission reopened" eval '! novactl status | grep -q "Admission:"'
wait_until 10 "--follow printed the reopening" grep -q '"action":"admission-reopened"' "$ws/follow.jsonl"
grep -q '"action":"admission-closed"' "$ws/follow.jsonl" || fail "--follow missed admission-closed: $(cat "$ws/follow.jsonl")"
echo "ok: --follow printed both, one JSON object per line"
jq -e . "$ws/follow.jsonl" >/dev/null || fail "not JSON lines: $(cat "$ws/follow.jsonl")"
kill -INT "$follower"
rc=0; wait "$follower" || rc=$?
expect_eq "--follow ends on Ctrl-C" 0 "$rc"

since_out=$(novactl events --since "@$((start_usec / 1000000))")
expect_contains "--since @start has the closing" "admission closed" "${since_out,,}"
expect_contains "and the reopening" "reopen" "${since_out,,}"
expect_eq "--since, as JSON: closed then reopened" "admission-closed admission-reopened" \
  "$(novactl events --since "@$((start_usec / 1000000))" --json | jq -r '[.[].action] | join(" ")')"
expect_eq "--since \"1 min ago\" -n 1: the last one" admission-reopened \
  "$(novactl events --since "1 min ago" -n 1 --json | jq -r '.[0].action')"
expect_eq "--since in the future: none" "No watcher events." \
  "$(novactl events --since "@$(( $(date +%s) + 3600 ))")"
expect_eq "--since with a local time" admission-closed \
  "$(novactl events --since "$(date -d "@$((start_usec / 1000000))" '+%Y-%m-%d %H:%M:%S')" --json | jq -r '.[0].action')"

systemctl stop novad
expect_contains "with novad down, admission is unknown" "Admission: unknown, novad is not running" \
  "$(novactl status)"
expect_eq "status --json: unknown" null "$(novactl status --json | jq .admission.open)"
restart_novad
