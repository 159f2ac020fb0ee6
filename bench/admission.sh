#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: what one spawn costs as
# the agents grow, with each admission policy. Out of the box (MaxAgents=auto)
# novad admits by the memory the running agents were given, so every spawn
# weighs every running agent's limit; with a counted MaxAgents it needs only
# their states, and MaxAgentsPerUser their users. At LEVELS agents running
# (0, 100 and N; sleepers spawned by PAR parallel clients), median of RUNS
# single spawns each way, interleaved with systemd-run making the same unit
# (the anchor, measured in the same run):
#   auto        MaxAgents=auto (the default)
#   counted     MaxAgents=N+50
#   per_user    MaxAgentsPerUser=N+50 as well, the spawns by a member
# The agents running are four other members' (as on the guide's host, where
# each member runs their own); then, for per_user once more at N, root's own
# (User=root: their cgroups stay root's, so a member's spawn asks systemd
# whose each one is).
# A spawn's cost should not grow with the agents beside it: the ratio at N
# agents should be the ratio at 0.
# timeout: 3000
source "$NOVA_TEST_LIB"
N=${N:-300}
LEVELS=${LEVELS:-"0 100 $N"}
RUNS=${RUNS:-10}
PAR=${PAR:-8}
ws=$(workdir bench)
source "$(dirname "$0")/bench_lib.sh"
SLEEPERS_AS=member
member=nova-bench
OTHERS="nova-bench-a nova-bench-b nova-bench-c nova-bench-d"
# shellcheck disable=SC2086
members "$member" $OTHERS
sleeper() {  # I: sleeper sI, of one of the other members (or of root)
  local others
  read -ra others <<<"$OTHERS"
  case $SLEEPERS_AS in
    member) as "${others[$(($1 % ${#others[@]}))]}" novactl spawn "s$1" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null ;;
    root) novactl spawn "s$1" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null ;;
    *) fail "SLEEPERS_AS=$SLEEPERS_AS: member or root" ;;
  esac
}
export -f sleeper as fail
export ws SLEEPERS_AS OTHERS

policy() {  # POLICY: novad restarted with it (the agents stay)
  case $1 in
    auto) nova_config "MemoryMax=16M" "TimeoutStop=3s" ;;
    counted) nova_config "MemoryMax=16M" "TimeoutStop=3s" "MaxAgents=$((N + 50))" ;;
    per_user)
      nova_config "MemoryMax=16M" "TimeoutStop=3s" "MaxAgents=$((N + 50))" \
        "MaxAgentsPerUser=$((N + 50))"
      ;;
  esac
}
spawn_as() {  # POLICY NAME
  if [[ $1 == per_user ]]; then
    as "$member" novactl spawn "$2" --workdir "$ws" --soft-timeout 0 -- /usr/bin/sleep 3600 >/dev/null
  else
    novactl spawn "$2" --workdir "$ws" --soft-timeout 0 -- /usr/bin/sleep 3600 >/dev/null
  fi
}

measure() {  # LEVEL POLICY LABEL: one row, RUNS spawns each way
  policy "$2"
  settle
  local i name a b t0 t1
  declare -A samples=()
  for ((i = 0; i < RUNS; i++)); do
    t0=$(now_ns); systemd_run "anchor-q$i"; t1=$(now_ns)
    samples[anchor]+="$(((t1 - t0) / 1000)) "
    systemctl stop "anchor-q$i.service"
    settle
    name=$2-q$i  # the member's own names: root's recorded outcomes would hold them
    t0=$(now_ns); spawn_as "$2" "$name"; t1=$(now_ns)
    [[ $(systemctl is-active "nova-agent-$name.service") == active ]] || fail "$2: $name not active"
    samples[nova]+="$(((t1 - t0) / 1000)) "
    systemctl stop "nova-agent-$name.service"
    settle
  done
  a=$(tr ' ' '\n' <<<"${samples[anchor]}" | grep . | median)
  b=$(tr ' ' '\n' <<<"${samples[nova]}" | grep . | median)
  printf '  %-8s %-14s %10.1f %10.1f %7s\n' "$1" "$3" \
    "$(awk -v u="$a" 'BEGIN {print u / 1000}')" "$(awk -v u="$b" 'BEGIN {print u / 1000}')" "$(ratio "$b" "$a")"
}
sleepers() {  # FROM TO: sleepers sFROM..sTO, by PAR parallel clients
  policy counted
  seq "$1" "$2" | xargs -P "$PAR" -I{} bash -c 'sleeper {}'
  expect_eq "sleepers active" "$2" "$(active_count 'nova-agent-s*.service')"
}

policy counted
check_anchor
running=0
echo "== one spawn beside 0 to $N running agents, median of $RUNS each way (ms; --soft-timeout 0, one unit)"
echo "   (the agents running are 4 other members'; per_user, root's: beside $N agents of root's own)"
printf '  %-8s %-14s %10s %10s %7s\n' agents policy systemd_run nova ratio
for level in $LEVELS; do
  if ((level > running)); then
    sleepers $((running + 1)) "$level"
    running=$level
  fi
  for pol in auto counted per_user; do measure "$level" "$pol" "$pol"; done
done
# Root's own agents (User=root): their cgroups stay root's, so a member's
# spawn under MaxAgentsPerUser asks systemd whose each one is.
novactl kill --all --force >/dev/null
settle
SLEEPERS_AS=root
sleepers 1 "$N"
measure "$N" per_user "per_user, root's"
novactl kill --all --force >/dev/null
