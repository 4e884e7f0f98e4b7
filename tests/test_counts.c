// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exact page counts.  Every case drives puppets (exec'd processes that
 * share no anonymous memory with this program) and compares their rows
 * before and after one step, while they sleep between commands.  The
 * region's pages are the only pages that step touches, so the counts must
 * move by exactly the numbers below.
 */

#define _GNU_SOURCE
#include <unistd.h>

#include "cowtest.h"

#define N	1000	/* pages in a region */
#define K	100	/* pages the child writes */
#define THP_PAGES 512	/* base pages in a PMD-mapped THP on x86-64 */

enum { PARENT, CHILD };

/*
 * After fork both processes map the region's N pages, all shared; if fork
 * copied pages, or cowstat counted per process rather than per page, the
 * region would not account for exactly N shared (and cow) pages in each.
 * Unmapping it in both takes exactly those pages away.
 */
static enum ktap_result fork_shares_region(const char **skip)
{
	struct cowstat_row before[2], forked[2], unmapped[2];
	struct puppet p[2];
	int i;

	(void)skip;
	if (!spawn(p, 2, "t-fork"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map anon %d", N) || !pcmd(&p[PARENT], "write 0 %d", N) ||
	    !snapshot(p, 1, before))
		goto out;
	/* An exec'd process has no relatives to share anonymous pages with. */
	check(col(&before[0], "shared") == 0, "parent shares %lld pages before fork",
	      col(&before[0], "shared"));
	check(col(&before[0], "private") >= N, "parent has %lld private pages, expected >= %d",
	      col(&before[0], "private"), N);

	if (!pfork(p, PARENT, CHILD) || !snapshot(p, 2, forked))
		goto out;
	check_delta("parent", &before[0], &forked[PARENT], "anon", 0);
	check_delta("parent", &before[0], &forked[PARENT], "rss", 0);
	/* Only the two of them share: each shared page is shared by both. */
	check(col(&forked[PARENT], "shared") == col(&forked[CHILD], "shared"),
	      "parent shares %lld pages, child %lld", col(&forked[PARENT], "shared"),
	      col(&forked[CHILD], "shared"));
	check(col(&forked[CHILD], "ppid") == p[PARENT].pid, "child's ppid %lld, expected %d",
	      col(&forked[CHILD], "ppid"), (int)p[PARENT].pid);

	for (i = 0; i < 2; i++)
		if (!pcmd(&p[i], "unmap"))
			goto out;
	if (!snapshot(p, 2, unmapped))
		goto out;
	for (i = 0; i < 2; i++) {
		const char *who = i == PARENT ? "parent" : "child";

		check_delta(who, &unmapped[i], &forked[i], "shared", N);
		check_delta(who, &unmapped[i], &forked[i], "cow", N);
		check_delta(who, &unmapped[i], &forked[i], "anon", N);
		check_delta(who, &unmapped[i], &forked[i], "private", 0);
	}
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * The child writes K of the N shared pages: each write copies one page, so
 * the child's private count rises by exactly K and both shared counts fall
 * by K (the parent's originals are mapped once again), and the child's
 * copies rise by K.  Then the parent writes the same K pages: they are its
 * own now and are reused, K reuses and not one copy or page moved.
 * Writing K other pages copies them for the parent instead.
 *
 * Puppets warm up after fork (their own stacks and libc data are copied
 * then), so a step's events are the region's alone: exact.
 */

static enum ktap_result child_write_copies(const char **skip)
{
	static const char *const pages[] = {
		"rss", "anon", "shared", "private", "cow", "zero", "file",
	};
	struct cowstat_row s1[2], s2[2], s3[2], s4[2];
	struct puppet p[2];
	unsigned int c;
	int i;

	(void)skip;
	if (!spawn(p, 2, "t-write"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map anon %d", N) || !pcmd(&p[PARENT], "write 0 %d", N) ||
	    !pfork(p, PARENT, CHILD) || !snapshot(p, 2, s1))
		goto out;

	if (!pcmd(&p[CHILD], "write 0 %d", K) || !snapshot(p, 2, s2))
		goto out;
	for (i = 0; i < 2; i++) {
		const char *who = i == PARENT ? "parent" : "child";

		check_delta(who, &s1[i], &s2[i], "shared", -K);
		check_delta(who, &s1[i], &s2[i], "private", K);
		check_delta(who, &s1[i], &s2[i], "cow", -K);
		check_delta(who, &s1[i], &s2[i], "anon", 0);
		check_delta(who, &s1[i], &s2[i], "rss", 0);
		check_delta(who, &s1[i], &s2[i], "file", 0);
	}
	check_events("child", &s1[CHILD], &s2[CHILD], K, 0);
	check_events("parent", &s1[PARENT], &s2[PARENT], 0, 0);

	if (!pcmd(&p[PARENT], "write 0 %d", K) || !snapshot(p, 2, s3))
		goto out;
	for (c = 0; c < sizeof(pages) / sizeof(pages[0]); c++)
		check_delta("parent", &s2[PARENT], &s3[PARENT], pages[c], 0);
	check_events("parent", &s2[PARENT], &s3[PARENT], 0, K);
	check_delta("parent", &s2[PARENT], &s3[PARENT], "copies", 0);
	check_same("child", &s2[CHILD], &s3[CHILD]);

	if (!pcmd(&p[PARENT], "write %d %d", K, K) || !snapshot(p, 2, s4))
		goto out;
	for (i = 0; i < 2; i++) {
		const char *who = i == PARENT ? "parent" : "child";

		check_delta(who, &s3[i], &s4[i], "shared", -K);
		check_delta(who, &s3[i], &s4[i], "private", K);
	}
	check_events("parent", &s3[PARENT], &s4[PARENT], K, 0);
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * Reading anonymous memory that was never written maps the shared zero
 * page: N - 1 more zero mappings and not one more page.  (Page 0 is
 * written first: fork() copies the page tables of a private mapping only
 * once it has anonymous pages, and leaves the child to fault in the rest.)
 * The child inherits the zero mappings; its first write to K of them
 * allocates K fresh pages and shares nothing.
 */
static enum ktap_result zero_pages(const char **skip)
{
	struct cowstat_row mapped[1], read[1], forked[2], written[2];
	struct puppet p[2];

	(void)skip;
	if (!spawn(p, 2, "t-zero"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map anon %d", N) || !pcmd(&p[PARENT], "write 0 1") ||
	    !snapshot(p, 1, mapped) || !pcmd(&p[PARENT], "read 1 %d", N - 1) ||
	    !snapshot(p, 1, read))
		goto out;
	check_delta("parent", &mapped[0], &read[0], "zero", N - 1);
	check_delta("parent", &mapped[0], &read[0], "rss", 0);
	check_delta("parent", &mapped[0], &read[0], "anon", 0);

	if (!pfork(p, PARENT, CHILD) || !snapshot(p, 2, forked))
		goto out;
	check(col(&forked[CHILD], "zero") == col(&forked[PARENT], "zero"),
	      "child maps the zero page %lld times, parent %lld",
	      col(&forked[CHILD], "zero"), col(&forked[PARENT], "zero"));

	if (!pcmd(&p[CHILD], "write 1 %d", K) || !snapshot(p, 2, written))
		goto out;
	check_delta("child", &forked[CHILD], &written[CHILD], "zero", -K);
	check_delta("child", &forked[CHILD], &written[CHILD], "private", K);
	check_delta("child", &forked[CHILD], &written[CHILD], "anon", K);
	check_delta("child", &forked[CHILD], &written[CHILD], "shared", 0);
	/* Writing a zero-page mapping copies the zero page: K copies. */
	if (!uncounted(&written[CHILD], "copies"))
		check_delta("child", &forked[CHILD], &written[CHILD], "copies", K);
	check_same("parent", &forked[PARENT], &written[PARENT]);
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * Private file pages are copied on write too: a first write to a page not
 * mapped yet copies it from the page cache (do_cow_fault), a write to a
 * page mapped by an earlier read copies it from the mapping (do_wp_page).
 * Either way one copy each, and an anonymous page in the file mapping.
 */
static enum ktap_result file_write_copies(const char **skip)
{
	struct cowstat_row mapped[1], written[1], read[1], rewritten[1];
	struct puppet p[1];
	const int F = 16;

	(void)skip;
	if (!spawn(p, 1, "t-file"))
		return KTAP_FAIL;
	if (!pcmd(&p[0], "map file %d", 2 * F) || !snapshot(p, 1, mapped) ||
	    !pcmd(&p[0], "write 0 %d", F) || !snapshot(p, 1, written))
		goto out;
	if (!uncounted(&written[0], "copies"))
		check_delta("unmapped pages", &mapped[0], &written[0], "copies", F);
	check_delta("unmapped pages", &mapped[0], &written[0], "anon", F);
	if (!pcmd(&p[0], "read %d %d", F, F) || !snapshot(p, 1, read) ||
	    !pcmd(&p[0], "write %d %d", F, F) || !snapshot(p, 1, rewritten))
		goto out;
	if (!uncounted(&rewritten[0], "copies"))
		check_delta("mapped pages", &read[0], &rewritten[0], "copies", F);
	check_delta("mapped pages", &read[0], &rewritten[0], "anon", F);
	check_delta("mapped pages", &read[0], &rewritten[0], "file", -F);
out:
	finish(p, 1);
	return KTAP_PASS;
}

/*
 * MAP_SHARED anonymous memory is shmem: its pages count as file, never as
 * anon, and writes to it never copy.  fork() does not copy the page tables
 * of a shared mapping, so the child maps the pages when it touches them.
 */
static enum ktap_result shared_mapping_is_file(const char **skip)
{
	struct cowstat_row mapped[1], written[1], forked[2], child_wrote[2];
	struct puppet p[2];

	(void)skip;
	if (!spawn(p, 2, "t-shared"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map shared %d", N) || !snapshot(p, 1, mapped) ||
	    !pcmd(&p[PARENT], "write 0 %d", N) || !snapshot(p, 1, written))
		goto out;
	check_delta("parent", &mapped[0], &written[0], "file", N);
	check_delta("parent", &mapped[0], &written[0], "rss", N);
	check_delta("parent", &mapped[0], &written[0], "anon", 0);

	if (!pfork(p, PARENT, CHILD) || !snapshot(p, 2, forked) ||
	    !pcmd(&p[CHILD], "write 0 %d", N) || !snapshot(p, 2, child_wrote))
		goto out;
	check_delta("child", &forked[CHILD], &child_wrote[CHILD], "file", N);
	check_delta("child", &forked[CHILD], &child_wrote[CHILD], "anon", 0);
	check_delta("child", &forked[CHILD], &child_wrote[CHILD], "private", 0);
	check_same("parent", &forked[PARENT], &child_wrote[PARENT]);
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * Two PMD-mapped THPs count 512 each in thp.  fork() shares them whole;
 * the child's first write splits its PMD into 512 PTEs and copies one
 * 4 KiB page: its thp falls by 512, and one page each turns private.
 */
static enum ktap_result thp_counts(const char **skip)
{
	struct cowstat_row mapped[1], written[1], forked[2], split[2];
	struct puppet p[2];
	enum ktap_result r = KTAP_PASS;
	int i;

	if (!thp_enabled()) {
		*skip = "transparent huge pages are disabled";
		return KTAP_SKIP;
	}
	if (!spawn(p, 2, "t-thp"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map thp %d", 2 * THP_PAGES) || !snapshot(p, 1, mapped) ||
	    !pcmd(&p[PARENT], "write 0 %d", 2 * THP_PAGES) || !snapshot(p, 1, written))
		goto out;
	if (smaps_rollup_kb(p[PARENT].pid, "AnonHugePages") < 2 * THP_PAGES * 4) {
		*skip = "the kernel did not back the region with THPs";
		r = KTAP_SKIP;
		goto out;
	}
	check_delta("parent", &mapped[0], &written[0], "thp", 2 * THP_PAGES);
	check_delta("parent", &mapped[0], &written[0], "anon", 2 * THP_PAGES);
	check_delta("parent", &mapped[0], &written[0], "private", 2 * THP_PAGES);

	if (!pfork(p, PARENT, CHILD) || !snapshot(p, 2, forked))
		goto out;
	for (i = 0; i < 2; i++)
		check(col(&forked[i], "thp") == 2 * THP_PAGES, "%s: thp %lld after fork, expected %d",
		      i ? "child" : "parent", col(&forked[i], "thp"), 2 * THP_PAGES);

	if (!pcmd(&p[CHILD], "write 0 1") || !snapshot(p, 2, split))
		goto out;
	check_delta("child", &forked[CHILD], &split[CHILD], "thp", -THP_PAGES);
	check_delta("child", &forked[CHILD], &split[CHILD], "anon", 0);
	for (i = 0; i < 2; i++) {
		const char *who = i == PARENT ? "parent" : "child";

		check_delta(who, &forked[i], &split[i], "shared", -1);
		check_delta(who, &forked[i], &split[i], "private", 1);
	}
	check_delta("parent", &forked[PARENT], &split[PARENT], "thp", 0);
out:
	finish(p, 2);
	return r;
}

/* One quiescent puppet's row against the kernel's own smaps_rollup walk. */
static void check_against_smaps(const char *who, pid_t pid,
				const struct cowstat_row *row)
{
	static const struct { const char *col, *field; } pairs[] = {
		{ "rss", "Rss" },
		{ "anon", "Anonymous" },
		{ "thp", "AnonHugePages" },
		{ "swap", "Swap" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		long long kb = smaps_rollup_kb(pid, pairs[i].field);

		check(kb >= 0 && col(row, pairs[i].col) == kb / 4,
		      "%s: %s %lld pages, smaps_rollup %s %lld kB", who, pairs[i].col,
		      col(row, pairs[i].col), pairs[i].field, kb);
	}
}

/*
 * For processes whose memory is not changing, rss, anon, thp and swap are
 * the kernel's own Rss, Anonymous, AnonHugePages and Swap (KiB / 4): taken
 * here for anonymous, zero-page, shared and THP memory, before and after a
 * fork and a partial write.
 */
static enum ktap_result agrees_with_smaps_rollup(const char **skip)
{
	struct cowstat_row rows[2];
	struct puppet p[2];

	(void)skip;
	if (!spawn(p, 2, "t-smaps"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map %s %d", thp_enabled() ? "thp" : "anon", 4 * THP_PAGES) ||
	    !pcmd(&p[PARENT], "write 0 %d", 3 * THP_PAGES) ||
	    !pcmd(&p[PARENT], "read %d %d", 3 * THP_PAGES, THP_PAGES) || !snapshot(p, 1, rows))
		goto out;
	check_against_smaps("parent", p[PARENT].pid, &rows[PARENT]);

	if (!pfork(p, PARENT, CHILD) || !pcmd(&p[CHILD], "write 10 %d", K) ||
	    !snapshot(p, 2, rows))
		goto out;
	check_against_smaps("parent after fork", p[PARENT].pid, &rows[PARENT]);
	check_against_smaps("child", p[CHILD].pid, &rows[CHILD]);
out:
	finish(p, 2);
	return KTAP_PASS;
}

const struct test_case count_cases[] = {
	{ "fork_shares_region", fork_shares_region },
	{ "child_write_copies", child_write_copies },
	{ "zero_pages", zero_pages },
	{ "file_write_copies", file_write_copies },
	{ "shared_mapping_is_file", shared_mapping_is_file },
	{ "thp_counts", thp_counts },
	{ "agrees_with_smaps_rollup", agrees_with_smaps_rollup },
};
const int nr_count_cases = sizeof(count_cases) / sizeof(count_cases[0]);
