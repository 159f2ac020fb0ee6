#!/bin/bash
# Real agent work in the standard sandbox, offline, with the tools of Debian
# packages: git in the workdir, a C project built with make and gcc, a Python
# venv with a locally built package installed into it, npm with a local
# tarball, a backgrounded dev server reachable on loopback; then the agent is
# killed and nothing of it is left running.
# timeout: 600
source "$NOVA_TEST_LIB"
use_small_agents "MemoryMax=1G"
u=nova-wren
useradd --create-home "$u" 2>/dev/null || true
usermod -aG nova "$u"
as() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" --init-groups "$@"; }
ws=/srv/ws-sandbox-work
rm -rf "$ws"
install -d -m 700 -o "$u" -g "$u" "$ws"
logs_of() { journalctl -q -o cat _SYSTEMD_UNIT="nova-agent-$1.service"; }

cat >"$ws/work.sh" <<'SCRIPT'
set -eu
ok() { echo "STEP $1 ok"; }
ws=$PWD
echo "HOME=$HOME"

git init -q repo
cd repo
git config user.email wren@example.org
git config user.name Wren
echo hello >README
git add README
git commit -qm "first commit"
git log --oneline | grep -q "first commit" && ok git
cd "$ws"

mkdir -p c && cd c
printf '#include <stdio.h>\nint main(void) { puts("built by make"); return 0; }\n' >hello.c
printf 'hello: hello.c\n\tgcc -O2 -o hello hello.c\n' >Makefile
make -s
./hello | grep -q "built by make" && ok make
cd "$ws"

mkdir -p pkg/novapkg
printf 'ANSWER = 42\n' >pkg/novapkg/__init__.py
printf 'from setuptools import setup\nsetup(name="novapkg", version="1.0", packages=["novapkg"])\n' >pkg/setup.py
python3 -m venv --system-site-packages venv
venv/bin/pip install -q --no-index --no-build-isolation ./pkg
venv/bin/python -c 'import novapkg, sys; assert novapkg.ANSWER == 42; assert sys.prefix.endswith("/venv")' && ok venv

mkdir -p site && echo "served" >site/index.html
python3 -m http.server 8765 --bind 127.0.0.1 --directory site >/dev/null 2>&1 &
for i in $(seq 50); do
  if python3 -c 'import urllib.request; assert urllib.request.urlopen("http://127.0.0.1:8765/").read().strip() == b"served"' 2>/dev/null; then
    ok server
    break
  fi
  sleep 0.2
done
(
  set -e
  mkdir -p jspkg app
  printf '{"name": "jspkg", "version": "1.0.0", "main": "index.js"}\n' >jspkg/package.json
  printf 'module.exports = () => "from the tarball";\n' >jspkg/index.js
  (cd jspkg && npm pack --silent >/dev/null)
  cd app
  printf '{"name": "app", "version": "1.0.0"}\n' >package.json
  npm install --offline --no-audit --no-fund --no-update-notifier --silent ../jspkg/jspkg-1.0.0.tgz
  node -e 'const f = require("jspkg"); if (f() !== "from the tarball") process.exit(1)'
) && ok npm || echo "STEP npm failed"
echo READY
exec sleep 600
SCRIPT
chown "$u:$u" "$ws/work.sh"

as "$u" novactl spawn work --workdir "$ws" --sandbox standard -- /bin/sh ./work.sh >/dev/null
expect_eq "profile" standard "$(novactl status work --json | jq -r .agent.sandbox.profile)"
wait_until 400 "the agent did its work" eval 'logs_of work | grep -qx READY || ! is_active work'
out=$(logs_of work)
echo "$out" | sed 's/^/  agent: /'
expect_contains "HOME is the agent's own /tmp" "HOME=/tmp" "$out"
for step in git make venv server npm; do
  expect_contains "$step works in the sandbox" "STEP $step ok" "$out"
done
expect_eq "the commit is in the workdir" "first commit" "$(git -C "$ws/repo" -c safe.directory='*' log -1 --format=%s)"
expect_eq "the binary is in the workdir, the user's" "$u" "$(stat -c %U "$ws/c/hello")"
compgen -G "$ws/venv/lib/python3*/site-packages/novapkg*" >/dev/null || fail "novapkg is not in the venv"
echo "ok: the package is in the venv"
expect_eq "the tarball is installed" "from the tarball" "$(cd "$ws/app" && node -e 'console.log(require("jspkg")())')"
served=$(python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8765/").read().decode().strip())')
expect_eq "the dev server answers on loopback from outside the agent" served "$served"
is_active work || fail "the agent stopped"
echo "ok: the agent still runs"

as "$u" novactl kill work >/dev/null
wait_until 30 "the agent is gone" is_gone work
left=$(pgrep -u "$u" -a || true)
[[ -z $left ]] || fail "processes of the agent left running: $left"
echo "ok: no process of $u is left (the dev server went with the agent)"
rm -rf "$ws"
