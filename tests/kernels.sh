#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/kernels.sh [RELEASE...]    (make test-kernels)
#
# The whole suite (make test) on every kernel cowstat supports, oldest
# first (vm/kver.sh --tested: Debian 12's 6.1 and 6.12, Debian 13's 6.12,
# the newest two series of trixie-backports), or on the RELEASEs named.
# Each kernel's output goes to $BUILD/kernels/RELEASE.log; one line per
# kernel, then a total.  Exits non-zero if any kernel failed.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

if [ $# -gt 0 ]; then
	releases=("$@")
else
	mapfile -t releases < <(vm/kver.sh --tested)
	[ ${#releases[@]} -gt 0 ] || die "vm/kver.sh --tested found no kernels"
fi
mkdir -p "$BUILD/kernels"

# "65 passed, 0 failed" (", 1 skipped"), the last such line of a log; empty if none.
summary() {
	grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$1" | tail -n 1 || true
}

failed=0 passed_all=0 failed_all=0 skipped_all=0
for rel in "${releases[@]}"; do
	log=$BUILD/kernels/$rel.log
	start=$SECONDS
	status=0
	# Not $(MAKE): make test-kernels runs this outside make's jobserver.
	make test KVER="$rel" >"$log" 2>&1 || status=$?
	line=$(summary "$log")
	if [ -z "$line" ]; then
		line="no result (build or boot failed: see $log)"
		failed_all=$((failed_all + 1))
		status=1
	else
		passed_all=$((passed_all + ${line%% passed*}))
		failed_all=$((failed_all + $(sed 's/.*, \([0-9]*\) failed.*/\1/' <<<"$line")))
		skipped_all=$((skipped_all + $(sed -n 's/.*, \([0-9]*\) skipped$/\1/p' <<<"$line" | grep . || echo 0)))
	fi
	[ "$status" -eq 0 ] || failed=1
	printf '%-24s %s  %s (%d s)\n' "$rel" "$([ "$status" -eq 0 ] && echo ok || echo FAILED)" \
		"$line" $((SECONDS - start))
done
printf '%d kernels: %d passed, %d failed' "${#releases[@]}" "$passed_all" "$failed_all"
[ "$skipped_all" -eq 0 ] || printf ', %d skipped' "$skipped_all"
printf '\n'
exit "$failed"
