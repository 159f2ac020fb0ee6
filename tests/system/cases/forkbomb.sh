#!/bin/bash
# Containment 4: a fork bomb stops at TasksMax; the host and novactl status
# keep answering; a forced kill clears it.
# timeout: 150
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir bomb)
cat > "$ws/bomb" <<'BOMB'
#!/bin/bash
bomb() { bomb | bomb & }
bomb
wait
BOMB
chmod +x "$ws/bomb"
novactl spawn bomb --workdir "$ws" --tasks 64 -- "$ws/bomb" >/dev/null
wait_until 30 "the bomb reaches TasksMax" eval '(($(awk "/max/ {print \$2}" "$(agent_cgroup bomb)/pids.events") > 0))'
for i in 1 2 3; do
  tasks=$(cat "$(agent_cgroup bomb)/pids.current")
  ((tasks <= 64)) || fail "pids.current $tasks above TasksMax 64"
  start=$SECONDS
  text=$(timeout 20 novactl status) || fail "novactl status did not answer during the bomb"
  expect_contains "status during the bomb ($((SECONDS - start))s, $tasks tasks)" "bomb" "$text"
  sleep 1
done
expect_eq "host answers" ok "$(timeout 10 sh -c 'echo ok')"
novactl kill --force bomb
wait_until 20 "bomb gone" is_gone bomb
expect_eq "no bomb process left" 0 "$(pgrep -fc "$ws/bomb" || true)"
