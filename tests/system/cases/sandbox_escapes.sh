#!/bin/bash
# Escape attempts fail in the sandbox, and the agent keeps running. Each
# attempt is first made with --sandbox none, where it succeeds (so each check
# can fail), then in standard, and strict's own in strict: reading another
# user's home, writing /etc or /usr, sudo and a setuid binary, busctl to the
# system bus (blocked in every profile unless AgentSystemBus=yes), reading
# another agent's /tmp, a user namespace, loading a kernel module, writing
# /proc/sys; in strict
# also a TCP connect to a loopback listener that is not on the allow list
# (one on it works) and writing the home directory.
# timeout: 300
source "$NOVA_TEST_LIB"
use_small_agents "SandboxMinimum=none" "AllowIP=127.0.0.1"
m=nova-mallory
v=nova-victor
for who in $m $v; do
  useradd --create-home "$who" 2>/dev/null || true
  usermod -aG nova "$who"
done
as() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" --init-groups "$@"; }
logs_of() { journalctl -q -o cat _SYSTEMD_UNIT="nova-agent-$1.service"; }
ws=$(workdir escapes)

# What DAC alone would let through: victor's home and file are readable, the
# member may sudo, a setuid-root copy of id exists.
chmod 755 "/home/$v"
echo "victor's secret" >"/home/$v/secret"
chmod 644 "/home/$v/secret"
echo "$m ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/nova-escapes
chmod 440 /etc/sudoers.d/nova-escapes
install -m 4755 /usr/bin/id /usr/local/bin/nova-suid-id
rm -f /etc/nova-escaped /usr/nova-escaped
modprobe -r dummy 2>/dev/null || true
python3 -m http.server 8801 --bind 127.0.0.1 >/dev/null 2>&1 &
allowed=$!
python3 -m http.server 8802 --bind 127.0.0.2 >/dev/null 2>&1 &
denied=$!
trap 'kill $allowed $denied 2>/dev/null; rm -f /etc/sudoers.d/nova-escapes /usr/local/bin/nova-suid-id; modprobe -r dummy 2>/dev/null || true' EXIT
wait_until 10 "listeners up" eval 'python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 8801), 1); socket.create_connection((\"127.0.0.2\", 8802), 1)"'

# Each attempt prints ESCAPED NAME or BLOCKED NAME; then the agent says ALIVE
# and keeps running.
attempt() { if eval "$2" >/dev/null 2>&1; then echo "ESCAPED $1"; else echo "BLOCKED $1"; fi; }
connect='python3 -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3)"'
member_script="$(declare -f attempt)
connect='$connect'
attempt other-home 'cat /home/$v/secret | grep -q secret'
attempt sudo 'sudo -n /usr/bin/true'
attempt setuid '[ \$(/usr/local/bin/nova-suid-id -u) = 0 ]'
attempt busctl 'busctl --system list'
attempt other-tmp 'cat /tmp/planted-by-victor | grep -q planted'
attempt user-namespace 'unshare --user --map-root-user true'
attempt write-home 'touch /home/$m/escaped && rm /home/$m/escaped'
attempt loopback-allowed \"\$connect 127.0.0.1 8801\"
attempt loopback-denied \"\$connect 127.0.0.2 8802\"
echo ALIVE
exec sleep 600"
root_script="$(declare -f attempt)
attempt write-etc 'touch /etc/nova-escaped'
attempt write-usr 'touch /usr/nova-escaped'
attempt kernel-module 'modprobe dummy'
attempt proc-sys 'cat /proc/sys/vm/swappiness > /proc/sys/vm/swappiness'
echo ALIVE
exec sleep 600"

# Multi-line scripts go in files: novad refuses newlines in arguments.
printf '%s\n' "$member_script" >"$ws/member.sh"
printf '%s\n' "$root_script" >"$ws/root.sh"
chmod 644 "$ws/member.sh" "$ws/root.sh"

run() {  # run NAME USER PROFILE SCRIPT: the agent's verdicts, one per line
  local name=$1 who=$2 profile=$3 script=$4
  as "$who" novactl spawn "$name" --workdir "$ws" --sandbox "$profile" -- /bin/sh "./$script" >/dev/null
  wait_until 60 "$name made its attempts" eval "logs_of $name | grep -qx ALIVE"
  sleep 0.5
  is_active "$name" || fail "$name stopped after its attempts"
  echo "ok: $name keeps running after its attempts"
  logs_of "$name"
}
verdict() {  # verdict OUTPUT ATTEMPT EXPECTED
  expect_contains "$2" "$3 $2" "$1"
}

for profile in none standard strict; do
  # Victor's agent plants a file in its /tmp for mallory's agent to look for.
  as "$v" novactl spawn "planter-$profile" --workdir "$ws" --sandbox "$profile" -- /bin/sh -c 'echo planted >/tmp/planted-by-victor; chmod 644 /tmp/planted-by-victor; echo ALIVE; exec sleep 600' >/dev/null
  wait_until 30 "victor's agent planted its file" eval "logs_of planter-$profile | grep -qx ALIVE"

  note "member's agent, --sandbox $profile"
  out=$(run "mallory-$profile" "$m" "$profile" member.sh)
  echo "$out" | sed 's/^/  agent: /'
  blocked=BLOCKED
  [[ $profile == none ]] && blocked=ESCAPED
  for a in other-home sudo setuid other-tmp user-namespace; do verdict "$out" "$a" "$blocked"; done
  verdict "$out" busctl BLOCKED   # InaccessiblePaths= of the bus socket, in every profile
  [[ $profile == none ]] && verdict "$out" write-home ESCAPED || verdict "$out" write-home BLOCKED
  verdict "$out" loopback-allowed ESCAPED
  [[ $profile == strict ]] && verdict "$out" loopback-denied BLOCKED || verdict "$out" loopback-denied ESCAPED

  if [[ $profile != strict ]]; then
    note "root's agent, --sandbox $profile"
    out=$(run "root-$profile" root "$profile" root.sh)
    echo "$out" | sed 's/^/  agent: /'
    for a in write-etc write-usr kernel-module proc-sys; do verdict "$out" "$a" "$blocked"; done
    rm -f /etc/nova-escaped /usr/nova-escaped
    modprobe -r dummy 2>/dev/null || true
  fi
  novactl kill "mallory-$profile" >/dev/null
  novactl kill "planter-$profile" >/dev/null
  [[ $profile != strict ]] && novactl kill "root-$profile" >/dev/null
done
[[ ! -e /etc/nova-escaped && ! -e /usr/nova-escaped ]] || fail "a sandboxed agent wrote /etc or /usr"
echo "ok: nothing was left in /etc or /usr"
lsmod | grep -qw dummy && fail "the dummy module is loaded" || echo "ok: no module loaded"
