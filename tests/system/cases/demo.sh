#!/bin/bash
# The README's tour, run for real: agents spawned, one outgrows its memory and
# is killed alone, status and logs, a kill. Its output is the README's example.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
mkdir -p /srv/ws-001 /srv/ws-002 /srv/ws-003
show() { echo "\$ $*"; "$@"; echo; }

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
expect_contains "status" "oom-killed (memory limit)" "$(novactl status agent-003)"
expect_contains "status --all" "killed by root (kill)" "$(novactl status --all)"
novactl kill --force agent-002 >/dev/null
