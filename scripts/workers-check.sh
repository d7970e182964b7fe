#!/usr/bin/env bash
# Compares `minerwatch detect -r X` (one engine) with `--workers 2` and
# `--workers 3` (detect/parallel) on every capture of the shared datasets
# and the samples, learned-pool intel alerts included (the merger decides
# what crosses flows in capture order, see README "Offline on several
# cores"), then on all the manifest's Ethernet captures read in one run
# (issue 13's case). Prints the inputs whose alerts differ in order only
# (ORDER-ONLY: ties of one timestamp in one LRU list), in content
# (SETDIFF), or between 2 and 3 workers (W2!=W3), then a count.
# Usage: scripts/workers-check.sh [MINERWATCH] [SHARED]
set -euo pipefail
cd "$(dirname "$0")/.."
MW=${1:-}
SHARED=${2:-../shared/datasets}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ -z $MW ]]; then
  MW=$tmp/minerwatch
  go build -o "$MW" ./cmd/minerwatch
fi
run() { "$MW" detect --no-learned "$@" 2>/dev/null || true; }
n=0 same=0 sameset=0
check() { # name, then detect's input arguments
  local name=$1
  shift
  n=$((n + 1))
  run "$@" >"$tmp/1"
  local ok=1 okset=1
  for w in 2 3; do
    run --workers "$w" "$@" >"$tmp/$w"
    cmp -s "$tmp/1" "$tmp/$w" || ok=0
    if ! cmp -s <(sort "$tmp/1") <(sort "$tmp/$w"); then okset=0; echo "SETDIFF w$w $name"; fi
  done
  cmp -s "$tmp/2" "$tmp/3" || echo "W2!=W3 $name"
  if [[ $ok == 1 ]]; then same=$((same + 1)); fi
  if [[ $okset == 1 ]]; then sameset=$((sameset + 1)); fi
  if [[ $ok == 0 && $okset == 1 ]]; then echo "ORDER-ONLY $name"; fi
}
while IFS= read -r f; do
  check "$f" "$f"
done < <(find "$SHARED" datasets/samples -name '*.pcap*' | sort)
mapfile -t ether < <(grep -v '^#' "$SHARED/manifest.tsv" | cut -f1 | while IFS= read -r p; do
  if capinfos -E -T -r "$SHARED/$p" 2>/dev/null | grep -q $'\tether$'; then echo "$SHARED/$p"; fi
done)
if [[ ${#ether[@]} -gt 0 ]]; then check "all ${#ether[@]} Ethernet captures in one run" "${ether[@]}"; fi
echo "inputs $n, byte-identical $same, same alerts $sameset"
