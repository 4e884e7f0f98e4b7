#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: userprobe/plot.sh DIR    (make plots)
#
# Turn the CSV of cowprobe's forkcost, faults and split lessons (DIR/*.csv,
# as `cowprobe --csv LESSON` prints them) into PNG charts in DIR, with
# gnuplot (Debian's gnuplot-nox; installed when run as root).
set -euo pipefail
dir=${1:?usage: userprobe/plot.sh DIR}

if ! command -v gnuplot >/dev/null; then
	cmd="apt-get install -y --no-install-recommends gnuplot-nox"
	[ "$(id -u)" -eq 0 ] || { echo "plot.sh: gnuplot missing; run: sudo $cmd" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive $cmd >/dev/null
fi

# forkcost.csv: lesson,table,mib,thp,fork_ns,ns_per_page (table: fork or fork-thp)
gnuplot <<GP
set terminal pngcairo size 720,420 font ",10"
set output "$dir/forkcost.png"
set datafile separator ","
set title "fork() time as the parent's memory grows (guest clock)"
set xlabel "memory mapped and written (MiB)"
set ylabel "fork() time (microseconds)"
set logscale xy
set key top left
set grid
plot "< grep ',fork,' $dir/forkcost.csv" using 3:(\$5/1000) with linespoints title "4 KiB pages", \
     "< grep ',fork-thp,' $dir/forkcost.csv" using 3:(\$5/1000) with linespoints title "transparent huge pages"
GP

# faults.csv: lesson,table,ns_per_page,vs_memcpy,minflt_per_page (table: the kind)
gnuplot <<GP
set terminal pngcairo size 720,420 font ",10"
set output "$dir/faults.png"
set datafile separator ","
set title "What a write to a 4 KiB page costs (guest clock, ns per page)"
set style data histograms
set style fill solid 0.6
set boxwidth 0.7
set ylabel "ns per page"
set grid ytics
unset key
plot "< tail -n +2 $dir/faults.csv" using 3:xtic(2)
GP

# split.csv: lesson,step,role,pid,area,rss,anon,shared,private,cow,reusable,zero,file,thp,copies,...
gnuplot <<GP
set terminal pngcairo size 720,420 font ",10"
set output "$dir/split.png"
set datafile separator ","
set title "The split lesson: the region's pages, step by step"
set xlabel "step (1 map+write, 2 fork, 3 child writes k, 4 parent writes k, 5 child exits)"
set ylabel "pages"
set xtics 1
set grid
set key outside right
plot "< grep ',parent,' $dir/split.csv" using 2:8 with linespoints title "parent shared", \
     "< grep ',parent,' $dir/split.csv" using 2:9 with linespoints title "parent private", \
     "< grep ',child,' $dir/split.csv" using 2:8 with linespoints title "child shared", \
     "< grep ',child,' $dir/split.csv" using 2:9 with linespoints title "child private"
GP
echo "charts: $dir/forkcost.png $dir/faults.png $dir/split.png"
