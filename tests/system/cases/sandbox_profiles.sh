#!/bin/bash
# What each profile sets is on the unit, for systemctl show, and survives a
# daemon-reload; none is exactly the unsandboxed agent. A member may not go
# below SandboxMinimum, nor widen strict's allow list when the operator
# requires strict; root may. Bad profile names and addresses are refused
# with one line before anything reaches systemd, and nova.conf's bad values
# stop novad with one line naming the file and line.
# timeout: 180
source "$NOVA_TEST_LIB"
use_small_agents
u=nova-pia
useradd --create-home "$u" 2>/dev/null || true
usermod -aG nova "$u"
as() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" --init-groups "$@"; }
ws=$(workdir profiles)

as "$u" novactl spawn std --workdir "$ws" -- /bin/sleep 600 >/dev/null
expect_contains "standard is the default" "NOVA_AGENT_SANDBOX=standard" "$(prop std Environment)"
check_standard() {
  local a=$1
  expect_eq "$a NoNewPrivileges" yes "$(prop "$a" NoNewPrivileges)"
  expect_eq "$a RestrictSUIDSGID" yes "$(prop "$a" RestrictSUIDSGID)"
  expect_eq "$a CapabilityBoundingSet" "" "$(prop "$a" CapabilityBoundingSet)"
  expect_eq "$a PrivateTmp" yes "$(prop "$a" PrivateTmp)"
  expect_eq "$a PrivateDevices" yes "$(prop "$a" PrivateDevices)"
  expect_eq "$a ProtectSystem" strict "$(prop "$a" ProtectSystem)"
  expect_eq "$a ProtectHome" tmpfs "$(prop "$a" ProtectHome)"
  expect_contains "$a ReadWritePaths" "$ws" "$(prop "$a" ReadWritePaths)"
  expect_eq "$a ProtectKernelTunables" yes "$(prop "$a" ProtectKernelTunables)"
  expect_eq "$a ProtectKernelModules" yes "$(prop "$a" ProtectKernelModules)"
  expect_eq "$a ProtectKernelLogs" yes "$(prop "$a" ProtectKernelLogs)"
  expect_eq "$a ProtectControlGroups" yes "$(prop "$a" ProtectControlGroups)"
  expect_eq "$a ProtectClock" yes "$(prop "$a" ProtectClock)"
  expect_eq "$a ProtectHostname" yes "$(prop "$a" ProtectHostname)"
  expect_eq "$a ProtectProc" invisible "$(prop "$a" ProtectProc)"
  # systemd 252 cannot read back "none allowed" from the unit file: there the
  # profiles allow the cgroup namespace only (it needs CAP_SYS_ADMIN).
  if (($(systemctl --version | awk 'NR == 1 { print $2 }') >= 257)); then
    expect_eq "$a RestrictNamespaces" yes "$(prop "$a" RestrictNamespaces)"
  else
    expect_eq "$a RestrictNamespaces (systemd 252: cgroup only)" cgroup "$(prop "$a" RestrictNamespaces)"
  fi
  expect_eq "$a LockPersonality" yes "$(prop "$a" LockPersonality)"
  expect_eq "$a RestrictRealtime" yes "$(prop "$a" RestrictRealtime)"
  expect_eq "$a SystemCallArchitectures" native "$(prop "$a" SystemCallArchitectures)"
  expect_eq "$a RestrictAddressFamilies" "AF_INET AF_INET6 AF_NETLINK AF_UNIX" "$(prop "$a" RestrictAddressFamilies)"
  expect_eq "$a UMask" 0077 "$(prop "$a" UMask)"
  expect_eq "$a KeyringMode" private "$(prop "$a" KeyringMode)"
  expect_contains "$a SystemCallFilter" "openat" "$(prop "$a" SystemCallFilter)"
  expect_not_contains "$a SystemCallFilter" "init_module" "$(prop "$a" SystemCallFilter)"
}
check_standard std

novactl spawn tight --workdir "$ws" --sandbox strict --allow-ip 10.1.0.0/16 -- /bin/sleep 600 >/dev/null
check_standard tight
# systemd lists the prefixes in no fixed order.
expect_eq "strict IPAddressDeny" "0.0.0.0/0 ::/0" "$(prop tight IPAddressDeny | tr " " "\n" | sort | xargs)"
expect_eq "strict IPAddressAllow" "10.1.0.0/16" "$(prop tight IPAddressAllow)"
expect_eq "strict ProcSubset" pid "$(prop tight ProcSubset)"
expect_contains "strict TemporaryFileSystem" "/srv:ro" "$(prop tight TemporaryFileSystem)"
expect_contains "strict BindPaths" "$ws:$ws" "$(prop tight BindPaths)"

novactl spawn open --workdir "$ws" --sandbox none -- /bin/sleep 600 >/dev/null
for p in NoNewPrivileges PrivateTmp PrivateDevices ProtectKernelTunables; do
  expect_eq "none $p" no "$(prop open "$p")"
done
expect_eq "none ProtectSystem" no "$(prop open ProtectSystem)"
expect_not_contains "none sets no profile variable" NOVA_AGENT_SANDBOX "$(prop open Environment)"

# Every property but the counters and clocks and the command's run (its pid
# and times, which a reload forgets; hostile_strings checks the command),
# each list's words sorted
# (systemd 257 lists dependencies such as After= in no fixed order).
shown() {
  systemctl show nova-agent-std.service nova-agent-tight.service |
    grep -v -E '^(InvocationID|.*Timestamp.*|.*Current|.*USec|.*NSec|.*Bytes|.*Packets|MemoryAvailable|.*Peak|ExecStart.*)=' |
    perl -lne 'my ($k, $v) = split /=/, $_, 2; print "$k=", join(" ", sort split / /, $v // "")' | sort
}
before=$(shown)
systemctl daemon-reload
after=$(shown)
[[ $before == "$after" ]] || fail "daemon-reload changed the sandbox: $(diff <(echo "$before") <(echo "$after"))"
echo "ok: daemon-reload keeps every property"

# The operator's word wins.
run_expect_fail 6 as "$u" novactl spawn weak --workdir "$ws" --sandbox none -- /bin/true
expect_contains "below the minimum" '--sandbox none: weaker than the operator'"'"'s minimum, standard (SandboxMinimum in /etc/nova/nova.conf); only root may ask for less' "$ERR"
run_expect_fail 2 as "$u" novactl spawn weak --workdir "$ws" --sandbox $'tight\e[2J' -- /bin/true
expect_contains "a bad profile" '--sandbox "tight\e[2J": not a sandbox profile; accepted: none, standard or strict' "$ERR"
run_expect_fail 2 as "$u" novactl spawn weak --workdir "$ws" --sandbox strict --allow-ip example.com -- /bin/true
expect_contains "a bad address" '--allow-ip "example.com": not valid; accepted: an IPv4 or IPv6 address' "$ERR"
run_expect_fail 2 as "$u" novactl spawn weak --workdir "$ws" --allow-ip 10.0.0.1 -- /bin/true
expect_contains "--allow-ip needs strict" "only the strict sandbox limits the network" "$ERR"
run_expect_fail 2 as "$u" novactl spawn weak --workdir / -- /bin/true
expect_contains "the root as workdir" '--workdir "/": is the root directory' "$ERR"
expect_eq "nothing of weak was created" "" "$(systemctl list-units --all --no-legend 'nova-agent-weak*')"

nova_config "MemoryMax=128M" "Sandbox=strict" "SandboxMinimum=strict" "AllowIP=127.0.0.1"
run_expect_fail 6 as "$u" novactl spawn weak --workdir "$ws" --allow-ip 0.0.0.0/0 -- /bin/true
expect_contains "members may not widen a required strict" "only root may add addresses" "$ERR"
run_expect_fail 6 as "$u" novactl spawn weak --workdir "$ws" --sandbox standard -- /bin/true
novactl spawn rootwide --workdir "$ws" --allow-ip 10.0.0.0/8 -- /bin/sleep 600 >/dev/null
expect_eq "root may widen it" "127.0.0.1 10.0.0.0/8" "$(prop rootwide IPAddressAllow)"
novactl spawn rootnone --workdir "$ws" --sandbox none -- /bin/sleep 600 >/dev/null
expect_eq "root may choose none" no "$(prop rootnone NoNewPrivileges)"
as "$u" novactl spawn member-strict --workdir "$ws" -- /bin/sleep 600 >/dev/null
expect_eq "the default is strict now" "0.0.0.0/0 ::/0" "$(prop member-strict IPAddressDeny | tr " " "\n" | sort | xargs)"

printf 'MemoryMax=128M\nSandbox=tight\n' >/etc/nova/nova.conf
run_expect_fail 2 novactl status
expect_contains "a bad Sandbox= in nova.conf" '/etc/nova/nova.conf:2: Sandbox="tight" is not valid; expected none, standard or strict' "$ERR"
printf 'Sandbox=none\n' >/etc/nova/nova.conf
run_expect_fail 2 novactl status
expect_contains "a default below the minimum" '/etc/nova/nova.conf:1: Sandbox (none) is weaker than SandboxMinimum (standard); strengthen the default or lower the minimum' "$ERR"
nova_config
for a in std tight open rootwide rootnone member-strict; do novactl kill "$a" >/dev/null; done
