// SPDX-License-Identifier: GPL-2.0-only
/*
 * cow and reusable say what the next write to each page will do; these
 * cases check them against what the kernel then does.  For each kind of
 * page a process can hold, its region's prediction is read from
 * /proc/cowstat_maps, then the process writes every page once and counts
 * the pages whose frame changed (its own /proc/self/pagemap, as root):
 *
 *	frames changed  = cow            (every copy is a new frame)
 *	copies (event)  = frames changed
 *	reuses (event)  = reusable       (a fault, and the same frame)
 *
 * Where the pass itself changes the kernel's later decisions (6.1 reuses
 * the last page of a large folio once every other page of it is copied),
 * the case says so and bounds it.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cowtest.h"
#include "kernel_policy.h"
#include "maps_rows.h"

#define N		256	/* pages of a region */
#define THP_PAGES	512
#define KSM		"/sys/kernel/mm/ksm/"

enum { PARENT, CHILD };

struct prediction {
	long long cow, reusable;
};

/* The region row of puppet @p in /proc/cowstat_maps. */
static bool predict(struct puppet *p, struct prediction *pr)
{
	const struct maps_row *row;
	struct maps m = { 0 };
	char err[256];
	long addr;
	bool ok = false;

	addr = puppet_cmd(p, err, sizeof(err), "addr");
	if (!check(addr > 0, "addr: %s", err) || !read_maps(&m))
		goto out;
	row = maps_find(&m, p->pid, (unsigned long)addr);
	if (check(row != NULL, "no row for the region of %d", (int)p->pid)) {
		pr->cow = maps_val(row, "cow");
		pr->reusable = maps_val(row, "reusable");
		ok = true;
	}
out:
	free(m.rows);
	return ok;
}

/* Run on @cpu alone, or (-1) on every CPU again. */
static bool pin_self(long cpu)
{
	cpu_set_t set;
	long i, n = sysconf(_SC_NPROCESSORS_CONF);

	CPU_ZERO(&set);
	for (i = 0; i < n && i < CPU_SETSIZE; i++)
		if (cpu < 0 || i == cpu)
			CPU_SET(i, &set);
	return check(!sched_setaffinity(0, sizeof(set), &set), "sched_setaffinity: %s",
		     strerror(errno));
}

/*
 * Predict, then write every page of @p's region; the frames that changed
 * must be the prediction's cow, less up to @reused_late pages that the
 * pass itself made reusable (see the top), and the copy events
 * @copies_expected, or one per frame changed if 0.  Returns the frames
 * changed.
 */
static long write_pass_events(const char *who, struct puppet *p, long pages, long reused_late,
			      long copies_expected)
{
	struct cowstat_row before[1], after[1];
	struct prediction pr;
	long long copies, reuses;
	char err[256];
	long changed, cpu;

	/*
	 * LRU batches hold page references that a fault drains only on its
	 * own CPU.  compact_memory drains every CPU's, then migrates pages,
	 * whose new frames wait in the batch of the CPU that asked: that is
	 * the puppet's own CPU here, both pinned to it.
	 */
	cpu = puppet_cmd(p, err, sizeof(err), "pin");
	if (!check(cpu >= 0, "pin: %s", err) || !pin_self(cpu) ||
	    !check(write_text("/proc/sys/vm/compact_memory", "1"), "cannot drain the LRU batches") ||
	    !predict(p, &pr) || !snapshot(p, 1, before)) {
		pin_self(-1);
		return -1;
	}
	changed = puppet_cmd(p, err, sizeof(err), "wpass 0 %ld", pages);
	pin_self(-1);
	if (!check(changed >= 0, "wpass: %s", err) || !snapshot(p, 1, after))
		return -1;
	copies = col(&after[0], "copies") - col(&before[0], "copies");
	reuses = col(&after[0], "reuses") - col(&before[0], "reuses");
	ktap_diag("%s: cow %lld, reusable %lld; writing %ld pages changed %ld frames, "
		  "copies +%lld, reuses +%lld", who, pr.cow, pr.reusable, pages, changed, copies,
		  reuses);
	check(changed <= pr.cow && changed >= pr.cow - reused_late,
	      "%s: cow said %lld copies, the writes changed %ld frames", who, pr.cow, changed);
	check(copies == (copies_expected ? copies_expected : changed),
	      "%s: %ld frames changed, copies rose by %lld", who, changed, copies);
	check(reuses == pr.reusable + (pr.cow - changed),
	      "%s: reusable said %lld reuses (and %lld late), reuses rose by %lld", who,
	      pr.reusable, pr.cow - changed, reuses);
	return changed;
}

/* write_pass_events() where each copy gives one new frame. */
static long write_pass(const char *who, struct puppet *p, long pages, long reused_late)
{
	return write_pass_events(who, p, pages, reused_late, 0);
}

/*
 * Pages shared after fork: the child's N writes copy each one (cow N).  The
 * parent's originals are then mapped once, still write-protected: its N
 * writes reuse them in place (reusable N, no frame changes).
 */
static enum ktap_result predicts_forked_pages(const char **skip)
{
	struct puppet p[2];

	(void)skip;
	if (!spawn(p, 2, "t-pforked"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map anon %d", N) || !pcmd(&p[PARENT], "write 0 %d", N) ||
	    !pfork(p, PARENT, CHILD))
		goto out;
	check(write_pass("child", &p[CHILD], N, 0) == N, "the child's pass did not copy %d pages",
	      N);
	check(write_pass("parent", &p[PARENT], N, 0) == 0, "the parent's pass copied pages");
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * A THP shared after fork, its first page written by the child (which
 * splits the child's PMD).  The parent still maps the THP by its PMD: its
 * page 0 is mapped once now, yet a write copies it as it copies the other
 * 511 (the folio is large, and another mm maps it): cow 512.  Then the
 * child maps the 511 remaining pages alone, and kernels differ, as cow
 * and reusable predict:
 *   6.1        each write copies (cow 511), but the last one's, once the
 *              child holds the folio's only reference: reused;
 *   6.9-6.14   a page of a large folio is never reused: cow 511;
 *   6.15 on    the folio knows that only the child's mm maps it and every
 *              reference is a mapping: each write reuses (reusable 511).
 */
static enum ktap_result predicts_thp(const char **skip)
{
	enum ktap_result r = KTAP_PASS;
	struct puppet p[2];

	if (!thp_enabled()) {
		*skip = "transparent huge pages are disabled";
		return KTAP_SKIP;
	}
	if (!spawn(p, 2, "t-pthp"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map thp %d", THP_PAGES) ||
	    !pcmd(&p[PARENT], "write 0 %d", THP_PAGES))
		goto out;
	if (smaps_rollup_kb(p[PARENT].pid, "AnonHugePages") < THP_PAGES * 4) {
		*skip = "the kernel did not back the region with a THP";
		r = KTAP_SKIP;
		goto out;
	}
	if (!pfork(p, PARENT, CHILD) || !pcmd(&p[CHILD], "write 0 1"))
		goto out;
	check(write_pass("parent", &p[PARENT], THP_PAGES, 0) == THP_PAGES,
	      "the parent's pass did not copy the whole THP");
	write_pass("child", &p[CHILD], THP_PAGES, 1);
out:
	finish(p, 2);
	return r;
}

/* Wait until ksmd has merged @pages identical pages into one, or give up (false). */
static bool ksm_merged(long pages)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (read_value(KSM "pages_sharing") >= pages - 1)
			return true;
		usleep(100000);
	}
	return false;
}

/* N identical pages that KSM merged into one: every write copies (cow N). */
static enum ktap_result predicts_ksm(const char **skip)
{
	enum ktap_result r = KTAP_PASS;
	struct puppet p[1];

	if (access(KSM "run", W_OK)) {
		*skip = "no KSM in this kernel";
		return KTAP_SKIP;
	}
	if (!spawn(p, 1, "t-pksm"))
		return KTAP_FAIL;
	if (!pcmd(&p[0], "map anon %d", N) || !pcmd(&p[0], "fill 0 %d", N) ||
	    !pcmd(&p[0], "madvise mergeable"))
		goto out;
	write_text(KSM "pages_to_scan", "1000");
	write_text(KSM "sleep_millisecs", "10");
	if (!check(write_text(KSM "run", "1"), "cannot start ksmd"))
		goto out;
	if (!ksm_merged(N)) {
		ktap_diag("pages_sharing %lld after 30 s", read_value(KSM "pages_sharing"));
		*skip = "ksmd did not merge the pages in time";
		r = KTAP_SKIP;
		goto stop;
	}
	/* ksmd stops, the merged pages stay: a copy that happens to match cannot merge back. */
	write_text(KSM "run", "0");
	check(write_pass("KSM pages", &p[0], N, 0) == N, "writing KSM pages did not copy them");
stop:
	write_text(KSM "run", "2");	/* unmerge what is left */
	write_text(KSM "run", "0");
out:
	finish(p, 1);
	return r;
}

/*
 * Memory read but never written maps the zero page, and a write copies it:
 * cow N.  With THP, a read of a huge region maps the huge zero page, all
 * 512 pages of which the writes replace: cow 512, and as many copy events
 * as this kernel makes for it (huge_zero_write_copies()).
 */
static enum ktap_result predicts_zero_pages(const char **skip)
{
	struct puppet p[1], q[1];

	(void)skip;
	if (!spawn(p, 1, "t-pzero"))
		return KTAP_FAIL;
	if (pcmd(&p[0], "map anon %d", N) && pcmd(&p[0], "read 0 %d", N))
		check(write_pass("zero pages", &p[0], N, 0) == N,
		      "writing zero pages did not copy them");
	finish(p, 1);
	if (!thp_enabled() || !spawn(q, 1, "t-phugezero"))
		return KTAP_PASS;
	if (pcmd(&q[0], "map thp %d", THP_PAGES) && pcmd(&q[0], "read 0 %d", THP_PAGES))
		check(write_pass_events("huge zero page", &q[0], THP_PAGES, 0,
					huge_zero_write_copies()) == THP_PAGES,
		      "writing the huge zero page's pages did not copy them");
	finish(q, 1);
	return KTAP_PASS;
}

/* A private file mapping that was read maps page-cache pages: a write copies each (cow). */
static enum ktap_result predicts_private_file(const char **skip)
{
	struct puppet p[1];
	const int F = 32;

	(void)skip;
	if (!spawn(p, 1, "t-pfile"))
		return KTAP_FAIL;
	if (!pcmd(&p[0], "map file %d", F) || !pcmd(&p[0], "read 0 %d", F))
		goto out;
	check(write_pass("file pages", &p[0], F, 0) == F, "writing file pages did not copy them");
out:
	finish(p, 1);
	return KTAP_PASS;
}

const struct test_case predict_cases[] = {
	{ "predicts_forked_pages", predicts_forked_pages },
	{ "predicts_thp", predicts_thp },
	{ "predicts_ksm", predicts_ksm },
	{ "predicts_zero_pages", predicts_zero_pages },
	{ "predicts_private_file", predicts_private_file },
};
const int nr_predict_cases = sizeof(predict_cases) / sizeof(predict_cases[0]);
