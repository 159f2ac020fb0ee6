#!/bin/bash
# Containment 5: at RuntimeMaxSec every process of the agent gets SIGTERM; one
# that ignores it is SIGKILLed after the stop timeout (3 s here, 10 s by
# default); status reports a hard timeout.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir hard)
cat > "$ws/agent" <<AGENT
#!/bin/bash
# Timestamps from bash's own clock: a process forked in a trap can itself be
# caught by systemd's SIGTERM sweep of the cgroup.
trap 'echo main \$EPOCHREALTIME >> $ws/term' TERM
bash -c 'trap "echo stubborn \\\$EPOCHREALTIME >> $ws/term" TERM; while :; do sleep 0.1; done' &
echo \$! > $ws/stubborn.pid
while :; do sleep 0.1; done
AGENT
chmod +x "$ws/agent"
start=$(date +%s.%N)
novactl spawn hard --workdir "$ws" --timeout 5s -- "$ws/agent" >/dev/null
wait_until 10 "agent running" test -s "$ws/stubborn.pid"
stubborn=$(cat "$ws/stubborn.pid")
wait_until 30 "hard gone" is_gone hard
end=$(date +%s.%N)
cat "$ws/term"
expect_contains "SIGTERM reached the main process" "main" "$(cat "$ws/term")"
expect_contains "SIGTERM reached the child" "stubborn" "$(cat "$ws/term")"
term_at=$(awk '/main/ {print $2; exit}' "$ws/term")
awk -v s="$start" -v t="$term_at" 'BEGIN { d = t - s; exit !(d >= 4.5 && d < 12) }' ||
  fail "SIGTERM came $(awk -v s="$start" -v t="$term_at" 'BEGIN {print t - s}')s after spawn, expected about 5s"
awk -v t="$term_at" -v e="$end" 'BEGIN { d = e - t; exit !(d >= 2.5) }' ||
  fail "the agent was gone $(awk -v t="$term_at" -v e="$end" 'BEGIN {print e - t}')s after SIGTERM, before the 3s stop timeout"
[[ ! -e /proc/$stubborn ]] || fail "the process that ignored SIGTERM ($stubborn) survived"
echo "ok: the process that ignored SIGTERM was killed after the stop timeout"
expect_contains "status" "hard timeout" "$(novactl status hard)"
