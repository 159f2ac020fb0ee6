#!/bin/bash
# Who may do what: members of the nova group run agents as themselves and may
# kill their own agents only; root may run and kill anyone's; users outside
# the group cannot call novad at all. novad itself runs protected.
# timeout: 90
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir perms)
useradd --create-home nova-dave 2>/dev/null || true
useradd --create-home nova-erin 2>/dev/null || true
usermod -aG nova nova-dave
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }

as nova-dave novactl spawn dave-1 --workdir "$ws" -- sleep 600 >/dev/null
expect_eq "dave's agent runs as dave" nova-dave "$(prop dave-1 User)"
expect_eq "its process belongs to dave" nova-dave "$(stat -c %U "/proc/$(prop dave-1 MainPID)")"
novactl spawn root-1 --workdir "$ws" -- sleep 600 >/dev/null
expect_eq "root's agent runs as root" root "$(prop root-1 User)"

run_expect_fail 6 as nova-dave novactl kill root-1
expect_contains error 'agent "root-1" runs as root; only its user or root may kill it' "$ERR"
expect_eq "root-1 untouched" active "$(systemctl is-active nova-agent-root-1.service)"
run_expect_fail 6 as nova-erin novactl spawn erin-1 --workdir "$ws" -- sleep 600
run_expect_fail 6 as nova-erin novactl kill dave-1
expect_contains "status works for anyone" "dave-1" "$(as nova-erin novactl status)"

as nova-dave novactl kill dave-1 >/dev/null
expect_contains "dave killed his own" "killed by nova-dave (kill)" "$(novactl status dave-1)"
novactl kill root-1 >/dev/null

novad=$(systemctl show -P MainPID novad)
expect_eq "novad's oom_score_adj" -900 "$(cat /proc/"$novad"/oom_score_adj)"
expect_eq "novad's nice" -5 "$(ps -o nice= -p "$novad" | tr -d ' ')"
expect_eq "novad's MemoryMin" 67108864 "$(systemctl show -P MemoryMin novad)"
expect_no_agent_units
