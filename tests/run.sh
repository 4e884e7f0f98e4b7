#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/run.sh [test|stress]
#
# Boot the VM in test mode (vm/boot.sh test; make test) or stress mode
# (make test-stress), print the guest's KTAP, and close with one line
# "N passed, N failed".  Fails (exit 1) on a failed case, a plan that was
# not completed, a guest that never reported its result (crash, hang,
# timeout), or a BUG:, WARNING:, Oops or Call Trace in the guest's kernel
# log (and, from a debug kernel, a lockdep report, a hung task or a
# kmemleak report).
set -uo pipefail
source "$(dirname "$0")/../vm/config.sh"

mode=${1:-test}
case $mode in test|stress) ;; *) die "usage: tests/run.sh [test|stress]" ;; esac
out=$BUILD/vm-$mode
"$TOP/vm/boot.sh" "$mode"
boot_status=$?

log=$(tr -d '\r' <"$out/result.log" 2>/dev/null)
ktap=$(sed '/^cowstat-vm: dmesg begin$/,$d' <<<"$log")
dmesg=$(sed -n '/^cowstat-vm: dmesg begin$/,/^cowstat-vm: dmesg end$/p' <<<"$log")
printf '%s\n' "$ktap" | grep -v '^cowstat-vm: exit'

passed=$(grep -cE '^ok [0-9]+ ' <<<"$ktap")
failed=$(grep -cE '^not ok [0-9]+ ' <<<"$ktap")
skipped=$(grep -cE '^ok [0-9]+ .*# SKIP' <<<"$ktap")
passed=$((passed - skipped))
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' <<<"$ktap" | head -n 1)

# Checks of the host's own (result, vm/config.sh), counted with the guest's cases.
echo "# host checks"
done_ok=1 why=()
if [ "$boot_status" -eq 125 ]; then
	done_ok=0
	why+=("the guest did not finish; last console lines:")
	while IFS= read -r line; do why+=("  $line"); done < <(tail -n 20 "$out/console.log" | tr -d '\r')
elif [ -z "$plan" ]; then
	done_ok=0 why+=("no KTAP plan from the guest")
elif [ $((passed + failed + skipped)) -ne "$plan" ]; then
	done_ok=0 why+=("planned $plan cases, $((passed + failed + skipped)) reported")
fi
result "$done_ok" "guest finished and reported every planned case" "${why[@]}"

# With FAULTS=1 (make test-debug's fault injection) the kernel reports the
# allocations it was told to fail ("page allocation failure", "vmalloc
# error", with a call trace): those reports are expected and dropped, up to
# their </TASK>.
expected_reports() {
	if [ "${FAULTS:-0}" = 1 ]; then
		awk '/page allocation failure:|vmalloc error:/ { skip = 1 } !skip { print } /<\/TASK>/ { skip = 0 }'
	else
		cat
	fi
}

# The whole console too: an oops may kill the guest before its dmesg dump.
bad=$( (printf '%s\n' "$dmesg"; tr -d '\r' <"$out/console.log") | expected_reports |
	grep -E 'BUG:|WARNING:|Oops|Call Trace|possible recursive locking|possible circular locking|inconsistent lock state|blocked for more than|soft lockup|unreferenced object' |
	head -n 20)
clean=1 why=()
if [ -n "$bad" ]; then
	clean=0
	while IFS= read -r line; do why+=("  $line"); done <<<"$bad"
fi
result "$clean" "guest kernel log has no BUG, WARNING, Oops or Call Trace" \
	"the guest's kernel log has:" "${why[@]}"

# cowprobe watch on the host itself: without the module (this development
# machine's kernel has no headers to build it for), it must say so and exit
# 1; with it, print a table.
watch_err=$("$TOP/userprobe/cowprobe" watch -c 1 2>&1 >/dev/null) && watch_status=0 || watch_status=$?
if [ -e /proc/cowstat ]; then
	ok=0 && [ "$watch_status" -eq 0 ] && ok=1
	result "$ok" "cowprobe watch on the host (module loaded): a table" "exit $watch_status: $watch_err"
else
	ok=0 && [ "$watch_status" -eq 1 ] && [[ $watch_err == *"is the cowstat module loaded?"* ]] && ok=1
	result "$ok" "cowprobe watch on the host without the module: says so, exit 1" \
		"exit $watch_status: $watch_err"
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary+=", $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$boot_status" -eq 0 ]
