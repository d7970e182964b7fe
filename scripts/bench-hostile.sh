#!/bin/sh
# bench-hostile: whole-process max RSS of minerwatch on the hostile inputs
# of issue 12, generated into a temporary directory (never the repo) by
# internal/hostilegen, measured with GNU time (/usr/bin/time -v). A
# benchmark, not a test: figures depend on the machine and its load; the
# table says which targets were met.
#
#   scripts/bench-hostile.sh            # the issue's sizes (about 400 MB of temp files)
#   SCALE=10 scripts/bench-hostile.sh   # a tenth of the packets, for a quick look
set -eu

GO=${GO:-go}
SCALE=${SCALE:-1}
TIME=/usr/bin/time
if ! "$TIME" -v true >/dev/null 2>&1; then
	echo "bench-hostile: needs GNU time at $TIME (Debian package 'time')" >&2
	exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-hostile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

"$GO" build -o "$tmp/minerwatch" ./cmd/minerwatch
"$GO" build -o "$tmp/hostilegen" ./internal/hostilegen

flood=$((3000000 / SCALE))
spoofed=$((1000000 / SCALE))
bomb=$((4294967296 / SCALE))
echo "generating: $flood-SYN flood, $spoofed spoofed SYNs, gzip bomb of $bomb zero bytes (in $tmp)" >&2
"$tmp/hostilegen" -kind synflood -n "$flood" -o "$tmp/flood.pcap"
"$tmp/hostilegen" -kind spoofed -n "$spoofed" -o "$tmp/spoofed.pcap" -intel "$tmp/pool.txt"
"$tmp/hostilegen" -kind gzbomb -n "$bomb" -o "$tmp/bomb.pcap.gz"

MIB=1048576
fails=0
printf '%-44s %12s %12s %6s %5s %8s\n' CASE "MAX RSS" TARGET RESULT EXIT SECONDS
# watchdog PID LIMIT_KIB: kill the children of PID (the measured command
# under GNU time) whose resident size passes LIMIT_KIB, so a case that
# regresses to the issue's 16.8 GB cannot take a shared machine down.
watchdog() {
	while kill -0 "$1" 2>/dev/null; do
		for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
			rss=$(awk '/^VmRSS:/ {print $2}' /proc/"$c"/status 2>/dev/null)
			if [ "${rss:-0}" -gt "$2" ]; then
				kill -9 "$c" 2>/dev/null && touch "$tmp/killed"
			fi
		done
		sleep 0.2
	done
}

# measure NAME TARGET_MIB -- COMMAND...: run COMMAND under GNU time with
# outputs discarded; the exit status is reported, not judged (a reader
# that refuses the bomb with an error is fine). A command past 4x its
# target is killed (RESULT "KILLED").
measure() {
	name=$1 target=$2
	shift 3
	start=$(date +%s)
	rm -f "$tmp/killed"
	set +e
	"$TIME" -v -o "$tmp/time.txt" "$@" >/dev/null 2>"$tmp/stderr.txt" &
	pid=$!
	watchdog "$pid" $((target * 4 * 1024)) &
	wd=$!
	wait "$pid"
	code=$?
	wait "$wd"
	set -e
	secs=$(($(date +%s) - start))
	kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
	mib=$((kb / 1024))
	result=pass
	if [ -e "$tmp/killed" ]; then
		result=KILLED
		fails=$((fails + 1))
	elif [ "$mib" -gt "$target" ]; then
		result=FAIL
		fails=$((fails + 1))
	fi
	printf '%-44s %8d MiB %8d MiB %6s %5s %8s\n' "$name" "$mib" "$target" "$result" "$code" "$secs"
	if [ -s "$tmp/stderr.txt" ]; then
		tail -n 2 "$tmp/stderr.txt" | sed 's/^/    stderr: /'
	fi
}

mw="$tmp/minerwatch"
rm -f "$tmp/alerts.jsonl"
measure "detect -r flood (${flood} SYNs, default cap)" 1536 -- \
	"$mw" detect --no-learned -o "$tmp/alerts.jsonl" -r "$tmp/flood.pcap"
measure "detect -r spoofed (${spoofed}, --max-flows 10000)" 512 -- \
	"$mw" detect --no-learned --intel "$tmp/pool.txt" --max-flows 10000 -o "$tmp/alerts.jsonl" -r "$tmp/spoofed.pcap"
echo "    spoofed-flood events written: $(grep -c '"event_type":"alert"' "$tmp/alerts.jsonl" || true) alerts, $(grep -c '"event_type":"intel_summary"' "$tmp/alerts.jsonl" || true) intel_summary" 
measure "detect -r gzip bomb (4 GiB caplen)" 256 -- \
	"$mw" detect --no-learned -o "$tmp/alerts.jsonl" -r "$tmp/bomb.pcap.gz"
measure "flows -r flood --max-flows 1000" 256 -- \
	"$mw" flows --max-flows 1000 -r "$tmp/flood.pcap"
echo "(max RSS of the whole process, GNU time; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$fails" -eq 0 ]
