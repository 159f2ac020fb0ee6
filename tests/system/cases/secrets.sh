#!/bin/bash
# Secrets reach the agent as systemd credentials: the agent reads them from
# $CREDENTIALS_DIRECTORY, no other local user can, they appear nowhere in the
# unit, and they are gone once the agent is. --env values, by contrast, are
# public (systemctl show), as the docs say.
# timeout: 90
source "$NOVA_TEST_LIB"
use_small_agents
useradd --create-home nova-sam 2>/dev/null || true
useradd --create-home nova-eve 2>/dev/null || true
usermod -aG nova nova-sam
usermod -aG nova nova-eve
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
ws=/srv/ws-sam
rm -rf "$ws"; mkdir -p "$ws"; chown nova-sam: "$ws"
printf 'tok-from-file-4711' > "$ws/token"; chown nova-sam: "$ws/token"; chmod 0600 "$ws/token"

printf 'tok-from-stdin-0815' | as nova-sam novactl spawn sec --workdir "$ws" --secret api=@"$ws/token" \
  --secret other=@- -- /bin/sh -c 'cat "$CREDENTIALS_DIRECTORY/api"; echo; cat "$CREDENTIALS_DIRECTORY/other"; echo; exec sleep 600' >/dev/null
wait_until 10 "the agent read its secrets" eval 'journalctl -q -o cat _SYSTEMD_UNIT=nova-agent-sec.service | grep -q tok-from-stdin-0815'
expect_contains "the agent read the file secret" tok-from-file-4711 "$(journalctl -q -o cat _SYSTEMD_UNIT=nova-agent-sec.service)"
everything=$(systemctl show nova-agent-sec.service; cat /run/systemd/transient/nova-agent-sec.service)
expect_not_contains "the unit does not hold the secret" tok-from-file-4711 "$everything"
expect_not_contains "the unit does not hold the stdin secret" tok-from-stdin-0815 "$everything"
creds=/run/credentials/nova-agent-sec.service
for path in "$creds/api" "/run/nova/secrets/sec/api"; do
  if as nova-eve cat "$path" >/dev/null 2>&1; then fail "nova-eve read $path"; fi
  echo "ok: nova-eve cannot read $path"
done
run_expect_fail 2 as nova-sam novactl spawn sec2 --workdir "$ws" --secret 'bad/name=@/dev/null' -- /bin/true
expect_contains "bad secret name" "not a valid secret name" "$ERR"
run_expect_fail 2 as nova-sam novactl spawn sec3 --workdir "$ws" --secret api=@/root/nope -- /bin/true
expect_contains "unreadable secret file" "cannot read /root/nope" "$ERR"
expect_eq "no unit for refused spawns" "" "$(systemctl list-units --all --no-legend 'nova-agent-sec[23]*')"
as nova-sam novactl kill sec >/dev/null
wait_until 10 "the secrets' copy is gone with the agent" eval '[[ ! -e /run/nova/secrets/sec ]]'
expect_no_agent_units
