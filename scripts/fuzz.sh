#!/bin/sh
# Run every Go fuzz target of the repository, one after another, each for
# FUZZTIME (default 60s), and print one summary line per target.
# Exits non-zero if any target fails (a crash, or a package that does not
# build); a failing input is left in that package's testdata/fuzz/ by Go.
#
#   FUZZTIME=60s scripts/fuzz.sh          # all targets
#   FUZZTIME=20s scripts/fuzz.sh ./detect/...   # the targets under some packages
#
# Fuzzing uses every core (-parallel defaults to GOMAXPROCS); on a shared
# machine set FUZZPARALLEL=1. A crashing input is minimised for at most
# FUZZMINIMIZETIME (default 10s) so one crash does not double a target's time.
set -u
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
FUZZPARALLEL=${FUZZPARALLEL:-}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10s}
pkgs=${*:-./...}
log=$(mktemp "${TMPDIR:-/tmp}/minerwatch-fuzz.XXXXXX")
trap 'rm -f "$log"' EXIT INT TERM HUP

# Packages with a fuzz target: those whose _test.go files declare one.
targets=$($GO list -f '{{.ImportPath}} {{.Dir}}' $pkgs | while read -r pkg dir; do
	grep -l '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' "$dir"/*_test.go >/dev/null 2>&1 || continue
	# go test -list names them exactly as -fuzz expects; a package that
	# does not build is reported as a failed target, not skipped.
	if list=$($GO test -list '^Fuzz' "$pkg" 2>/dev/null); then
		echo "$list" | grep '^Fuzz' | sed "s|^|$pkg |"
	else
		echo "$pkg (build)"
	fi
done)
if [ -z "$targets" ]; then
	echo "fuzz: no fuzz targets found in $pkgs" >&2
	exit 1
fi

n=0
failed=0
echo "$targets" | {
	while read -r pkg name; do
		n=$((n + 1))
		start=$(date +%s)
		par=""
		[ -n "$FUZZPARALLEL" ] && par="-parallel $FUZZPARALLEL"
		# -run '^$' skips the package's tests; -fuzz needs an anchored name
		# because one package may hold FuzzParse and FuzzParseX.
		if [ "$name" = "(build)" ]; then
			$GO vet "$pkg" >"$log" 2>&1
			status=FAIL
			failed=$((failed + 1))
		elif $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" $par "$pkg" >"$log" 2>&1; then
			status=ok
		else
			status=FAIL
			failed=$((failed + 1))
		fi
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		printf '%-4s %-50s %-24s %4ss  %s execs\n' "$status" "$pkg" "$name" "$(($(date +%s) - start))" "${execs:-?}"
		if [ "$status" = FAIL ]; then
			{ grep -q -- '--- FAIL' "$log" && sed -n '/--- FAIL/,$p' "$log" || cat "$log"; } | head -30 | sed 's/^/     /'
		fi
	done
	echo "fuzz: $n targets, $failed failed (FUZZTIME=$FUZZTIME each)"
	[ "$failed" -eq 0 ]
}
