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

#define THP_PAGES	512

enum { PARENT, CHILD, CHILD2, CHILD3 };

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
static int start(struct probe *pr, int n, const char *const *roles)
{
	int i;

	TRY(puppet_spawn(pr->pup, n, "/proc/self/exe", "cow-parent", pr->err, sizeof(pr->err)));
	pr->npup = n;
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

/* Map the region in the parent and remember where it is. */
static int map_region(struct probe *pr, const char *kind, long pages)
{
	long addr;

	TRY(cmd(pr, PARENT, "map %s %ld", kind, pages));
	addr = cmd(pr, PARENT, "addr");
	TRY(addr);
	pr->area_addr[0] = (unsigned long)addr;
	pr->region_pages = pages;
	return 0;
}

/* Map the region and write every page: the parent's own memory, all private. */
static int written_region(struct probe *pr, const char *kind, long pages)
{
	TRY(map_region(pr, kind, pages));
	return cmd(pr, PARENT, "write 0 %ld", pages) < 0 ? -1 : 0;
}

static int fork_child(struct probe *pr, int parent, int child, const char *name)
{
	return puppet_fork(pr->pup, parent, child, name, pr->err, sizeof(pr->err));
}

/* A figure of the last step, for the lesson's own checks. */
static long long area(struct probe *pr, int who, int col)
{
	return pr->last[who].area[0][col];
}

static long long event(struct probe *pr, int who, int col)
{
	return pr->last[who].event[col];
}

/* A figure equals @want, or is missing (no module, not root): nothing to check. */
static bool eq(long long v, long long want)
{
	return v == NA || v == want;
}

/* A check of a number the kernel fixes; a failure fails the lesson. */
static void expect(struct probe *pr, bool ok, const char *what)
{
	if (!ok)
		report_unexpected(pr, what);
}

/*
 * An event count that must rise by @want: at most EXTRA more are allowed,
 * for a first write to a page of the puppet's own stack or libc data.
 */
#define EXTRA	2
static bool rose_by(long long before, long long after, long want)
{
	return before == NA || after == NA || (after - before >= want && after - before <= want + EXTRA);
}

/* @parent reaps a child: its wait status, checked and told. */
static long reap(struct probe *pr, int parent)
{
	long status = cmd(pr, parent, "wait");

	TRY(status);
	if (WIFEXITED(status))
		report_note(pr, "the parent reaped the child: exit status %d (WIFEXITED)",
			    (int)WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		report_note(pr, "the parent reaped the child: killed by signal %d (WIFSIGNALED)",
			    (int)WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		report_unexpected(pr, "the child did not exit with status 0");
	return status;
}

static const char *const two[] = { "parent", "child" };
static const int P[] = { PARENT }, PC[] = { PARENT, CHILD };

/* ---- split ---- */

static int lesson_split(struct probe *pr)
{
	long n = pr->pages, k = pr->writes;
	long long copies, reuses;
	char title[128];

	TRY(start(pr, 2, two));
	TRY(written_region(pr, "anon", n));
	snprintf(title, sizeof(title), "the parent maps %ld pages and writes each one", n);
	TRY(report_step(pr, title, P, 1));
	expect(pr, eq(area(pr, PARENT, R_PRIVATE), n), "the parent's pages are not all private");
	report_text(pr, "  Every page of the region is the parent's own: private.\n\n");

	TRY(fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_step(pr, "fork()", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_SHARED), n) && eq(area(pr, CHILD, R_SHARED), n),
	       "the region is not shared whole after fork");
	expect(pr, eq(area(pr, PARENT, R_COW), n) && eq(area(pr, CHILD, R_COW), n),
	       "cow does not say that every write would copy");
	report_text(pr, "  fork() copied the page tables, not the pages: parent and child map the\n"
		    "  same %ld pages, now shared and write-protected; 'cow' counts the pages\n"
		    "  whose next write copies them: every one.\n\n", n);

	copies = event(pr, CHILD, E_COPIES);
	snprintf(title, sizeof(title), "the child writes %ld of the %ld pages", k, n);
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(report_step(pr, title, PC, 2));
	expect(pr, eq(area(pr, CHILD, R_PRIVATE), k) && eq(area(pr, PARENT, R_SHARED), n - k),
	       "the child's writes did not split exactly k pages");
	expect(pr, rose_by(copies, event(pr, CHILD, E_COPIES), k),
	       "the child's copies did not rise by k");
	expect(pr, eq(area(pr, PARENT, R_REUSABLE), k), "the parent's originals are not reusable");
	report_text(pr, "  Each write faulted and the kernel copied that one page for the child:\n"
		    "  'shared' fell by %ld in both; the child's copies and the parent's\n"
		    "  originals, each mapped once now, count as 'private'.  The child's\n"
		    "  copies are writable; the parent's originals are still write-protected,\n"
		    "  but the parent's next write will keep them: 'reusable'.\n\n", k);

	copies = event(pr, PARENT, E_COPIES);
	reuses = event(pr, PARENT, E_REUSES);
	snprintf(title, sizeof(title), "the parent writes the same %ld pages", k);
	TRY(cmd(pr, PARENT, "write 0 %ld", k));
	TRY(report_step(pr, title, PC, 2));
	expect(pr, rose_by(reuses, event(pr, PARENT, E_REUSES), k) &&
	       rose_by(copies, event(pr, PARENT, E_COPIES), 0),
	       "the parent's writes were not k reuses without a copy");
	report_text(pr, "  Those pages were the parent's alone again, yet still write-protected:\n"
		    "  each write faulted once more, and the kernel reused the page in place\n"
		    "  ('reuses' +%ld, 'reusable' -%ld) instead of copying it.\n\n", k, k);

	TRY(cmd(pr, CHILD, "exit 0"));
	TRY(reap(pr, PARENT));
	pr->pup[CHILD].pid = 0;		/* reaped */
	TRY(report_step(pr, "the child exits, and the parent reaps it", P, 1));
	expect(pr, eq(area(pr, PARENT, R_SHARED), 0), "pages still shared after the child exited");
	report_text(pr, "  With the child gone, every page it shared is mapped once again:\n"
		    "  the parent's pages are all private, and nothing was copied for that.\n"
		    "  Those still write-protected are 'reusable': each next write faults\n"
		    "  once and keeps its page.\n");
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

	TRY(start(pr, 2, two));
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
	report_text(pr, "  As in the seed's example: a global in data (1), one in bss (2), a heap\n"
		    "  value (3) and a local on the stack (4), each in its own mapping.\n\n");

	TRY(fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_step(pr, "fork(): parent and child share every segment", PC, 2));
	for (i = 0; i < 4; i++)
		shared[i] = pr->last[CHILD].area[i][R_SHARED];
	report_text(pr, "  In data, 'cow' counts more than 'shared': it counts the program\n"
		    "  file's pages there too ('file'), read but never written, which a\n"
		    "  write would copy as well.\n\n");

	TRY(cmd(pr, CHILD, "seg set 10"));
	for (i = 0; i < 2; i++) {
		long v[4];

		TRY(puppet_query(&pr->pup[i], text, sizeof(text), pr->err, sizeof(pr->err),
				 "seg get"));
		if (sscanf(text, "%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]) != 4) {
			snprintf(pr->err, sizeof(pr->err), "bad segment values '%s'", text);
			return -1;
		}
		report_note(pr, "%-6s: data %ld, bss %ld, heap %ld, stack %ld", two[i], v[0], v[1],
			    v[2], v[3]);
		expect(pr, v[0] == 1 + 10 * i && v[1] == 2 + 10 * i && v[2] == 3 + 10 * i &&
		       v[3] == 4 + 10 * i, "the values are not independent");
	}
	TRY(report_step(pr, "the child adds 10 to each of its four values", PC, 2));
	/* Each value is alone on its page: one page of each segment copied. */
	for (i = 0; i < 4; i++)
		expect(pr, shared[i] == NA || (pr->last[CHILD].area[i][R_SHARED] == shared[i] - 1 &&
					       pr->last[PARENT].area[i][R_SHARED] == shared[i] - 1),
		       "a write did not copy exactly its value's page");
	report_text(pr, "  The child's values changed, the parent's did not: each write copied\n"
		    "  the page holding the value (its 'private' rose, 'shared' fell), so the\n"
		    "  two processes' globals, heap and stack are independent from now on.\n");
	return 0;
}

/* ---- zero ---- */

static int lesson_zero(struct probe *pr)
{
	long n = pr->pages, k = pr->writes;
	long long copies;
	char title[128];

	TRY(start(pr, 2, two));
	TRY(map_region(pr, "anon", n));
	TRY(cmd(pr, PARENT, "read 0 %ld", n));
	snprintf(title, sizeof(title), "the parent maps %ld pages and only reads them", n);
	TRY(report_step(pr, title, P, 1));
	expect(pr, eq(area(pr, PARENT, R_ZERO), n) || eq(area(pr, PARENT, R_ZERO), NA),
	       "read pages do not map the zero page");
	report_text(pr, "  Reading memory never written maps the kernel's zero page: %ld mappings\n"
		    "  of one shared page, and not one page of memory ('rss' did not grow).\n"
		    "  A write to any of them would copy the zero page: 'cow' counts them.\n\n", n);

	TRY(fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_step(pr, "fork()", PC, 2));
	report_text(pr, "  fork() copies the page tables of a private mapping only once it holds\n"
		    "  anonymous pages: this one holds none, so the child starts with nothing\n"
		    "  mapped there and will fault its pages in.\n\n");

	copies = event(pr, CHILD, E_COPIES);
	snprintf(title, sizeof(title), "the child writes %ld pages", k);
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(report_step(pr, title, PC, 2));
	expect(pr, eq(area(pr, CHILD, R_PRIVATE), k), "the child's writes did not give k pages");
	expect(pr, rose_by(copies, event(pr, CHILD, E_COPIES), 0),
	       "the child's first writes were counted as copies");
	report_text(pr, "  The child's first writes allocated %ld fresh zeroed pages: no copy.\n\n", k);

	copies = event(pr, PARENT, E_COPIES);
	snprintf(title, sizeof(title), "the parent writes %ld pages", k);
	TRY(cmd(pr, PARENT, "write 0 %ld", k));
	TRY(report_step(pr, title, PC, 2));
	expect(pr, rose_by(copies, event(pr, PARENT, E_COPIES), k),
	       "the parent's writes to zero-page mappings were not k copies");
	report_text(pr, "  The parent's writes hit zero-page mappings: each is a copy-on-write of\n"
		    "  the zero page ('copies' +%ld, 'zero' -%ld), its copy a zeroed page.\n", k, k);
	return 0;
}

/* ---- shared ---- */

static int lesson_shared(struct probe *pr)
{
	long n = pr->pages, k = pr->writes, v;
	char title[128];

	TRY(start(pr, 2, two));
	TRY(written_region(pr, "shared", n));
	snprintf(title, sizeof(title), "the parent maps %ld pages MAP_SHARED and writes them", n);
	TRY(report_step(pr, title, P, 1));
	report_text(pr, "  MAP_SHARED anonymous memory is shmem: 'file' pages, never 'anon'.\n\n");

	TRY(fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_step(pr, "fork()", PC, 2));

	snprintf(title, sizeof(title), "the child writes 7 into %ld pages", k);
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(cmd(pr, CHILD, "poke 0 7"));
	v = cmd(pr, PARENT, "peek 0");
	TRY(v);
	report_note(pr, "the parent reads %ld at page 0", v);
	TRY(report_step(pr, title, PC, 2));
	expect(pr, v == 7, "the parent does not see the child's write");
	expect(pr, eq(area(pr, CHILD, R_ANON), 0) || eq(area(pr, CHILD, R_ANON), NA),
	       "a shared mapping got anonymous pages");
	report_text(pr, "  Nothing was copied: both map the same pages, and the parent reads what\n"
		    "  the child wrote.  Copy-on-write is for private mappings only.\n");
	return 0;
}

/* ---- dontfork and wipeonfork ---- */

static int lesson_madvise(struct probe *pr, const char *advice)
{
	long n = pr->pages, v;
	char text[128];

	TRY(start(pr, 2, two));
	TRY(written_region(pr, "anon", n));
	TRY(cmd(pr, PARENT, "madvise %s", advice));
	snprintf(text, sizeof(text), "the parent writes %ld pages, then madvise(MADV_%s)", n,
		 !strcmp(advice, "dontfork") ? "DONTFORK" : "WIPEONFORK");
	TRY(report_step(pr, text, P, 1));

	TRY(fork_child(pr, PARENT, CHILD, "cow-child"));
	v = puppet_cmd(&pr->pup[CHILD], pr->err, sizeof(pr->err), "peek 0");
	if (v < 0 && !strstr(pr->err, "SIGSEGV"))
		return -1;	/* the child did not answer at all */
	if (v < 0)
		report_note(pr, "the child reads page 0: SIGSEGV");
	else
		report_note(pr, "the child reads page 0: %ld (the parent wrote 1)", v);
	TRY(report_step(pr, "fork(), then the child reads the region", PC, 2));
	if (!strcmp(advice, "dontfork")) {
		expect(pr, v < 0 && eq(area(pr, CHILD, R_RSS), NA),
		       "the child has the region that MADV_DONTFORK kept from it");
		report_text(pr, "  The child has no such mapping at all (fork(2): mappings marked\n"
			    "  MADV_DONTFORK are not inherited); reading there is a SIGSEGV.  The\n"
			    "  parent's pages were never shared.\n");
	} else {
		expect(pr, v == 0 && eq(area(pr, CHILD, R_RSS), 0),
		       "the child's region is not empty after MADV_WIPEONFORK");
		report_text(pr, "  The child has the mapping, but empty: MADV_WIPEONFORK gives the\n"
			    "  child zero-filled memory there, and nothing was shared.  Its read\n"
			    "  of page 0 mapped the zero page ('zero' 1), which a write would copy\n"
			    "  ('cow' 1).\n");
	}
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
	long n = pr->pages, k = pr->writes;
	long long copies;
	char title[128];

	TRY(start(pr, 2, two));
	TRY(written_region(pr, "anon", n));
	TRY(cmd(pr, PARENT, "mlock"));
	TRY(fork_child(pr, PARENT, CHILD, "cow-child"));
	report_note(pr, "VmLck: parent %ld kB, child %ld kB", vmlck_kb(pr->pup[PARENT].pid),
		    vmlck_kb(pr->pup[CHILD].pid));
	expect(pr, vmlck_kb(pr->pup[CHILD].pid) == 0, "the child inherited memory locks");
	TRY(report_step(pr, "the parent mlock()s the region, then fork()", PC, 2));
	report_text(pr, "  Memory locks are not inherited (fork(2)): the child locks nothing.\n\n");

	copies = event(pr, CHILD, E_COPIES);
	snprintf(title, sizeof(title), "the child writes %ld pages", k);
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(report_step(pr, title, PC, 2));
	expect(pr, rose_by(copies, event(pr, CHILD, E_COPIES), k),
	       "writes to locked pages were not k copies");
	report_text(pr, "  Locked or not, the pages were shared, and the child's writes copied\n"
		    "  them ('copies' +%ld): copy-on-write applies to locked memory too.  The\n"
		    "  parent's originals are its own again, still write-protected: its next\n"
		    "  write to each will keep it ('reusable' +%ld).\n", k, k);
	return 0;
}

/* ---- exec ---- */

static int lesson_exec(struct probe *pr)
{
	long n = pr->pages;

	TRY(start(pr, 2, two));
	TRY(written_region(pr, "anon", n));
	TRY(fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_step(pr, "fork()", PC, 2));
	TRY(cmd(pr, CHILD, "exec"));
	TRY(report_step(pr, "the child calls execve() (a fresh image of the program)", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_SHARED), 0) && eq(area(pr, CHILD, R_RSS), NA),
	       "pages still shared after exec");
	report_text(pr, "  execve() threw the child's address space away: the region is gone\n"
		    "  from it, the parent's pages are all private again ('reusable': still\n"
		    "  write-protected, each next write faults once and keeps its page), and\n"
		    "  none was ever copied.  Most children exec soon after fork: that is why\n"
		    "  Linux does not copy memory at fork.\n");
	return 0;
}

/* ---- vfork ---- */

static int lesson_vfork(struct probe *pr)
{
	long n = pr->pages;

	TRY(start(pr, 2, two));
	TRY(written_region(pr, "anon", n));
	TRY(report_step(pr, "the parent maps and writes the region", P, 1));
	TRY(puppet_vfork_start(pr->pup, PARENT, CHILD, pr->err, sizeof(pr->err)));
	pr->vfork_child = CHILD;	/* end_puppets() finishes the vfork if we fail */
	TRY(report_step(pr, "vfork(): the parent waits, the child runs in its memory", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_SHARED), 0) && eq(area(pr, CHILD, R_PRIVATE), n),
	       "vfork copied page tables");
	report_text(pr, "  No page tables were copied, nothing is shared: the child runs in the\n"
		    "  parent's own address space, so both rows show the very same pages,\n"
		    "  each mapped once.\n\n");
	pr->vfork_child = 0;
	TRY(puppet_vfork_finish(pr->pup, PARENT, CHILD, pr->err, sizeof(pr->err)));
	TRY(report_step(pr, "the child execs; the parent runs again", PC, 2));
	report_text(pr, "  After execve() the child has an address space of its own; the\n"
		    "  parent's pages were never shared or copied.\n");
	return 0;
}

/* ---- thp ---- */

static int lesson_thp(struct probe *pr)
{
	long n = 2 * THP_PAGES;
	long long reusable, copies, reuses;

	TRY(start(pr, 2, two));
	TRY(written_region(pr, "thp", n));
	TRY(report_step(pr, "the parent maps 4 MiB with MADV_HUGEPAGE and writes it", P, 1));
	if (eq(area(pr, PARENT, R_THP), NA)) {
		report_text(pr, "  Which pages are huge needs the module's 'thp' column.\n");
		return 0;
	}
	if (eq(area(pr, PARENT, R_THP), 0)) {
		report_text(pr, "  The kernel gave no huge pages here (THP off, or no 2 MiB of free\n"
			    "  contiguous memory): the rest of the lesson would show 4 KiB pages.\n");
		return 0;
	}
	/*
	 * The huge pages stay; khugepaged, which every 10 s may collapse
	 * pages the writes below made private back into a huge page (and so
	 * change the counts between two steps), now leaves the region alone.
	 */
	TRY(cmd(pr, PARENT, "madvise nohugepage"));
	TRY(fork_child(pr, PARENT, CHILD, "cow-child"));
	TRY(report_step(pr, "fork(): both map the two huge pages", PC, 2));
	TRY(cmd(pr, CHILD, "write 0 1"));
	TRY(report_step(pr, "the child writes one byte", PC, 2));
	expect(pr, eq(area(pr, CHILD, R_THP), n - THP_PAGES) && eq(area(pr, CHILD, R_PRIVATE), 1),
	       "one write did not split one huge mapping and copy one page");
	expect(pr, eq(area(pr, PARENT, R_COW), n), "the parent's writes would not all copy");
	report_text(pr, "  The child's write did not copy 2 MiB: the kernel split the child's\n"
		    "  huge mapping into 512 page-table entries ('thp' -512) and copied one\n"
		    "  4 KiB page.  The parent still maps both huge pages whole.  Its copy of\n"
		    "  that page is mapped once now ('private' +1), yet 'cow' still counts\n"
		    "  it: it is part of a huge page that is not the parent's alone, and a\n"
		    "  write to any of its pages splits it and copies that page.\n\n");

	TRY(cmd(pr, PARENT, "write 0 %d", THP_PAGES));
	TRY(report_step(pr, "the parent writes the first huge page's 512 pages", PC, 2));
	expect(pr, eq(area(pr, PARENT, R_THP), n - THP_PAGES),
	       "the parent's writes did not split its first huge mapping");
	expect(pr, eq(area(pr, CHILD, R_COW) + area(pr, CHILD, R_REUSABLE), n - 1),
	       "the child's pages are not all write-protected but the one it wrote");
	reusable = area(pr, CHILD, R_REUSABLE);
	report_text(pr, "  The parent's first write split its huge mapping too, and each write\n"
		    "  copied a page: the huge page was not the parent's alone.  Now the child\n"
		    "  alone maps the 511 pages of it that it has not written.  What its\n"
		    "  writes will do is a policy that changed over the years, and the\n"
		    "  module asks this kernel's: 'reusable' %lld.\n", reusable);
	if (eq(reusable, THP_PAGES - 1))
		report_text(pr, "  This kernel (6.15 and later) knows that one process maps the whole\n"
			    "  huge page and that every reference to it is a mapping: each write\n"
			    "  keeps its page in place ('reusable' 511).  6.9 to 6.14 copied every\n"
			    "  page of a huge page once it had been shared; 6.1 copied all but the\n"
			    "  last, which it reused once the child held the only reference.\n\n");
	else
		report_text(pr, "  The child's 'cow' %lld counts them: these 511, and the %d pages of\n"
			    "  the second huge page, still shared.  6.9 to 6.14 copy all 511;\n"
			    "  6.1 copies all but the last, which it reuses once the child holds the\n"
			    "  only reference; 6.15 and later reuse all 511 in place, since they know\n"
			    "  that one process maps the whole huge page.\n\n",
			    area(pr, CHILD, R_COW), THP_PAGES);
	copies = event(pr, CHILD, E_COPIES);
	reuses = event(pr, CHILD, E_REUSES);
	TRY(cmd(pr, CHILD, "write 0 %d", THP_PAGES));
	TRY(report_step(pr, "the child writes the same 512 pages", PC, 2));
	expect(pr, eq(area(pr, CHILD, R_THP), n - THP_PAGES),
	       "the child's second huge mapping changed");
	copies = event(pr, CHILD, E_COPIES) - copies;
	reuses = event(pr, CHILD, E_REUSES) - reuses;
	if (eq(reusable, THP_PAGES - 1))
		report_text(pr, "  The child's 511 writes kept their pages ('reuses' +%lld, 'copies'\n"
			    "  +%lld): no page changed frame.", reuses, copies);
	else if (eq(reuses, 1))
		report_text(pr, "  The child's writes copied %lld pages ('copies' +%lld); the last one\n"
			    "  found the child holding the huge page's only reference and reused it\n"
			    "  ('reuses' +1), as 6.1 to 6.8 do.", copies, copies);
	else
		report_text(pr, "  The child's writes copied their pages ('copies' +%lld, 'reuses'\n"
			    "  +%lld).", copies, reuses);
	report_text(pr, "\n  The second huge page is still mapped whole by both.\n");
	return 0;
}

/* ---- many ---- */

static int lesson_many(struct probe *pr)
{
	static const char *const roles[] = { "parent", "child1", "child2", "child3" };
	static const int all[] = { PARENT, CHILD, CHILD2, CHILD3 };
	long n = pr->pages, k = pr->writes;
	char title[128];

	TRY(start(pr, 4, roles));
	TRY(written_region(pr, "anon", n));
	TRY(fork_child(pr, PARENT, CHILD, "child1"));
	TRY(fork_child(pr, PARENT, CHILD2, "child2"));
	TRY(fork_child(pr, PARENT, CHILD3, "child3"));
	TRY(report_step(pr, "three fork()s: four processes map each page", all, 4));
	report_text(pr, "  Each page is mapped four times now (the page map shows map counts).\n\n");
	snprintf(title, sizeof(title), "child1 writes %ld pages", k);
	TRY(cmd(pr, CHILD, "write 0 %ld", k));
	TRY(report_step(pr, title, all, 4));
	report_text(pr, "  child1 copied its %ld pages; the others still share them, three times.\n\n",
		    k);
	snprintf(title, sizeof(title), "child2 and child3 write the same %ld pages", k);
	TRY(cmd(pr, CHILD2, "write 0 %ld", k));
	TRY(cmd(pr, CHILD3, "write 0 %ld", k));
	TRY(report_step(pr, title, all, 4));
	expect(pr, eq(area(pr, PARENT, R_PRIVATE), k), "the parent's pages are not its own again");
	expect(pr, eq(area(pr, PARENT, R_REUSABLE), k), "the parent's originals are not reusable");
	report_text(pr, "  child2 copied too; then child3's pages were shared with the parent\n"
		    "  alone and it copied them as well, leaving the parent's originals mapped\n"
		    "  once: private, never copied for the parent, and 'reusable': still\n"
		    "  write-protected, but the parent's next write will keep each one.\n");
	return 0;
}

/* ---- forkcost ---- */

static int lesson_forkcost(struct probe *pr)
{
	static const char *const keys[] = { "mib", "thp", "fork_ns", "ns_per_page" };
	long max_mib = pr->pages / 256, mib;
	int thp;

	report_text(pr, "  fork() time as the parent's memory grows (best of 5 forks each);\n"
		    "  ns is the guest clock (guest instructions in the benchmark VM)\n"
		    "  %-14s %12s %12s %12s %12s\n", "", "MiB", "thp", "fork_ns", "ns_per_page");
	for (thp = 0; thp < 2; thp++) {
		for (mib = 1; mib <= max_mib; mib *= 4) {
			double vals[4];
			long ns;

			TRY(start(pr, 1, two));
			TRY(written_region(pr, thp ? "thp" : "anon", mib * 256));
			ns = cmd(pr, PARENT, "forktime 5");
			TRY(ns);
			puppet_cmd(&pr->pup[PARENT], pr->err, sizeof(pr->err), "exit 0");
			puppet_release(pr->pup, 1);
			waitpid(pr->pup[PARENT].pid, NULL, 0);
			vals[0] = mib;
			vals[1] = thp;
			vals[2] = ns;
			vals[3] = (double)ns / (mib * 256);
			report_record(pr, thp ? "fork-thp" : "fork", 4, keys, vals);
		}
	}
	pr->npup = 0;
	report_text(pr, "\n  fork() copies page tables, not pages: its cost grows with the memory\n"
		    "  mapped, a few ns a page, and far less with huge pages (one entry per\n"
		    "  2 MiB), while every page stays shared.  fork(2), NOTES.\n");
	return 0;
}

const struct lesson lessons[] = {
	{ "split", "fork, the child writes k pages: they split; the parent reuses", lesson_split },
	{ "segments", "data, bss, heap and stack after fork: independent copies", lesson_segments },
	{ "zero", "memory read but never written: the zero page", lesson_zero },
	{ "shared", "MAP_SHARED memory is never copied", lesson_shared },
	{ "dontfork", "MADV_DONTFORK: the child does not get the region", lesson_dontfork },
	{ "wipeonfork", "MADV_WIPEONFORK: the child gets it empty", lesson_wipeonfork },
	{ "mlock", "locks are not inherited; COW still applies", lesson_mlock },
	{ "exec", "exec drops every shared page", lesson_exec },
	{ "vfork", "vfork: the child borrows the parent's memory", lesson_vfork },
	{ "thp", "a huge page after fork: split, copy 4 KiB", lesson_thp },
	{ "many", "one parent, three children: map counts and who copies", lesson_many },
	{ "forkcost", "fork time as memory grows, with and without THP", lesson_forkcost },
	{ "faults", "the cost of each kind of write fault", lesson_faults },
};
const int nr_lessons = sizeof(lessons) / sizeof(lessons[0]);
