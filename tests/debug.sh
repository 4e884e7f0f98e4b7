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
# The debug kernel is built once (20-30 minutes) and cached outside the
# repository; the module is rebuilt for the stock kernel at the end, so
# that make test and make run keep working.
set -uo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

"$TOP/vm/debug-kernel.sh" || exit 1
dir=$("$TOP/vm/debug-kernel.sh" --print-dir)

# KASAN's shadow memory and lockdep need room and time, and the
# stress test's reloads need one TCG thread (see tests/stress-in-vm.sh).
export VM_KERNEL=$dir/build/arch/x86/boot/bzImage
export VM_MEM=${VM_MEM:-2048}
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
seconds=${STRESS_SECONDS:-60}

make -s KDIR="$dir/build" module all || exit 1
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

# Back to the stock kernel's module for make test and make run.
make -s module >/dev/null
echo "test-debug: $total_passed passed, $total_failed failed"
exit "$failed"
