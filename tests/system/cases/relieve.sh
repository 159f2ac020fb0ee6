#!/bin/bash
# Relief on demand and in dry run: `novactl relieve --dry-run` and
# ReliefDryRun=yes only report; `novactl relieve --target N` kills the largest
# agents until memory is below N; only root may ask; a bad target is one line.
# timeout: 240
source "$NOVA_TEST_LIB"
use_small_agents "MemoryMax=2G"
ws=$(workdir relieve)
used_pct() { novactl watch --json --count 1 | jq '.host.memory_used_percent'; }
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
mib() { echo $((total_mib * $1 / 100)); }
novactl spawn a --workdir "$ws" -- memhog "$(mib 15)" >/dev/null
novactl spawn b --workdir "$ws" -- memhog "$(mib 10)" >/dev/null
novactl spawn c --workdir "$ws" -- memhog "$(mib 5)" >/dev/null
for agent in a b c; do
  wait_until 60 "$agent holds its memory" \
    eval "journalctl -u nova-agent-$agent.service --no-pager | grep -q holding"
done
used=$(used_pct)
note "host memory ${used}% used"
# Just below what is used now minus a: relief needs a and b.
target=$(jq -n "$used - 17 | floor")

run_expect_fail 2 novactl relieve --target 0
expect_contains "bad target" "relief target 0% is not valid" "$ERR"
run_expect_fail 6 setpriv --reuid=nobody --regid=nogroup --clear-groups novactl relieve --target 50
useradd --no-create-home nova-dave 2>/dev/null || true
usermod -aG nova nova-dave
run_expect_fail 6 setpriv --reuid=nova-dave --regid=nova-dave --init-groups novactl relieve --target 50
expect_contains "non-root refusal" "only root may ask for it" "$ERR"

out=$(novactl relieve --target "$target" --dry-run 2>/dev/null)
echo "$out"
expect_contains "dry run" "Would kill agent a" "$out"
expect_contains "dry run" "Would kill agent b" "$out"
expect_not_contains "dry run" "agent c" "$out"
for agent in a b c; do is_active "$agent" || fail "dry run killed $agent"; done
echo "ok: the dry run killed nothing"

json=$(novactl relieve --target "$target" --json 2>/dev/null)
echo "$json"
expect_eq "killed, largest first" "a b" "$(echo "$json" | jq -r '[.killed[].name] | join(" ")')"
expect_eq "target reached" true "$(echo "$json" | jq '.reached_target')"
# Stopped when relieve returns, as after novactl kill; unloaded once their
# outcome recorders have run, a moment later.
is_stopped a && is_stopped b || fail "a or b is still running after relieve returned"
echo "ok: a and b are stopped"
wait_until 30 "a and b are unloaded" eval 'is_gone a && is_gone b'
expect_eq "c survives" active "$(systemctl is-active nova-agent-c.service)"
events=$(novactl events --json)
expect_eq "trigger recorded" "novactl relieve (uid 0)" \
  "$(echo "$events" | jq -r '[.[] | select(.action == "kill")][-1].trigger')"
expect_contains "text events" "relief killed agent b" "$(novactl events)"

# ReliefDryRun=yes with relief below what is used now: reported, not done.
novactl kill --force c >/dev/null
novactl spawn d --workdir "$ws" -- memhog "$(mib 10)" >/dev/null
wait_until 60 "d holds its memory" \
  eval "journalctl -u nova-agent-d.service --no-pager | grep -q holding"
use_small_agents "MemoryMax=2G" "ReliefDryRun=yes" "AdmissionPercent=3" \
  "AdmissionReopenPercent=2.5" "ReliefPercent=4" "ReliefTargetPercent=2"
wait_until 60 "the dry run reports d" \
  eval 'novactl events --json | jq -e "[.[] | select(.action == \"would-kill\" and .agent == \"d\")] | length > 0"'
sleep 2
expect_eq "d is not killed in a dry run" active "$(systemctl is-active nova-agent-d.service)"
novactl kill --force d >/dev/null
