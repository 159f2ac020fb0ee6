#!/bin/bash
# The README's example is the tour's own transcript: the command lines it
# shows ("$ novactl ...") are those the tour ran, all of them, in order. The
# outputs differ from run to run (PIDs, times, memory), the commands do not.
#
#   readme-transcript.sh README TRANSCRIPT
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: readme-transcript.sh README TRANSCRIPT" >&2; exit 2; }
readme=$1 transcript=$2
[[ -s $transcript ]] ||
  { echo "readme-transcript: no transcript at $transcript; system.demo writes it" >&2; exit 1; }
if ! diff -u --label "README.md" --label "the tour's transcript" \
  <(grep '^\$ ' "$readme") <(grep '^\$ ' "$transcript"); then
  echo "readme-transcript: README.md's example is not the tour's transcript;" \
    "paste build/vm-demo/transcript.txt (scripts/nova-vm.sh writes it) into README.md" >&2
  exit 1
fi
echo "ok: README.md shows the tour's $(grep -c '^\$ ' "$transcript") commands, in order"
