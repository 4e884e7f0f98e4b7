// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lessons: each memory fact of fork(2) (and of the seed documents)
 * shown step by step with puppets (puppet.h) and the counts of
 * /proc/cowstat.  Each lesson sets up its puppets and region, reports its
 * steps (report.c) and checks the numbers the kernel fixes: a lesson
 * whose numbers come out otherwise fails (exit status 1).
 */

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "probe.h"
#include "programs.h"

#define THP_PAGES	512

long cmd(struct probe *pr, int who, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return puppet_cmd(&pr->pup[who], pr->err, sizeof(pr->err), "%s", msg);
}

#define TRY(x)	do { if ((x) < 0) return -1; } while (0)

/* Start the parent puppet (with channels for @n - 1 children). */
int lesson_start(struct probe *pr, int n, const char *const *roles)
{
	int i;

	TRY(puppet_spawn(pr->pup, n, "/proc/self/exe", "cow-parent", pr->err, sizeof(pr->err)));
	pr->npup = n;
	pr->started[PARENT] = true;
	/*
	 * On one CPU, it and its children: a page just written sits in that
	 * CPU's LRU batch, holding a reference; a write fault drains its own
	 * CPU's batch only, so on another CPU the kernel would copy a page it
	 * could reuse, and a lesson's reuses would vary from run to run.
	 */
	TRY(cmd(pr, PARENT, "pin"));
	for (i = 0; i < n; i++)
		pr->role[i] = roles[i];
	pr->nareas = 1;
	pr->area_name[0] = "region";
	return 0;
}

/* Map the region in the parent, remember where it is, and watch it. */
static int map_region(struct probe *pr, const char *kind, long pages)
{
	long addr;

	TRY(cmd(pr, PARENT, "map %s %ld", kind, pages));
	addr = cmd(pr, PARENT, "addr");
	TRY(addr);
	pr->area_addr[0] = (unsigned long)addr;
	pr->region_pages = pages;
	page_watch(pr, pr->pup[PARENT].pid, addr, pages);	/* no module: no region events */
	return 0;
}

/* Map the region and write every page: the parent's own memory, all private. */
int lesson_written_region(struct probe *pr, const char *kind, long pages)
{
	TRY(map_region(pr, kind, pages));
	return cmd(pr, PARENT, "write 0 %ld", pages) < 0 ? -1 : 0;
}

int lesson_fork_child(struct probe *pr, int parent, int child, const char *name)
{
	pr->forked[parent] = pr->forked[child] = true;
	return puppet_fork(pr->pup, parent, child, name, pr->err, sizeof(pr->err));
}

/* A figure of the step just taken, for the lesson's checks and prose. */
long long area(struct probe *pr, int who, int col)
{
	return pr->view[who].area[0][col];
}

bool known(long long v)
{
	return v != NA;
}

/* Its change since the step before that showed @who; NA when either is missing. */
static long long change(long long now, long long before)
{
	return now == NA || before == NA ? NA : now - before;
}

static long long area_change(struct probe *pr, int who, int col)
{
	return pr->have_prev[who] ? change(area(pr, who, col), pr->prev[who].area[0][col]) : NA;
}

/* The change of an event inside the region. */
long long region_change(struct probe *pr, int who, int col)
{
	if (!pr->have_prev[who])
		return NA;
	return change(pr->view[who].region_event[col], pr->prev[who].region_event[col]);
}

/* "1 page", "64 pages": a count and its noun (rotating buffers, 4 at a time). */
const char *count_of(long long n, const char *one, const char *many)
{
	static char buf[4][48];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%lld %s", n, n == 1 ? one : many);
	return b;
}

const char *pages_of(long long n)
{
	return count_of(n, "page", "pages");
}

/* A figure equals @want, or is missing (no module, not root): nothing to check. */
bool eq(long long v, long long want)
{
	return v == NA || v == want;
}

/* A check of a number the kernel fixes; a failure fails the lesson. */
void expect(struct probe *pr, bool ok, const char *what)
{
	if (!ok)
		report_unexpected(pr, what);
}

/* @parent reaps a child: its wait status, checked and told. */
long reap(struct probe *pr, int parent)
{
	long status = cmd(pr, parent, "wait");

	TRY(status);
	if (WIFEXITED(status))
		report_note(pr, "The parent reaped the child: exit status %d (WIFEXITED).",
			    (int)WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		report_note(pr, "The parent reaped the child: killed by signal %d (WIFSIGNALED).",
			    (int)WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		report_unexpected(pr, "the child did not exit with status 0");
	return status;
}

/* The frames' change, told when there is one to tell. */
void frames_note(struct probe *pr)
{
	long long d = change(pr->cur.frames, pr->cur.frames_before);

	if (!known(d))
		return;
	if (d > 0)
		report_note(pr, "%lld more %s of memory now %s the region (frames %+lld, %+lld KiB).",
			    d, d == 1 ? "frame" : "frames", d == 1 ? "holds" : "hold", d, d * 4);
	else if (d < 0)
		report_note(pr, "%s of memory %s freed (frames %lld, %+lld KiB).",
			    count_of(-d, "frame", "frames"), d == -1 ? "was" : "were", d, d * 4);
	else
		report_note(pr, "As many frames hold the region as before (frames %lld).",
			    pr->cur.frames);
}

static const char *const two[] = { "parent", "child" };
static const int P[] = { PARENT }, PC[] = { PARENT, CHILD };

/* ---- split ---- */

static void split_forked(struct probe *pr, long n)
{
	long long sh = area(pr, CHILD, R_SHARED), cow = area(pr, CHILD, R_COW);

	if (!known(sh)) {
		report_note(pr, "fork() copied the page tables, not the pages: the map shows the "
			    "region's pages mapped more than once (S), in both processes.");
		return;
	}
	report_note(pr, "fork() copied the page tables, not the pages: parent and child map the "
		    "same %s ('shared' %lld in both; map count 2), and no page of the region was "
		    "copied (frames %lld).", pages_of(n), sh, pr->cur.frames);
	if (known(cow))
		report_note(pr, "Every entry is write-protected now, in both: the next write to "
			    "any of these pages, by either process, faults and copies it ('cow' %lld).",
			    cow);
}

static void split_child_wrote(struct probe *pr, long k)
{
	long long copies = region_change(pr, CHILD, E_COPIES);
	long long fell = area_change(pr, PARENT, R_SHARED);

	if (!k) {
		report_note(pr, "The child wrote nothing (-k 0): no page changed.");
		return;
	}
	if (known(copies))
		report_note(pr, "Each of the child's %s faulted, and the kernel copied that page "
			    "for the child (copies %+lld in the region).",
			    count_of(k, "write", "writes"), copies);
	if (known(fell))
		report_note(pr, "'shared' fell by %lld in both: the child's copies are its own%s; "
			    "the parent's originals are mapped once again.", -fell,
			    pr->pagemap_fd >= 0 ? " and writable (w)" : "");
	if (known(area(pr, PARENT, R_REUSABLE)))
		report_note(pr, "The parent's originals are still write-protected (r): its next "
			    "write to each will fault and keep the page in place ('reusable' %lld).",
			    area(pr, PARENT, R_REUSABLE));
	frames_note(pr);
}

static void split_parent_wrote(struct probe *pr, long k)
{
	long long reuses = region_change(pr, PARENT, E_REUSES);
	long long copies = region_change(pr, PARENT, E_COPIES);

	if (!k) {
		report_note(pr, "The parent wrote nothing (-k 0): no page changed.");
		return;
	}
	if (known(reuses) && known(copies))
		report_note(pr, "Those pages were the parent's alone, yet write-protected: each "
			    "of its %s faulted (fork had write-protected them), and the kernel "
			    "reused the page in place "
			    "(reuses %+lld, copies %+lld in the region; 'reusable' %lld).",
			    count_of(k, "write", "writes"), reuses, copies,
			    area(pr, PARENT, R_REUSABLE));
	else
		report_note(pr, "The parent's %s went to %s it alone maps: nothing was shared "
			    "to copy.", count_of(k, "write", "writes"), k == 1 ? "a page" : "pages");
	frames_note(pr);
}

static void split_child_gone(struct probe *pr)
{
	long long reusable = area(pr, PARENT, R_REUSABLE);

	if (known(area(pr, PARENT, R_PRIVATE)))
		report_note(pr, "With the child gone, every page it shared is mapped once again: "
			    "'private' %lld, 'shared' %lld, and nothing was copied for that.",
			    area(pr, PARENT, R_PRIVATE), area(pr, PARENT, R_SHARED));
	if (known(reusable) && reusable)
		report_note(pr, "The %s still write-protected since the fork %s 'reusable' (r): "
			    "the next write to each faults once and keeps its page.",
			    pages_of(reusable), reusable == 1 ? "is" : "are");
	frames_note(pr);
}

static int lesson_split(struct probe *pr)
{
	long n = pr->pages, k = pr->writes;
	char title[128];

	TRY(lesson_start(pr, 2, two));
	TRY(lesson_written_region(pr, "anon", n));
	snprintf(title, sizeof(title), "the parent maps %s and writes %s", pages_of(n),
		 n == 1 ? "it" : "each one");
	TRY(report_take(pr, title, P, 1));
	expect(pr, eq(area(pr, PARENT, R_PRIVATE), n), "the parent's pages are not all private");
	report_note(pr, "Every page of the region is the parent's own: %s mapped once ('private' "
		    "%lld)%s.", pages_of(n), area(pr, PARENT, R_PRIVATE),
		    pr->pagemap_fd >= 0 ? ", writable (w), so its next write makes no fault" : "");
	report_show(pr);

	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_take(pr, "fork()", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_SHARED), n) && eq(area(pr, CHILD, R_SHARED), n),
	       "the region is not shared whole after fork");
	expect(pr, eq(area(pr, PARENT, R_COW), n) && eq(area(pr, CHILD, R_COW), n),
	       "cow does not say that every write would copy");
	expect(pr, eq(region_change(pr, PARENT, E_COPIES), 0) &&
	       eq(pr->view[CHILD].region_event[E_COPIES], 0), "fork copied pages of the region");
	expect(pr, eq(pr->cur.frames, n), "fork changed the frames behind the region");
	split_forked(pr, n);
	report_show(pr);

	if (k == n)
		snprintf(title, sizeof(title), "the child writes %s", n == 1 ? "the region's page" :
			 "all its pages");
	else
		snprintf(title, sizeof(title), "the child writes %ld of the %s", k, pages_of(n));
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(report_take(pr, title, PC, 2));
	expect(pr, eq(area(pr, CHILD, R_PRIVATE), k) && eq(area(pr, PARENT, R_SHARED), n - k),
	       "the child's writes did not split exactly k pages");
	expect(pr, eq(region_change(pr, CHILD, E_COPIES), k) &&
	       eq(region_change(pr, CHILD, E_REUSES), 0), "the child's region copies are not k");
	expect(pr, eq(area(pr, PARENT, R_REUSABLE), k), "the parent's originals are not reusable");
	expect(pr, eq(pr->cur.frames, n + k), "the frames did not grow by k");
	split_child_wrote(pr, k);
	report_show(pr);

	snprintf(title, sizeof(title), "the parent writes the same %s", pages_of(k));
	TRY(cmd(pr, PARENT, "write 0 %ld", k));
	TRY(report_take(pr, title, PC, 2));
	expect(pr, eq(region_change(pr, PARENT, E_REUSES), k) &&
	       eq(region_change(pr, PARENT, E_COPIES), 0),
	       "the parent's writes were not k reuses without a copy");
	expect(pr, eq(pr->cur.frames, n + k), "the parent's reuses changed the frames");
	split_parent_wrote(pr, k);
	report_show(pr);

	TRY(cmd(pr, CHILD, "exit 0"));
	TRY(reap(pr, PARENT));
	pr->pup[CHILD].pid = 0;		/* reaped */
	TRY(report_take(pr, "the child exits, and the parent reaps it", P, 1));
	expect(pr, eq(area(pr, PARENT, R_SHARED), 0), "pages still shared after the child exited");
	expect(pr, eq(pr->cur.frames, n), "the child's copies were not freed");
	split_child_gone(pr);
	report_show(pr);
	return 0;
}

/* ---- segments ---- */

static int lesson_segments(struct probe *pr)
{
	static const char *const names[] = { "data", "bss", "heap", "stack" };
	long long shared[4];
	unsigned long addr[4];
	char text[128];
	int i;

	TRY(lesson_start(pr, 2, two));
	TRY(puppet_query(&pr->pup[PARENT], text, sizeof(text), pr->err, sizeof(pr->err),
			 "seg addr"));
	if (sscanf(text, "%lx %lx %lx %lx", &addr[0], &addr[1], &addr[2], &addr[3]) != 4) {
		snprintf(pr->err, sizeof(pr->err), "bad segment addresses '%s'", text);
		return -1;
	}
	pr->nareas = 4;
	for (i = 0; i < 4; i++) {
		pr->area_name[i] = names[i];
		pr->area_addr[i] = addr[i];
	}
	pr->region_pages = 0;	/* no page map: the areas are the program's own */

	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_take(pr, "fork(): parent and child share every segment", PC, 2));
	for (i = 0; i < 4; i++)
		shared[i] = pr->view[CHILD].area[i][R_SHARED];
	report_note(pr, "A global in data (1), one in bss (2), a heap value (3) and a local on the "
		    "stack (4), each in its own mapping.  The rows are whole mappings of the "
		    "program, not one region, and the events on the first row are the whole "
		    "process's.  Not every page is shared: those each process wrote since fork "
		    "returned (its stack, its data) are private already.");
	if (known(shared[0]) && known(pr->view[CHILD].area[0][R_COW]))
		report_note(pr, "In data, 'cow' (%lld) counts more than 'shared' (%lld): it counts "
			    "the program file's pages there too ('file' %lld), read but never "
			    "written, which a write would copy as well.",
			    pr->view[CHILD].area[0][R_COW], shared[0], pr->view[CHILD].area[0][R_FILE]);
	report_show(pr);

	TRY(cmd(pr, CHILD, "seg set 10"));
	for (i = 0; i < 2; i++) {
		long v[4];

		TRY(puppet_query(&pr->pup[i], text, sizeof(text), pr->err, sizeof(pr->err),
				 "seg get"));
		if (sscanf(text, "%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]) != 4) {
			snprintf(pr->err, sizeof(pr->err), "bad segment values '%s'", text);
			return -1;
		}
		report_note(pr, "The %s reads: data %ld, bss %ld, heap %ld, stack %ld.", two[i],
			    v[0], v[1], v[2], v[3]);
		expect(pr, v[0] == 1 + 10 * i && v[1] == 2 + 10 * i && v[2] == 3 + 10 * i &&
		       v[3] == 4 + 10 * i, "the values are not independent");
	}
	TRY(report_take(pr, "the child adds 10 to each of its four values", PC, 2));
	/* Each value is alone on its page: one page of each segment copied. */
	for (i = 0; i < 4; i++)
		expect(pr, shared[i] == NA || (pr->view[CHILD].area[i][R_SHARED] == shared[i] - 1 &&
					       pr->view[PARENT].area[i][R_SHARED] == shared[i] - 1),
		       "a write did not copy exactly its value's page");
	if (known(shared[0]))
		report_note(pr, "The child's values changed, the parent's did not: each write "
			    "copied the page holding the value ('shared' -1 in each segment, in "
			    "both), so the two processes' globals, heap and stack are independent "
			    "from now on.");
	else
		report_note(pr, "The child's values changed, the parent's did not: each write "
			    "copied the page holding the value, so the two processes' globals, "
			    "heap and stack are independent from now on.");
	report_show(pr);
	return 0;
}

/* ---- zero ---- */

static int lesson_zero(struct probe *pr)
{
	long n = pr->pages, k = pr->writes;
	char title[128];

	TRY(lesson_start(pr, 2, two));
	TRY(map_region(pr, "anon", n));
	TRY(cmd(pr, PARENT, "read 0 %ld", n));
	snprintf(title, sizeof(title), "the parent maps %s and only reads them", pages_of(n));
	TRY(report_take(pr, title, P, 1));
	expect(pr, eq(area(pr, PARENT, R_ZERO), n), "read pages do not map the zero page");
	expect(pr, eq(pr->cur.frames, 0), "reading allocated frames");
	if (known(area(pr, PARENT, R_ZERO)))
		report_note(pr, "Reading memory never written maps the kernel's zero page: %s of "
			    "one shared page ('zero' %lld), and not one frame of memory (frames "
			    "%lld).  A write to any of them would copy the zero page.",
			    count_of(n, "mapping", "mappings"), area(pr, PARENT, R_ZERO),
			    pr->cur.frames);
	else
		report_note(pr, "Reading memory never written maps the kernel's zero page (which "
			    "looks shared without root's frame numbers): no memory of its own.");
	report_show(pr);

	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_take(pr, "fork()", PC, 2));
	expect(pr, eq(area(pr, CHILD, R_RSS), 0) && eq(area(pr, CHILD, R_ZERO), 0),
	       "the child got the parent's zero-page mappings");
	report_note(pr, "fork() copies the page tables of a private mapping only if it holds "
		    "anonymous pages: this one holds none, so the child starts with nothing "
		    "mapped there and will fault its pages in.");
	report_show(pr);

	snprintf(title, sizeof(title), "the child writes %s", pages_of(k));
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(report_take(pr, title, PC, 2));
	expect(pr, eq(area(pr, CHILD, R_PRIVATE), k), "the child's writes did not give k pages");
	expect(pr, eq(region_change(pr, CHILD, E_COPIES), 0),
	       "the child's first writes were counted as copies");
	expect(pr, eq(pr->cur.frames, k), "the child's first writes did not take k frames");
	if (!k)
		report_note(pr, "The child wrote nothing (-k 0): no page changed.");
	else
		report_note(pr, "The child's first writes found nothing mapped: each allocated a "
			    "fresh zeroed page%s, a first touch, not a copy.",
			    known(region_change(pr, CHILD, E_COPIES)) ? " (copies +0 in the region)" : "");
	frames_note(pr);
	report_show(pr);

	snprintf(title, sizeof(title), "the parent writes %s", pages_of(k));
	TRY(cmd(pr, PARENT, "write 0 %ld", k));
	TRY(report_take(pr, title, PC, 2));
	expect(pr, eq(region_change(pr, PARENT, E_COPIES), k),
	       "the parent's writes to zero-page mappings were not k copies");
	expect(pr, eq(pr->cur.frames, 2 * k), "the parent's copies did not take k frames");
	if (!k)
		report_note(pr, "The parent wrote nothing (-k 0): no page changed.");
	else if (known(region_change(pr, PARENT, E_COPIES)))
		report_note(pr, "The parent's writes hit zero-page mappings: each is a "
			    "copy-on-write of the zero page (copies %+lld in the region, 'zero' "
			    "%+lld), its copy a zeroed page.", region_change(pr, PARENT, E_COPIES),
			    area_change(pr, PARENT, R_ZERO));
	else
		report_note(pr, "The parent's writes hit zero-page mappings: each is a "
			    "copy-on-write of the zero page, its copy a zeroed page.");
	frames_note(pr);
	report_show(pr);
	return 0;
}

/* ---- shared ---- */

static int lesson_shared(struct probe *pr)
{
	long n = pr->pages, k = pr->writes, v;
	char title[128];

	TRY(lesson_start(pr, 2, two));
	TRY(lesson_written_region(pr, "shared", n));
	snprintf(title, sizeof(title), "the parent maps %s MAP_SHARED and writes them",
		 pages_of(n));
	TRY(report_take(pr, title, P, 1));
	expect(pr, eq(area(pr, PARENT, R_FILE), n), "MAP_SHARED pages are not file pages");
	report_note(pr, "MAP_SHARED anonymous memory is shmem: a file that has no name, whose "
		    "pages the page cache holds.  So they count as 'file' (%lld), never as "
		    "'anon', and never in 'shared' or 'private', which sort anonymous pages by "
		    "map count: the 'shared' column stays 0 however many processes map them.",
		    area(pr, PARENT, R_FILE));
	report_show(pr);

	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_take(pr, "fork()", PC, 2));
	expect(pr, eq(area(pr, CHILD, R_RSS), 0), "fork copied the page tables of shared memory");
	expect(pr, eq(pr->cur.frames, n), "fork changed the frames of a shared mapping");
	report_note(pr, "fork() did not even copy the page tables here: the pages of a shared "
		    "mapping stay in the page cache, and the child faults them in from there when "
		    "it touches them.  The child maps none yet ('rss' %lld), and the frames are "
		    "the same %lld.", area(pr, CHILD, R_RSS), pr->cur.frames);
	report_show(pr);

	snprintf(title, sizeof(title), "the child writes %s, 7 into page 0", pages_of(k));
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(cmd(pr, CHILD, "poke 0 7"));
	v = cmd(pr, PARENT, "peek 0");
	TRY(v);
	report_note(pr, "The parent reads %ld at page 0.", v);
	TRY(report_take(pr, title, PC, 2));
	expect(pr, v == 7, "the parent does not see the child's write");
	expect(pr, eq(area(pr, CHILD, R_ANON), 0) && eq(area(pr, CHILD, R_FILE), k ? k : 1),
	       "the child's writes did not map exactly its pages of the shared mapping");
	expect(pr, eq(region_change(pr, CHILD, E_COPIES), 0), "a write to shared memory copied");
	expect(pr, eq(pr->cur.frames, n), "writes to shared memory changed the frames");
	report_note(pr, "Nothing was copied: both map the same pages, and the parent reads what "
		    "the child wrote.  Copy-on-write is for private mappings only.");
	frames_note(pr);
	report_show(pr);
	return 0;
}

/* ---- dontfork and wipeonfork ---- */

static int lesson_madvise(struct probe *pr, const char *advice)
{
	long n = pr->pages, v;
	char text[128];

	TRY(lesson_start(pr, 2, two));
	TRY(lesson_written_region(pr, "anon", n));
	TRY(cmd(pr, PARENT, "madvise %s", advice));
	snprintf(text, sizeof(text), "the parent writes %s, then madvise(MADV_%s)", pages_of(n),
		 !strcmp(advice, "dontfork") ? "DONTFORK" : "WIPEONFORK");
	TRY(report_take(pr, text, P, 1));
	report_note(pr, "madvise() changes nothing the map shows: it marks the mapping, and "
		    "fork() will read the mark.");
	report_show(pr);

	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-child"));
	v = puppet_cmd(&pr->pup[CHILD], pr->err, sizeof(pr->err), "peek 0");
	if (v < 0 && !strstr(pr->err, "SIGSEGV"))
		return -1;	/* the child did not answer at all */
	if (v < 0)
		report_note(pr, "The child reads page 0: SIGSEGV.");
	else
		report_note(pr, "The child reads page 0: %ld (the parent had written 1 there).", v);
	TRY(report_take(pr, "fork(), then the child reads the region", PC, 2));
	if (!strcmp(advice, "dontfork")) {
		expect(pr, v < 0 && pr->view[CHILD].pages == NULL,
		       "the child has the region that MADV_DONTFORK kept from it");
		report_note(pr, "The child has no such mapping at all (fork(2): mappings marked "
			    "MADV_DONTFORK are not inherited); reading there is a SIGSEGV.  The "
			    "parent's pages were never shared.");
	} else {
		expect(pr, v == 0 && eq(area(pr, CHILD, R_RSS), 0),
		       "the child's region is not empty after MADV_WIPEONFORK");
		report_note(pr, "The child has the mapping, but empty: MADV_WIPEONFORK gives the "
			    "child zero-filled memory there, and nothing was shared.  Its read of "
			    "page 0 mapped the zero page (0 in the map), which a write would copy.");
	}
	expect(pr, eq(pr->cur.frames, n), "the child's region took frames");
	report_show(pr);
	return 0;
}

static int lesson_dontfork(struct probe *pr)
{
	return lesson_madvise(pr, "dontfork");
}

static int lesson_wipeonfork(struct probe *pr)
{
	return lesson_madvise(pr, "wipeonfork");
}

/* ---- mlock ---- */

static long vmlck_kb(int pid)
{
	char path[64], line[128];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int lesson_mlock(struct probe *pr)
{
	long n = pr->pages, k = pr->writes, plck, clck;
	char title[128];

	TRY(lesson_start(pr, 2, two));
	TRY(lesson_written_region(pr, "anon", n));
	TRY(cmd(pr, PARENT, "mlock"));
	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-child"));
	plck = vmlck_kb(pr->pup[PARENT].pid);
	clck = vmlck_kb(pr->pup[CHILD].pid);
	TRY(report_take(pr, "the parent mlock()s the region, then fork()", PC, 2));
	expect(pr, clck == 0, "the child inherited memory locks");
	report_note(pr, "VmLck in /proc/PID/status: parent %ld kB, child %ld kB.  Memory locks "
		    "are not inherited (fork(2)): the child locks nothing.", plck, clck);
	report_show(pr);

	snprintf(title, sizeof(title), "the child writes %s", pages_of(k));
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(report_take(pr, title, PC, 2));
	expect(pr, eq(region_change(pr, CHILD, E_COPIES), k),
	       "writes to locked pages were not k copies");
	if (!k)
		report_note(pr, "The child wrote nothing (-k 0): no page changed.");
	else if (known(region_change(pr, CHILD, E_COPIES)))
		report_note(pr, "Locked or not, the pages were shared, and the child's writes "
			    "copied them (copies %+lld in the region): copy-on-write applies to "
			    "locked memory too.  The parent's originals are its own again, still "
			    "write-protected: its next write to each will keep it ('reusable' %lld).",
			    region_change(pr, CHILD, E_COPIES), area(pr, PARENT, R_REUSABLE));
	else
		report_note(pr, "Locked or not, the pages were shared, and the child's writes "
			    "copied them: copy-on-write applies to locked memory too.");
	frames_note(pr);
	report_show(pr);
	return 0;
}

/* ---- exec ---- */

static int lesson_exec(struct probe *pr)
{
	long n = pr->pages;

	TRY(lesson_start(pr, 2, two));
	TRY(lesson_written_region(pr, "anon", n));
	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_take(pr, "fork()", PC, 2));
	if (known(area(pr, CHILD, R_SHARED)))
		report_note(pr, "Parent and child share the region's %s ('shared' %lld), one "
			    "frame each (frames %lld).", pages_of(n), area(pr, CHILD, R_SHARED),
			    pr->cur.frames);
	report_show(pr);
	TRY(cmd(pr, CHILD, "exec"));
	pr->started[CHILD] = true;
	TRY(report_take(pr, "the child calls execve() (a fresh image of the program)", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_SHARED), 0) && pr->view[CHILD].pages == NULL,
	       "pages still shared after exec");
	expect(pr, eq(region_change(pr, PARENT, E_COPIES), 0), "exec copied pages of the region");
	report_note(pr, "execve() threw the child's address space away: the region is gone from "
		    "it, and the parent's pages are its own again%s, without a copy.",
		    known(area(pr, PARENT, R_REUSABLE)) ?
		    " ('reusable': still write-protected, each next write faults once and keeps "
		    "its page)" : "");
	report_note(pr, "Most children exec soon after fork: that is why Linux does not copy "
		    "memory at fork.  The child's events elsewhere are its new program's.");
	report_show(pr);
	return 0;
}

/* ---- vfork ---- */

static int lesson_vfork(struct probe *pr)
{
	long n = pr->pages;

	TRY(lesson_start(pr, 2, two));
	TRY(lesson_written_region(pr, "anon", n));
	TRY(report_take(pr, "the parent maps and writes the region", P, 1));
	report_note(pr, "The parent's own %s, mapped once (frames %lld).", pages_of(n),
		    pr->cur.frames);
	report_show(pr);
	pr->forked[PARENT] = pr->forked[CHILD] = true;
	TRY(puppet_vfork_start(pr->pup, PARENT, CHILD, pr->err, sizeof(pr->err)));
	pr->vfork_child = CHILD;	/* end_puppets() finishes the vfork if we fail */
	TRY(report_take(pr, "vfork(): the parent waits, the child runs in its memory", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_SHARED), 0) && eq(area(pr, CHILD, R_PRIVATE), n),
	       "vfork copied page tables");
	expect(pr, eq(pr->cur.frames, n), "vfork changed the frames");
	report_note(pr, "No page tables were copied: the child runs in the parent's own address "
		    "space, the same pages under the same page tables, so both rows show the "
		    "very same %s, each still mapped once ('shared' counts pages mapped by "
		    "more than one page table: 0), and the frames are the same %lld.",
		    pages_of(n), pr->cur.frames);
	report_show(pr);
	pr->vfork_child = 0;
	TRY(puppet_vfork_finish(pr->pup, PARENT, CHILD, pr->err, sizeof(pr->err)));
	pr->started[CHILD] = true;
	TRY(report_take(pr, "the child execs; the parent runs again", PC, 2));
	expect(pr, pr->view[CHILD].pages == NULL, "the child still maps the region after exec");
	report_note(pr, "After execve() the child has an address space of its own, without the "
		    "region; the parent's pages were never shared or copied.");
	report_show(pr);
	return 0;
}

/* ---- thp ---- */

/*
 * frames counts the frames the processes map.  A page of a huge page that
 * a copy replaced in every process is mapped by none, yet stays allocated
 * with the huge page until the kernel splits it: say how many.
 */
static void thp_unmapped_note(struct probe *pr, long long *unmapped)
{
	long long copies = 0, d = change(pr->cur.frames, pr->cur.frames_before);
	int k;

	for (k = 0; k < pr->cur.n; k++) {
		long long c = region_change(pr, pr->cur.who[k], E_COPIES);

		if (!known(c) || !known(d))
			return;
		copies += c;
	}
	*unmapped += copies - d;
	if (*unmapped > 0)
		report_note(pr, "frames counts the frames these processes map: %lld copies, %+lld "
			    "frames.  %s of the first huge page %s now mapped by no process, yet "
			    "%s allocated as part of it until the kernel splits the huge page (a "
			    "deferred split, when memory runs short).", copies, d,
			    count_of(*unmapped, "page", "pages"), *unmapped == 1 ? "is" : "are",
			    *unmapped == 1 ? "stays" : "stay");
}

static int lesson_thp(struct probe *pr)
{
	long n = 2 * THP_PAGES;
	long long reusable, copies, reuses, unmapped = 0;

	TRY(lesson_start(pr, 2, two));
	TRY(lesson_written_region(pr, "thp", n));
	TRY(report_take(pr, "the parent maps 4 MiB with MADV_HUGEPAGE and writes it", P, 1));
	if (pr->sizes_given)
		report_note(pr, "This lesson always maps two huge pages (4 MiB): -n and -k do not "
			    "apply to it.");
	if (!known(area(pr, PARENT, R_THP))) {
		report_note(pr, "Which pages are huge needs the module's 'thp' column.");
		report_show(pr);
		return 0;
	}
	if (area(pr, PARENT, R_THP) == 0) {
		report_note(pr, "The kernel gave no huge pages here (THP off, or no 2 MiB of free "
			    "contiguous memory): the rest of the lesson would show 4 KiB pages.");
		report_show(pr);
		return 0;
	}
	report_note(pr, "Two huge pages, each mapped by one PMD entry, a page-table entry one "
		    "level up that maps 2 MiB at once ('thp' %lld; W in the map: capitals "
		    "for a huge mapping).", area(pr, PARENT, R_THP));
	report_show(pr);
	/*
	 * The huge pages stay; khugepaged, which every 10 s may collapse
	 * pages the writes below made private back into a huge page (and so
	 * change the counts between two steps), now leaves the region alone.
	 */
	TRY(cmd(pr, PARENT, "madvise nohugepage"));
	TRY(lesson_fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_take(pr, "fork(): both map the two huge pages", PC, 2));
	report_note(pr, "fork() copied the two PMD entries: both processes map both huge pages "
		    "whole, shared (2 in the map).");
	report_show(pr);

	TRY(cmd(pr, CHILD, "write 0 1"));
	TRY(report_take(pr, "the child writes one byte", PC, 2));
	expect(pr, eq(area(pr, CHILD, R_THP), n - THP_PAGES) && eq(area(pr, CHILD, R_PRIVATE), 1),
	       "one write did not split one huge mapping and copy one page");
	expect(pr, eq(area(pr, PARENT, R_COW), n), "the parent's writes would not all copy");
	expect(pr, eq(region_change(pr, CHILD, E_COPIES), 1), "the child's write was not 1 copy");
	expect(pr, eq(pr->cur.frames, n + 1), "one write did not take one frame");
	report_note(pr, "The child's write did not copy 2 MiB: the kernel split the child's huge "
		    "mapping into 512 page-table entries ('thp' %+lld) and copied one 4 KiB page "
		    "(copies %+lld in the region, frames %+lld).", area_change(pr, CHILD, R_THP),
		    region_change(pr, CHILD, E_COPIES), change(pr->cur.frames, pr->cur.frames_before));
	report_note(pr, "The parent still maps both huge pages whole.  Its original of that page "
		    "is mapped once now (C: c in a huge mapping), yet its next write still copies "
		    "it: it is part of a huge page that is not the parent's alone.");
	report_show(pr);

	TRY(cmd(pr, PARENT, "write 0 %d", THP_PAGES));
	TRY(report_take(pr, "the parent writes the first huge page's 512 pages", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_THP), n - THP_PAGES),
	       "the parent's writes did not split its first huge mapping");
	expect(pr, eq(area(pr, CHILD, R_COW) + area(pr, CHILD, R_REUSABLE), n - 1),
	       "the child's pages are not all write-protected but the one it wrote");
	reusable = area(pr, CHILD, R_REUSABLE);
	report_note(pr, "The parent's first write split its huge mapping too, and each write "
		    "copied a page (copies %+lld in the region): the huge page was not the "
		    "parent's alone.  Now the child alone maps the 511 pages of it that it has "
		    "not written.  What its writes will do is a policy that changed over the "
		    "years, and cowstat asks the running kernel: 'reusable' %lld.",
		    region_change(pr, PARENT, E_COPIES), reusable);
	if (eq(reusable, THP_PAGES - 1))
		report_note(pr, "This kernel (6.15 and later) knows that one process maps the "
			    "whole huge page and that every reference to it is a mapping: each "
			    "write keeps its page in place (r).  6.9 to 6.14 copied every page of a "
			    "huge page once it had been shared; 6.1 to 6.8 all but the last.");
	else
		report_note(pr, "The child's 'cow' %lld counts them (c): these 511, and the %d pages "
			    "of the second huge page, still shared: as things stand, each next write "
			    "copies.  6.9 to 6.14 copy all 511; 6.1 to 6.8 copy all but the last, "
			    "which by then finds the child holding the huge page's only reference "
			    "and reuses it; 6.15 and later reuse all 511 in place.",
			    area(pr, CHILD, R_COW), THP_PAGES);
	frames_note(pr);
	thp_unmapped_note(pr, &unmapped);
	report_show(pr);

	TRY(cmd(pr, CHILD, "write 0 %d", THP_PAGES));
	TRY(report_take(pr, "the child writes the same 512 pages", PC, 2));
	expect(pr, eq(area(pr, CHILD, R_THP), n - THP_PAGES),
	       "the child's second huge mapping changed");
	copies = region_change(pr, CHILD, E_COPIES);
	reuses = region_change(pr, CHILD, E_REUSES);
	if (eq(reusable, THP_PAGES - 1))
		report_note(pr, "The child's 511 writes kept their pages (reuses %+lld, copies "
			    "%+lld in the region): no page changed frame.", reuses, copies);
	else if (eq(reuses, 1))
		report_note(pr, "The child's writes copied %lld pages (copies %+lld in the region); "
			    "the last one found the child holding the huge page's only reference "
			    "and reused it (reuses +1), as 6.1 to 6.8 do.  Page 0 was the child's "
			    "own already (w): its write made no fault.", copies, copies);
	else
		report_note(pr, "The child's writes copied their pages (copies %+lld, reuses %+lld "
			    "in the region).", copies, reuses);
	report_note(pr, "The second huge page is still mapped whole by both.");
	frames_note(pr);
	thp_unmapped_note(pr, &unmapped);
	report_show(pr);
	return 0;
}

/* ---- many ---- */

static int lesson_many(struct probe *pr)
{
	static const char *const roles[] = { "parent", "child1", "child2", "child3" };
	static const int all[] = { PARENT, CHILD, CHILD2, CHILD3 };
	long n = pr->pages, k = pr->writes;
	char title[128];

	TRY(lesson_start(pr, 4, roles));
	TRY(lesson_written_region(pr, "anon", n));
	TRY(lesson_fork_child(pr, PARENT, CHILD, "child1"));
	TRY(lesson_fork_child(pr, PARENT, CHILD2, "child2"));
	TRY(lesson_fork_child(pr, PARENT, CHILD3, "child3"));
	TRY(report_take(pr, "three fork()s: four processes map each page", all, 4));
	expect(pr, eq(pr->cur.frames, n), "forks changed the frames");
	report_note(pr, "Each page is mapped four times now (4 in the map), and the %s are "
		    "still one frame each (frames %lld).", pages_of(n), pr->cur.frames);
	report_show(pr);
	snprintf(title, sizeof(title), "child1 writes %s", pages_of(k));
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(report_take(pr, title, all, 4));
	expect(pr, eq(region_change(pr, CHILD, E_COPIES), k), "child1's copies are not k");
	expect(pr, eq(pr->cur.frames, n + k), "child1's copies did not take k frames");
	if (k)
		report_note(pr, "child1 copied its %s (w); the other three still share them, "
			    "mapped three times now (3).", pages_of(k));
	else
		report_note(pr, "child1 wrote nothing (-k 0): no page changed.");
	frames_note(pr);
	report_show(pr);
	snprintf(title, sizeof(title), "child2 and child3 write the same %s", pages_of(k));
	TRY(cmd(pr, CHILD2, "write 0 %ld", k));
	TRY(cmd(pr, CHILD3, "write 0 %ld", k));
	TRY(report_take(pr, title, all, 4));
	expect(pr, eq(area(pr, PARENT, R_PRIVATE), k), "the parent's pages are not its own again");
	expect(pr, eq(area(pr, PARENT, R_REUSABLE), k), "the parent's originals are not reusable");
	expect(pr, eq(region_change(pr, CHILD3, E_COPIES), k), "child3's copies are not k");
	expect(pr, eq(pr->cur.frames, n + 3 * k), "the frames are not n + 3k");
	if (k)
		report_note(pr, "child2 copied too; then child3's pages were shared with the "
			    "parent alone, and it copied them as well, leaving the parent's "
			    "originals mapped once: private, never copied for the parent, and "
			    "reusable (r): still write-protected, but the parent's next write will "
			    "keep each one.");
	else
		report_note(pr, "child2 and child3 wrote nothing (-k 0): no page changed.");
	frames_note(pr);
	report_show(pr);
	return 0;
}

const struct lesson lessons[] = {
	{ "split", "fork, the child writes k pages: they split; the parent reuses", lesson_split, NULL },
	{ "segments", "data, bss, heap and stack after fork: independent copies", lesson_segments, NULL },
	{ "zero", "memory read but never written: the zero page", lesson_zero, NULL },
	{ "shared", "MAP_SHARED memory is never copied", lesson_shared, NULL },
	{ "dontfork", "MADV_DONTFORK: the child does not get the region", lesson_dontfork, NULL },
	{ "wipeonfork", "MADV_WIPEONFORK: the child gets it empty", lesson_wipeonfork, NULL },
	{ "mlock", "locks are not inherited; COW still applies", lesson_mlock, NULL },
	{ "exec", "exec drops every shared page", lesson_exec, NULL },
	{ "vfork", "vfork: the child borrows the parent's memory", lesson_vfork, NULL },
	{ "thp", "a huge page after fork: split, copy 4 KiB", lesson_thp, NULL },
	{ "many", "one parent, three children: map counts and who copies", lesson_many, NULL },
	{ "snapshot", "a BGSAVE-like snapshot: the parent writes, memory grows", lesson_snapshot, NULL },
	{ "forkcost", "fork time as memory grows, with and without THP", lesson_forkcost, NULL },
	{ "faults", "the cost of each kind of write fault", lesson_faults, NULL },
	{ "redis", "Redis's BGSAVE under writes, and Redis's own CoW report", lesson_redis,
	  "/usr/bin/redis-server" },
	{ "prefork", "Python workers that only read: copies, with and without gc.freeze()",
	  lesson_prefork, "/usr/bin/python3" },
};
const int nr_lessons = sizeof(lessons) / sizeof(lessons[0]);
