#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/debug.sh    (make test-debug)
#
# The whole suite and the stress test on a debug build of the same 6.1
# kernel (vm/debug-kernel.sh: KASAN, lockdep, DEBUG_VM, kmemleak,
# PAGE_TABLE_CHECK, fault injection...), the module built against it:
#   1. make test's suite;
#   2. the stress test, ending with a kmemleak scan;
#   3. the stress test again with failslab and fail_page_alloc failing 10%
#      of the allocations of its processes, then kmemleak again.
# Each prints its own "N passed, N failed"; a final line sums them up.
# The debug kernel is built once (20-40 minutes) and cached outside the
# repository; the module for it is built in $BUILD/debug, so module/ keeps
# the stock kernel's for make test and make run.
set -uo pipefail
# KASAN's shadow memory and lockdep need room and time (set before config.sh).
export VM_MEM=${VM_MEM:-2048}
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"
# Its own image and logs, beside make test's and make test-stress's.
export BUILD=$BUILD/debug

"$TOP/vm/debug-kernel.sh" || exit 1
dir=$("$TOP/vm/debug-kernel.sh" --print-dir)

export VM_KERNEL=$dir/build/arch/x86/boot/bzImage
seconds=${STRESS_SECONDS:-60}

# The module for the debug kernel, built from a copy of the tracked
# sources so that module/ keeps the stock kernel's.
src=$BUILD/module-src
rm -rf "$src"
mkdir -p "$src"
git ls-files -z Kbuild module | xargs -0 cp --parents -t "$src"
make -s -C "$dir/build" M="$src" modules || exit 1
export COWSTAT_KO=$src/module/cowstat.ko
make -s all || exit 1
"$TOP/tests/cow-selftest.sh" || exit 1
"$TOP/vm/image.sh" >/dev/null || exit 1

failed=0
total_passed=0 total_failed=0
run() {	# run NAME MODE [APPEND]
	local name=$1 mode=$2 line
	echo "== $name"
	VM_APPEND="${3:-}" "$TOP/tests/run.sh" "$mode" | tee "$BUILD/debug-$mode.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed=1
	line=$(tail -n 1 "$BUILD/debug-$mode.log")
	total_passed=$((total_passed + $(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$line")))
	total_failed=$((total_failed + $(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line")))
}

run "the suite (make test) on the debug kernel" test
run "the stress test on the debug kernel, then kmemleak" stress \
	"cowstat.seconds=$seconds cowstat.kmemleak=1"
FAULTS=1 run "the stress test under fault injection, then kmemleak" stress \
	"cowstat.seconds=$seconds cowstat.kmemleak=1 cowstat.faults=1"

echo "test-debug: $total_passed passed, $total_failed failed"
exit "$failed"
