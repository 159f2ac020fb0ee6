#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: novad's relief side by
# side with earlyoom, the tool a host would run without Nova, on the same
# runaways in the same VM run. earlyoom kills processes, novad kills agents;
# what an operator cares about is how fast memory is back, how many kills that
# took, whether the runaway is really over and what else died.
#
# The thresholds are the same: novad relieves at ReliefPercent of memory
# *used* (MemTotal - MemAvailable) down to ReliefTargetPercent; earlyoom's -m
# is a percent of MemTotal *available*, so relief at 70% used is
# `earlyoom -m 30,30` (SIGKILL, as novad's cgroup.kill, at 30% available;
# earlyoom's default would only SIGTERM there). earlyoom has no target: it
# kills one process, waits for it, and kills again while available memory is
# still at or under 30%, so it stops as soon as used memory is under 70%.
# Only one of them acts at a time: with earlyoom running novad has
# ReliefDryRun=yes (it still watches and keeps admission, kills nothing);
# with novad relieving earlyoom is stopped. Trials alternate between them.
#
# Scenarios, each a runaway agent on top of a ballast of innocents (three
# agents and one process outside any agent, a "bystander" service):
#   single    one process growing (memhog);
#   workers   eight processes growing side by side (make -j8-like);
#   respawn   stress-ng --vm 4: its parent restarts a killed worker.
# One observer (memcross, real-time, /proc/meminfo every millisecond) times
# the crossing of 70% and memory back under 60%, for both. The kills come from
# each tool's own log (novad's kill events; earlyoom's "sending SIGKILL"
# lines, stamped by the journal on receipt). Goal: novad at most half
# earlyoom's time, one kill per runaway agent, never a process outside it.
# timeout: 1800
source "$NOVA_TEST_LIB"
TRIALS=${TRIALS:-3}
RELIEF=70
TARGET=60
AVAILABLE=$((100 - RELIEF))
WINDOW=${WINDOW:-30}  # seconds from the crossing to be back under TARGET
BUDGET=${BUDGET:-1200}  # no new round of trials after this many seconds (3 rounds take about 20 min)
ws=$(workdir earlyoom)
results=$ws/results.tsv
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
mib() { echo $((total_mib * $1 / 1000)); }  # per mille of MemTotal, in MiB
used_pct() { awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {printf "%d\n", 100*(t-a)/t}' /proc/meminfo; }
now_usec() { date +%s%6N; }

# The processes' names tell earlyoom's victims apart in its log.
install -m 0755 /usr/local/bin/memhog /usr/local/bin/ballast-hog
install -m 0755 /usr/local/bin/memhog /usr/local/bin/bystander
cp /etc/default/earlyoom "$ws/earlyoom.default" 2>/dev/null || true
cleanup() {
  systemctl stop earlyoom 2>/dev/null || true
  if [[ -f $ws/earlyoom.default ]]; then cp "$ws/earlyoom.default" /etc/default/earlyoom; fi
  systemctl stop nova-bench-bystander 2>/dev/null || true
  systemctl stop 'nova-agent-*.service' 2>/dev/null || true
  systemctl reset-failed 2>/dev/null || true
}
trap cleanup EXIT
echo "EARLYOOM_ARGS=\"-m $AVAILABLE,$AVAILABLE -r 0\"" > /etc/default/earlyoom
note "earlyoom: $(earlyoom -v 2>&1 | head -n1); Debian's unit, EARLYOOM_ARGS=\"-m $AVAILABLE,$AVAILABLE -r 0\""

base_config=("MaxAgents=20" "TimeoutStop=3s" "AdmissionPercent=65" "AdmissionReopenPercent=62"
  "ReliefPercent=$RELIEF" "ReliefTargetPercent=$TARGET")
use_novad() {
  systemctl stop earlyoom
  nova_config "${base_config[@]}"
}
use_earlyoom() {
  nova_config "${base_config[@]}" "ReliefDryRun=yes"
  systemctl start earlyoom
  wait_until 10 "earlyoom running" systemctl is-active --quiet earlyoom
}

# The innocents: 3 agents of 13% each, a 12% bystander outside Nova. With
# the system's share that is about 56% of memory, under the target; each
# runaway adds the rest (some 14%, as fast as emulation lets it) and is,
# whole, the largest agent when memory crosses 70%.
innocent_mib=$(mib 130)
bystander_mib=$(mib 120)
ensure_innocents() {
  local i
  for i in 1 2 3; do
    if ! is_active "innocent$i"; then
      systemctl reset-failed "$(unit_of "innocent$i")" 2>/dev/null || true
      novactl spawn "innocent$i" --workdir "$ws" --soft-timeout 0 -- ballast-hog "$innocent_mib" >/dev/null
    fi
  done
  if ! systemctl is-active --quiet nova-bench-bystander; then
    systemctl reset-failed nova-bench-bystander 2>/dev/null || true
    systemd-run --quiet --unit=nova-bench-bystander bystander "$bystander_mib"
  fi
  wait_until 120 "the innocents hold their memory" innocents_hold
}
holds() {  # CGROUP MIB: the cgroup has (nearly) that much memory
  local current
  current=$(cat "$1/memory.current" 2>/dev/null) || return 1
  (((current >> 20) >= $2 - 8))
}
innocents_hold() {
  local i
  for i in 1 2 3; do holds "$(agent_cgroup "innocent$i")" "$innocent_mib" || return 1; done
  holds /sys/fs/cgroup/system.slice/nova-bench-bystander.service "$bystander_mib"
}

spawn_runaway() {  # SCENARIO NAME
  case $1 in
    single) novactl spawn "$2" --workdir "$ws" --sandbox none --soft-timeout 0 -- memhog "$(mib 350)" ;;
    workers)
      novactl spawn "$2" --workdir "$ws" --sandbox none --soft-timeout 0 -- /bin/sh -c \
        "for i in 1 2 3 4 5 6 7 8; do memhog $(mib 45) & done; wait" ;;
    respawn)  # stress-ng shares --vm-bytes among its workers: 4 of 9% each
      novactl spawn "$2" --workdir "$ws" --sandbox none --soft-timeout 0 -- \
        /usr/bin/stress-ng --vm 4 --vm-bytes "$(mib 360)M" --vm-keep --timeout 600 ;;
  esac >/dev/null
}

# kills TOOL SINCE_USEC: one line per kill since then: time_usec, MiB, victim.
kills() {
  if [[ $1 == novad ]]; then
    novactl events --json -n 200 | jq -r --argjson since "$2" \
      '.[] | select(.action == "kill" and .time_usec >= $since) |
       "\(.time_usec) \(.agent_memory / 1048576 | floor) agent:\(.agent)"'
  else
    journalctl -u earlyoom -o json --no-pager --since "@$(($2 / 1000000))" | jq -r --argjson since "$2" '
      select((.__REALTIME_TIMESTAMP | tonumber) >= $since and (.MESSAGE | type == "string") and
             (.MESSAGE | test("sending SIG"))) |
      "\(.__REALTIME_TIMESTAMP) \(.MESSAGE | capture("VmRSS (?<m>[0-9]+) MiB").m // "?") \(.MESSAGE | capture("\"(?<n>[^\"]*)\"").n // "?")"'
  fi
}

trial() {  # TOOL SCENARIO N
  local tool=$1 scenario=$2 n=$3 hog="hog-$2-$1-$3"
  ensure_innocents
  wait_until 60 "memory settled under ${TARGET}%" eval '(($(used_pct) < TARGET - 2))'
  local start base
  start=$(now_usec)
  base=$(used_pct)
  rm -f "$ws/cross"
  chrt -f 50 memcross "$RELIEF" "$ws/cross" 300 "$TARGET" "$WINDOW" &
  local observer=$!
  spawn_runaway "$scenario" "$hog"
  local rc=0
  wait "$observer" || rc=$?
  ((rc == 0 || rc == 3)) || fail "$tool/$scenario: memory never crossed ${RELIEF}% (observer exit $rc)"
  sleep 3  # what the tool does next: a runaway that comes back, more kills
  local crossed under peak
  { read -r crossed; read -r under; read -r peak; } <"$ws/cross"
  local under_ms=-
  [[ $under == - ]] || under_ms=$(jq -n "($under - $crossed) / 1000")
  local list
  list=$(kills "$tool" "$start")
  local count first_ms=- freed=- hog_left=gone innocents=0 bystander=alive
  count=$(grep -c . <<<"$list" || true)
  if ((count > 0)); then
    first_ms=$(jq -n "($(head -n1 <<<"$list" | cut -d' ' -f1) - $crossed) / 1000")
    freed=$(awk '$2 != "?" {s += $2; n++} END {print n ? int(s / n) : "?"}' <<<"$list")
  fi
  if ! is_gone "$hog"; then
    hog_left="running, $(cat "$(agent_cgroup "$hog")/pids.current" 2>/dev/null || echo '?') tasks"
  fi
  for i in 1 2 3; do is_active "innocent$i" || innocents=$((innocents + 1)); done
  systemctl is-active --quiet nova-bench-bystander || bystander=killed
  note "$tool $scenario #$n: base ${base}%, peak ${peak}%, crossing->under ${TARGET}%: ${under_ms} ms," \
    "first kill ${first_ms} ms, $count kill(s), ${freed} MiB each; runaway $hog_left;" \
    "innocent agents killed $innocents, bystander $bystander"
  [[ -z $list ]] || sed 's/^/#     kill: /' <<<"$list"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$scenario" "$under_ms" "$first_ms" "$count" \
    "$freed" "$([[ $hog_left == gone ]] && echo 1 || echo 0)" "$innocents" \
    "$([[ $bystander == killed ]] && echo 1 || echo 0)" >>"$results"
  novactl kill --force "$hog" >/dev/null 2>&1 || true
  wait_until 60 "$hog gone" is_gone "$hog"
}

: >"$results"
note "MemTotal ${total_mib} MiB; innocents: 3 agents of ${innocent_mib} MiB, bystander ${bystander_mib} MiB;" \
  "relief at ${RELIEF}% used (earlyoom -m $AVAILABLE), target ${TARGET}%; ${TRIALS} trials each"
# Rounds of every scenario each way, so that a run cut short by BUDGET (its
# seconds; emulation on a busy host is slow) still has every scenario.
rounds=0
for ((t = 1; t <= TRIALS; t++)); do
  if ((t > 1 && SECONDS > BUDGET)); then
    note "budget of ${BUDGET} s spent: $rounds round(s) of $TRIALS"
    break
  fi
  for scenario in single workers respawn; do
    use_novad
    trial novad "$scenario" "$t"
    use_earlyoom
    trial earlyoom "$scenario" "$t"
  done
  rounds=$t
done
systemctl stop earlyoom

# The table: medians over the trials; a "-" (not back under within WINDOW s)
# counts as slower than any time.
summary() {  # TOOL SCENARIO FIELD: median of that column, "-" sorting last
  awk -F'\t' -v tool="$1" -v sc="$2" -v f="$3" '$1 == tool && $2 == sc {print ($f == "-" ? 1e12 : $f)}' "$results" |
    sort -g | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
      if (m >= 1e12) print "-"; else printf "%.1f\n", m}'
}
total() {  # TOOL SCENARIO FIELD: sum over the trials
  awk -F'\t' -v tool="$1" -v sc="$2" -v f="$3" '$1 == tool && $2 == sc {s += $f} END {print s + 0}' "$results"
}
echo
echo "novad relief vs earlyoom, $rounds trial(s) each, relief at ${RELIEF}% used, target ${TARGET}% (medians):"
printf '%-9s %-9s %12s %12s %6s %10s %10s %10s %10s %8s\n' scenario tool "under_${TARGET}%_ms" \
  first_kill_ms kills MiB/kill "ended/$rounds" innocents bystander ratio
for scenario in single workers respawn; do
  for tool in novad earlyoom; do
    under=$(summary "$tool" "$scenario" 3)
    ratio=
    if [[ $tool == novad ]]; then
      eo=$(summary earlyoom "$scenario" 3)
      if [[ $under == - ]]; then
        ratio="miss"
      elif [[ $eo == - ]]; then
        ratio="<$(jq -n "$under / ($WINDOW * 1000) * 100 | round / 100")"
      else
        ratio=$(jq -n "$under / $eo * 100 | round / 100")
      fi
    fi
    printf '%-9s %-9s %12s %12s %6s %10s %10s %10s %10s %8s\n' "$scenario" "$tool" "$under" \
      "$(summary "$tool" "$scenario" 4)" "$(summary "$tool" "$scenario" 5)" \
      "$(summary "$tool" "$scenario" 6)" "$(total "$tool" "$scenario" 7)" \
      "$(total "$tool" "$scenario" 8)" "$(total "$tool" "$scenario" 9)" "$ratio"
  done
done
echo "  under_${TARGET}%_ms: the observer's time from crossing ${RELIEF}% to memory back under ${TARGET}%"
echo "  (- = not within ${WINDOW} s); kills: the tool's kills in the trial; MiB/kill: what each kill"
echo "  took (novad: the agent's memory.current; earlyoom: the process's VmRSS); ended: trials where"
echo "  the runaway agent was over; innocents, bystander: killed in all trials."
echo "  ratio novad / earlyoom (goal <= 0.5; '<x' when earlyoom never got under: x against ${WINDOW} s)"
