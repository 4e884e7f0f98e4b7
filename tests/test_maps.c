// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/cowstat_maps: one row per mapping.  Its rows add up to the
 * process's /proc/cowstat row, the region's row holds the region's pages,
 * data, bss, heap and stack are found by address and name, and a reader
 * without CAP_SYS_ADMIN sees only its own mappings.
 */

#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"
#include "maps_rows.h"

#define N		1000
#define K		100

/*
 * A quiescent process's mapping rows add up to its /proc/cowstat row, and
 * the region's row holds exactly the region's pages: after the child wrote
 * K of them, N - K shared (and cow) and K private in both; the parent's K
 * are reusable, the child's K writable.
 */
static enum ktap_result maps_rows_add_up(const char **skip)
{
	struct cowstat_row rows[2];
	const struct maps_row *region;
	struct puppet p[2];
	struct maps m = { 0 };
	long addr;
	int who, c;
	size_t i;

	(void)skip;
	if (!spawn(p, 2, "t-maps"))
		return KTAP_FAIL;
	addr = -1;
	if (!pcmd(&p[0], "map anon %d", N) || !pcmd(&p[0], "write 0 %d", N) ||
	    !pfork(p, 0, 1) || !pcmd(&p[1], "write 0 %d", K) || !snapshot(p, 2, rows))
		goto out;
	{
		char err[256];

		addr = puppet_cmd(&p[0], err, sizeof(err), "addr");
		check(addr > 0, "addr: %s", err);
	}
	if (addr <= 0 || !read_maps(&m))
		goto out;
	for (who = 0; who < 2; who++) {
		long long sum[NR_PAGE_COLS] = { 0 };

		for (i = 0; i < m.n; i++)
			if (m.rows[i].pid == p[who].pid)
				for (c = 0; c < NR_PAGE_COLS; c++)
					sum[c] += m.rows[i].val[c];
		for (c = 0; c < NR_PAGE_COLS; c++)
			check(sum[c] == col(&rows[who], page_cols[c]),
			      "puppet %d: %s adds up to %lld over its mappings, its row says %lld",
			      who, page_cols[c], sum[c], col(&rows[who], page_cols[c]));

		region = maps_find(&m, p[who].pid, addr);
		if (!check(region != NULL, "puppet %d: no row for the region", who))
			continue;
		check(region->start == (unsigned long)addr &&
		      region->end == (unsigned long)addr + N * 4096UL,
		      "puppet %d: region row %lx-%lx, expected %lx-%lx", who, region->start,
		      region->end, addr, addr + N * 4096UL);
		check(!strcmp(region->perms, "rw-p") && region->name[0] == '\0',
		      "puppet %d: region row '%s' '%s', expected rw-p and no name", who,
		      region->perms, region->name);
		check(region->val[0] == N && region->val[1] == N && region->val[2] == N - K &&
		      region->val[3] == K && region->val[4] == N - K,
		      "puppet %d: region rss %lld anon %lld shared %lld private %lld cow %lld, expected %d %d %d %d %d",
		      who, region->val[0], region->val[1], region->val[2], region->val[3],
		      region->val[4], N, N, N - K, K, N - K);
		/* The parent's originals are its own again, still write-protected: reusable. */
		check(region->val[5] == (who == 0 ? K : 0),
		      "puppet %d: region reusable %lld, expected %d", who, region->val[5],
		      who == 0 ? K : 0);
	}
out:
	free(m.rows);
	finish(p, 2);
	return KTAP_PASS;
}

static int data_var = 42;	/* .data */
static int bss_var;		/* .bss */

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/*
 * The segments of this very program, found by address: data in its own
 * file mapping (written, so it holds an anonymous copy), bss read-write
 * after it, the heap in [heap] and a local in [stack].
 */
static enum ktap_result maps_finds_segments(const char **skip)
{
	volatile int stack_var = 7;
	const struct maps_row *r;
	struct maps m = { 0 };
	int *heap_var = malloc(sizeof(*heap_var));
	pid_t me = getpid();

	(void)skip;
	if (!heap_var) {
		check(false, "malloc failed");
		return KTAP_FAIL;
	}
	*heap_var = data_var + bss_var + stack_var;
	data_var++;
	bss_var++;
	if (!read_maps(&m))
		goto out;

	r = maps_find(&m, me, (unsigned long)&data_var);
	if (check(r != NULL, "no row holds data_var"))
		check(!strcmp(r->perms, "rw-p") && ends_with(r->name, "/cowstat_test") &&
		      r->val[1] >= 1, "data_var in '%s' '%s' with %lld anon pages", r->perms,
		      r->name, r->val[1]);
	r = maps_find(&m, me, (unsigned long)&bss_var);
	if (check(r != NULL, "no row holds bss_var"))
		check(!strcmp(r->perms, "rw-p") &&
		      (r->name[0] == '\0' || ends_with(r->name, "/cowstat_test")),
		      "bss_var in '%s' '%s'", r->perms, r->name);
	r = maps_find(&m, me, (unsigned long)heap_var);
	if (check(r != NULL, "no row holds the heap"))
		check(!strcmp(r->name, "[heap]") && r->val[1] >= 1, "heap in '%s' with %lld anon pages",
		      r->name, r->val[1]);
	r = maps_find(&m, me, (unsigned long)&stack_var);
	if (check(r != NULL, "no row holds the stack"))
		check(!strcmp(r->name, "[stack]"), "stack_var in '%s'", r->name);
out:
	free(m.rows);
	free(heap_var);
	return KTAP_PASS;
}

/* Without CAP_SYS_ADMIN, only one's own mappings (and their addresses). */
static enum ktap_result maps_visibility(const char **skip)
{
	struct maps m = { 0 };
	int status = -1;
	bool init_seen = false;
	size_t i;
	pid_t pid;

	(void)skip;
	pid = fork();
	if (pid == 0) {
		int bad = 0;

		if (!become_student() || !read_maps(&m))
			_exit(2);
		for (i = 0; i < m.n; i++)
			bad |= !check(m.rows[i].pid == getpid(), "uid %d sees a mapping of pid %d",
				      STUDENT_UID, m.rows[i].pid);
		bad |= !check(m.n > 0, "uid %d sees none of its own mappings", STUDENT_UID);
		fflush(stdout);
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the unprivileged reader failed (status %#x)", status);
	if (read_maps(&m)) {
		for (i = 0; i < m.n; i++)
			init_seen |= m.rows[i].pid == 1;
		check(init_seen, "root does not see init's mappings");
	}
	free(m.rows);
	return KTAP_PASS;
}

/* Where the @n-th space-separated word of @line ends (its offset), or -1. */
static int word_end(const char *line, int n)
{
	const char *p = line;

	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -1;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		if (!n--)
			return (int)(p - line);
	}
}

/*
 * Every row's pid, start, end and perms end where the header's names of
 * them end, the stack's 12-digit addresses too: a table a reader can
 * scan by eye.
 */
static enum ktap_result maps_columns_aligned(const char **skip)
{
	char header[512], line[512];
	int ends[4], i, rows = 0, bad = 0;
	FILE *f;

	(void)skip;
	f = fopen(MAPS_PATH, "re");
	if (!f) {
		check(false, "cannot open %s", MAPS_PATH);
		return KTAP_FAIL;
	}
	if (!check(fgets(header, sizeof(header), f) != NULL, "no header in %s", MAPS_PATH)) {
		fclose(f);
		return KTAP_FAIL;
	}
	for (i = 0; i < 4; i++)
		ends[i] = word_end(header, i);
	while (fgets(line, sizeof(line), f)) {
		rows++;
		for (i = 0; i < 4; i++)
			if (word_end(line, i) != ends[i] && !bad++)
				check(false, "column %d ends at %d, its name at %d: %s", i, word_end(line, i),
				      ends[i], line);
	}
	fclose(f);
	check(rows > 10, "only %d rows", rows);
	return KTAP_PASS;
}

const struct test_case maps_cases[] = {
	{ "maps_columns_aligned", maps_columns_aligned },
	{ "maps_rows_add_up", maps_rows_add_up },
	{ "maps_finds_segments", maps_finds_segments },
	{ "maps_visibility", maps_visibility },
};
const int nr_maps_cases = sizeof(maps_cases) / sizeof(maps_cases[0]);
