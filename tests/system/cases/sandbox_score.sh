#!/bin/bash
# The exposure systemd-analyze security gives each profile, next to a plain
# systemd-run unit of the same command and user in the same run: the table
# is printed; standard must be under 5.0 and strict under 3.0. novactl status
# NAME shows the profile and the same score, as text and JSON.
# timeout: 180
source "$NOVA_TEST_LIB"
use_small_agents "SandboxMinimum=none" "AllowIP=127.0.0.1"
u=nova-sally
useradd --create-home "$u" 2>/dev/null || true
usermod -aG nova "$u"
as() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" --init-groups "$@"; }
ws=/srv/ws-score
install -d -m 700 -o "$u" -g "$u" "$ws"
score() { systemd-analyze security --no-pager "$1" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'; }

systemd-run --quiet --unit=nova-score-plain.service --uid="$u" -p WorkingDirectory="$ws" /bin/sleep 600
declare -A scores
scores[systemd-run]=$(score nova-score-plain.service)
for profile in none standard strict; do
  as "$u" novactl spawn "score-$profile" --workdir "$ws" --sandbox "$profile" -- /bin/sleep 600 >/dev/null
  scores[$profile]=$(score "nova-agent-score-$profile.service")
done
echo "# systemd $(systemctl --version | head -n1 | cut -d' ' -f2), the same command (/bin/sleep 600) as $u"
printf '# %-12s %s\n' UNIT EXPOSURE
for k in systemd-run none standard strict; do printf '# %-12s %s\n' "$k" "${scores[$k]}"; done
systemctl stop nova-score-plain.service

for k in systemd-run none standard strict; do
  [[ ${scores[$k]} =~ ^[0-9]+\.[0-9]$ ]] || fail "no score for $k: '${scores[$k]}'"
done
awk -v s="${scores[standard]}" 'BEGIN { exit !(s < 5.0) }' || fail "standard scores ${scores[standard]}, not under 5.0"
echo "ok: standard ${scores[standard]} < 5.0"
awk -v s="${scores[strict]}" 'BEGIN { exit !(s < 3.0) }' || fail "strict scores ${scores[strict]}, not under 3.0"
echo "ok: strict ${scores[strict]} < 3.0"
awk -v a="${scores[none]}" -v b="${scores[standard]}" -v c="${scores[strict]}" 'BEGIN { exit !(a > b && b > c) }' ||
  fail "the profiles do not order: none ${scores[none]}, standard ${scores[standard]}, strict ${scores[strict]}"
echo "ok: none > standard > strict"

for profile in none standard strict; do
  text=$(as "$u" novactl status "score-$profile")
  expect_contains "status shows the $profile profile and its score" "Sandbox:        $profile, exposure ${scores[$profile]} of 10" "$text"
  json=$(novactl status "score-$profile" --json)
  expect_eq "JSON profile" "$profile" "$(jq -r .agent.sandbox.profile <<<"$json")"
  got=$(jq -r .agent.sandbox.exposure <<<"$json")
  awk -v a="$got" -v b="${scores[$profile]}" 'BEGIN { exit !(a == b) }' || fail "JSON exposure $got, systemd-analyze ${scores[$profile]}"
  echo "ok: JSON exposure = $got"
  novactl kill "score-$profile" >/dev/null
done
