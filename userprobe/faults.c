// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "faults" lesson: what each kind of write costs, side by side in one
 * run, per 4 KiB page: the first touch of a fresh page (allocate and zero),
 * a COW copy (in a child after fork), a reuse (the parent after the child
 * is gone), a write to a page already private and writable (no fault),
 * and a plain 4 KiB memcpy as the reference; with the minor faults
 * getrusage() counted for each.  Times are CLOCK_MONOTONIC: in the
 * benchmark VM, guest instructions.  Run in cowprobe itself: only times
 * matter here, not counts.
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

int lesson_faults(struct probe *pr)
{
	static const char *const keys[] = { "ns_per_page", "vs_memcpy", "minflt_per_page" };
	long page = sysconf(_SC_PAGESIZE), pages = pr->pages;
	struct cost cost[5];
	static const char *const kind[5] = {
		"memcpy 4KiB", "first touch", "COW copy", "reuse", "private write",
	};
	char *p;
	int i;

	p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(pr->err, sizeof(pr->err), "mmap of %ld pages: %m", pages);
		return -1;
	}
	madvise(p, pages * page, MADV_NOHUGEPAGE);	/* 4 KiB faults only */
	cost[0] = memcpy_pages(pages, page);
	if (cost[0].ns <= 0)
		cost[0].ns = 1;	/* a clock too coarse: keep the ratios finite */
	cost[1] = write_pages(p, pages, page);
	if (cow_in_child(p, pages, page, &cost[2])) {
		snprintf(pr->err, sizeof(pr->err), "the COW child failed");
		munmap(p, pages * page);
		return -1;
	}
	cost[3] = write_pages(p, pages, page);	/* the child is gone: reuse */
	cost[4] = write_pages(p, pages, page);	/* writable already: no fault */
	munmap(p, pages * page);

	report_text(pr, "  %ld pages each; ns is the guest clock (guest instructions in the\n"
		    "  benchmark VM)\n  %-14s %12s %12s %12s\n", pages, "write", keys[0], keys[1],
		    keys[2]);
	for (i = 0; i < 5; i++) {
		double vals[3] = { cost[i].ns, cost[i].ns / cost[0].ns, cost[i].minflt };

		report_record(pr, kind[i], 3, keys, vals);
	}
	report_text(pr, "\n  A COW copy is a fault plus a 4 KiB copy; a first touch a fault plus\n"
		    "  zeroing a page; a reuse only the fault; a private write no fault at\n"
		    "  all.  One minor fault per page for each faulting kind.\n");
	if (cost[2].minflt < 1 || cost[1].minflt < 1 || cost[3].minflt < 1 || cost[4].minflt > 0)
		report_unexpected(pr, "not one minor fault per page where one is due");
	return 0;
}
