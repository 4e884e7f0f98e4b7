#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/bench.sh    (make bench)
#
# Boot the benchmark VM (vm/boot.sh bench: one vCPU, guest clock counting
# guest instructions), run tests/bench-in-vm.sh there, print its tables and
# keep their CSV in $BUILD/bench-{cowfault,scan,watch,stall}.csv.  Benchmarks, not tests: nothing here
# passes or fails on a figure.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"

status=0
"$TOP/vm/boot.sh" bench || status=$?
"$TOP/vm/sections.sh" "$BUILD/vm-bench/result.log" "$BUILD/bench-"
for table in cowfault scan watch stall; do
	csv=$BUILD/bench-$table.csv
	[ -s "$csv" ] || continue
	column -s, -t <"$csv"
	echo "CSV: $csv"
done
exit "$status"
