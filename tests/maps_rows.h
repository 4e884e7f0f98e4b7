/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading /proc/cowstat_maps in the tests: every row, its columns checked
 * against the documented header.
 */
#ifndef COWSTAT_MAPS_ROWS_H
#define COWSTAT_MAPS_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define NR_PAGE_COLS	10
extern const char *const page_cols[NR_PAGE_COLS];	/* rss ... thp, in order */

struct maps_row {
	int pid;
	unsigned long start, end;
	char perms[5];
	long long val[NR_PAGE_COLS];
	char name[256];
};

struct maps {
	struct maps_row *rows;
	size_t n;
};

/* Read the whole file; false (with a diagnostic) if it is not as documented. */
bool read_maps(struct maps *m);

/* The row of @pid's mapping holding @addr, or NULL. */
const struct maps_row *maps_find(const struct maps *m, pid_t pid, unsigned long addr);

/* Column @name of @r. */
long long maps_val(const struct maps_row *r, const char *name);

#endif /* COWSTAT_MAPS_ROWS_H */
