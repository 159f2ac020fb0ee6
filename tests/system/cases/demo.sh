#!/bin/bash
# The README's tour, run for real: agents spawned, one outgrows its memory and
# is killed alone, status and logs, a kill, the memory watcher's view and an
# on-demand relief. Its transcript, exactly the commands and what they
# printed, is the README's example: it is written to
# $NOVA_RESULTS/demo.transcript, which scripts/nova-vm.sh copies to
# build/vm-demo/transcript.txt; system.demo.readme checks that the README shows
# these commands.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
mkdir -p /srv/ws-001 /srv/ws-002 /srv/ws-003 /srv/ws-004
transcript=${NOVA_RESULTS:-/tmp}/demo.transcript
: >"$transcript"

# A word as it would be typed at a shell prompt.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}
# show COMMAND...: runs it and prints (and records) the prompt line and its
# output, stdout and stderr as they came; returns its exit status.
show() {
  local line='$' word out rc=0
  for word in "$@"; do line+=" $(quote "$word")"; done
  out=$("$@" 2>&1) || rc=$?
  [[ -s $transcript ]] && echo | tee -a "$transcript"
  { echo "$line"; [[ -z $out ]] || echo "$out"; } | tee -a "$transcript"
  return $rc
}

show novactl spawn agent-001 --workdir /srv/ws-001 -- sh -c 'echo building; sleep 300'
show novactl spawn agent-002 --workdir /srv/ws-002 --memory 256M --timeout 10m -- memhog 64 /srv/ws-002/progress
show novactl spawn agent-003 --workdir /srv/ws-003 --memory 64M -- memhog 512
wait_until 60 "agent-003 outgrew its 64M and is gone" is_gone agent-003 >/dev/null
wait_until 30 "agent-002 holds its memory" test -s /srv/ws-002/progress >/dev/null
show novactl status
show novactl status agent-003
show novactl logs agent-001
show novactl kill agent-001
show novactl spawn agent-002 --workdir /srv/ws-002 -- sleep 1 || true
show novactl status --all
# agent-004 holds about 12 points of the VM's memory, the rest about 6: relief
# to below 12% kills it alone.
show novactl spawn agent-004 --workdir /srv/ws-004 --memory 1G -- memhog 700
wait_until 60 "agent-004 holds its memory" \
  eval "journalctl -u nova-agent-agent-004.service --no-pager | grep -q holding" >/dev/null
show novactl watch --count 1
show novactl relieve --target 12 --dry-run
show novactl relieve --target 12
show novactl events -n 4
echo
expect_contains "status" "oom-killed (memory limit)" "$(novactl status agent-003)"
expect_contains "status --all" "killed by root (kill)" "$(novactl status --all)"
expect_contains "events" "relief killed agent agent-004" "$(novactl events -n 4)"
expect_eq "agent-002 survives relief" active "$(systemctl is-active nova-agent-agent-002.service)"
novactl kill --force agent-002 >/dev/null 2>&1 || true
