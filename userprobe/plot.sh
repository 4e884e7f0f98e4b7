#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: userprobe/plot.sh DIR    (make plots)
#
# Turn the CSV of cowprobe's forkcost, faults, split and snapshot lessons (DIR/*.csv,
# as `cowprobe --csv LESSON` prints them) into PNG charts in DIR, with
# gnuplot (Debian's gnuplot-nox; installed when run as root).
set -euo pipefail
dir=${1:?usage: userprobe/plot.sh DIR}

if ! command -v gnuplot >/dev/null; then
	cmd="apt-get install -y --no-install-recommends gnuplot-nox"
	[ "$(id -u)" -eq 0 ] || { echo "plot.sh: gnuplot missing; run: sudo $cmd" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive $cmd >/dev/null
fi

# make plots runs the lessons under QEMU's -icount: the clock counts guest
# instructions, and that is the unit of every time axis here.

# forkcost.csv: lesson,table,mib,huge_kib,vmpte_kib,child_pte_kib,fork,fastest,slowest,per_page
gnuplot <<GP
set terminal pngcairo size 960,420 font ",10"
set output "$dir/forkcost.png"
set datafile separator ","
set multiplot layout 1,2 title "fork() as the parent's memory grows"
set logscale xy
set key top left
set grid
set xlabel "memory mapped and written (MiB)"
set ylabel "fork() time (guest instructions; bars: fastest to slowest of 5)"
plot "< grep ',fork,' $dir/forkcost.csv" using 3:7:8:9 with yerrorlines pt 7 ps 0.8 lw 2 \
	title "4 KiB pages", \
     "< grep ',fork-thp,' $dir/forkcost.csv" using 3:7:8:9 with yerrorlines pt 5 ps 0.8 lw 2 dt 2 \
	title "transparent huge pages"
set ylabel "page tables fork copies (VmPTE, KiB)"
plot "< grep ',fork,' $dir/forkcost.csv" using 3:5 with linespoints pt 7 ps 0.8 lw 2 \
	title "4 KiB pages", \
     "< grep ',fork-thp,' $dir/forkcost.csv" using 3:5 with linespoints pt 5 ps 0.8 lw 2 dt 2 \
	title "transparent huge pages"
unset multiplot
GP

# faults.csv: lesson,table,median,min,max,vs_memcpy,minflt_per_page (table: the kind)
gnuplot <<GP
set terminal pngcairo size 720,420 font ",10"
set output "$dir/faults.png"
set datafile separator ","
set title "What a write to a 4 KiB page costs (median of 5 runs)"
set style fill solid 0.6
set boxwidth 0.6
set ylabel "guest instructions per page"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set grid ytics
unset key
# Every bar carries its value: the cheapest are too small to read otherwise.
plot "< tail -n +2 $dir/faults.csv" using 0:3:xtic(2) with boxes, \
     "" using 0:3:(sprintf("%.0f", \$3)) with labels offset 0,0.8
GP

# split.csv: lesson,step,role,pid,area,rss,anon,shared,private,cow,reusable,zero,file,thp,
#            copies,reuses,forks,region_copies,region_reuses,frames
gnuplot <<GP
set terminal pngcairo size 960,460 font ",10"
set output "$dir/split.png"
set datafile separator ","
set multiplot layout 1,3 title "The split lesson, step by step (1 map and write, 2 fork, 3 child writes k, 4 parent writes k, 5 child exits)"
set xtics 1
set xrange [0.5:5.5]
set yrange [0:*]
set grid
set key below
set xlabel "step"
set ylabel "pages of the region"
set title "parent"
plot "< grep ',parent,' $dir/split.csv" using 2:8 with linespoints pt 7 lw 2 title "shared", \
     "< grep ',parent,' $dir/split.csv" using 2:9 with linespoints pt 5 lw 2 dt 2 title "private", \
     "< grep ',parent,' $dir/split.csv" using 2:11 with linespoints pt 9 lw 2 dt 3 title "reusable"
set title "child"
plot "< grep ',child,' $dir/split.csv" using 2:8 with linespoints pt 7 lw 2 title "shared", \
     "< grep ',child,' $dir/split.csv" using 2:9 with linespoints pt 5 lw 2 dt 2 title "private"
set title "memory: both processes"
set ylabel "frames (physical pages)"
plot "< grep ',parent,' $dir/split.csv" using 2:20 with linespoints pt 7 lw 2 title "frames"
unset multiplot
GP
# snapshot-kK.csv: lesson,table,tick,saved,writes,written,copies,child_private,frames,extra_kib
# (-n 2048: 8 MiB saved 16 pages a tick, 128 ticks; the last row is after the child exits)
gnuplot <<GP
set terminal pngcairo size 960,420 font ",10"
set output "$dir/snapshot.png"
set datafile separator ","
set multiplot layout 1,2 title "A BGSAVE-like snapshot of 8 MiB (2048 pages): the child saves 16 pages a tick, the parent writes k pages a tick"
set grid
set key top left
set xlabel "tick (the last: the child has exited)"
set ylabel "memory beyond the dataset (KiB)"
set yrange [0:*]
plot "< tail -n +2 $dir/snapshot-k8.csv" using 3:10 with lines lw 2 title "k = 8", \
     "< tail -n +2 $dir/snapshot-k32.csv" using 3:10 with lines lw 2 dt 2 title "k = 32", \
     "< tail -n +2 $dir/snapshot-k128.csv" using 3:10 with lines lw 2 dt 3 title "k = 128"
set title "k = 32: writes, and the pages they copied"
set ylabel "pages"
plot "< tail -n +2 $dir/snapshot-k32.csv" using 3:5 with lines lw 2 title "the parent's writes", \
     "< tail -n +2 $dir/snapshot-k32.csv" using 3:7 with lines lw 2 dt 2 title "the parent's copies", \
     "< tail -n +2 $dir/snapshot-k32.csv" using 3:8 with lines lw 2 dt 3 title "the child's private pages"
unset multiplot
GP
echo "charts: $dir/forkcost.png $dir/faults.png $dir/split.png $dir/snapshot.png"
