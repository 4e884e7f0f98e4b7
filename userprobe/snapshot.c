// SPDX-License-Identifier: GPL-2.0-only
/*
 * The snapshot lesson: what Redis's BGSAVE costs in memory.  A parent
 * holds a dataset and forks a child that reads all of it, a slice a tick
 * (as BGSAVE writes its RDB file), while the parent goes on writing pages
 * picked at random.  Each page the parent writes during the snapshot is
 * copied once, and both versions stay until the child exits: the extra
 * memory is the number of distinct pages written, whatever the number of
 * writes.  A time series, a row per tick, shows it grow.
 */

#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowstat_table.h"
#include "probe.h"

#define TRY(x)	do { if ((x) < 0) return -1; } while (0)
#define SAVE_PER_TICK	16	/* pages the child saves a tick */
#define TEXT_ROWS	16	/* rows of the text table at most; --csv has them all */

static const char *const roles[] = { "parent", "snapshot" };
static const int P[] = { PARENT }, PC[] = { PARENT, CHILD };

enum { K_TICK, K_SAVED, K_WRITES, K_WRITTEN, K_COPIES, K_CHILD_PRIVATE, K_FRAMES, K_EXTRA,
	NR_KEYS };
static const char *const keys[NR_KEYS] = {
	"tick", "saved", "writes", "written", "copies", "child_private", "frames", "extra_kib",
};

/* A fixed sequence of pages (xorshift64*): the same lesson on every run. */
static unsigned long next_page(unsigned long long *state, long n)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (*state * 2685821657736338717ULL >> 32) % n;
}

/* The parent's copies inside the region (rcopies), or NA without the module. */
static long long parent_copies(struct probe *pr)
{
	struct cowstat_table t;
	const struct cowstat_row *row;
	long long v = NA;

	if (!pr->have_module || cowstat_read(&t, pr->table, NULL, 0))
		return NA;
	row = cowstat_find(&t, pr->pup[PARENT].pid);
	if (row) {
		v = cowstat_get(&t, row, "rcopies");
		if (v == COWSTAT_NA || v < 0)
			v = NA;
	}
	cowstat_free(&t);
	return v;
}

/* The region's pages the child alone maps: the originals of the parent's copies. */
static long long child_private(struct probe *pr, long n)
{
	struct page_info *p = page_states(pr, pr->pup[CHILD].pid, pr->area_addr[0], n);
	long long count = 0;
	long i;

	if (!p)
		return NA;
	for (i = 0; i < n; i++)
		count += p[i].state != PS_ABSENT && !page_shared(&p[i]);
	free(p);
	return count;
}

/* A row of the time series as text (its header for NULL): 80 columns. */
static void text_row(const double *v)
{
	static const char *const head[NR_KEYS] = {
		"tick", "saved", "writes", "written", "copies", "private", "frames", "memory",
	};

	static const char *const above[NR_KEYS] = {
		"", "pages", "parent", "distinct", "parent", "child's", "", "extra",
	};
	static const int width[NR_KEYS] = { 5, 7, 7, 8, 7, 8, 7, 9 };
	int i;

	if (!v) {
		for (i = 0; i < NR_KEYS; i++)
			printf(i ? " %*s" : "  %*s", width[i], above[i]);
		printf("\n");
		for (i = 0; i < NR_KEYS; i++)
			printf(i ? " %*s" : "  %*s", width[i], head[i]);
		printf("\n");
		return;
	}
	for (i = 0; i < NR_KEYS; i++) {
		int w = i == K_EXTRA ? width[i] - 4 : width[i];

		if (isnan(v[i]))
			printf(i ? " %*s" : "  %*s", w, "-");
		else
			printf(i ? " %*.0f" : "  %*.0f", w, v[i]);
	}
	printf(" KiB\n");
}

static void series_row(struct probe *pr, const double *v)
{
	if (pr->format == FMT_TEXT)
		text_row(v);
	else
		report_record(pr, "series", NR_KEYS, keys, v);
}

/* A step drawn; --csv gives the time series alone, one table. */
static void show(struct probe *pr)
{
	if (pr->format == FMT_CSV)
		pr->cur.notes[0] = pr->cur.unexpected[0] = '\0';
	else
		report_show(pr);
}

/*
 * The snapshot, a tick at a time; its figures a row each (the text table
 * shows at most TEXT_ROWS of them).  Returns the distinct pages written,
 * and the writes in @writes, or -1.
 */
static long run_ticks(struct probe *pr, long n, long k, long long copies0, long *writes)
{
	long ticks = (n + SAVE_PER_TICK - 1) / SAVE_PER_TICK, every, tick, saved = 0, written = 0;
	unsigned long long seed = 0x9e3779b97f4a7c15ULL;
	char *dirty = calloc(n, 1);
	bool off = false;
	double v[NR_KEYS];

	if (!dirty) {
		snprintf(pr->err, sizeof(pr->err), "out of memory");
		return -1;
	}
	every = (ticks + TEXT_ROWS - 1) / TEXT_ROWS;
	*writes = 0;
	if (pr->format == FMT_TEXT)
		text_row(NULL);
	else
		report_header(pr, "", NR_KEYS, keys);
	/* Tick 0: right after fork, nothing written. */
	memset(v, 0, sizeof(v));
	v[K_COPIES] = pr->have_module ? 0 : NAN;
	v[K_FRAMES] = n;
	series_row(pr, v);
	for (tick = 1; tick <= ticks; tick++) {
		long save = n - saved < SAVE_PER_TICK ? n - saved : SAVE_PER_TICK, i;

		if (cmd(pr, CHILD, "read %ld %ld", saved, save) < 0)
			goto fail;
		saved += save;
		for (i = 0; i < k; i++) {
			unsigned long page = next_page(&seed, n);

			if (cmd(pr, PARENT, "poke %lu %ld", page, tick) < 0)
				goto fail;
			written += !dirty[page];
			dirty[page] = 1;
		}
		*writes += k;
		v[K_TICK] = tick;
		v[K_SAVED] = saved;
		v[K_WRITES] = *writes;
		v[K_WRITTEN] = written;
		v[K_COPIES] = parent_copies(pr);
		v[K_COPIES] = v[K_COPIES] == NA ? NAN : v[K_COPIES] - copies0;
		v[K_CHILD_PRIVATE] = child_private(pr, n);
		v[K_FRAMES] = region_frames(pr, PC, 2);
		v[K_EXTRA] = v[K_FRAMES] == NA ? NAN : (v[K_FRAMES] - n) * 4;
		if (v[K_CHILD_PRIVATE] == NA)
			v[K_CHILD_PRIVATE] = NAN;
		if (v[K_FRAMES] == NA)
			v[K_FRAMES] = NAN;
		/* Each distinct page written is one copy, one page the child alone keeps, one frame. */
		if (!off && ((!isnan(v[K_COPIES]) && v[K_COPIES] != written) ||
			     (!isnan(v[K_CHILD_PRIVATE]) && v[K_CHILD_PRIVATE] != written) ||
			     (!isnan(v[K_FRAMES]) && v[K_FRAMES] != n + written))) {
			char what[160];

			snprintf(what, sizeof(what), "tick %ld: %ld pages written, yet copies %.0f, "
				 "the child's private %.0f, frames %.0f", tick, written,
				 v[K_COPIES], v[K_CHILD_PRIVATE], v[K_FRAMES]);
			report_unexpected(pr, what);
			off = true;
		}
		if (pr->format != FMT_TEXT || tick % every == 0 || tick == ticks)
			series_row(pr, v);
	}
	free(dirty);
	return written;
fail:
	free(dirty);
	return -1;
}

int lesson_snapshot(struct probe *pr)
{
	long n = pr->pages, k = pr->writes, ticks = (n + SAVE_PER_TICK - 1) / SAVE_PER_TICK;
	long long copies0;
	long written, writes;
	char title[128], copied[48];

	TRY(lesson_start(pr, 2, roles));
	TRY(lesson_written_region(pr, "anon", n));
	snprintf(title, sizeof(title), "the parent holds its dataset: %s, written", pages_of(n));
	TRY(report_take(pr, title, P, 1));
	expect(pr, eq(area(pr, PARENT, R_PRIVATE), n), "the dataset's pages are not all private");
	report_note(pr, "A server's dataset: %s (%ld KiB), the parent's own ('private' %lld).",
		    pages_of(n), n * 4, area(pr, PARENT, R_PRIVATE));
	show(pr);

	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-snapshot"));
	TRY(report_take(pr, "fork(): the snapshot child", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_SHARED), n) && eq(area(pr, CHILD, R_SHARED), n),
	       "the dataset is not shared whole after fork");
	expect(pr, eq(pr->cur.frames, n), "fork changed the frames behind the dataset");
	report_note(pr, "As Redis's BGSAVE does, the parent forks a child to save the dataset: "
		    "the child sees the dataset as it was at fork() and writes it out at leisure, "
		    "while the parent goes on serving writes.  fork() copied no page: both map the "
		    "same %s ('shared' %lld each).", count_of(pr->cur.frames, "frame", "frames"),
		    area(pr, PARENT, R_SHARED));
	show(pr);
	copies0 = pr->view[PARENT].region_event[E_COPIES];
	copies0 = copies0 == NA ? 0 : copies0;

	if (k)
		report_note(pr, "The snapshot, a row per tick: in each tick the child saves (reads) "
			    "the next %d pages, and the parent writes %s picked at random, some more "
			    "than once.  written: the distinct pages the parent has written since "
			    "fork; extra: the memory beyond the dataset.", SAVE_PER_TICK, pages_of(k));
	else
		report_note(pr, "The snapshot, a row per tick: in each tick the child saves (reads) "
			    "the next %d pages; the parent writes nothing (-k 0).", SAVE_PER_TICK);
	if (pr->format != FMT_CSV)	/* --csv: the series alone */
		report_summary(pr);
	pr->cur.notes[0] = '\0';
	written = run_ticks(pr, n, k, copies0, &writes);
	TRY(written);
	if (pr->format == FMT_HTML)
		report_summary(pr);	/* the end of the table */
	report_text(pr, "\n");

	snprintf(title, sizeof(title), "the child has saved the whole dataset (%s)", pages_of(n));
	TRY(report_take(pr, title, PC, 2));
	copied[0] = '\0';
	if (known(region_change(pr, PARENT, E_COPIES)))
		snprintf(copied, sizeof(copied), " (the parent's copies %+lld)",
			 region_change(pr, PARENT, E_COPIES));
	expect(pr, eq(region_change(pr, PARENT, E_COPIES), written),
	       "the parent's copies are not the distinct pages it wrote");
	expect(pr, eq(area(pr, CHILD, R_PRIVATE), written) &&
	       eq(area(pr, PARENT, R_SHARED), n - written),
	       "the child does not keep exactly the originals of the pages written");
	expect(pr, eq(pr->cur.frames, n + written),
	       "the extra frames are not the distinct pages written");
	if (!written) {
		report_note(pr, "The parent wrote nothing (-k 0): no page was copied, and the "
			    "snapshot cost no memory beyond the dataset.");
	} else {
		report_note(pr, "In %ld %s the parent made %ld %s to %s of the dataset: each was "
			    "copied at its first write%s, and the child still maps the original "
			    "('private' %lld).  A second write to a page is no fault: its copy is "
			    "the parent's own already.", ticks, ticks == 1 ? "tick" : "ticks",
			    writes, writes == 1 ? "write" : "writes", pages_of(written), copied,
			    area(pr, CHILD, R_PRIVATE));
		report_note(pr, "The snapshot costs %ld KiB beyond the %ld KiB dataset: the "
			    "distinct pages written, not the writes.  It grows with the write rate "
			    "(-k) and with the time the child takes (-n: a larger dataset takes "
			    "longer to save), and never beyond the dataset itself: a page is copied "
			    "once at most.", written * 4, n * 4);
	}
	show(pr);

	TRY(cmd(pr, CHILD, "exit 0"));
	TRY(reap(pr, PARENT));
	pr->pup[CHILD].pid = 0;		/* reaped */
	TRY(report_take(pr, "the child exits, and the parent reaps it", P, 1));
	if (pr->format == FMT_CSV || pr->format == FMT_JSON) {
		/* The series' last row: the child gone, its originals freed. */
		double v[NR_KEYS] = {
			[K_TICK] = ticks + 1, [K_SAVED] = n, [K_WRITES] = writes,
			[K_WRITTEN] = written, [K_FRAMES] = NAN, [K_EXTRA] = NAN,
		};

		if (known(pr->cur.frames)) {
			v[K_FRAMES] = pr->cur.frames;
			v[K_EXTRA] = (pr->cur.frames - n) * 4;
		}
		v[K_COPIES] = known(region_change(pr, PARENT, E_COPIES)) ? v[K_WRITTEN] : NAN;
		series_row(pr, v);
	}
	expect(pr, eq(area(pr, PARENT, R_SHARED), 0), "pages still shared after the child exited");
	expect(pr, eq(pr->cur.frames, n), "the child's originals were not freed");
	if (written)
		report_note(pr, "The child's originals (%s) %s freed: the extra memory is back to "
			    "0.", pages_of(written), written == 1 ? "is" : "are");
	if (area(pr, PARENT, R_REUSABLE) > 0)
		report_note(pr, "The parent's %s it did not write %s still write-protected since "
			    "the fork: 'reusable' %lld, its next write to each faults once and keeps "
			    "the page.", pages_of(area(pr, PARENT, R_REUSABLE)),
			    area(pr, PARENT, R_REUSABLE) == 1 ? "is" : "are",
			    area(pr, PARENT, R_REUSABLE));
	report_note(pr, "Redis's own figure for this is the \"copy-on-write\" size it logs "
		    "when the save ends: the redis lesson, in the full image (IMAGE=full).");
	show(pr);
	return 0;
}
