// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "faults" lesson: what each kind of write costs, side by side in one
 * run, per 4 KiB page: the first touch of a fresh page (allocate and zero),
 * a COW copy (in a child after fork), a reuse (the parent after the child
 * is gone), a write to a page already private and writable (no fault),
 * and a plain 4 KiB memcpy as the reference; with the minor faults
 * getrusage() counted for each.  Five runs, each on a fresh region: the
 * median, the fastest and the slowest (timing.c says of which clock).
 * Run in cowprobe itself: only times matter here, not counts.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

struct cost {
	double ns, minflt;	/* per page */
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Write one byte into each of @pages pages. */
static struct cost write_pages(volatile char *p, long pages, long page)
{
	long f0 = minflt(), i;
	double t0 = now_ns();
	struct cost c;

	for (i = 0; i < pages; i++)
		p[i * page] = (char)i;
	c.ns = (now_ns() - t0) / pages;
	c.minflt = (double)(minflt() - f0) / pages;
	return c;
}

static struct cost memcpy_pages(long pages, long page)
{
	static char src[4096], dst[4096];
	double t0;
	struct cost c;
	long i;

	memset(src, 1, sizeof(src));
	memset(dst, 0, sizeof(dst));
	t0 = now_ns();
	for (i = 0; i < pages; i++) {
		memcpy(dst, src, page);
		__asm__ volatile("" : : "r"(dst) : "memory");	/* keep every copy */
	}
	c.ns = (now_ns() - t0) / pages;
	c.minflt = 0;
	return c;
}

/* The child's COW writes, measured in the child, reported through a pipe. */
static int cow_in_child(char *p, long pages, long page, struct cost *c)
{
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct cost cc = write_pages(p, pages, page);

		_exit(write(fds[1], &cc, sizeof(cc)) == sizeof(cc) ? 0 : 1);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], c, sizeof(*c)) != sizeof(*c)) {
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return 0;
}

#define RUNS	5
enum { MEMCPY, FIRST_TOUCH, COW_COPY, REUSE, PRIVATE, NR_KINDS };

static const char *const kind[NR_KINDS] = {
	"memcpy 4KiB", "first touch", "COW copy", "reuse", "private write",
};

/* One run of every kind, on a fresh region of @pages pages. */
static int one_run(struct probe *pr, long pages, long page, struct cost *cost)
{
	char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED) {
		snprintf(pr->err, sizeof(pr->err), "mmap of %ld pages: %m", pages);
		return -1;
	}
	madvise(p, pages * page, MADV_NOHUGEPAGE);	/* 4 KiB faults only */
	cost[MEMCPY] = memcpy_pages(pages, page);
	cost[FIRST_TOUCH] = write_pages(p, pages, page);
	if (cow_in_child(p, pages, page, &cost[COW_COPY])) {
		snprintf(pr->err, sizeof(pr->err), "the COW child failed");
		munmap(p, pages * page);
		return -1;
	}
	cost[REUSE] = write_pages(p, pages, page);	/* the child is gone: reuse */
	cost[PRIVATE] = write_pages(p, pages, page);	/* writable already: no fault */
	munmap(p, pages * page);
	return 0;
}

/* Is the order the lesson explains the order measured?  Say so either way. */
static void check_order(struct probe *pr, const struct spread *s)
{
	static const int cheaper[][2] = {
		{ PRIVATE, REUSE }, { REUSE, COW_COPY }, { REUSE, FIRST_TOUCH },
	};
	char what[256] = "";
	size_t i, len = 0;

	for (i = 0; i < sizeof(cheaper) / sizeof(cheaper[0]); i++) {
		const int a = cheaper[i][0], b = cheaper[i][1];

		if (s[a].median < s[b].median)
			continue;
		len += snprintf(what + len, sizeof(what) - len, "%s%s cost no less than %s",
				len ? "; " : "", kind[a], kind[b]);
	}
	if (!len)
		report_note(pr, "The order is the one explained: a private write cost less than a "
			    "reuse, and a reuse less than a COW copy or a first touch.");
	else
		report_note(pr, "On this run the order came out otherwise: %s.%s", what,
			    timing_clock() == CLOCK_TCG ? "  TCG timings vary: run `make plots`." : "");
}

int lesson_faults(struct probe *pr)
{
	static const char *const keys[] = {
		"median", "fastest", "slowest", "vs_memcpy", "minflt_per_page",
	};
	long page = sysconf(_SC_PAGESIZE), pages = pr->pages;
	double t[NR_KINDS][RUNS], flt[NR_KINDS][RUNS];
	struct spread s[NR_KINDS], f;
	struct cost cost[NR_KINDS];
	const char *unit = timing_unit();
	char a[48], b[48], c[48], d[48];
	int i, r;

	for (r = 0; r < RUNS; r++) {
		if (one_run(pr, pages, page, cost))
			return -1;
		for (i = 0; i < NR_KINDS; i++) {
			t[i][r] = cost[i].ns;
			flt[i][r] = cost[i].minflt;
		}
	}
	report_note(pr, "%ld page%s a run, a write of one byte to each; %s per page.", pages,
		    pages == 1 ? "" : "s", unit);
	timing_caption(pr, RUNS);
	report_summary(pr);
	report_header(pr, "write", 5, keys);
	for (i = 0; i < NR_KINDS; i++) {
		double vals[5];

		s[i] = timing_spread(t[i], RUNS);
		f = timing_spread(flt[i], RUNS);
		vals[0] = s[i].median;
		vals[1] = s[i].min;
		vals[2] = s[i].max;
		vals[3] = s[MEMCPY].median > 0 ? s[i].median / s[MEMCPY].median : 0;
		vals[4] = (long long)(f.median * 1000 + 0.5) / 1000.0;	/* 0.99999... is 1 */
		report_record(pr, kind[i], 5, keys, vals);
		if (i && (i == PRIVATE ? f.median > 0 : f.median < 1))
			report_unexpected(pr, "not one minor fault per page where one is due");
	}
	report_text(pr, "\n");
	report_note(pr, "A COW copy cost %s a page, %.1f times a 4 KiB memcpy: a fault, a new "
		    "page and the copy.  A first touch cost %s: a fault, a new page and zeroing "
		    "it.  A reuse cost %s: the fault alone, no new page.  A write to a page "
		    "already private and writable cost %s: no fault at all.",
		    timing_time(s[COW_COPY].median, a, sizeof(a)),
		    s[MEMCPY].median > 0 ? s[COW_COPY].median / s[MEMCPY].median : 0,
		    timing_time(s[FIRST_TOUCH].median, b, sizeof(b)),
		    timing_time(s[REUSE].median, c, sizeof(c)),
		    timing_time(s[PRIVATE].median, d, sizeof(d)));
	check_order(pr, s);
	report_summary(pr);
	return 0;
}
