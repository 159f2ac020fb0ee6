# Sourced by the benchmarks that run in the test VM (bench/run.sh copies it
# beside them): timing helpers, the anchor unit every spawn and kill ratio is
# measured against, and novad's idle cost. The caller sets $ws (the agents'
# workdir) before sourcing.

now_ns() { date +%s%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
secs() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1e9}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# The anchor: the unit Nova makes (one unit: --soft-timeout 0), standard
# sandbox and all, made by systemd-run; in a slice of its own. What it lacks
# is Nova's alone: the outcome recorders (OnSuccess=/OnFailure=), which run
# once the agent has stopped. same_unit below checks that nothing else drifted.
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
active_count() { systemctl list-units --state=active --no-legend "$1" | wc -l; }
# Before measuring: an anchor and an agent made once each, compared, removed.
check_anchor() {
  systemd_run anchor-probe
  novactl spawn probe --workdir "$ws" --soft-timeout 0 -- /usr/bin/sleep 3600 >/dev/null
  same_unit anchor-probe probe
  systemctl stop anchor-probe.service nova-agent-probe.service
}

# Until systemd runs no job of Nova's or the anchors' units: a stopped agent's
# outcome recorder (a job of its own, queued by OnSuccess=/OnFailure=) has run
# and the unit is unloaded. A measure that follows an agent's stop waits for
# this first, or it would pay for the recorder that runs beside it.
settle() {
  local end=$((SECONDS + 30)) units=('nova-agent-*' 'nova-outcome-*' 'nova-soft-*' 'anchor-*')
  while [[ -n $(systemctl list-jobs --no-legend "${units[@]}" 2>/dev/null) ]]; do
    ((SECONDS < end)) || fail "systemd still runs jobs after 30 s: $(systemctl list-jobs --no-legend "${units[@]}")"
    sleep 0.05
  done
}

# Each stop from a settled systemd, timed until the command returns; what
# follows it until systemd settles again (the agent's recorder) is printed
# apart, as the aftermath.
kill_one_by_one() {  # N: agents a1..aN and anchors anchor-1..N, killed interleaved
  local i t0 t1 t2
  local -A total=([systemctl_stop]=0 [novactl_kill]=0) after=([systemctl_stop]=0 [novactl_kill]=0)
  settle
  for ((i = 1; i <= $1; i++)); do
    t0=$(now_ns); systemctl stop "anchor-$i.service"; t1=$(now_ns); settle; t2=$(now_ns)
    total[systemctl_stop]=$((total[systemctl_stop] + t1 - t0))
    after[systemctl_stop]=$((after[systemctl_stop] + t2 - t1))
    t0=$(now_ns); novactl kill "a$i" >/dev/null; t1=$(now_ns); settle; t2=$(now_ns)
    total[novactl_kill]=$((total[novactl_kill] + t1 - t0))
    after[novactl_kill]=$((after[novactl_kill] + t2 - t1))
  done
  printf '  systemctl_stop %8.2f   (then until systemd settled: %.2f)\n' \
    "$(secs "${total[systemctl_stop]}")" "$(secs "${after[systemctl_stop]}")"
  printf '  novactl_kill   %8.2f   (then until systemd settled: %.2f)\n' \
    "$(secs "${total[novactl_kill]}")" "$(secs "${after[novactl_kill]}")"
  echo "  ratio novactl_kill / systemctl_stop: $(ratio "${total[novactl_kill]}" "${total[systemctl_stop]}")"
}


idle() {  # LABEL: RSS and CPU share of novad over 60 s of quiet, and its busiest threads
  # 60 s: four metrics writes (every 15 s) and the limits' read of each
  # minute in every window; over 30 s a window held two or three writes,
  # one of them with the limits or not, and phases differed by 0.2%.
  # CPU time is each thread's run time as the scheduler counts it
  # (schedstat, ns), exact where the ticks of /proc/PID/stat are a sample;
  # the ticks' figure, which earlier runs reported, is printed beside it.
  local pid ticks0 ticks1 hz rss t ns=0
  local -A before
  pid=$(systemctl show -P MainPID novad)
  sleep 5
  for t in /proc/"$pid"/task/*; do before[${t##*/}]=$(cut -d' ' -f1 "$t/schedstat"); done
  ticks0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 60
  ticks1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  local -a threads=()
  for t in /proc/"$pid"/task/*; do
    [[ -n ${before[${t##*/}]:-} ]] || continue  # a thread started meanwhile
    local d=$(($(cut -d' ' -f1 "$t/schedstat") - ${before[${t##*/}]}))
    ns=$((ns + d))
    threads+=("$d $(cat "$t/comm")")
  done
  hz=$(getconf CLK_TCK)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  printf '  %-34s RSS %5.1f MiB, CPU %.2f%% (goal: <= 8 MiB, <= 0.5%%; by ticks %.2f%%)\n' "$1" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" \
    "$(awk -v ns="$ns" 'BEGIN {print 100 * ns / 60e9}')" \
    "$(awk -v d="$((ticks1 - ticks0))" -v hz="$hz" 'BEGIN {print 100 * d / hz / 60}')"
  # Of the RSS, what novad allocated and what are pages of its binary and libraries.
  awk '/^RssAnon/ {a = $2} /^RssFile/ {f = $2} END {printf "    (anonymous %.1f MiB, file-backed %.1f MiB)\n", a / 1024, f / 1024}' \
    "/proc/$pid/status"
  # Where the anonymous part is: the main heap, unnamed mappings (malloc's
  # other arenas, thread stacks), pages of the libraries written to.
  # The largest unnamed ones by their size tell them apart: 8 MiB for a
  # thread's stack; an arena's grown part is a mapping of its own, the
  # rest of its 64 MiB reserved without access.
  awk '/^[0-9a-f]+-[0-9a-f]+ / {kind = ($6 == "" ? "unnamed" : ($6 ~ /^\[/ ? $6 : "libraries")); if (kind == "unnamed") n++}
       /^Size:/ {size = $2}
       /^Anonymous:/ {kb[kind] += $2; if (kind == "unnamed" && $2 > 0) big[n] = $2 " KiB of " size " KiB"}
       END {printf "    anonymous in: [heap] %.1f MiB, %d unnamed mappings %.1f MiB, libraries %.1f MiB, [stack] %.1f MiB\n",
            kb["[heap]"] / 1024, n, kb["unnamed"] / 1024, kb["libraries"] / 1024, kb["[stack]"] / 1024
            for (i in big) print big[i]}' "/proc/$pid/smaps" |
    { IFS= read -r line; echo "$line"; sort -rn | head -n 6 | sed 's/^/      unnamed: /'; }
  # novad names its threads (watcher, worker-N, metrics; the bus thread is novad).
  printf '%s\n' "${threads[@]}" | sort -rn |
    awk '$1 > 0 && n++ < 3 {printf "    %-12s %.2f%%\n", $2, 100 * $1 / 60e9}'
}
