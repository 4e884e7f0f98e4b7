#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Inside the VM, as root, with cowstat.ko loaded (make test-stress, and the
# second half of make test-debug): the stress test, as KTAP on stdout.
#   STRESS_SECONDS   how long the churn runs (default 60)
#   KMEMLEAK=1       end with a kmemleak scan (debug kernel)
#   FAULTS=1         fail a share of the allocations of the churn's
#                    processes (readers, forkers, the loader) with failslab
#                    and fail_page_alloc, and check that rows say '-' rather
#                    than lie when the module's own allocations fail
#                    (debug kernel)
# The exit status is 0 when every case passed.

seconds=${STRESS_SECONDS:-60}
module=/lib/modules/cowstat.ko
failed=0 n=0

# KASAN keeps freed objects in quarantine (megabytes of slab): there the
# slab cases only report, and kmemleak is what finds leaks.
kasan=0
dmesg | grep -q 'KernelAddressSanitizer initialized' && kasan=1

result() {	# result OK NAME
	n=$((n + 1))
	if [ "$kasan" = 1 ] && [ "${2#*slab}" != "$2" ]; then
		echo "ok $n $2 # SKIP KASAN's quarantine holds freed objects"
	elif [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=1
	fi
}

loaded() { [ -e /proc/cowstat ]; }

nprocs() { ls -d /proc/[0-9]* | wc -l; }

# Unreclaimable slab, in KiB, once caches and RCU callbacks have settled;
# /proc/slabinfo saved in FILE for slab_growth.
slab_kib() {	# slab_kib FILE
	sync
	echo 3 >/proc/sys/vm/drop_caches
	# kfree_rcu() batches its frees for up to 5 s, and RCU is slow under TCG.
	sleep 8
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
	cp /proc/slabinfo "$1"
	sed -n 's/^SUnreclaim: *\([0-9]*\) kB/\1/p' /proc/meminfo
}

# The caches that grew most from BEFORE to AFTER (slabinfo files), as diagnostics.
slab_growth() {	# slab_growth BEFORE AFTER
	awk 'FNR == NR { b[$1] = $2 * $4; next }
	     $2 ~ /^[0-9]+$/ && $2 * $4 - b[$1] > 0 { printf "%d %s %d\n", $2 * $4 - b[$1], $1, $2 }' \
		"$1" "$2" | sort -rn | head -n 5 |
		while read -r bytes cache objs; do
			echo "#   $cache: +$bytes bytes ($objs objects now)"
		done
}

# Fault injection for the tasks marked make-it-fail (task-filter): slab
# and page allocations fail at SLAB and PAGE percent; ATOMIC_ONLY=Y spares
# the allocations that may sleep (most of fork's) and fails those that may
# not, such as the module's counters made at fork.
inject() {	# inject SLAB PAGE ATOMIC_ONLY
	for f in failslab fail_page_alloc; do
		d=/sys/kernel/debug/$f
		echo 1 >$d/interval
		echo -1 >$d/times
		echo Y >$d/task-filter
		echo 0 >$d/verbose
		echo "$3" >$d/ignore-gfp-wait
	done
	echo "$1" >/sys/kernel/debug/failslab/probability
	echo "$2" >/sys/kernel/debug/fail_page_alloc/probability
	echo N >/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem
}

cases=6
[ -x /tests/cow ] && cases=$((cases + 1))
[ "${KMEMLEAK:-0}" = 1 ] && cases=$((cases + 1))
[ "${FAULTS:-0}" = 1 ] && cases=$((cases + 1))
if [ "${KMEMLEAK:-0}" = 1 ] || [ "${FAULTS:-0}" = 1 ]; then
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
fi
echo "KTAP version 1"
echo "1..$cases"
cd /tmp || exit 1

# The module's own kernel memory: loads and unloads alone, slab before and after.
# The first rounds warm the kernel's caches up (ftrace pools, kernfs,
# maple nodes): measured from there.  7.3 takes long to settle: 200
# loads after the first 20 grew it by 84 to 148 KiB, the next 200 by 56,
# the next 200 by 12.
reload() {	# reload N: unload and load N times; fails at the first error
	j=0
	while [ $j -lt "$1" ]; do
		rmmod cowstat && insmod $module || return 1
		j=$((j + 1))
	done
}
reload 200
before=$(slab_kib /tmp/slab.0)
reload 200
status=$?
after=$(slab_kib /tmp/slab.1)
echo "# 200 unloads and loads: unreclaimable slab $before KiB before, $after KiB after"
# The kernel's own caches (kfree_rcu batches, per-CPU slabs) move it by
# tens of KiB either way from one measurement to the next: 1% of slack.
# A leak of 350 bytes per load would show; kmemleak (make test-debug)
# sees any.
[ "$after" -gt $((before + before / 100)) ] && status=1 && slab_growth /tmp/slab.0 /tmp/slab.1
result $status reloads_leave_slab_where_it_was

# Everything at once.  A first, shorter round grows the kernel's own caches
# (task structs, files, dentries, SLUB's partial slabs) to the size this
# workload keeps them at: the slab is measured around the second.
/tests/stress churn 15 >/tmp/warmup.out 2>&1
warm=$?
sed 's/^/# warm-up: /' /tmp/warmup.out
loaded || insmod $module
procs=$(nprocs)
before=$(slab_kib /tmp/slab.2)
if [ "${FAULTS:-0}" = 1 ]; then
	# 2%: fork makes dozens of allocations, and must still work now and then.
	inject 2 2 N
	echo "# fault injection: 2% of the churn's slab and page allocations fail"
	STRESS_FAULTS=1 /tests/stress churn "$seconds"
	status=$?
	inject 0 0 N
	loaded || insmod $module
	result $((status || warm)) churn_readers_and_reloads_under_faults_for_${seconds}s
	inject 50 0 Y
	echo "# fault injection: half the allocations that may not sleep fail"
	/tests/stress witness
	status=$?
	inject 0 0 N
	result $status rows_say_unknown_rather_than_lie_under_faults
else
	/tests/stress churn "$seconds"
	status=$?
	loaded || insmod $module
	result $((status || warm)) churn_readers_and_reloads_for_${seconds}s
fi

# The churn's last processes are reaped by now; their task structs go after an RCU grace period.
i=0
while [ "$(nprocs)" -gt "$procs" ] && [ $i -lt 30 ]; do
	sleep 1
	i=$((i + 1))
done
after=$(slab_kib /tmp/slab.3)
echo "# after the churn: unreclaimable slab $before KiB before, $after KiB after;" \
	"$procs processes before, $(nprocs) after"
[ "$(nprocs)" -gt "$procs" ] && ps | grep -v ' \[' | sed 's/^/#   /'
# Page tables, task structs and the like of the churn's processes are gone.
# Slack: 2% for the kernel's caches (task structs freed after RCU, SLUB's
# partial slabs), which move it by up to 1% between two rounds alone.
status=0
[ "$after" -gt $((before + before / 50)) ] && status=1 && slab_growth /tmp/slab.2 /tmp/slab.3
result $status churn_leaves_slab_where_it_was

# The module's own memory, exactly: after a round of churn with the module
# loaded throughout, it holds counters for the live processes and no more.
rmmod cowstat
insmod $module
STRESS_LOADER=none /tests/stress churn 10 >/tmp/tracked.out 2>&1
status=$?
cat /tmp/tracked.out
# Counted with shell builtins only: a forked helper would be one more.
users=0
for p in /proc/[0-9]*; do
	[ -e "$p/exe" ] && users=$((users + 1))	# kernel threads have no exe
done
read -r tracked </sys/kernel/cowstat/tracked
echo "# $tracked processes tracked, $users user processes"
[ "$tracked" -eq "$users" ] || status=1
result $status counters_only_for_live_processes

# Quiescent processes: the lessons check their own numbers and exit 1 on a mismatch.
status=0
for lesson in split zero thp shared; do
	/bin/cowprobe --no-map "$lesson" >/tmp/lesson.out 2>&1 || {
		status=1
		sed 's/^/# /' /tmp/lesson.out | tail -n 20
	}
done
result $status counts_exact_after_churn

# Nothing the readers saw tells a kernel address or a page frame number.
status=0
if grep -qE '\b(ffff[0-9a-f]{12}|[0-9a-f]{16})\b' /proc/cowstat /proc/cowstat_maps \
	/sys/kernel/cowstat/*; then
	status=1
	echo "# a kernel address-like number in the module's files"
fi
result $status no_kernel_pointers_shown

# The kernel's own COW selftest: the same results with the module loaded
# (and read all the time) as without it.
if [ -x /tests/cow ]; then
	/tests/stress readers >/tmp/readers.out 2>&1 &
	readers=$!
	/tests/cow >/tmp/cow.with 2>&1
	kill -TERM $readers
	wait $readers
	readers_status=$?
	sed 's/^/# with readers: /' /tmp/readers.out
	rmmod cowstat
	/tests/cow >/tmp/cow.without 2>&1
	insmod $module
	status=0
	for f in with without; do
		# The verdicts only, without the test numbers.
		grep -E '^(ok|not ok) ' /tmp/cow.$f | sed 's/ [0-9]* / /' >/tmp/cow.$f.v
		echo "# $f the module: $(grep -c '# SKIP' /tmp/cow.$f.v) skipped," \
			"$(grep -v '# SKIP' /tmp/cow.$f.v | grep -c '^ok') passed," \
			"$(grep -c '^not ok' /tmp/cow.$f.v) failed"
		[ -s /tmp/cow.$f.v ] || { status=1; echo "# cow printed no verdicts $f the module"; }
	done
	if ! cmp -s /tmp/cow.with.v /tmp/cow.without.v; then
		status=1
		diff /tmp/cow.with.v /tmp/cow.without.v | head -n 20 | sed 's/^/# /'
	fi
	[ "$readers_status" -eq 0 ] || status=1
	result $status cow_selftest_same_with_and_without_module
fi

if [ "${KMEMLEAK:-0}" = 1 ]; then
	rmmod cowstat
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >/tmp/leaks
	echo "# kmemleak: $(grep -c '^unreferenced object' /tmp/leaks) unreferenced objects in all"
	status=0
	if grep -q cowstat /tmp/leaks; then
		status=1
		grep -B12 cowstat /tmp/leaks | head -n 40 | sed 's/^/# /'
	fi
	insmod $module
	result $status kmemleak_finds_nothing_of_cowstat
fi

echo "# Totals: $( [ $failed -eq 0 ] && echo all passed || echo some failed)"
exit $failed
