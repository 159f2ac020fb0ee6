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
hook=/usr/libexec/nova/nova-agent-hook

now_ns() { date +%s%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
secs() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1e9}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# The anchor: the unit Nova makes (one unit: --soft-timeout 0), standard
# sandbox and all, made by systemd-run; in a slice of its own. What it lacks
# is Nova's alone: the outcome recorders (OnSuccess=/OnFailure=), which
# novactl kill waits for. same_unit below checks that nothing else drifted.
systemd_version=$(systemctl --version | awk 'NR == 1 {print $2}')
systemd_run() {
  local cgroup_props=(-p ProtectControlGroups=strict)
  if ((systemd_version < 257)); then
    cgroup_props=(-p ProtectControlGroups=yes
      -p BindReadOnlyPaths="/sys/fs/cgroup/anchors.slice/$1.service:/sys/fs/cgroup:rbind")
  fi
  systemd-run --quiet --unit="$1.service" --slice=anchors.slice \
    --description="Nova agent $1: /usr/bin/sleep 3600" \
    -p Type=exec -p ExitType=cgroup -p WorkingDirectory="$ws" -p User=root \
    -p Environment="HOME=/tmp NOVA_AGENT_NAME=$1 NOVA_MEMORY_MAX=16777216 NOVA_TASKS_MAX=512" \
    -p Environment="NOVA_TIMEOUT_SEC=1800 NOVA_SOFT_TIMEOUT_SEC=0 NOVA_AGENT_SANDBOX=standard" \
    -p UnsetEnvironment="CODER_PROC_PRIO_MGMT CODER_PROC_OOM_SCORE CODER_PROC_NICE_SCORE" \
    -p MemoryAccounting=yes -p MemoryMax=16M -p MemoryHigh=infinity -p MemorySwapMax=0 \
    -p TasksAccounting=yes -p TasksMax=512 -p CPUAccounting=yes -p RuntimeMaxSec=30min \
    -p TimeoutStopSec=3s -p OOMPolicy=continue -p KillMode=control-group -p SendSIGKILL=yes \
    -p CollectMode=inactive-or-failed -p Delegate=yes \
    -p InaccessiblePaths="-/run/dbus/system_bus_socket -/run/user" \
    -p NoNewPrivileges=yes -p RestrictSUIDSGID=yes -p CapabilityBoundingSet= -p AmbientCapabilities= \
    -p PrivateTmp=yes -p PrivateDevices=yes -p PrivateIPC=yes -p PrivateMounts=yes \
    -p ProtectSystem=strict -p ReadWritePaths="$ws -/var/nova-agents/scratch" -p ProtectHome=tmpfs \
    -p ProtectKernelTunables=yes -p ProtectKernelModules=yes -p ProtectKernelLogs=yes \
    -p ProtectClock=yes -p ProtectHostname=yes -p ProtectProc=invisible -p KeyringMode=private \
    -p RestrictNamespaces=cgroup -p LockPersonality=yes -p RestrictRealtime=yes \
    -p SystemCallArchitectures=native -p SystemCallFilter=@system-service -p SystemCallErrorNumber=EPERM \
    -p RestrictAddressFamilies="AF_UNIX AF_INET AF_INET6 AF_NETLINK" -p UMask=0077 \
    "${cgroup_props[@]}" /usr/bin/sleep 3600
}
# The properties that decide what starting and stopping a unit costs; an
# anchor must have the agent's.
same_props=Type,ExitType,WorkingDirectory,User,UnsetEnvironment,MemoryMax,MemoryHigh,MemorySwapMax,TasksMax,RuntimeMaxUSec,TimeoutStopUSec,OOMPolicy,KillMode,SendSIGKILL,CollectMode,Delegate,InaccessiblePaths,NoNewPrivileges,RestrictSUIDSGID,CapabilityBoundingSet,AmbientCapabilities,PrivateTmp,PrivateDevices,PrivateIPC,PrivateMounts,ProtectSystem,ReadWritePaths,ProtectHome,ProtectKernelTunables,ProtectKernelModules,ProtectKernelLogs,ProtectClock,ProtectHostname,ProtectProc,KeyringMode,RestrictNamespaces,LockPersonality,RestrictRealtime,SystemCallArchitectures,SystemCallFilter,SystemCallErrorNumber,RestrictAddressFamilies,UMask,ProtectControlGroups,Nice,OOMScoreAdjust
same_unit() {  # ANCHOR AGENT: fails on any difference in same_props
  local diff
  diff=$(diff <(systemctl show -p "$same_props" "$1.service") \
    <(systemctl show -p "$same_props" "nova-agent-$2.service")) ||
    fail "the anchor is not the agent's unit (< anchor, > agent):"$'\n'"$diff"
}
nova() { novactl spawn "$1" --workdir "$ws" -- /usr/bin/sleep 3600 >/dev/null; }
nova_one_unit() { novactl spawn "$1" --workdir "$ws" --soft-timeout 0 -- /usr/bin/sleep 3600 >/dev/null; }
active_count() { systemctl list-units --state=active --no-legend "$1" | wc -l; }

systemd_run anchor-probe
nova_one_unit probe
same_unit anchor-probe probe
systemctl stop anchor-probe.service nova-agent-probe.service
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

idle() {  # RSS and CPU share of novad over 30 s of quiet
  local pid ticks0 ticks1 hz rss
  pid=$(systemctl show -P MainPID novad)
  sleep 5
  ticks0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 30
  ticks1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  hz=$(getconf CLK_TCK)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  printf '  %-28s RSS %5.1f MiB, CPU %.2f%% (goal: <= 8 MiB, <= 0.5%%)\n' "$1" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" \
    "$(awk -v d="$((ticks1 - ticks0))" -v hz="$hz" 'BEGIN {print 100 * d / hz / 30}')"
}
echo "== 4. novad idle with $N agents"
idle "priority sweep off:"
cp /etc/default/novad /etc/default/novad.bench 2>/dev/null || : >/etc/default/novad.bench
echo "CODER_PROC_PRIO_MGMT=1" >>/etc/default/novad
restart_novad
idle "priority sweep on:"
mv /etc/default/novad.bench /etc/default/novad
restart_novad

echo "== 5. $N agents killed one by one, interleaved with systemctl stop (s)"
declare -A kill_total=([systemctl_stop]=0 [novactl_kill]=0)
for ((i = 1; i <= N; i++)); do
  t0=$(now_ns); systemctl stop "anchor-$i.service"; t1=$(now_ns)
  kill_total[systemctl_stop]=$((kill_total[systemctl_stop] + t1 - t0))
  t0=$(now_ns); novactl kill "a$i" >/dev/null; t1=$(now_ns)
  kill_total[novactl_kill]=$((kill_total[novactl_kill] + t1 - t0))
done
expect_no_agent_units
printf '  systemctl_stop %8.2f\n  novactl_kill   %8.2f\n' "$(secs "${kill_total[systemctl_stop]}")" "$(secs "${kill_total[novactl_kill]}")"
echo "  ratio novactl_kill / systemctl_stop: $(ratio "${kill_total[novactl_kill]}" "${kill_total[systemctl_stop]}")"

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
