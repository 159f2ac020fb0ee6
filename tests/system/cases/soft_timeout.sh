#!/bin/bash
# Containment 6: at the soft deadline the agent's main process gets SIGUSR1,
# once, and its children do not (SIGUSR1 would kill them); it fires even if
# novad restarts before the deadline.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir soft)
cat > "$ws/agent" <<AGENT
#!/bin/bash
trap 'echo main >> $ws/usr1' USR1
sleep 600 &
echo \$! > $ws/child.pid
while :; do sleep 0.1; done
AGENT
chmod +x "$ws/agent"
novactl spawn soft --workdir "$ws" --soft-timeout 8s --timeout 2m -- "$ws/agent" >/dev/null
wait_until 10 "agent running" test -s "$ws/child.pid"
child=$(cat "$ws/child.pid")
restart_novad  # the warning belongs to systemd, not to novad
wait_until 30 "SIGUSR1 reached the main process" test -s "$ws/usr1"
sleep 3
expect_eq "SIGUSR1 deliveries to the main process" 1 "$(wc -l < "$ws/usr1")"
[[ -e /proc/$child ]] || fail "the child (sleep, pid $child) died: SIGUSR1 reached it"
echo "ok: the child is alive"
expect_eq "agent still running" active "$(systemctl is-active nova-agent-soft.service)"
expect_eq "soft timer gone after firing" inactive "$(systemctl is-active nova-soft-soft.timer || true)"
expect_contains "journal" "soft deadline reached, sent SIGUSR1 to its main process" \
  "$(journalctl -u nova-soft-soft.service -b --no-pager)"
novactl kill soft >/dev/null
