// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "forkcost" lesson: what fork() costs as the parent's memory grows,
 * with 4 KiB pages and with transparent huge pages.  What fork copies is
 * the page tables, not the pages: each row shows the parent's page-table
 * memory (VmPTE in /proc/PID/status) and the child's right after fork,
 * how much of the region THP really backs (AnonHugePages in
 * /proc/PID/smaps_rollup), and the time of five forks (median, fastest,
 * slowest; timing.c says of which clock).
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "probe.h"

enum { K_MIB, K_HUGE, K_PTE, K_CHILD_PTE, K_MEDIAN, K_MIN, K_MAX, K_PER_PAGE, NR_KEYS };

static const char *const keys[NR_KEYS] = {
	"mib", "huge_kib", "vmpte_kib", "child_pte_kib", "fork", "fastest", "slowest",
	"per_page",
};

/* A "Key:  N kB" line of a /proc/PID file, or -1. */
static long kib_of(int pid, const char *file, const char *key)
{
	char path[64], line[128];
	size_t len = strlen(key);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':' && sscanf(line + len + 1, "%ld", &kb))
			break;
	if (f)
		fclose(f);
	return kb;
}

/* One row: a parent with @mib MiB written, five forks, and one child to look at. */
static int measure(struct probe *pr, bool thp, long mib, double *vals)
{
	static const char *const roles[] = { "parent", "child" };
	char text[96];
	long long med, lo, hi;
	int status;

	if (lesson_start(pr, 2, roles) || lesson_written_region(pr, thp ? "thp" : "anon", mib * 256))
		return -1;
	vals[K_MIB] = mib;
	vals[K_HUGE] = kib_of(pr->pup[PARENT].pid, "smaps_rollup", "AnonHugePages");
	vals[K_PTE] = kib_of(pr->pup[PARENT].pid, "status", "VmPTE");
	if (puppet_query(&pr->pup[PARENT], text, sizeof(text), pr->err, sizeof(pr->err),
			 "forktime 5") < 0 || sscanf(text, "%lld %lld %lld", &med, &lo, &hi) != 3)
		return -1;
	vals[K_MEDIAN] = med;
	vals[K_MIN] = lo;
	vals[K_MAX] = hi;
	vals[K_PER_PAGE] = (double)med / (mib * 256);
	if (lesson_fork_child(pr, PARENT, CHILD, "cow-child"))
		return -1;
	vals[K_CHILD_PTE] = kib_of(pr->pup[CHILD].pid, "status", "VmPTE");
	if (cmd(pr, CHILD, "exit 0") < 0 || cmd(pr, PARENT, "wait") < 0)
		return -1;
	cmd(pr, PARENT, "exit 0");
	puppet_release(pr->pup, 2);
	waitpid(pr->pup[PARENT].pid, &status, 0);
	pr->npup = 0;
	return 0;
}

int lesson_forkcost(struct probe *pr)
{
	double first[NR_KEYS] = { 0 }, last[2][NR_KEYS] = { { 0 } }, vals[NR_KEYS];
	long max_mib = pr->pages / 256, mib;
	const char *unit = timing_unit();
	char a[48], b[48], c[48];
	bool rows[2] = { false, false };
	int thp;

	report_note(pr, "fork() time as the parent's memory grows, in %s, for a region written "
		    "whole: with 4 KiB pages from 1 MiB, with transparent huge pages (2 MiB "
		    "each) from 4 MiB.  vmpte_kib: the parent's page tables (VmPTE), "
		    "child_pte_kib: the child's right after fork, huge_kib: the region's memory "
		    "THP backs (AnonHugePages).", unit);
	timing_caption(pr, 5);
	report_summary(pr);
	report_header(pr, "", NR_KEYS, keys);
	for (thp = 0; thp < 2; thp++) {
		/* Sizes of 4 MiB up hold whole huge pages; the rows pair up by size. */
		for (mib = thp ? 4 : 1; mib <= max_mib; mib *= 4) {
			if (measure(pr, thp, mib, vals))
				return -1;
			report_record(pr, thp ? "fork-thp" : "fork", NR_KEYS, keys, vals);
			if (!thp && !rows[0])
				memcpy(first, vals, sizeof(vals));
			memcpy(last[thp], vals, sizeof(vals));
			rows[thp] = true;
		}
	}
	report_text(pr, "\n");
	report_note(pr, "fork() copies page tables, not pages (fork(2), NOTES).  For %.0f MiB of "
		    "4 KiB pages the parent's page tables took %.0f kB (VmPTE), and the child had "
		    "%.0f kB right after fork: a copy of them.  The fork took %s, %s a page; for "
		    "%.0f MiB it took %s: per_page falls as memory grows because part of a "
		    "fork's cost (the new process itself) does not grow with it.",
		    last[0][K_MIB], last[0][K_PTE], last[0][K_CHILD_PTE],
		    timing_time(last[0][K_MEDIAN], a, sizeof(a)),
		    timing_time(last[0][K_PER_PAGE], b, sizeof(b)), first[K_MIB],
		    timing_time(first[K_MEDIAN], c, sizeof(c)));
	if (!rows[1])
		report_note(pr, "No huge-page row: -n is below 1024 pages (4 MiB).");
	else if (last[1][K_HUGE] < last[1][K_MIB] * 1024)
		report_note(pr, "THP backed only %.0f kB of the %.0f MiB region (AnonHugePages): THP "
			    "is off, or there was no free 2 MiB of contiguous memory; those rows are "
			    "4 KiB pages.", last[1][K_HUGE], last[1][K_MIB]);
	else if (last[1][K_PTE] * 5 >= last[0][K_PTE] * 4)
		report_note(pr, "With huge pages THP backed all %.0f MiB (AnonHugePages %.0f kB), and "
			    "yet VmPTE is about the same, %.0f kB: for each anonymous huge page the "
			    "kernel keeps one page table in reserve, deposited with its PMD entry so "
			    "that splitting it later never needs memory, and fork gives the child one "
			    "too.  What fork skips is copying 512 entries per 2 MiB and taking a "
			    "reference on each page: for %.0f MiB it took %s instead of %s.",
			    last[1][K_MIB], last[1][K_HUGE], last[1][K_PTE], last[1][K_MIB],
			    timing_time(last[1][K_MEDIAN], a, sizeof(a)),
			    timing_time(last[0][K_MEDIAN], b, sizeof(b)));
	else
		report_note(pr, "With huge pages THP backed all %.0f MiB (AnonHugePages %.0f kB): one "
			    "PMD entry maps 2 MiB, the page tables took %.0f kB, and the fork %s "
			    "instead of %s.", last[1][K_MIB], last[1][K_HUGE],
			    last[1][K_PTE], timing_time(last[1][K_MEDIAN], a, sizeof(a)),
			    timing_time(last[0][K_MEDIAN], b, sizeof(b)));
	report_summary(pr);
	return 0;
}
