#!/bin/bash
# Every kind of bad input gets one clear line and a documented exit code, and
# leaves no unit behind.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir bad)
useradd --no-create-home nova-bob 2>/dev/null || true
printf '#!/bin/sh\necho not executable\n' > "$ws/noexec"
chmod 0644 "$ws/noexec"
mkdir -p /srv/private && chmod 0700 /srv/private

check() {  # check EXIT_CODE EXPECTED_SUBSTRING novactl ARGS...
  local code=$1 want=$2
  shift 2
  run_expect_fail "$code" "$@"
  expect_contains "message" "$want" "$ERR"
  expect_no_agent_units
}

check 2 'agent name "bad/name": contains '"'/'" novactl spawn bad/name --workdir "$ws" -- true
check 2 'agent name "a b": contains' novactl spawn 'a b' --workdir "$ws" -- true
check 2 "too long (65 characters)" novactl spawn "$(printf 'a%.0s' {1..65})" --workdir "$ws" -- true
check 2 '--memory "lots": not a size' novactl spawn m1 --workdir "$ws" --memory lots -- true
check 2 "--memory 1M: out of range; accepted: 16M to" novactl spawn m2 --workdir "$ws" --memory 1M -- true
check 2 "--tasks 0: out of range" novactl spawn t1 --workdir "$ws" --tasks 0 -- true
check 2 '--timeout "soon": not a duration' novactl spawn d1 --workdir "$ws" --timeout soon -- true
check 2 "--soft-timeout 10min: must be shorter than the hard timeout (5min)" \
  novactl spawn d2 --workdir "$ws" --timeout 5m --soft-timeout 10m -- true
check 2 '--env "NOEQUALS": no' novactl spawn e1 --workdir "$ws" --env NOEQUALS -- true
check 2 "never passed to agents" novactl spawn e2 --workdir "$ws" --env CODER_PROC_NICE_SCORE=1 -- true
check 2 '--workdir "/nonexistent": not an existing directory' novactl spawn w1 --workdir /nonexistent -- true
check 2 'command "no-such-command-nova": not found on PATH' novactl spawn c1 --workdir "$ws" -- no-such-command-nova
check 2 "no command given" novactl spawn c2 --workdir "$ws"
check 2 '--user "nobody-here": no such user' novactl spawn u1 --workdir "$ws" --user nobody-here -- true
# Failures only systemd can see: the agent does not start and no unit is left.
check 7 "the command could not be executed (203/EXEC)" novactl spawn x1 --workdir "$ws" -- "$ws/noexec"
check 7 "the working directory could not be entered (200/CHDIR)" \
  novactl spawn x2 --workdir /srv/private --user nova-bob -- /usr/bin/true
# A non-root caller may not name another user (novad's policy), and a user
# outside the nova group may not call novad at all (the D-Bus policy).
usermod -aG nova nova-bob
check 6 "only root may run an agent as another user" \
  setpriv --reuid=nova-bob --regid=nova-bob --init-groups novactl spawn u2 --workdir "$ws" --user root -- /usr/bin/true
useradd --no-create-home nova-carol 2>/dev/null || true
check 6 "not allowed to call novad: run as root or as a member of the 'nova' group" \
  setpriv --reuid=nova-carol --regid=nova-carol --init-groups novactl spawn u3 --workdir "$ws" -- /usr/bin/true
