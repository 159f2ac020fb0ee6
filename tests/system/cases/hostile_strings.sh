#!/bin/bash
# No caller-written line reaches a unit file: control characters in argv,
# workdir, environment, names and users are refused with one line and leave
# no unit; hostile but valid strings reach the command verbatim, the
# transient unit file holds only lines Nova wrote, and a daemon-reload
# changes nothing.
# timeout: 120
source "$NOVA_TEST_LIB"
use_small_agents
ws=$(workdir strings)
nl=$'\n'
inject="${nl}[Service]${nl}ExecStopPost=+/bin/touch /tmp/pwned${nl}"

check() {  # check EXPECTED_SUBSTRING novactl ARGS...
  local want=$1
  shift
  run_expect_fail 2 "$@"
  expect_contains "message" "$want" "$ERR"
  [[ $ERR != *$'\e'* && $ERR != *$'\r'* ]] || fail "the error line carries raw control characters"
  expect_no_agent_units
}
check "argument 1 \"\\n[Service]\\nExecStopPost=+/bin/touch /tmp/pwned\\n\": contains a newline" \
  novactl spawn s1 --workdir "$ws" -- /bin/echo "$inject"
check "contains a carriage return" novactl spawn s2 --workdir "$ws" -- /bin/echo $'a\rb'
check "contains an escape character (ESC)" novactl spawn s3 --workdir "$ws" -- /bin/echo $'\e]0;owned\a'
mkdir -p "$ws/x${inject}" 2>/dev/null
check "--workdir" novactl spawn s4 --workdir "$ws/x${inject}" -- /bin/true
check '--env "A=1\nExecStartPre=+/bin/sh": contains a newline' \
  novactl spawn s5 --workdir "$ws" --env $'A=1\nExecStartPre=+/bin/sh' -- /bin/true
check 'agent name "a\e[31m": contains' novactl spawn $'a\e[31m' --workdir "$ws" -- /bin/true
check '--user "root\n' novactl spawn s6 --workdir "$ws" --user $'root\nGroup=root' -- /bin/true

# Straight to novad's bus interface, without novactl's checks: novad refuses too.
out=$(busctl call org.nova.Nova1 /org/nova/Nova1 org.nova.Nova1.Manager Spawn 'sasa{sv}' \
  s7 2 /bin/echo "$inject" 1 WorkingDirectory s "$ws" 2>&1) && fail "novad accepted a newline: $out"
expect_contains "novad's own refusal" "contains a newline" "$out"
expect_no_agent_units

# Hostile but valid: quotes, backslashes, $, %, ;, long UTF-8. The command
# sees exactly these arguments; $$ is the shell's pid, not expanded by systemd.
long=$(printf '\xc3\xa9%.0s' {1..200})
args=(/bin/sh -c 'echo "pid $$ third [$2]"; exec sleep 300' 'x" y' '\\n' '%n %i $HOME ${HOME} $$ ;' "$long")
novactl spawn weird --workdir "$ws" -- "${args[@]}" >/dev/null
pid=$(prop weird MainPID)
wait_until 10 "the shell has become sleep" eval '[[ $(cat /proc/'"$pid"'/comm) == sleep ]]'
run_output() { journalctl -q -o cat _SYSTEMD_INVOCATION_ID="$(prop weird InvocationID)"; }
wait_until 10 "the shell printed its pid" eval 'run_output | grep -q "^pid [0-9][0-9]* third"'
line=$(run_output | grep '^pid ')
expect_eq "\$\$ reached the shell, and \$HOME, \${HOME}, \$\$, %n in \$2, unexpanded by systemd" \
  "pid $pid third [%n %i \$HOME \${HOME} \$\$ ;]" "$line"
desc=$(prop weird Description)
expect_contains "description cut on a character boundary" "$(printf '\xc3\xa9')..." "$desc"
file=/run/systemd/transient/nova-agent-weird.service
[[ -f $file ]] || fail "no transient unit file $file"
bad=$(grep -vE '^(|#.*|\[(Unit|Service)\]|[A-Za-z]+=.*)$' "$file" || true)
expect_eq "lines of the unit file that are not Nova's" "" "$bad"
keys=$(sed -n 's/^\([A-Za-z]*\)=.*/\1/p' "$file" | sort -u | tr '\n' ' ')
for key in $keys; do
  case $key in
    Description|Slice|Type|ExecStart|OnSuccess|OnFailure|WorkingDirectory|User|Environment|UnsetEnvironment|\
    MemoryAccounting|MemoryMax|MemoryHigh|MemorySwapMax|TasksAccounting|TasksMax|CPUAccounting|RuntimeMaxSec|\
    TimeoutStopSec|TimeoutStopUSec|RuntimeMaxUSec|OOMPolicy|KillMode|SendSIGKILL|CollectMode|Wants|ExitType|\
    InaccessiblePaths|LoadCredential|Nice|OOMScoreAdjust|SourcePath|BindReadOnlyPaths|BindPaths|\
    NoNewPrivileges|RestrictSUIDSGID|CapabilityBoundingSet|AmbientCapabilities|PrivateTmp|PrivateDevices|\
    PrivateIPC|PrivateMounts|ProtectSystem|ReadWritePaths|ProtectHome|ProtectKernelTunables|\
    ProtectKernelModules|ProtectKernelLogs|ProtectClock|ProtectHostname|ProtectProc|KeyringMode|\
    RestrictNamespaces|LockPersonality|RestrictRealtime|SystemCallArchitectures|SystemCallFilter|\
    SystemCallErrorNumber|RestrictAddressFamilies|UMask|ProtectControlGroups|ProtectControlGroupsEx|Delegate) ;;
    *) fail "unexpected key $key= in $file" ;;
  esac
done
echo "ok: the unit file holds only Nova's keys: $keys"
# systemd reads the unit file back on a daemon-reload and must get the same
# unit, still loaded, the agent untouched. (systemd 252 shows a reloaded
# command's "$" and ";" with backslashes: its unit-file round trip; the
# running command is what counts.)
show() {
  systemctl show -p LoadState -p WorkingDirectory -p Environment -p Description -p MemoryMax \
    -p OnFailure -p InaccessiblePaths nova-agent-weird.service
}
before=$(show)
cmdline=$(tr '\0' ' ' </proc/"$pid"/cmdline)
systemctl daemon-reload
after=$(show)
expect_eq "the unit after a daemon-reload" "$before" "$after"
expect_eq "the unit is still loaded after a daemon-reload" loaded "$(prop weird LoadState)"
expect_contains "the command after a daemon-reload" "path=/bin/sh ; argv[]=/bin/sh -c echo" "$(prop weird ExecStart)"
expect_eq "the running command after a daemon-reload" "$cmdline" "$(tr '\0' ' ' </proc/"$pid"/cmdline)"
expect_eq "main PID after a daemon-reload" "$pid" "$(prop weird MainPID)"
[[ -e /tmp/pwned ]] && fail "/tmp/pwned exists: an injected line ran"
echo "ok: no injected command ran"
novactl kill weird >/dev/null
expect_no_agent_units
