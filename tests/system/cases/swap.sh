#!/bin/bash
# Containment 3: with swap active on the host, an agent over its MemoryMax is
# killed, never swapped: MemorySwapMax=0, its swap use stays 0.
# timeout: 150
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir swap)
fallocate -l 512M /swapfile
chmod 0600 /swapfile
mkswap /swapfile >/dev/null
swapon /swapfile
expect_eq "host swap active" yes "$(swapon --show --noheadings | grep -q /swapfile && echo yes)"

# Slow enough to watch: 1 MiB every 20 ms, to 300 MiB against a 64M limit.
novactl spawn swapper --workdir "$ws" --memory 64M -- memhog 300 - 20 >/dev/null
expect_eq MemorySwapMax 0 "$(prop swapper MemorySwapMax)"
cg=$(agent_cgroup swapper)
max_swap=0
while [[ -d $cg ]]; do
  s=$(cat "$cg/memory.swap.current" 2>/dev/null || echo 0)
  ((s > max_swap)) && max_swap=$s
  sleep 0.1
done
expect_eq "largest memory.swap.current seen" 0 "$max_swap"
wait_until 30 "swapper gone" is_gone swapper
expect_contains "swapper's outcome" "oom-killed (memory limit)" "$(novactl status swapper)"
swapoff /swapfile
