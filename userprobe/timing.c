// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the timing lessons (faults, forkcost) measure with, and how they
 * say it.  The cowstat VM tells cowprobe its clock (COWSTAT_CLOCK, from
 * the kernel command line): "icount", QEMU's -icount clock, which counts
 * one nanosecond per guest instruction and gives the same figure on every
 * run; "tcg", plain emulation, whose timings swing by a factor of several
 * between runs; or nothing: a real machine (or KVM), timed in ns.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

enum clock_kind timing_clock(void)
{
	const char *c = getenv("COWSTAT_CLOCK");

	if (c && !strcmp(c, "icount"))
		return CLOCK_ICOUNT;
	if (c && !strcmp(c, "tcg"))
		return CLOCK_TCG;
	return CLOCK_HOST;
}

const char *timing_unit(void)
{
	return timing_clock() == CLOCK_ICOUNT ? "guest instructions" : "ns";
}

/* The line that says what the figures are, before the table. */
void timing_caption(struct probe *pr, int runs)
{
	switch (timing_clock()) {
	case CLOCK_ICOUNT:
		report_note(pr, "Figures are guest instructions: this VM runs under QEMU's -icount "
			    "clock (one ns per instruction), so they are the same on every run; "
			    "the median of %d runs.", runs);
		break;
	case CLOCK_TCG:
		report_note(pr, "TCG timings vary: this VM emulates the CPU (QEMU's TCG), many times "
			    "slower than real hardware, and the same run may take several times "
			    "longer the next time.  For stable figures run `make plots` (guest "
			    "instructions).  The median of %d runs, with the spread.", runs);
		break;
	case CLOCK_HOST:
		report_note(pr, "Measured on this machine, %d runs, median (ns), with the spread "
			    "from the fastest run to the slowest.", runs);
		break;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median, fastest and slowest of @n figures (sorted in place). */
struct spread timing_spread(double *v, int n)
{
	struct spread s;

	qsort(v, n, sizeof(*v), cmp_double);
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.min = v[0];
	s.max = v[n - 1];
	return s;
}

/* @v readably: 123456 as is, 1234567 as "1.23 M", 12345678901 as "12.3 G". */
const char *timing_human(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "", " k", " M", " G" };
	int u = 0;

	if (v < 1000000) {
		snprintf(buf, len, v == (long long)v ? "%.0f" : v < 1 ? "%.3f" : "%.1f", v);
		return buf;
	}
	while (v >= 1000 && u < 3) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, unit[u]);
	return buf;
}

/* A measured time as prose says it: "10.2 ms", or "7.90 M guest instructions". */
const char *timing_time(double v, char *buf, size_t len)
{
	char num[32];

	if (timing_clock() == CLOCK_ICOUNT) {
		snprintf(buf, len, "%s guest instructions", timing_human(v, num, sizeof(num)));
		return buf;
	}
	if (v >= 1e9)
		snprintf(buf, len, "%.3g s", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.3g ms", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.3g µs", v / 1e3);
	else
		snprintf(buf, len, "%.3g ns", v);
	return buf;
}
