#!/bin/bash
# The Debian package, as a user lives with it: installed on a clean image (by
# the VM's set-up, with apt), an agent run, an upgrade to a rebuilt .deb while
# the agent runs (it survives; configuration kept), remove (novad stops, the
# agent is left alone, configuration stays), purge (configuration and state
# gone). Ends with the package installed again for the next tests.
# timeout: 240
source "$NOVA_TEST_LIB"
deb=$(ls "$NOVA_DEBS"/nova_*.deb | head -n1)
version=$(dpkg-deb -f "$deb" Version)

# Installed: files where a distribution expects them, novad enabled and running.
expect_eq "package state" "install ok installed $version" "$(dpkg-query -W -f='${Status} ${Version}' nova)"
for f in /usr/bin/novactl /usr/sbin/novad /usr/libexec/nova/nova-agent-hook \
  /lib/systemd/system/novad.service /lib/systemd/system/nova-agents.slice \
  /usr/share/dbus-1/system.d/org.nova.Nova1.conf /etc/nova/nova.conf /etc/default/novad \
  /usr/share/man/man1/novactl.1.gz /usr/share/man/man8/novad.8.gz \
  /usr/share/bash-completion/completions/novactl; do
  [[ -e $f ]] || fail "$f is not installed"
done
# dh_compress gzips documents over 4 KiB, as Debian policy asks.
compgen -G "/usr/share/doc/nova/README.md*" >/dev/null || fail "the README is not installed"
compgen -G "/usr/share/doc/nova/usage.md*" >/dev/null || fail "usage.md is not installed"
echo "ok: every file is in place"
expect_contains conffiles "/etc/nova/nova.conf" "$(dpkg-query -W -f='${Conffiles}' nova)"
expect_contains conffiles "/etc/default/novad" "$(dpkg-query -W -f='${Conffiles}' nova)"
expect_eq "novad enabled" enabled "$(systemctl is-enabled novad)"
expect_eq "novad active" active "$(systemctl is-active novad)"
expect_eq "the slice is not enabled (static)" static "$(systemctl is-enabled nova-agents.slice)"
getent group nova >/dev/null || fail "the nova group was not created"
echo "ok: group nova exists"
[[ -d /var/lib/nova/outcomes ]] || fail "/var/lib/nova/outcomes missing"

use_small_agents
echo "MaxAgents=7" >> /etc/nova/nova.conf  # a local change the upgrade must keep
restart_novad
ws=$(workdir pkg)
novactl spawn survivor --workdir "$ws" -- sleep 600 >/dev/null
pid=$(prop survivor MainPID)
old_novad=$(systemctl show -P MainPID novad)

# Upgrade to a rebuilt package: same contents, a higher version.
rm -rf /tmp/rebuild
dpkg-deb -R "$deb" /tmp/rebuild
sed -i "s/^Version: .*/Version: ${version}+rebuild1/" /tmp/rebuild/DEBIAN/control
dpkg-deb -b /tmp/rebuild /tmp/nova_upgrade.deb >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/nova_upgrade.deb
expect_eq "upgraded" "${version}+rebuild1" "$(dpkg-query -W -f='${Version}' nova)"
expect_eq "agent survived the upgrade" "$pid" "$(prop survivor MainPID)"
wait_until 10 "novad active after upgrade" systemctl is-active --quiet novad
[[ $(systemctl show -P MainPID novad) != "$old_novad" ]] || fail "novad was not restarted by the upgrade"
echo "ok: novad restarted"
expect_contains "configuration kept" "MaxAgents=7" "$(cat /etc/nova/nova.conf)"
expect_contains "novactl after upgrade" "maximum 7 (MaxAgents)" "$(novactl status)"

# Remove: novad stops, running agents are left alone, configuration stays.
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q nova
expect_eq "novad stopped" inactive "$(systemctl is-active novad || true)"
expect_eq "agent left running" "$pid" "$(prop survivor MainPID)"
[[ -f /etc/nova/nova.conf ]] || fail "remove deleted the configuration"
[[ ! -e /usr/bin/novactl ]] || fail "remove left novactl"
echo "ok: removed; configuration kept"
systemctl stop nova-agent-survivor.service

# Purge: configuration and state gone.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nova
[[ ! -e /etc/nova ]] || fail "purge left /etc/nova: $(ls -la /etc/nova)"
[[ ! -e /etc/default/novad ]] || fail "purge left /etc/default/novad"
[[ ! -e /var/lib/nova ]] || fail "purge left /var/lib/nova"
expect_eq "package state after purge" "" "$(dpkg-query -W -f='${Status}' nova 2>/dev/null || true)"
echo "ok: purged"

# Back to the freshly built package for the tests that follow.
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb"
wait_until 10 "novad active after reinstall" systemctl is-active --quiet novad
