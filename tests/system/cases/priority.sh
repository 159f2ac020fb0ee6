#!/bin/bash
# Coder's priority policy, set in novad's environment file: off unless
# CODER_PROC_PRIO_MGMT is present (even empty); then every new agent's
# processes start with the policy's oom_score_adj and nice (unit properties
# OOMScoreAdjust= and Nice=), and a sweep keeps them right without touching
# values a user chose; bad values are reported and the defaults apply.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir prio)
cp /etc/default/novad /tmp/novad.env.orig
restore() { cp /tmp/novad.env.orig /etc/default/novad; }
trap restore EXIT

with_env() {  # with_env LINE...: novad's environment file, then restart
  printf '%s\n' "$@" > /etc/default/novad
  since=$(date +%s)
  restart_novad
}
novad_log() { journalctl -u novad -b --no-pager -o cat --since "@$since"; }
# agent_values NAME: "oom_score_adj nice" of the main process and of its child
agent_values() {
  local main child
  main=$(prop "$1" MainPID)
  wait_until 10 "$1 has its child" pgrep -P "$main" >&2
  child=$(pgrep -P "$main" | head -n1)
  echo "$(cat /proc/"$main"/oom_score_adj) $(ps -o nice= -p "$main" | tr -d ' ')" \
    "$(cat /proc/"$child"/oom_score_adj) $(ps -o nice= -p "$child" | tr -d ' ')"
}
spawn() { novactl spawn "$1" --workdir "$ws" -- sh -c 'sleep 600 & wait' >/dev/null; }

with_env "# nothing" "CODER_PROC_OOM_SCORE=500"
expect_contains "journal" "process priority management not enabled (linux-only) (CODER_PROC_PRIO_MGMT unset, os linux)" "$(novad_log)"
spawn off
expect_eq "off: main and child (oom nice)" "0 0 0 0" "$(agent_values off)"
expect_eq "off: no OOMScoreAdjust" 0 "$(prop off OOMScoreAdjust)"

with_env "CODER_PROC_PRIO_MGMT=1" "CODER_PROC_OOM_SCORE=500" "CODER_PROC_NICE_SCORE=7"
expect_contains "journal" 'process priority management enabled (CODER_PROC_PRIO_MGMT="1", os linux): agents get oom_score_adj 500 and nice 7' "$(novad_log)"
spawn on
expect_eq "on: unit properties" "500 7" "$(prop on OOMScoreAdjust) $(prop on Nice)"
expect_eq "on: main and child (oom nice)" "500 7 500 7" "$(agent_values on)"
# The agent started before the policy sits at the defaults: the sweep brings it in line.
wait_until 10 "the sweep applied the policy to the earlier agent" \
  eval '[[ $(agent_values off 2>/dev/null) == "500 7 500 7" ]]'


# The sweep keeps it right: a process put back at the default nice (0) or at
# an oom_score_adj the policy would set (0, 998, 1000, novad's own) gets the
# policy again; a nice a user chose and a custom oom_score_adj stay.
novactl spawn swept --workdir "$ws" -- sh -c 'sleep 601 & sleep 602 & sleep 603 & wait' >/dev/null
wait_until 10 "three children" eval '(($(pgrep -c -f "^sleep 60[123]$") == 3))'
reset=$(pgrep -f '^sleep 601$'); chosen=$(pgrep -f '^sleep 602$'); custom=$(pgrep -f '^sleep 603$')
renice -n 0 -p "$reset" >/dev/null
echo 1000 > /proc/"$reset"/oom_score_adj
renice -n 3 -p "$chosen" >/dev/null
echo 300 > /proc/"$custom"/oom_score_adj
values() { echo "$(cat /proc/"$1"/oom_score_adj) $(ps -o nice= -p "$1" | tr -d ' ')"; }
# Known processes are re-examined by the full sweep, every 10 s.
wait_until 20 "the sweep restored the policy on the reset process" \
  eval '[[ $(values "$reset") == "500 7" ]]'
sleep 3  # more sweeps: the others must stay as they were set
expect_eq "a user-chosen nice is kept" "500 3" "$(values "$chosen")"
expect_eq "a custom oom_score_adj is kept" "300 7" "$(values "$custom")"
expect_eq "the reset process" "500 7" "$(values "$reset")"
novactl kill --force swept >/dev/null

# Present but empty still enables it; defaults from novad's own values
# (oom_score_adj -900 -> 0; nice -5 -> 0); an invalid value is reported.
with_env "CODER_PROC_PRIO_MGMT=" "CODER_PROC_NICE_SCORE=99"
expect_contains "journal" 'process priority management enabled (CODER_PROC_PRIO_MGMT="", os linux): agents get oom_score_adj 0 and nice 0' "$(novad_log)"
expect_contains "journal" 'invalid CODER_PROC_NICE_SCORE="99": out of range; accepted: -20 to 19; using the default 0' "$(novad_log)"
spawn empty
expect_eq "empty: unit properties" "0 0" "$(prop empty OOMScoreAdjust) $(prop empty Nice)"
expect_eq "novad itself is not deprioritised" "-900 -5" \
  "$(cat /proc/"$(systemctl show -P MainPID novad)"/oom_score_adj) $(ps -o nice= -p "$(systemctl show -P MainPID novad)" | tr -d ' ')"
# novad's memory watcher thread is real-time (SCHED_FIFO 1), so that a busy
# host cannot keep it from a CPU; every other thread of novad is not.
threads=$(ps -L -o cls=,rtprio=,comm= -p "$(systemctl show -P MainPID novad)" | awk '{print $1, $2, $3}')
expect_eq "the watcher thread's scheduling" "FF 1 watcher" "$(grep -w watcher <<<"$threads")"
expect_eq "no other thread of novad is real-time" "" "$(grep -vw watcher <<<"$threads" | grep -v '^TS - ' || true)"
expect_not_contains "journal" "the memory watcher runs at normal priority" "$(novad_log)"
# novad takes no transparent huge pages (a 2 MiB page on a thread's stack).
expect_contains "novad's status" "THP_enabled:	0" "$(cat /proc/"$(systemctl show -P MainPID novad)"/status)"
# nor glibc's per-thread malloc caches (novad.service's GLIBC_TUNABLES).
expect_contains "novad's environment" "GLIBC_TUNABLES=glibc.malloc.tcache_count=0" \
  "$(tr '\0' '\n' </proc/"$(systemctl show -P MainPID novad)"/environ)"
for a in off on empty; do novactl kill --force $a >/dev/null; done
