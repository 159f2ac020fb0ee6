#!/bin/bash
# Agents cannot drive novad: by default an agent cannot reach the system bus
# at all; when the operator allows it (AgentSystemBus=yes), novad refuses
# every call that comes from inside an agent, decided from the caller's
# cgroup as the bus reports it, whatever its uid. Nothing is started or
# killed, and novad keeps its PID.
# timeout: 150
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir agents)
useradd --create-home nova-trudy 2>/dev/null || true
usermod -aG nova nova-trudy
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
novad=$(systemctl show -P MainPID novad)
logs_of() { journalctl -q -o cat _SYSTEMD_UNIT="nova-agent-$1.service"; }

as nova-trudy novactl spawn victim --workdir "$ws" -- /bin/sleep 600 >/dev/null
# One line each: control characters, newlines included, never reach systemd.
attack='novactl spawn child --workdir /tmp --timeout 7d --memory 4G -- /bin/sleep 600; echo "spawn=$?"; '\
'novactl kill --force victim; echo "kill=$?"; '\
'busctl --system call org.nova.Nova1 /org/nova/Nova1 org.nova.Nova1.Manager Kill sb victim true; echo "busctl=$?"; '\
'echo done; exec sleep 600'

for user in nova-trudy root; do
  name=attacker-${user#nova-}
  as "$user" novactl spawn "$name" --workdir "$ws" -- /bin/sh -c "$attack" >/dev/null
  wait_until 30 "$name tried its attacks" eval "logs_of $name | grep -qx done"
  out=$(logs_of "$name")
  expect_contains "$name: novactl spawn refused" "agents cannot manage agents: novactl runs inside agent \"$name\"" "$out"
  expect_contains "$name: exit 6" "spawn=6" "$out"
  expect_contains "$name: kill exit 6" "kill=6" "$out"
  expect_not_contains "$name: the system bus was not reachable" "busctl=0" "$out"
  novactl kill "$name" >/dev/null
done
expect_eq "victim untouched" active "$(systemctl is-active nova-agent-victim.service)"
is_gone child || fail "an agent started a child agent"

# The operator lets agents reach the bus: novad itself refuses them.
use_small_agents "AgentSystemBus=yes"
novad=$(systemctl show -P MainPID novad)
# (busctl's output through a pipe: with the journal as its stderr, busctl
# would log natively, and journald may attribute a line of a process that
# has already exited to no unit.)
call='busctl --system call org.nova.Nova1 /org/nova/Nova1 org.nova.Nova1.Manager'
direct="out=\$($call Spawn 'sasa{sv}' child 1 /bin/sleep 1 WorkingDirectory s /tmp 2>&1); rc=\$?; echo \"\$out\"; echo spawn=\$rc; "\
"out=\$($call Kill sb victim true 2>&1); rc=\$?; echo \"\$out\"; echo kill=\$rc; "\
"out=\$($call Relieve db 1 false 2>&1); rc=\$?; echo \"\$out\"; echo relieve=\$rc; "\
'echo done; exec sleep 600'
for user in nova-trudy root; do
  name=direct-${user#nova-}
  as "$user" novactl spawn "$name" --workdir "$ws" -- /bin/sh -c "$direct" >/dev/null
  wait_until 30 "$name called novad" eval "logs_of $name | grep -qx done"
  out=$(logs_of "$name")
  expect_contains "$name: novad refuses a spawn from an agent" \
    "agents cannot manage agents: this call comes from agent \"$name\" (nova-agent-$name.service)" "$out"
  expect_not_contains "$name: spawn failed" "spawn=0" "$out"
  expect_not_contains "$name: kill failed" "kill=0" "$out"
  expect_not_contains "$name: relieve failed" "relieve=0" "$out"
  novactl kill "$name" >/dev/null
done
expect_eq "victim still untouched" active "$(systemctl is-active nova-agent-victim.service)"
is_gone child || fail "an agent started a child agent over the bus"
expect_eq "novad kept its PID" "$novad" "$(systemctl show -P MainPID novad)"
novactl kill victim >/dev/null
expect_no_agent_units
