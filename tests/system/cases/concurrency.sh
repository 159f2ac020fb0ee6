#!/bin/bash
# Calls do not wait for each other: parallel spawns of different names all
# succeed and their start jobs overlap in systemd; two spawns of one name at
# once: exactly one wins, the other gets exit 4 and one line, nothing is left
# behind; a spawn and a kill of one name at once agree with what remains.
# A member's 8 parallel spawns all get through (novad runs 4 of one user at a
# time and refuses more as Busy; novactl asks again), and meanwhile another
# member's spawn is not starved.
# timeout: 240
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir concurrency)
n=6
for i in $(seq $n); do
  (rc=0; novactl spawn "c$i" --workdir "$ws" -- /bin/sleep 600 >"$ws/c$i.out" 2>&1 || rc=$?
   echo $rc >"$ws/c$i.rc") &
done
wait
for i in $(seq $n); do
  [[ $(cat "$ws/c$i.rc") == 0 ]] || fail "spawn c$i exited $(cat "$ws/c$i.rc"): $(cat "$ws/c$i.out")"
  is_active "c$i" || fail "c$i is not active"
done
echo "ok: $n parallel spawns succeeded"
# Start jobs overlap: one agent left inactive (its job began) before another
# became active. A novad serving one call at a time never overlaps them.
overlaps=0
for i in $(seq $n); do
  for j in $(seq $n); do
    ((i == j)) && continue
    began_i=$(prop "c$i" InactiveExitTimestampMonotonic)
    active_j=$(prop "c$j" ActiveEnterTimestampMonotonic)
    began_j=$(prop "c$j" InactiveExitTimestampMonotonic)
    ((began_j < began_i)) || continue
    ((began_i < active_j)) && overlaps=$((overlaps + 1))
  done
done
note "$overlaps pair(s) of start jobs overlapped"
((overlaps > 0)) || fail "no two start jobs overlapped: spawns were served one at a time"
echo "ok: start jobs overlapped"
for i in $(seq $n); do novactl kill --force "c$i" >/dev/null & done
wait

for round in 1 2 3; do
  for k in 1 2; do
    (rc=0; novactl spawn twin --workdir "$ws" -- /bin/sleep 60$k >"$ws/t$k.out" 2>&1 || rc=$?
     echo $rc >"$ws/t$k.rc") &
  done
  wait
  rcs="$(cat "$ws/t1.rc") $(cat "$ws/t2.rc")"
  [[ $rcs == "0 4" || $rcs == "4 0" ]] || fail "round $round: exit codes $rcs, expected one 0 and one 4"
  loser=1
  [[ $(cat "$ws/t1.rc") == 0 ]] && loser=2
  err=$(cat "$ws/t$loser.out")
  [[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || fail "the loser printed more than one line: $err"
  [[ $err == 'novactl: agent "twin" is already running'* ||
     $err == 'novactl: agent "twin" is being started by another call'* ]] ||
    fail "round $round: unexpected refusal: $err"
  echo "ok: round $round: one twin won, the other: $err"
  expect_eq "twin's units" 1 "$(systemctl list-units --all --no-legend 'nova-agent-twin*' | wc -l)"
  is_active twin || fail "the winning twin is not active"
  novactl kill --force twin >/dev/null
done

# A spawn and a kill of one name at once: whichever came first, what remains
# agrees with what each was told.
for round in 1 2 3; do
  (rc=0; novactl spawn sk --workdir "$ws" -- /bin/sleep 600 >"$ws/s.out" 2>&1 || rc=$?
   echo $rc >"$ws/s.rc") &
  (rc=0; novactl kill --force sk >"$ws/k.out" 2>&1 || rc=$?; echo $rc >"$ws/k.rc") &
  wait
  s=$(cat "$ws/s.rc") k=$(cat "$ws/k.rc")
  expect_eq "round $round: the spawn" 0 "$s"
  case $k in
    0) wait_until 20 "round $round: killed after its spawn, sk is gone" is_gone sk ;;
    5) is_active sk || fail "round $round: the kill found no agent, yet sk is not active"
       echo "ok: round $round: the kill came first; sk runs"
       novactl kill --force sk >/dev/null ;;
    *) fail "round $round: kill exited $k: $(cat "$ws/k.out")" ;;
  esac
done
members flood other
for i in $(seq 8); do
  (rc=0; as flood novactl spawn "f$i" --workdir "$ws" -- /bin/sleep 600 >"$ws/f$i.out" 2>&1 || rc=$?
   echo $rc >"$ws/f$i.rc") &
done
(rc=0; as other novactl spawn o1 --workdir "$ws" -- /bin/sleep 600 >"$ws/o1.out" 2>&1 || rc=$?
 echo $rc >"$ws/o1.rc") &
wait
for i in $(seq 8); do
  [[ $(cat "$ws/f$i.rc") == 0 ]] || fail "flood's spawn f$i exited $(cat "$ws/f$i.rc"): $(cat "$ws/f$i.out")"
  is_active "f$i" || fail "f$i is not active"
done
[[ $(cat "$ws/o1.rc") == 0 ]] || fail "other's spawn exited $(cat "$ws/o1.rc"): $(cat "$ws/o1.out")"
note "busy retries said: $(cat "$ws"/f*.out | grep -c 'still trying' || true) line(s)"
echo "ok: a member's 8 parallel spawns all started, and another member's too"
for i in $(seq 8); do novactl kill --force "f$i" >/dev/null & done
novactl kill --force o1 >/dev/null &
wait
expect_no_agent_units
