#!/bin/bash
# Prometheus metrics scraped the way an operator does: Debian's
# prometheus-node-exporter serves what novad writes for its textfile
# collector, and parses it without error. Each agent's values match
# systemd's own; OOM kills inside an agent, refused spawns, relief kills and
# the watcher's reaction are counted; an agent's series go with it, and the
# file with novad.
# timeout: 420
source "$NOVA_TEST_LIB"
use_small_agents "MetricsInterval=1s" "MemoryMax=4G" "MaxAgents=3" "AdmissionPercent=55" "AdmissionReopenPercent=50" \
  "ReliefPercent=60" "ReliefTargetPercent=35"
ws=$(workdir metrics)
members nova-dana
file=/var/lib/prometheus/node-exporter/nova.prom
# scrape [COLLECTOR]: the exporter's answer, from the textfile collector (novad's
# file) unless told otherwise; all collectors take seconds under emulation.
scrape() { curl -sfg "http://localhost:9100/metrics?collect[]=${1:-textfile}"; }
# On a failure, what novad wrote and what the exporter served of it.
show_on_failure() {
  local rc=$?
  if ((rc != 0)); then
    echo "----- $file -----"
    grep -v '^#' "$file" 2>&1 | head -n 30 || true
    echo "----- nova series the exporter serves -----"
    scrape | grep -E '^(nova_|node_textfile)' | head -n 30 || true
  fi
  systemctl stop prometheus-node-exporter
}
trap show_on_failure EXIT
systemctl start prometheus-node-exporter
wait_until 30 "the exporter answers" scrape

# novad writes every second here, but a scrape can take seconds under
# emulation: a change is waited for over several scrapes.
SCRAPE_WAIT=60  # seconds
# value METRIC_WITH_LABELS: its value in the exporter's answer (empty if absent).
value() { scrape | awk -v m="$1" '$1 == m { print $2 }'; }
# same A B [TOLERANCE_PERCENT]: numerically equal (the exporter writes 2.68435456e+08).
same() { awk -v a="$1" -v b="$2" -v t="${3:-0}" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t / 100 * (b < 0 ? -b : b)) }'; }
expect_same() {
  same "$2" "$3" "${4:-0}" || fail "$1: expected $3 (within ${4:-0}%), got '$2'"
  echo "ok: $1 = $2 (against $3)"
}
labels='{agent="m1",user="nova-dana"}'

as nova-dana novactl spawn m1 --workdir "$ws" --memory 256M --tasks 32 -- memhog 64 >/dev/null
wait_until 60 "m1 holds its memory" eval "journalctl -u nova-agent-m1.service --no-pager | grep -q holding"
wait_until "$SCRAPE_WAIT" "the exporter serves m1" eval '[[ -n $(value "nova_agent_memory_usage_bytes$labels") ]]'
expect_eq "the exporter parsed novad's file" 0 "$(value 'node_textfile_scrape_error')"
expect_eq "the file is novad's, world-readable" "644 root" "$(stat -c '%a %U' "$file")"
expect_same "memory limit" "$(value "nova_agent_spec_memory_limit_bytes$labels")" "$(prop m1 MemoryMax)"
expect_same "tasks limit" "$(value "nova_agent_spec_tasks_limit$labels")" "$(prop m1 TasksMax)"
expect_same "tasks" "$(value "nova_agent_tasks$labels")" "$(prop m1 TasksCurrent)"
expect_same "memory used (a steady hog, read apart)" "$(value "nova_agent_memory_usage_bytes$labels")" \
  "$(prop m1 MemoryCurrent)" 5
cpu=$(value "nova_agent_cpu_usage_seconds_total$labels")
cpu_systemd=$(awk -v n="$(prop m1 CPUUsageNSec)" 'BEGIN { print n / 1e9 }')
awk -v a="$cpu" -v b="$cpu_systemd" 'BEGIN { exit !(a > 0 && a <= b) }' ||
  fail "CPU seconds: expected above 0 and at most systemd's later $cpu_systemd, got '$cpu'"
echo "ok: CPU seconds $cpu (systemd, read later: $cpu_systemd)"
used=$(value nova_host_memory_used_bytes)
node_used=$(scrape meminfo | awk '$1 == "node_memory_MemTotal_bytes" { t = $2 } $1 == "node_memory_MemAvailable_bytes" { a = $2 } END { print t - a }')
expect_same "host memory used, against the exporter's own meminfo" "$used" "$node_used" 5
expect_eq "admission open" 1 "$(value nova_admission_open)"
expect_eq "one agent" 1 "$(value nova_agents)"

# A process OOM-killed inside the agent (which runs on) is counted.
rc=0
(cd "$ws" && as nova-dana novactl exec m1 -- memhog 400) >/dev/null 2>&1 || rc=$?
expect_eq "the hog inside m1 is OOM-killed" 137 "$rc"
wait_until "$SCRAPE_WAIT" "the OOM kill is counted" eval '[[ $(value "nova_agent_oom_events_total$labels") == 1 ]]'
expect_eq "as the agent's memory.events says" \
  "$(sed -n 's/^oom_kill //p' "$(agent_cgroup m1)/memory.events")" "$(value "nova_agent_oom_events_total$labels")"

# A refused spawn is counted (MaxAgents=3).
novactl spawn m2 --workdir "$ws" -- sleep 600 >/dev/null
novactl spawn m3 --workdir "$ws" -- sleep 600 >/dev/null
expect_eq "no refusal yet" 0 "$(value nova_admission_refusals_total)"
run_expect_fail 3 novactl spawn m4 --workdir "$ws" -- sleep 600
wait_until "$SCRAPE_WAIT" "the refusal is counted" eval '[[ $(value nova_admission_refusals_total) == 1 ]]'
novactl kill m2 >/dev/null
novactl kill m3 >/dev/null
wait_until 30 "m2 and m3 are gone" eval 'is_gone m2 && is_gone m3'

# The watcher relieves a hog: one relief kill, one reaction observed.
expect_eq "no relief kill yet" 0 "$(value nova_relief_kills_total)"
total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
novactl spawn hog --workdir "$ws" -- memhog $((total_mib * 70 / 100)) - 8 >/dev/null
wait_until 180 "the watcher killed the hog" is_gone hog
wait_until "$SCRAPE_WAIT" "the kill is counted" eval '[[ $(value nova_relief_kills_total) == 1 ]]'
expect_eq "one reaction observed" 1 "$(value nova_watcher_reaction_seconds_count)"
expect_eq "in the +Inf bucket" 1 "$(value 'nova_watcher_reaction_seconds_bucket{le="+Inf"}')"
reaction=$(value nova_watcher_reaction_seconds_sum)
awk -v r="$reaction" 'BEGIN { exit !(r > 0 && r < 5) }' || fail "reaction: expected 0 to 5 s, got '$reaction'"
echo "ok: the watcher reacted within $reaction s of its last reading below 60%"
expect_eq "m1 was not relief's victim" active "$(systemctl is-active nova-agent-m1.service)"

# An agent's series go with it; the file goes with novad.
as nova-dana novactl kill m1 >/dev/null
wait_until 30 "m1 is gone" is_gone m1
wait_until "$SCRAPE_WAIT" "m1's series are gone" eval '[[ -z $(value "nova_agent_memory_usage_bytes$labels") ]]'
systemctl stop novad
[[ ! -e $file ]] || fail "novad left $file behind when it stopped"
echo "ok: the metrics file went with novad"
restart_novad
wait_until 15 "novad writes it again" test -s "$file"
