#!/bin/bash
# The agent's view of its limits: inside an agent, of every profile, the
# operations guide's check reads the agent's own cgroup at /sys/fs/cgroup
# (memory.current, memory.max; pids.max too), and the agent's facts are in
# its environment (NOVA_AGENT_NAME, NOVA_MEMORY_MAX, NOVA_TASKS_MAX,
# NOVA_TIMEOUT_SEC, NOVA_SOFT_TIMEOUT_SEC). systemd 257 gives the agent a
# cgroup namespace of its own (/proc/self/cgroup says "0::/"); on older
# systemd its cgroup directory is bound on /sys/fs/cgroup instead
# (BindReadOnlyPaths=), and /proc/self/cgroup names the real path. Neither
# lets the agent write its limits. systemd 257 also hands the agent
# $MEMORY_PRESSURE_WATCH (its memory.pressure); 252 has none.
# timeout: 180
source "$NOVA_TEST_LIB"
use_small_agents "SandboxMinimum=none"
u=nova-vera
useradd --create-home "$u" 2>/dev/null || true
usermod -aG nova "$u"
as() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" --init-groups "$@"; }
logs_of() { journalctl -q -o cat _SYSTEMD_UNIT="nova-agent-$1.service"; }
ws=$(workdir view)
chown "$u" "$ws"
version=$(systemctl --version | awk 'NR == 1 { print $2 }')

# The guide's check (its Rust snippet, in Python): over 80% of the limit?
cat >"$ws/view.sh" <<'SCRIPT'
echo "max=$(cat /sys/fs/cgroup/memory.max)"
echo "current=$(cat /sys/fs/cgroup/memory.current)"
echo "pids=$(cat /sys/fs/cgroup/pids.max)"
echo "self=$(cat /proc/self/cgroup)"
python3 -c '
current = int(open("/sys/fs/cgroup/memory.current").read().strip())
max_ = int(open("/sys/fs/cgroup/memory.max").read().strip())
print("reduce=%s" % (current > max_ * 80 // 100))'
if echo max >/sys/fs/cgroup/memory.max 2>/dev/null; then echo "wrote=yes"; else echo "wrote=no"; fi
if [ -r "${MEMORY_PRESSURE_WATCH:-/nonexistent}" ]; then echo "pressure-watch=readable"; else echo "pressure-watch=${MEMORY_PRESSURE_WATCH:-unset}"; fi
env | grep '^NOVA_' | sort
echo DONE
exec sleep 600
SCRIPT
chmod 644 "$ws/view.sh"

for profile in none standard strict; do
  name=view-$profile
  as "$u" novactl spawn "$name" --workdir "$ws" --sandbox "$profile" --memory 200M --tasks 50 \
    --timeout 10min --soft-timeout 5min -- /bin/sh ./view.sh >/dev/null
  wait_until 30 "$name looked at its cgroup" eval "logs_of $name | grep -qx DONE"
  out=$(logs_of "$name")
  echo "$out" | sed 's/^/  agent: /'
  note "$name (systemd $version)"
  expect_contains "$name memory.max is its MemoryMax" "max=209715200" "$out"
  expect_contains "$name pids.max is its TasksMax" "pids=50" "$out"
  current=$(sed -n 's/^current=//p' <<<"$out")
  [[ $current =~ ^[0-9]+$ ]] && ((current > 0 && current < 209715200)) ||
    fail "$name memory.current is not its own: '$current'"
  echo "ok: $name memory.current is its own: $current bytes"
  expect_contains "$name the guide's check works" "reduce=False" "$out"
  expect_contains "$name cannot write its limit" "wrote=no" "$out"
  expect_eq "$name the limit is unchanged" 209715200 "$(cat "$(agent_cgroup "$name")/memory.max")"
  if ((version >= 257)); then
    expect_contains "$name has its own cgroup namespace" "self=0::/" "$out"
    expect_contains "$name has \$MEMORY_PRESSURE_WATCH (systemd 254 and newer)" "pressure-watch=readable" "$out"
  else
    expect_contains "$name has no cgroup namespace on systemd $version; its cgroup is bound instead" \
      "self=0::/nova.slice/nova-agents.slice/nova-agent-$name.service" "$out"
    expect_contains "$name has no \$MEMORY_PRESSURE_WATCH on systemd $version" "pressure-watch=unset" "$out"
  fi
  for fact in NOVA_AGENT_NAME=$name NOVA_MEMORY_MAX=209715200 NOVA_TASKS_MAX=50 \
    NOVA_TIMEOUT_SEC=600 NOVA_SOFT_TIMEOUT_SEC=300; do
    expect_contains "$name environment" "$fact" "$out"
  done
  is_active "$name" || fail "$name stopped"
  novactl kill "$name" >/dev/null
done
wait_until 20 "the agents are gone" eval '[[ -z $(systemctl list-units --no-legend "nova-agent-view-*") ]]'
