#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/bench.sh    (make bench)
#
# Boot the benchmark VM (vm/boot.sh bench: one vCPU, guest clock counting
# guest instructions), run tests/bench-in-vm.sh there, print its table and
# keep the CSV in $BUILD/bench.csv.  Benchmarks, not tests: nothing here
# passes or fails on a figure.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"

status=0
"$TOP/vm/boot.sh" bench || status=$?
log=$(tr -d '\r' <"$BUILD/vm-bench/result.log" | grep -v '^cowstat-vm: exit')
grep '^#' <<<"$log" || true
grep -v '^#' <<<"$log" >"$BUILD/bench.csv" || true
column -s, -t <"$BUILD/bench.csv" 2>/dev/null || cat "$BUILD/bench.csv"
echo "CSV: $BUILD/bench.csv"
exit "$status"
