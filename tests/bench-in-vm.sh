#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Inside the benchmark VM (one vCPU, -icount shift=0: 1 ns of guest clock
# per guest instruction): the cost of a write fault (a COW copy, a reuse, a
# first touch) with the module unloaded, loaded with events=0, and loaded
# with events on, interleaved, ROUNDS times, with the medians and their
# ratios to "unloaded"; then the cost of reading /proc/cowstat per mapped
# page (tests/scan_bench.c); then the refresh of cowprobe watch; then the
# stall of a process whose memory is read.  Each table follows a "== name"
# line.  ONLY=cowfault,scan,watch,stall
# (cowstat.only= on the kernel command line) runs only those.
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

# Is table $1 wanted (all of them without ONLY)?
want() {
	[ -z "${ONLY:-}" ] && return 0
	case ",$ONLY," in *,"$1",*) return 0 ;; esac
	return 1
}

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

if want cowfault; then
echo "== cowfault"
echo "# Write-fault microbenchmark: $PAGES pages written, one fault each, best of 5 forks;"
echo "# guest instructions per fault (icount clock), $ROUNDS rounds, configurations interleaved"
echo "fault,config,rounds,median,ratio"
for kind in copy reuse touch; do
	for config in unloaded off on; do eval "runs_$config=''"; done
	r=1
	while [ $r -le "$ROUNDS" ]; do
		for config in unloaded off on; do
			load $config || exit 1
			v=$(/tests/cow_bench "$PAGES" 5 $kind) || exit 1
			eval "runs_$config=\"\$runs_$config $v\""
		done
		r=$((r + 1))
	done
	base=$(echo $runs_unloaded | median)
	for config in unloaded off on; do
		eval "runs=\$runs_$config"
		m=$(echo $runs | median)
		ratio=$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%.4f", m / b }')
		echo "$kind,$config,$(echo $runs | tr ' ' ';'),$m,$ratio"
	done
done
load on
fi

# The scan: one read of /proc/cowstat per mapped page, beside the kernel's
# smaps_rollup and a pagemap+kpagecount scan of the same processes.
if want scan; then
echo "== scan"
echo "# Scan cost: guest instructions per mapped page of the workload, best of 5 reads"
echo "workload,pages,method,ns_per_page"
set -- fixed "procs 1 64" "procs 10 64" "procs 100 64" "procs 1000 64" \
	"size 256" "size 4096" "size 65536" "size 262144"
for w in "$@"; do
	# shellcheck disable=SC2086
	/tests/scan_bench $w || exit 1
done

fi

# cowprobe watch: one refresh of its table (read /proc/cowstat, parse, sort,
# print) as processes grow to 1000, beside the read of /proc/cowstat alone.
if want watch; then
echo "== watch"
echo "# cowprobe watch: guest instructions per refresh, and per read of /proc/cowstat"
echo "workload,rows,refresh_ns,read_ns"
for n in 10 100 1000; do
	/tests/scan_bench watch $n 64 || exit 1
done
fi

# The stall: the slowest mmap+munmap round of a process with 256 MiB mapped,
# alone and with one or two readers of /proc/cowstat or /proc/cowstat_maps,
# with the module's lock dropping on (yield=1, the default) and off.
if want stall; then
echo "== stall"
echo "# Stall: mmap+write+munmap rounds of a 256 MiB process (guest ns), without and with readers"
echo "yield,file,readers,loops,max_round_ns,median_round_ns"
for y in 1 0; do
	rmmod cowstat 2>/dev/null
	insmod $ko yield=$y || exit 1
	for f in /proc/cowstat /proc/cowstat_maps; do
		for n in 1 2; do
			/tests/stall_bench 65536 200 $n $f | sed -n "2,\$s/^/$y,/p" || exit 1
		done
	done
done
rmmod cowstat
insmod $ko
fi
