#!/usr/bin/env bash
# Performance harness (`make bench`, README "Performance"): measures, on
# the same generated captures in one run, (a) a bare pcap record walk,
# (b) minerwatch decode+flows, (c) the full detection pipeline with the
# shipped model, (c2) the same with --workers 2, (d) ndpiReader, in RUNS
# rounds (each round runs every command once), and prints packets/s,
# Gbit/s, CPU time and max RSS, and the ratios (c)/(a), (c)/(d), (c2)/(c).
#
# Captures are built by internal/benchgen into OUT and reused when present
# (REGEN=1 rebuilds them); nothing here is committed.
#   merged-kK.pcap      every Ethernet capture of ../shared/datasets merged
#                       in time order, K copies with shifted private
#                       addresses and times (issue 13's big.pcap)
#   concurrent-F.pcap   F concurrent established TCP flows carrying data
#
# Environment: RUNS (3), COPIES (10), FLOWS (1000000), OUT (out/bench),
# SHARED (../shared/datasets), GO (go), GOTAGS, CAPTURES (both; "merged"
# or "concurrent" for one), EXTRA_DETECT_FLAGS (added to (c)), GO_BENCH
# (1: finish with the Go benchmarks behind issue 13's other figures, i.e.
# allocations per packet (fresh and steady state), heap per concurrent
# flow, new flows per second, model scoring; 0: skip).
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-3}
COPIES=${COPIES:-10}
FLOWS=${FLOWS:-1000000}
OUT=${OUT:-out/bench}
SHARED=${SHARED:-../shared/datasets}
GO=${GO:-go}
GOTAGS=${GOTAGS:-}
CAPTURES=${CAPTURES:-merged concurrent}
EXTRA_DETECT_FLAGS=${EXTRA_DETECT_FLAGS:-}
GO_BENCH=${GO_BENCH:-1}

die() { echo "bench: $*" >&2; exit 1; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS=$RUNS, want a positive integer"
mkdir -p "$OUT"

echo "building minerwatch and benchgen into $OUT" >&2
$GO build -tags "$GOTAGS" -o "$OUT/minerwatch" ./cmd/minerwatch
$GO build -o "$OUT/benchgen" ./internal/benchgen
MW=$OUT/minerwatch
BG=$OUT/benchgen

have_gnu_time=0
if /usr/bin/time -f %e true >/dev/null 2>&1; then have_gnu_time=1; fi

# capture NAME: path of the capture, generating it when missing.
capture() {
  local path
  case $1 in
    merged)
      path=$OUT/merged-k$COPIES.pcap
      if [[ ! -s $path || ${REGEN:-0} == 1 ]]; then
        [[ -f $SHARED/manifest.tsv ]] || die "$SHARED/manifest.tsv not found: set SHARED to the shared datasets folder"
        "$BG" merged -k "$COPIES" -o "$path" "$SHARED" 2> >(grep -v '^skipped ' >&2)
      fi ;;
    concurrent)
      path=$OUT/concurrent-$FLOWS.pcap
      if [[ ! -s $path || ${REGEN:-0} == 1 ]]; then
        "$BG" concurrent -n "$FLOWS" -o "$path"
      fi ;;
    *) die "unknown capture $1" ;;
  esac
  echo "$path"
}

# Rows are measured in rounds: each round runs every row's command once,
# in order, so a machine that speeds up or slows down during the run (a
# shared VM does) moves every row alike and the ratios between rows stay
# fair; measuring one row RUNS times and then the next let a slow minute
# land on one row only.
#
# run_once ID: runs row ID's command (stdout discarded) once and records
# its wall and user+sys seconds, its max RSS and a failing exit code.
run_once() {
  local id=$1 t
  local -n cmd="CMD_$id" walls="WALLS_$id"
  t=$(mktemp)
  if ((have_gnu_time)); then
    /usr/bin/time -f '%e %U %S %M' -o "$t" "${cmd[@]}" >/dev/null 2>"$t.err" || STATUS[$id]=$?
    read -r w u s m < <(tail -n 1 "$t")
    walls+=("$w $(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')")
    ((m > ${MAXRSS[$id]:-0})) && MAXRSS[$id]=$m
  else
    local start end
    start=$(date +%s.%N)
    "${cmd[@]}" >/dev/null 2>"$t.err" || STATUS[$id]=$?
    end=$(date +%s.%N)
    walls+=("$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", b-a}') –")
  fi
  if ((${STATUS[$id]:-0} != 0)) && [[ -z ${ERR[$id]:-} ]]; then
    ERR[$id]=$(head -c 300 "$t.err")
  fi
  rm -f "$t" "$t.err"
}

# summarize ID: sets WALL (fastest run, seconds), MEDIAN (median wall
# seconds), CPU (user+sys seconds of the fastest run) and RSS (largest max
# RSS in MiB, "–" without GNU time) from row ID's runs. The fastest run is
# the one least disturbed by whatever else the machine was doing.
summarize() {
  local -n walls="WALLS_$1"
  read -r WALL CPU < <(printf '%s\n' "${walls[@]}" | sort -n | head -n 1)
  MEDIAN=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  if ((have_gnu_time)); then RSS=$(awk -v k="${MAXRSS[$1]:-0}" 'BEGIN{printf "%.0f", k/1024}'); else RSS="–"; fi
}

results=$OUT/results.md
{
  echo "minerwatch benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
  echo "$($GO version), $(git describe --always --dirty 2>/dev/null || echo unknown), $RUNS rounds, each running every row once: rates from the fastest run, its CPU time, the largest max RSS"
  if command -v ndpiReader >/dev/null; then echo "ndpiReader: $(ndpiReader -h 2>&1 | grep -m1 -o 'nDPI [0-9.]*')"; fi
} | tee "$results"

for name in $CAPTURES; do
  cap=$(capture "$name")
  read -r _ packets _ bytes _ wire < <("$BG" walk "$cap")
  size=$(du -m "$cap" | cut -f1)
  {
    echo
    echo "### $name: $(basename "$cap"), $packets packets, $size MB"
    echo
    echo "| | command | wall s (best, median) | CPU s | cores | packets/s | packets/CPU-s | Gbit/s | max RSS MiB |"
    echo "|---|---|---|---|---|---|---|---|---|"
  } | tee -a "$results"
  declare -A PPS=() CPPS=() LABEL=() STATUS=() MAXRSS=() ERR=()
  ROWS=()
  row() { # ID LABEL CMD...: a row to measure
    local id=$1
    ROWS+=("$id")
    LABEL[$id]=$2
    shift 2
    declare -ga "CMD_$id=()" "WALLS_$id=()"
    local -n cmd="CMD_$id"
    cmd=("$@")
  }
  report() { # ID: the row's line of the table
    local id=$1 label=${LABEL[$1]}
    summarize "$id"
    local pps cpps gbps cores
    pps=$(awk -v p="$packets" -v w="$WALL" 'BEGIN{ printf "%.0f", p/(w > 0 ? w : 0.005) }')
    cpps=$(awk -v p="$packets" -v c="$CPU" 'BEGIN{ if (c == "–") print "–"; else printf "%.0f", p/(c > 0 ? c : 0.005) }')
    gbps=$(awk -v b="$wire" -v w="$WALL" 'BEGIN{ printf "%.2f", b*8/(w > 0 ? w : 0.005)/1e9 }')
    # cores: CPU time over wall time of the fastest run, how much of the
    # machine it got (on a shared machine, below 1 means it waited).
    cores=$(awk -v c="$CPU" -v w="$WALL" 'BEGIN{ if (c == "–") print "–"; else printf "%.2f", c/(w > 0 ? w : 0.005) }')
    PPS[$id]=$pps
    CPPS[$id]=$cpps
    local note="" st=${STATUS[$id]:-0}
    if ((st != 0)); then
      note=" (exit $st)"
      echo "bench: $label exited $st: ${ERR[$id]}" >&2
    fi
    printf '| (%s) | `%s`%s | %s, %s | %s | %s | %s | %s | %s | %s |\n' "$id" "$label" "$note" "$WALL" "$MEDIAN" "$CPU" \
      "$cores" "$pps" "$cpps" "$gbps" "$RSS" | tee -a "$results"
  }
  if command -v tcpdump >/dev/null; then
    # -w - (to the discarded stdout), not -w /dev/null: tcpdump run as root
    # chowns its savefile to the user it drops to, /dev/null included.
    row a "tcpdump -r X -w - >/dev/null" tcpdump -r "$cap" -w -
  else
    row a "benchgen walk X (no tcpdump)" "$BG" walk "$cap"
  fi
  row b "minerwatch flows -r X" "$MW" flows -r "$cap"
  # shellcheck disable=SC2086
  row c "minerwatch detect -r X -o /dev/null${EXTRA_DETECT_FLAGS:+ $EXTRA_DETECT_FLAGS}" "$MW" detect -r "$cap" -o /dev/null $EXTRA_DETECT_FLAGS
  if "$MW" detect --help 2>&1 | grep -q -- '-workers'; then
    # shellcheck disable=SC2086
    row c2 "minerwatch detect --workers 2 -r X -o /dev/null" "$MW" detect --workers 2 -r "$cap" -o /dev/null $EXTRA_DETECT_FLAGS
  fi
  have_ndpi=0
  if command -v ndpiReader >/dev/null; then
    row d "ndpiReader -i X -q" ndpiReader -i "$cap" -q
    have_ndpi=1
  fi
  for ((i = 0; i < RUNS; i++)); do
    for id in "${ROWS[@]}"; do run_once "$id"; done
  done
  for id in "${ROWS[@]}"; do report "$id"; done
  if ((!have_ndpi)); then
    echo "| (d) | ndpiReader not installed (Debian: libndpi-bin) | | | | | | | |" | tee -a "$results"
  fi
  {
    echo
    # ratio NAME X Y: X/Y by wall-clock and by CPU packets/s.
    ratio() {
      awk -v n="$1" -v x="${PPS[$2]}" -v y="${PPS[$3]}" -v cx="${CPPS[$2]}" -v cy="${CPPS[$3]}" \
        'BEGIN{ printf "%s packets/s: %.3f by wall clock, ", n, x/y
                if (cx == "–") print "no CPU times"; else printf "%.3f by CPU time\n", cx/cy }'
    }
    ratio "(c)/(a)" c a
    if [[ -n ${PPS[d]:-} ]]; then ratio "(c)/(d)" c d; fi
    if [[ -n ${PPS[c2]:-} ]]; then ratio "(c2)/(c)" c2 c; fi
    if [[ $name == concurrent ]]; then
      awk -v f="$FLOWS" -v p="$packets" -v b="${PPS[b]}" -v c="${PPS[c]}" \
        'BEGIN{ printf "flows per second of wall clock (each flow 5 packets, opened and carrying data): flows %.0f, detect %.0f\n", b*f/p, c*f/p }'
    fi
  } | tee -a "$results"
  unset PPS CPPS LABEL STATUS MAXRSS ERR
done
if [[ $GO_BENCH == 1 ]]; then
  {
    echo
    echo "### Go benchmarks"
    echo
    echo '```'
  } | tee -a "$results"
  # package, benchmark, -benchtime: one pass over the lab captures is one
  # op; a million flows is one op; scoring runs for the default second.
  # Steady is the same path with one table across passes (0 allocs/pkt
  # is the target); NewFlows the steady-state new-flow rate; HeapPerFlow
  # the whole engine's heap per flow, half-open and established.
  for spec in "./features/ingest DecodeFlowFeatures 3x" "./features/ingest DecodeFlowFeaturesSteady 20x" \
    "./features/flows MillionConcurrentFlows 1x" "./features/flows NewFlows 1s" \
    "./detect/engine HeapPerFlow 1x" "./models/forest ShippedModel 1s"; do
    read -r pkg name bt <<<"$spec"
    $GO test -tags "$GOTAGS" -run '^$' -bench "^Benchmark$name\$" -benchtime "$bt" -benchmem "$pkg" 2>&1 |
      grep -E '^(Benchmark|--- |ok|FAIL|.*skip)' | tee -a "$results" || true
  done
  echo '```' | tee -a "$results"
fi
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" >>"$results"
echo >&2
echo "results in $results (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)" >&2
