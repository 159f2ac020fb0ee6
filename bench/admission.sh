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
member=nova-bench
members "$member"

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

policy counted
check_anchor
running=0
echo "== one spawn beside 0 to $N running agents, median of $RUNS each way (ms; --soft-timeout 0, one unit)"
printf '  %-8s %-9s %10s %10s %7s\n' agents policy systemd_run nova ratio
for level in $LEVELS; do
  if ((level > running)); then
    policy counted
    seq $((running + 1)) "$level" | xargs -P "$PAR" -I{} novactl spawn "s{}" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
    running=$level
    expect_eq "sleepers active" "$running" "$(active_count 'nova-agent-s*.service')"
  fi
  for pol in auto counted per_user; do
    policy "$pol"
    settle
    declare -A samples=()
    for ((i = 0; i < RUNS; i++)); do
      t0=$(now_ns); systemd_run "anchor-q$i"; t1=$(now_ns)
      samples[anchor]+="$(((t1 - t0) / 1000)) "
      systemctl stop "anchor-q$i.service"
      settle
      name=$pol-q$i  # the member's own names: root's recorded outcomes would hold them
      t0=$(now_ns); spawn_as "$pol" "$name"; t1=$(now_ns)
      [[ $(systemctl is-active "nova-agent-$name.service") == active ]] || fail "$pol: $name not active"
      samples[nova]+="$(((t1 - t0) / 1000)) "
      systemctl stop "nova-agent-$name.service"
      settle
    done
    a=$(tr ' ' '\n' <<<"${samples[anchor]}" | grep . | median)
    b=$(tr ' ' '\n' <<<"${samples[nova]}" | grep . | median)
    printf '  %-8s %-9s %10.1f %10.1f %7s\n' "$level" "$pol" \
      "$(awk -v u="$a" 'BEGIN {print u / 1000}')" "$(awk -v u="$b" 'BEGIN {print u / 1000}')" "$(ratio "$b" "$a")"
  done
done
novactl kill --all --force >/dev/null
