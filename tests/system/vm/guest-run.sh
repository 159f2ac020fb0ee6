#!/bin/bash
# Runs inside the test VM (from nova-vm-boot.service): installs the freshly
# built Nova from the host's share, starts novad, then serves the host: each
# file queue/TEST is a request to run cases/TEST.sh, answered with
# results/TEST.{log,tap} (and .journal on failure); the file "poweroff" ends
# the session. In shell mode it stops after the install.
set -u
host=/run/nova-host
results=$host/results
mkdir -p "$results"
exec > >(tee -a "$results/guest.log") 2>&1
mode=$(cat "$host/mode" 2>/dev/null || echo serve)

setup_failed() {
  echo "not ok - setup: $*" > "$results/setup.tap"
  journalctl -b --no-pager > "$results/setup.log" 2>&1
  sync
  systemctl poweroff --no-block
  exit 0
}

# The freshly built Nova: its .deb, installed the way users install it (apt,
# offline: the image has every dependency), or else the installed tree
# (cmake --install) plus what the package's maintainer scripts would do.
mkdir -p /run/nova-stage
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro nova-stage /run/nova-stage ||
  setup_failed "no nova-stage share"
cp -a "$host/bin/." /usr/local/bin/ 2>/dev/null || true
install_nova() {
  local deb
  deb=$(ls "$host"/debs/nova_*.deb 2>/dev/null | head -n1)
  if [[ -n $deb ]]; then
    cp "$deb" /root/
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/root/$(basename "$deb")"
  else
    # tar keeps /lib and friends the symlinks they are on a merged-/usr system.
    tar -C /run/nova-stage -cf - . | tar -C / -xf - --keep-directory-symlink &&
      systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload &&
      systemctl reload dbus && systemctl enable --now novad.service
  fi
}
install_nova || setup_failed "installing Nova failed"
systemctl is-active --quiet novad || setup_failed "novad did not start: $(systemctl status novad --no-pager 2>&1)"
cp /etc/nova/nova.conf /run/nova-default.conf
cp /etc/default/novad /run/nova-default.env 2>/dev/null || true
echo "nova-vm: Nova installed, novad $(systemctl show -P ActiveState novad)"

if [[ $mode == shell ]]; then
  # Small agents, so that many fit in the VM (the 4G default fits one); the
  # banner on the host says so.
  printf '\n# nova-vm --shell: small agents, so that many fit in this VM.\nMemoryMax=256M\n' >>/etc/nova/nova.conf
  systemctl restart novad
  systemctl is-active --quiet novad || setup_failed "novad did not restart with MemoryMax=256M"
  echo "nova-vm: shell mode; agents default to MemoryMax=256M (/etc/nova/nova.conf; shipped: /run/nova-default.conf)"
  echo "nova-vm: tests are in $host/cases (run one: bash $host/cases/NAME.sh)"
  echo "export NOVA_TEST_LIB=$host/cases/lib.sh" > /etc/profile.d/nova-tests.sh
  exit 0
fi

# Leaves the VM as a test found it: Nova installed, no agents, no swap,
# default config.
reset_state() {
  dpkg-query -W -f='${Status}' nova 2>/dev/null | grep -q "install ok installed" ||
    [[ -z $(ls "$host"/debs/nova_*.deb 2>/dev/null) ]] || install_nova
  systemctl stop 'nova-agent-*.service' 'nova-soft-*.timer' 'nova-soft-*.service' 2>/dev/null || true
  systemctl reset-failed 'nova-*' 2>/dev/null || true
  swapoff -a 2>/dev/null || true
  cp /run/nova-default.env /etc/default/novad 2>/dev/null || rm -f /etc/default/novad
  cp /run/nova-default.conf /etc/nova/nova.conf
  systemctl reset-failed novad
  systemctl restart novad
}

run_test() {
  local name=$1 script=$host/cases/$1.sh
  local deadline
  deadline=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$script" | head -n1)
  deadline=${deadline:-120}
  local start=$SECONDS since
  since=$(date +%s)
  echo "nova-vm: running $name (deadline ${deadline}s)"
  (cd /tmp && NOVA_TEST_LIB=$host/cases/lib.sh NOVA_DEBS=$host/debs NOVA_RESULTS=$results timeout --kill-after=5 "$deadline" bash "$script") \
    > "$results/$name.log.part" 2>&1
  local rc=$? took=$((SECONDS - start))
  mv "$results/$name.log.part" "$results/$name.log"
  local line
  if [[ $rc -eq 0 ]]; then
    line="ok - $name # ${took}s"
  elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
    line="not ok - $name # timed out after ${deadline}s"
  else
    line="not ok - $name # exit $rc after ${took}s"
  fi
  if [[ $line == not* ]]; then
    journalctl -b --no-pager -o short-monotonic --since "@$since" > "$results/$name.journal" 2>&1
  fi
  reset_state
  sync
  echo "$line" > "$results/$name.tap.part"
  mv "$results/$name.tap.part" "$results/$name.tap"
  echo "nova-vm: $line"
}

touch "$host/ready"
while [[ ! -e $host/poweroff ]]; do
  for request in "$host"/queue/*; do
    [[ -e $request ]] || continue
    name=$(basename "$request")
    rm -f "$request"
    if [[ -f $host/cases/$name.sh ]]; then
      run_test "$name"
    else
      echo "not ok - $name # no such test" > "$results/$name.tap"
    fi
  done
  sleep 0.2
done
sync
systemctl poweroff --no-block
