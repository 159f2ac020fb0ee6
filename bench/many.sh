#!/bin/bash
# Benchmark, run inside the test VM by bench/run.sh: Nova with many agents,
# each number against an anchor measured in the same run.
#   1. single spawns (median of RUNS), novactl vs systemd-run making the same
#      unit (Nova with its soft-deadline timer, and with --soft-timeout 0);
#   2. N agents back to back, novactl interleaved with systemd-run (anchor
#      units are anchor-I.service, the agent's unit, sandbox included, but in
#      a slice of their own, so that status lists Nova's and the priority
#      sweep walks only Nova's);
#   3. status and status --json against `systemctl show` of the same facts, at
#      10, 100 and N agents;
#   4. novad's RSS and CPU while idle with N agents, then with the priority
#      sweep on (CODER_PROC_PRIO_MGMT=1 in /etc/default/novad);
#   5. the N killed one by one, `novactl kill` interleaved with `systemctl stop`;
#   6. N spawned by PAR parallel clients against the N sequential systemd-runs
#      of 2, and `novactl kill --all` of them against the N sequential stops of 5.
# timeout: 5400
source "$NOVA_TEST_LIB"
N=${N:-300}        # agents (and as many anchors)
RUNS=${RUNS:-10}   # single spawns each way
PAR=${PAR:-8}      # parallel clients
nova_config "MemoryMax=16M" "MaxAgents=$((N + 50))" "TimeoutStop=3s"
ws=$(workdir bench)

source "$(dirname "$0")/bench_lib.sh"
nova() { novactl spawn "$1" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null; }
nova_one_unit() { novactl spawn "$1" --workdir "$ws" --soft-timeout 0 -- /usr/bin/sleep 3600 >/dev/null; }

check_anchor
echo "== 1. single spawn to an active unit, median of $RUNS (ms)"
declare -A samples
for ((i = 0; i < RUNS; i++)); do
  for way in systemd_run nova nova_one_unit; do
    name=$([[ $way == systemd_run ]] && echo "anchor-x$i" || echo "x$way$i")
    t0=$(now_ns)
    $way "$name"
    t1=$(now_ns)
    unit=$([[ $way == systemd_run ]] && echo "$name.service" || echo "nova-agent-$name.service")
    [[ $(systemctl is-active "$unit") == active ]] || fail "$way $name not active"
    samples[$way]+="$(((t1 - t0) / 1000)) "
    systemctl stop "$unit"
  done
done
declare -A med
for way in systemd_run nova nova_one_unit; do
  med[$way]=$(tr ' ' '\n' <<<"${samples[$way]}" | grep . | median)
  printf '  %-14s %8.1f\n' "$way" "$(awk -v u="${med[$way]}" 'BEGIN {print u / 1000}')"
done
echo "  ratio nova / systemd_run: $(ratio "${med[nova]}" "${med[systemd_run]}")"
echo "  ratio nova_one_unit / systemd_run: $(ratio "${med[nova_one_unit]}" "${med[systemd_run]}")"

# status and systemctl show of the same facts, of the first $1 agents.
facts=ActiveState,SubState,MainPID,MemoryCurrent,MemoryMax,TasksCurrent,TasksMax,CPUUsageNSec,RuntimeMaxUSec,ActiveEnterTimestamp,User,WorkingDirectory,Environment,ExecStart
measure_status() {
  local n=$1 units=() timers=() k t0 t1 way
  for ((k = 1; k <= n; k++)); do units+=("nova-agent-a$k.service"); timers+=("nova-soft-a$k.timer"); done
  declare -A best
  for ((k = 0; k < 3; k++)); do
    t0=$(now_ns); novactl status >/dev/null; t1=$(now_ns); best[status]+="$((t1 - t0)) "
    t0=$(now_ns); novactl status --json >/dev/null; t1=$(now_ns); best[json]+="$((t1 - t0)) "
    t0=$(now_ns)
    systemctl show -p "$facts" "${units[@]}" >/dev/null
    systemctl show -p NextElapseUSecMonotonic "${timers[@]}" >/dev/null
    t1=$(now_ns); best[show]+="$((t1 - t0)) "
  done
  for way in status json show; do best[$way]=$(tr ' ' '\n' <<<"${best[$way]}" | grep . | median); done
  [[ $(novactl status --json | jq '.agents | length') -eq $n ]] || fail "status does not list $n agents"
  printf '  %4d agents: status %6.2f s, --json %6.2f s, systemctl show %6.2f s; ratio %s, --json %s\n' \
    "$n" "$(secs "${best[status]}")" "$(secs "${best[json]}")" "$(secs "${best[show]}")" \
    "$(ratio "${best[status]}" "${best[show]}")" "$(ratio "${best[json]}" "${best[show]}")"
}

echo "== 2. $N agents back to back, interleaved with systemd-run (s); 3. status along the way"
declare -A total=([systemd_run]=0 [nova]=0)
status_lines=()
for ((i = 1; i <= N; i++)); do
  t0=$(now_ns); systemd_run "anchor-$i"; t1=$(now_ns); total[systemd_run]=$((total[systemd_run] + t1 - t0))
  t0=$(now_ns); nova "a$i"; t1=$(now_ns); total[nova]=$((total[nova] + t1 - t0))
  if ((i == 10 || i == 100 || i == N)); then status_lines+=("$(measure_status "$i")"); fi
done
expect_eq "anchors active" "$N" "$(active_count 'anchor-*.service')"
expect_eq "agents active" "$N" "$(active_count 'nova-agent-a*.service')"
printf '  systemd_run    %8.2f\n  nova           %8.2f\n' "$(secs "${total[systemd_run]}")" "$(secs "${total[nova]}")"
echo "  ratio nova / systemd_run: $(ratio "${total[nova]}" "${total[systemd_run]}")"
echo "== 3. status of the agents against systemctl show of the same facts (median of 3)"
printf '%s\n' "${status_lines[@]}"

echo "== 4. novad idle with $N agents"
idle "priority sweep off:"
cp /etc/default/novad /etc/default/novad.bench 2>/dev/null || : >/etc/default/novad.bench
echo "CODER_PROC_PRIO_MGMT=1" >>/etc/default/novad
restart_novad
idle "priority sweep on:"
mv /etc/default/novad.bench /etc/default/novad
restart_novad

echo "== 5. $N agents killed one by one, interleaved with systemctl stop (s)"
kill_one_by_one "$N"
expect_no_agent_units

echo "== 6. $N at once: $PAR parallel novactl clients, then novactl kill --all (s)"
t0=$(now_ns)
seq 1 "$N" | xargs -P "$PAR" -I{} novactl spawn "p{}" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null
t1=$(now_ns)
expect_eq "agents active" "$N" "$(active_count 'nova-agent-p*.service')"
par=$((t1 - t0))
t0=$(now_ns)
novactl kill --all >/dev/null
t1=$(now_ns)
expect_no_agent_units
all=$((t1 - t0))
printf '  spawn, %d clients %8.2f  (sequential systemd-run: %.2f; %sx faster, goal >= 5)\n' "$PAR" "$(secs "$par")" \
  "$(secs "${total[systemd_run]}")" "$(ratio "${total[systemd_run]}" "$par")"
printf '  kill --all        %8.2f  (sequential systemctl stop: %.2f; %sx faster, goal >= 5)\n' "$(secs "$all")" \
  "$(secs "${kill_total[systemctl_stop]}")" "$(ratio "${kill_total[systemctl_stop]}" "$all")"
