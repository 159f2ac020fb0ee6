#!/bin/bash
# Containment 2, the unit post-mortem: a process holding memory between 75%
# and 100% of MemoryMax keeps making progress under Nova's defaults
# (MemoryHigh=infinity), while the same process under a MemoryHigh band below
# its working set stalls: memory.events "high" climbs and progress stops,
# yet it is never OOM-killed. This is why Nova never sets a MemoryHigh band.
# timeout: 150
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir plateau)

progress_in() {  # progress_in AGENT SECONDS: iterations done in that time
  local before after
  before=$(cat "$ws/$1.progress")
  sleep "$2"
  after=$(cat "$ws/$1.progress")
  echo $((after - before))
}

# 100 MiB held of a 128 MiB MemoryMax: 78%.
novactl spawn free --workdir "$ws" --memory 128M -- memhog 100 "$ws/free.progress" >/dev/null
wait_until 60 "free holds 100M" test -s "$ws/free.progress"
expect_eq "free's MemoryHigh" infinity "$(prop free MemoryHigh)"
free_rate=$(progress_in free 5)
free_high=$(awk '/^high/ {print $2}' "$(agent_cgroup free)/memory.events")
note "under MemoryHigh=infinity: $free_rate iterations in 5 s, memory.events high=$free_high"
((free_rate >= 10)) || fail "the hog made only $free_rate iterations in 5 s without a MemoryHigh band"
expect_eq "free's memory.events high" 0 "$free_high"
novactl kill --force free >/dev/null

# The same process, then a MemoryHigh band below its working set (what the
# post-mortem's unit had: high 12G, max 16G, no swap).
novactl spawn banded --workdir "$ws" --memory 128M -- memhog 100 "$ws/banded.progress" >/dev/null
wait_until 60 "banded holds 100M" test -s "$ws/banded.progress"
systemctl set-property --runtime nova-agent-banded.service MemoryHigh=64M
sleep 2
cg=$(agent_cgroup banded)
high_before=$(awk '/^high/ {print $2}' "$cg/memory.events")
banded_rate=$(progress_in banded 5)
high_after=$(awk '/^high/ {print $2}' "$cg/memory.events")
note "under MemoryHigh=64M: $banded_rate iterations in 5 s, memory.events high $high_before -> $high_after"
((high_after > high_before)) || fail "memory.events high did not climb ($high_before -> $high_after)"
((banded_rate * 10 <= free_rate)) || fail "the banded hog still progressed: $banded_rate vs $free_rate in 5 s"
expect_eq "banded is stalled, not killed" active "$(systemctl is-active nova-agent-banded.service)"
expect_eq "no OOM kill in the band" 0 "$(awk '/^oom_kill/ {print $2}' "$cg/memory.events")"
novactl kill --force banded >/dev/null
