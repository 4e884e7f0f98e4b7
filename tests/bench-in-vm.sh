#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Inside the benchmark VM (one vCPU, -icount shift=0: 1 ns of guest clock
# per guest instruction): the COW-fault cost with the module unloaded,
# loaded with events=0, and loaded with events on, interleaved, ROUNDS
# times, with the medians and their ratios to "unloaded"; then the cost of
# reading /proc/cowstat per mapped page (tests/scan_bench.c).  Each table
# follows a "== name" line.
ROUNDS=${ROUNDS:-5}
PAGES=${PAGES:-4096}
ko=/lib/modules/cowstat.ko

load() {	# load unloaded|off|on
	rmmod cowstat 2>/dev/null
	case $1 in
	off) insmod $ko events=0 ;;
	on) insmod $ko ;;
	esac
}

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== cowfault"
echo "# COW-fault microbenchmark: a child writes $PAGES shared pages, best of 5 forks;"
echo "# guest instructions per fault (icount clock), $ROUNDS rounds, configurations interleaved"
for config in unloaded off on; do eval "runs_$config=''"; done
r=1
while [ $r -le "$ROUNDS" ]; do
	for config in unloaded off on; do
		load $config || exit 1
		v=$(/tests/cow_bench "$PAGES" 5) || exit 1
		eval "runs_$config=\"\$runs_$config $v\""
	done
	r=$((r + 1))
done
load on

echo "config,rounds,median,ratio"
base=$(echo $runs_unloaded | median)
for config in unloaded off on; do
	eval "runs=\$runs_$config"
	m=$(echo $runs | median)
	ratio=$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%.4f", m / b }')
	echo "$config,$(echo $runs | tr ' ' ';'),$m,$ratio"
done

# The scan: one read of /proc/cowstat per mapped page, beside the kernel's
# smaps_rollup and a pagemap+kpagecount scan of the same processes.
echo "== scan"
echo "# Scan cost: guest instructions per mapped page of the workload, best of 5 reads"
echo "workload,pages,method,ns_per_page"
set -- fixed "procs 1 64" "procs 10 64" "procs 100 64" "procs 1000 64" \
	"size 256" "size 4096" "size 65536" "size 262144"
for w in "$@"; do
	# shellcheck disable=SC2086
	/tests/scan_bench $w || exit 1
done

# The stall: the slowest mmap+munmap round of a process with 256 MiB mapped,
# alone and with one or two readers of /proc/cowstat, with the module's lock
# dropping on (yield=1, the default) and off.
echo "== stall"
echo "# Stall: mmap+write+munmap rounds of a 256 MiB process (guest ns), without and with readers"
echo "yield,readers,loops,max_round_ns,median_round_ns"
for y in 1 0; do
	rmmod cowstat 2>/dev/null
	insmod $ko yield=$y || exit 1
	for n in 1 2; do
		/tests/stall_bench 65536 200 $n | sed -n "2,\$s/^/$y,/p" || exit 1
	done
done
rmmod cowstat
insmod $ko
