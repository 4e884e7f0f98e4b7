// SPDX-License-Identifier: GPL-2.0-only
/* Reading /proc/cowstat_maps in the tests: see maps_rows.h. */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowtest.h"
#include "maps_rows.h"

const char *const page_cols[NR_PAGE_COLS] = {
	"rss", "anon", "shared", "private", "cow", "reusable", "zero", "file", "swap", "thp",
};

static bool parse_maps_row(const char *line, struct maps_row *r)
{
	const char *p;
	int used, i;

	if (sscanf(line, "%d %lx %lx %4s%n", &r->pid, &r->start, &r->end, r->perms, &used) != 4)
		return false;
	p = line + used;
	for (i = 0; i < NR_PAGE_COLS; i++) {
		if (sscanf(p, "%lld%n", &r->val[i], &used) != 1)
			return false;
		p += used;
	}
	if (*p++ != ' ')
		return false;
	snprintf(r->name, sizeof(r->name), "%.*s", (int)strcspn(p, "\n"), p);
	return true;
}

/* Read the whole file; false (with a diagnostic) if it is not as documented. */
bool read_maps(struct maps *m)
{
	static const char header[] = "pid start end perms rss anon shared private cow reusable "
				     "zero file swap thp name";
	char line[512], words[512] = "", *tok, *save = NULL;
	bool ok = true;
	FILE *f;

	m->rows = NULL;
	m->n = 0;
	f = fopen(MAPS_PATH, "re");
	if (!f) {
		check(false, "cannot open " MAPS_PATH);
		return false;
	}
	if (fgets(line, sizeof(line), f)) {
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
			snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s",
				 words[0] ? " " : "", tok);
	}
	ok = check(!strcmp(words, header), "header '%s', expected '%s'", words, header);
	while (ok && fgets(line, sizeof(line), f)) {
		struct maps_row *rows = realloc(m->rows, (m->n + 1) * sizeof(*rows));

		if (!check(rows != NULL, "out of memory"))
			break;
		m->rows = rows;
		ok = check(parse_maps_row(line, &m->rows[m->n]), "malformed row: %s", line);
		m->n += ok;
	}
	fclose(f);
	return ok;
}

/* The row of @pid's mapping holding @addr, or NULL. */
const struct maps_row *maps_find(const struct maps *m, pid_t pid, unsigned long addr)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->rows[i].pid == pid && m->rows[i].start <= addr && addr < m->rows[i].end)
			return &m->rows[i];
	return NULL;
}


long long maps_val(const struct maps_row *r, const char *name)
{
	int i;

	for (i = 0; i < NR_PAGE_COLS; i++)
		if (!strcmp(page_cols[i], name))
			return r->val[i];
	check(false, "no page column '%s'", name);
	return -1;
}
