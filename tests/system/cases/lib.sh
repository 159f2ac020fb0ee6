# Helpers for the system tests. Each test is a bash script run as root inside
# the VM, with Nova installed and novad running; it exits non-zero on the first
# failed check, after saying what was expected and what was observed.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  [[ "$2" == "$3" ]] || fail "$1: expected '$2', got '$3'"
  echo "ok: $1 = '$3'"
}

# expect_contains WHAT NEEDLE HAYSTACK
expect_contains() {
  [[ "$3" == *"$2"* ]] || fail "$1: expected to contain '$2', got: $3"
  echo "ok: $1 contains '$2'"
}

expect_not_contains() {
  [[ "$3" != *"$2"* ]] || fail "$1: expected not to contain '$2', got: $3"
  echo "ok: $1 does not contain '$2'"
}

# wait_until SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.2 s until it
# succeeds. A condition with $(...) must be deferred: eval '(($(cmd) > 0))'.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || fail "timed out after ${limit}s waiting for: $what"
    sleep 0.2
  done
  echo "ok: $what"
}

# run_expect_fail EXIT_CODE COMMAND...: runs it, checks the exit code and
# that stderr is exactly one line; leaves that line in $ERR.
run_expect_fail() {
  local want=$1
  shift
  local rc=0
  ERR=$("$@" 2>&1 >/dev/null) || rc=$?
  [[ $rc -eq $want ]] || fail "'$*' exited $rc, expected $want; stderr: $ERR"
  [[ $(printf '%s\n' "$ERR" | wc -l) -eq 1 ]] || fail "'$*' printed more than one error line: $ERR"
  echo "ok: '$*' failed with $rc: $ERR"
}

# members USER...: those users exist and are in group nova.
members() {
  local u
  for u; do
    useradd --create-home "$u" 2>/dev/null || true
    usermod -aG nova "$u"
  done
}
# as USER COMMAND...: runs COMMAND as USER, with USER's groups.
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }

unit_of() { echo "nova-agent-$1.service"; }
prop() { systemctl show -P "$2" "$(unit_of "$1")"; }
is_active() { [[ $(systemctl is-active "$(unit_of "$1")" 2>/dev/null) == active ]]; }
is_gone() { ! systemctl list-units --all --no-legend "$(unit_of "$1")" | grep -q .; }
# Stopped, as novactl kill leaves it: inactive or failed, or already unloaded
# (systemd unloads it once its outcome recorder has run, a moment later).
is_stopped() { [[ $(systemctl show -P ActiveState "$(unit_of "$1")") =~ ^(inactive|failed)$ ]]; }
agent_cgroup() { echo "/sys/fs/cgroup$(prop "$1" ControlGroup)"; }

# No agent unit of any kind is loaded: nothing half-created was left behind.
# A stopped agent's unit goes once its outcome recorder has run: 30 s for that
# (PID 1 runs the recorders of a mass kill one after the other).
expect_no_agent_units() {  # [SECONDS]: how long they may take to go, 30 unless said
  local left limit=${1:-30}
  local end=$((SECONDS + limit))
  while left=$(systemctl list-units --all --no-legend 'nova-agent-*' 'nova-soft-*' || true); [[ -n $left ]]; do
    ((SECONDS < end)) || fail "agent units left behind after ${limit}s: $left"
    sleep 0.2
  done
  echo "ok: no agent unit is loaded"
}

# Tests restart novad more often than systemd's start rate limit allows for a
# crash loop, so the limit is reset first.
restart_novad() {
  systemctl reset-failed novad
  systemctl restart novad
  wait_until 10 "novad active" systemctl is-active --quiet novad
}

# Replace /etc/nova/nova.conf with the given Key=Value lines and restart novad.
nova_config() {
  printf '%s\n' "$@" > /etc/nova/nova.conf
  restart_novad
}

# A world-writable scratch folder for agents.
workdir() {
  local d=/srv/ws-$1
  mkdir -p "$d"
  chmod 0777 "$d"
  echo "$d"
}

# Small agents so that the VM fits several (128M each unless a spawn says
# otherwise) and a short stop timeout so that kills are quick.
use_small_agents() { nova_config "MemoryMax=128M" "MaxAgents=20" "TimeoutStop=3s" "$@"; }
