#!/bin/bash
# The operator's limits in nova.conf hold against the nova group: a member who
# asks above a ceiling (memory, tasks, timeout) or for more agents than
# MaxAgentsPerUser is refused with one line and nothing is started, while root
# may go above the ceilings. A configuration that would disable a guard or
# promise what no spawn can have is refused with one line naming the file and
# the line, by novactl and by novad. MaxAgents=auto admits by the memory the
# running agents were given, not by their number.
# timeout: 180
source "$NOVA_TEST_LIB"
ws=$(workdir ceilings)
useradd --create-home nova-fay 2>/dev/null || true
useradd --create-home nova-gus 2>/dev/null || true
usermod -aG nova nova-fay
usermod -aG nova nova-gus
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
conf=/etc/nova/nova.conf

# refused EXIT_CODE LINE COMMAND...: fails with exactly LINE and leaves no unit.
refused() {
  local code=$1 line=$2
  shift 2
  run_expect_fail "$code" "$@"
  expect_eq "error line" "$line" "$ERR"
  expect_no_agent_units
}

# Ceilings below the bounds and the VM, with defaults that fit under them.
use_small_agents "TasksMax=32" "RuntimeMax=5min" "SoftTimeout=2min" \
  "MemoryMaxCeiling=256M" "TasksMaxCeiling=64" "RuntimeMaxCeiling=10min" "MaxAgentsPerUser=2"

note "a member above each ceiling is refused (exit 6), naming the ceiling and its key"
refused 6 "novactl: --memory 512M: above the operator's ceiling of 256M (MemoryMaxCeiling in $conf); only root may ask for more" \
  as nova-fay novactl spawn f-mem --workdir "$ws" --memory 512M -- sleep 600
refused 6 "novactl: --tasks 100: above the operator's ceiling of 64 (TasksMaxCeiling in $conf); only root may ask for more" \
  as nova-fay novactl spawn f-tasks --workdir "$ws" --tasks 100 -- sleep 600
refused 6 "novactl: --timeout 1h: above the operator's ceiling of 10min (RuntimeMaxCeiling in $conf); only root may ask for more" \
  as nova-fay novactl spawn f-time --workdir "$ws" --timeout 1h -- sleep 600
# Above the absolute bound too: the ceiling is what a member hears of.
refused 6 "novactl: --tasks 5000000: above the operator's ceiling of 64 (TasksMaxCeiling in $conf); only root may ask for more" \
  as nova-fay novactl spawn f-tasks --workdir "$ws" --tasks 5000000 -- sleep 600

note "at the ceilings a member is admitted"
as nova-fay novactl spawn f-1 --workdir "$ws" --memory 256M --tasks 64 --timeout 10min -- sleep 600 >/dev/null
expect_eq "f-1 MemoryMax" 268435456 "$(prop f-1 MemoryMax)"
expect_eq "f-1 TasksMax" 64 "$(prop f-1 TasksMax)"
expect_eq "f-1 RuntimeMaxUSec" 10min "$(prop f-1 RuntimeMaxUSec)"
expect_eq "f-1 User" nova-fay "$(prop f-1 User)"

note "root may go above the ceilings, not above the bounds"
novactl spawn r-big --workdir "$ws" --memory 512M --tasks 100 --timeout 20min -- sleep 600 >/dev/null
expect_eq "r-big MemoryMax" 536870912 "$(prop r-big MemoryMax)"
expect_eq "r-big TasksMax" 100 "$(prop r-big TasksMax)"
expect_eq "r-big RuntimeMaxUSec" 20min "$(prop r-big RuntimeMaxUSec)"
run_expect_fail 2 novactl spawn r-huge --workdir "$ws" --tasks 5000000 -- sleep 600
expect_eq "root above the bound" "novactl: --tasks 5000000: out of range; accepted: 1 to 4194304" "$ERR"
is_gone r-huge || fail "the refused r-huge left a unit behind"
echo "ok: r-huge left no unit"

note "MaxAgentsPerUser=2: the third agent of a member is refused (exit 3)"
as nova-fay novactl spawn f-2 --workdir "$ws" -- sleep 600 >/dev/null
run_expect_fail 3 as nova-fay novactl spawn f-3 --workdir "$ws" -- sleep 600
expect_eq "per-user refusal" "novactl: agent \"f-3\" refused: nova-fay runs 2 agents, the most one user may run (MaxAgentsPerUser=2 in $conf); wait for one to finish or kill one" "$ERR"
is_gone f-3 || fail "the refused f-3 left a unit behind"
echo "ok: f-3 left no unit"
# novad tells whose an agent is by its cgroup's owner: systemd hands the
# cgroup to User= (Delegate=yes), and the agent cannot give it away.
cg=/sys/fs/cgroup/nova.slice/nova-agents.slice/$(unit_of f-2)
expect_eq "f-2's cgroup handed to its user" nova-fay "$(stat -c %U "$cg")"
if as nova-fay chown nova-gus "$cg" 2>/dev/null; then fail "nova-fay gave f-2's cgroup to nova-gus"; fi
expect_eq "f-2's cgroup still nova-fay's" nova-fay "$(stat -c %U "$cg")"
# Another member and root are not counted against nova-fay, and root has no limit.
as nova-gus novactl spawn g-1 --workdir "$ws" -- sleep 600 >/dev/null
for n in 1 2 3; do novactl spawn "r-$n" --workdir "$ws" -- sleep 600 >/dev/null; done
expect_eq "root's agents" "active active active" "$(for n in 1 2 3; do systemctl is-active "$(unit_of "r-$n")"; done | xargs)"
# One of nova-fay's ends: room for one more.
as nova-fay novactl kill f-1 >/dev/null
as nova-fay novactl spawn f-3 --workdir "$ws" -- sleep 600 >/dev/null
expect_eq "f-3 after f-1 ended" active "$(systemctl is-active "$(unit_of f-3)")"
for a in f-2 f-3 g-1 r-big r-1 r-2 r-3; do novactl kill --force "$a" >/dev/null; done
expect_no_agent_units

note "MaxAgents=auto admits by the MemoryMax the running agents were given"
# Set about 2.5G aside for agents, whatever the VM's MemTotal: 1G + 1G fit,
# a third 1G does not, 256M still does. Counted as before (set-aside divided
# by the 128M default, about 19), the third would have been admitted.
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
((total_mib > 3072)) || fail "MemTotal ${total_mib} MiB: this case needs a VM of more than 3G"
headroom=$(awk -v t="$total_mib" 'BEGIN { printf "%.1f", 100 - 100 * 2560 / t }')
nova_config "MemoryMax=128M" "TimeoutStop=3s" "MaxAgents=auto" "SystemSharePercent=0" \
  "HeadroomPercent=$headroom"
set_aside=$(novactl status --json | jq .agents_memory_set_aside_bytes)
((set_aside > (2048 + 256) << 20 && set_aside < 3072 << 20)) ||
  fail "set aside $set_aside bytes, not between 2.25G and 3G (HeadroomPercent=$headroom)"
echo "ok: $set_aside bytes set aside for agents"
novactl spawn m-1 --workdir "$ws" --memory 1G -- sleep 600 >/dev/null
novactl spawn m-2 --workdir "$ws" --memory 1G -- sleep 600 >/dev/null
run_expect_fail 3 novactl spawn m-3 --workdir "$ws" --memory 1G -- sleep 600
expect_contains "auto refusal" "novactl: agent \"m-3\" refused: agents hold 2G of the " "$ERR"
expect_contains "auto refusal" " set aside for them (MaxAgents=auto: MemTotal - SystemSharePercent - HeadroomPercent); this agent asks for 1G; wait for one to finish, kill one or ask for less with --memory" "$ERR"
is_gone m-3 || fail "the refused m-3 left a unit behind"
echo "ok: m-3 left no unit"
novactl spawn m-4 --workdir "$ws" --memory 256M -- sleep 600 >/dev/null
json=$(novactl status --json)
expect_eq "agents_memory_committed_bytes" $(((2048 + 256) << 20)) "$(jq .agents_memory_committed_bytes <<<"$json")"
expect_eq "agents_max under auto" null "$(jq .agents_max <<<"$json")"
expect_contains "status header" "Agents: 3 running, holding " "$(novactl status)"
expect_contains "status header" "set aside for agents (MaxAgents=auto" "$(novactl status)"
for a in m-1 m-2 m-4; do novactl kill --force "$a" >/dev/null; done
expect_no_agent_units

note "nonsense in nova.conf: novactl status fails with one line naming the file and the line"
bad_config() {  # bad_config LINE EXPECTED_ERROR: LINE goes on line 2, after a comment
  printf '# line 1\n%s\nTimeoutStop=3s\n' "$1" > "$conf"
  run_expect_fail 2 novactl status
  expect_eq "status with $1" "novactl: $2" "$ERR"
}
bad_config "ReliefPercent=nan" "$conf:2: ReliefPercent=\"nan\" is not valid; expected a percentage above 0 and below 100"
bad_config "AdmissionPercent=inf" "$conf:2: AdmissionPercent=\"inf\" is not valid; expected a percentage above 0 and below 100"
bad_config "HeadroomPercent=-nan" "$conf:2: HeadroomPercent=\"-nan\" is not valid; expected a percentage from 0 to 100"
bad_config "ReliefPercent=100" "$conf:2: ReliefPercent=\"100\" is not valid; expected a percentage above 0 and below 100"
bad_config "RuntimeMax=30d" "$conf:2: RuntimeMax=\"30d\" is not valid; expected a duration from 1s to 7d such as 30min"
bad_config "TasksMax=5000000" "$conf:2: TasksMax=\"5000000\" is not valid; expected a count from 1 to 4194304 such as 512"
bad_config "MemoryMax=8G" "$conf:2: MemoryMax (8G) is above MemoryMaxCeiling (4G); raise the ceiling or lower the default"
bad_config "MaxAgentsPerUser=0" "$conf:2: MaxAgentsPerUser=\"0\" is not valid; expected a positive count, or unlimited"

note "novad refuses to start on it, with the same line in its journal"
since=$(date '+%Y-%m-%d %H:%M:%S')
printf '# line 1\nReliefPercent=100\n' > "$conf"
if systemctl restart novad 2>/dev/null; then fail "novad started with ReliefPercent=100"; fi
echo "ok: novad did not start"
wait_until 10 "novad's journal names the line" eval \
  "journalctl -u novad --since '$since' -o cat | grep -F '$conf:2: ReliefPercent=\"100\" is not valid; expected a percentage above 0 and below 100' >/dev/null"

# A good configuration again, and novad back.
use_small_agents
expect_contains "status with a good configuration" "maximum 20 (MaxAgents)" "$(novactl status)"
expect_no_agent_units
