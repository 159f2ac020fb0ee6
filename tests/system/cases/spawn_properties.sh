#!/bin/bash
# A spawned agent is a transient unit whose properties, read back from
# systemd, are exactly Nova's defaults, and exactly the overrides when given.
# (The VM has 6G, so the 4G default MemoryMax fits the host.)
# timeout: 120
source "$NOVA_TEST_LIB"
nova_config  # the shipped defaults: 4G, 512 tasks, 30 min, 15 min, 10 s

ws=$(workdir props)
out=$(novactl spawn props --workdir "$ws" -- sleep 600)
expect_contains "spawn output" "Started agent props as nova-agent-props.service (active/running" "$out"

expect_eq Slice nova-agents.slice "$(prop props Slice)"
expect_eq Type exec "$(prop props Type)"
expect_eq ExitType cgroup "$(prop props ExitType)"
expect_eq MemoryMax 4294967296 "$(prop props MemoryMax)"
expect_eq MemoryHigh infinity "$(prop props MemoryHigh)"
expect_eq MemorySwapMax 0 "$(prop props MemorySwapMax)"
expect_eq TasksMax 512 "$(prop props TasksMax)"
expect_eq RuntimeMaxUSec 30min "$(prop props RuntimeMaxUSec)"
expect_eq TimeoutStopUSec 10s "$(prop props TimeoutStopUSec)"
expect_eq OOMPolicy continue "$(prop props OOMPolicy)"
expect_eq "Delegate (novactl exec attaches into it)" yes "$(prop props Delegate)"
expect_eq KillMode control-group "$(prop props KillMode)"
expect_eq CollectMode inactive-or-failed "$(prop props CollectMode)"
expect_eq WorkingDirectory "$ws" "$(prop props WorkingDirectory)"
expect_eq User root "$(prop props User)"
expect_contains Description "Nova agent props: /usr/bin/sleep 600" "$(prop props Description)"
expect_contains ExecStart "argv[]=/usr/bin/sleep 600" "$(prop props ExecStart)"
# The kernel enforces what systemd says.
cg=$(agent_cgroup props)
expect_eq memory.max 4294967296 "$(cat "$cg/memory.max")"
expect_eq memory.high max "$(cat "$cg/memory.high")"
expect_eq memory.swap.max 0 "$(cat "$cg/memory.swap.max")"
expect_eq pids.max 512 "$(cat "$cg/pids.max")"
# The soft deadline is a timer bound to the agent.
expect_eq "soft timer" active "$(systemctl is-active nova-soft-props.timer)"
expect_eq "soft timer BindsTo" nova-agent-props.service "$(systemctl show -P BindsTo nova-soft-props.timer)"

novactl kill --force props >/dev/null
wait_until 10 "props gone" is_gone props
expect_eq "soft timer after the agent" inactive "$(systemctl is-active nova-soft-props.timer || true)"

# Overrides.
useradd --create-home nova-alice 2>/dev/null || true
out=$(novactl spawn over --workdir "$ws" --memory 256M --tasks 64 --timeout 5m \
  --soft-timeout 1m --user nova-alice --env GREETING=hi -- sleep 600)
expect_eq MemoryMax 268435456 "$(prop over MemoryMax)"
expect_eq TasksMax 64 "$(prop over TasksMax)"
expect_eq RuntimeMaxUSec 5min "$(prop over RuntimeMaxUSec)"
expect_eq User nova-alice "$(prop over User)"
expect_contains Environment "GREETING=hi" "$(prop over Environment)"
expect_eq "process owner" nova-alice "$(stat -c %U "/proc/$(prop over MainPID)")"
expect_contains "soft timer" "1min" "$(systemctl show -P Description nova-soft-over.timer)"
novactl kill --force over >/dev/null
