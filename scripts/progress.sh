#!/bin/sh
# Runs one long, chatty build step (debootstrap, dpkg-buildpackage, lintian)
# with its output in a log, and prints a heartbeat to stderr every 15 s: the
# time so far and where the step is, so that a first run is never silent for
# minutes. Where the step is: the log's last short line (long ones are compiler
# command lines), or what the -s awk program makes of the log. On failure it
# prints the log's last 40 lines and exits with the step's status.
#
#   progress.sh [-s AWK_PROGRAM] LABEL LOG COMMAND [ARG...]
#
# NOVA_PROGRESS_INTERVAL changes the 15 s.
set -eu
summary='NF && length($0) <= 160 { last = $0 } END { print last }'
if [ "${1:-}" = "-s" ]; then
  [ $# -ge 2 ] || { echo "progress.sh: -s needs an awk program" >&2; exit 2; }
  summary=$2
  shift 2
fi
[ $# -ge 3 ] || { echo "usage: progress.sh [-s AWK_PROGRAM] LABEL LOG COMMAND [ARG...]" >&2; exit 2; }
label=$1
log=$2
shift 2
interval=${NOVA_PROGRESS_INTERVAL:-15}

# The step's exit status lands in a file: a finished child is then seen
# without relying on how the shell reaps it.
rm -f "$log.rc"
( rc=0; "$@" >"$log" 2>&1 </dev/null || rc=$?; echo "$rc" >"$log.rc" ) &
pid=$!
trap 'pkill -P "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; exit 130' INT TERM HUP

start=$(date +%s)
next=$((start + interval))
while [ ! -s "$log.rc" ]; do
  sleep 1
  now=$(date +%s)
  if [ "$now" -ge "$next" ]; then
    where=$(awk "$summary" "$log" 2>/dev/null | tail -n 1 | tr -d '[:cntrl:]' | cut -c1-120)
    echo "$label: $((now - start)) s${where:+: $where}" >&2
    next=$((now + interval))
  fi
done
wait "$pid" 2>/dev/null || true
trap - INT TERM HUP
rc=$(cat "$log.rc")
rm -f "$log.rc"
took=$(($(date +%s) - start))
if [ "$rc" -ne 0 ]; then
  tail -n 40 "$log" >&2
  echo "$label: failed (exit $rc) after $took s; full log: $log" >&2
  exit "$rc"
fi
echo "$label: done in $took s" >&2
