#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/bench-kernels.sh [--table] [RELEASE...]   (make bench-kernels)
#
# make bench on every supported kernel (vm/kver.sh --tested) or on the
# RELEASEs named, each run's CSV kept in $BUILD/bench-kernels/RELEASE/,
# then one Markdown table of the figures the README quotes: the scan's
# guest instructions per mapped page and their ratio to reading every
# smaps_rollup (the fixed workload, and one process of 262144 pages), and
# the write-fault cost with events on as a ratio to the module unloaded.
# With --table, only the table, from the CSVs already there.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

table_only=false
if [ "${1:-}" = --table ]; then
	table_only=true
	shift
fi
if [ $# -gt 0 ]; then
	releases=("$@")
else
	mapfile -t releases < <(vm/kver.sh --tested)
fi
out=$BUILD/bench-kernels

status=0
if ! $table_only; then
	for rel in "${releases[@]}"; do
		mkdir -p "$out/$rel"
		echo "bench-kernels: $rel (log: $out/$rel/make-bench.log)"
		if make bench KVER="$rel" >"$out/$rel/make-bench.log" 2>&1; then
			cp "$BUILD"/bench-{cowfault,scan,stall}.csv "$out/$rel/"
		else
			echo "bench-kernels: make bench failed on $rel" >&2
			status=1
		fi
	done
fi

# field CSV WORKLOAD-PREFIX METHOD: ns_per_page of that row.
scan() { awk -F, -v w="$2" -v m="$3" 'index($1, w) == 1 && $3 == m { print $4 }' "$1"; }
# fault CSV KIND: "median (ratio)" with events on.
fault() { awk -F, -v k="$2" '$1 == k && $2 == "on" { printf "%s (%s)", $4, $5 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "| kernel | scan, fixed workload: cowstat / smaps_rollup | 1 process x 262144 pages | copy fault, events on | reuse fault | first touch |"
echo "|---|---|---|---|---|---|"
for rel in "${releases[@]}"; do
	s=$out/$rel/bench-scan.csv f=$out/$rel/bench-cowfault.csv
	[ -s "$s" ] && [ -s "$f" ] || { echo "| $rel | no figures |||||"; continue; }
	a=$(scan "$s" "8 pairs" cowstat) b=$(scan "$s" "8 pairs" smaps_rollup)
	c=$(scan "$s" "1 process x 262144" cowstat) d=$(scan "$s" "1 process x 262144" smaps_rollup)
	printf '| %s | %s / %s = %s | %s / %s = %s | %s | %s | %s |\n' "$rel" "$a" "$b" \
		"$(ratio "$a" "$b")" "$c" "$d" "$(ratio "$c" "$d")" \
		"$(fault "$f" copy)" "$(fault "$f" reuse)" "$(fault "$f" touch)"
done
exit "$status"
