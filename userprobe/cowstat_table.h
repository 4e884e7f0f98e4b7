/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading /proc/cowstat: the header names the columns, so readers look
 * columns up by name and keep working when later versions add some.
 */
#ifndef COWSTAT_TABLE_H
#define COWSTAT_TABLE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define COWSTAT_PATH		"/proc/cowstat"
#define COWSTAT_MAX_COLS	32
#define COWSTAT_NAME_LEN	16
#define COWSTAT_COMM_LEN	80	/* escaped comm: up to 4 bytes a char */

/* The value of a column the module does not count ("-"), e.g. events=0. */
#define COWSTAT_NA	LLONG_MIN

struct cowstat_row {
	long long val[COWSTAT_MAX_COLS];	/* numeric columns, header order */
	char comm[COWSTAT_COMM_LEN];
};

struct cowstat_table {
	int ncols;				/* numeric columns (comm excluded) */
	char name[COWSTAT_MAX_COLS][COWSTAT_NAME_LEN];
	int pid_col;
	bool inexact;		/* a column named "shared~": not exact on this kernel */
	struct cowstat_row *rows;
	size_t nrows;
};

/*
 * Read and parse the whole table.  Returns 0, or -1 with errno set (EPROTO
 * for text that is not a cowstat table); @err (may be NULL) gets a
 * message.
 */
int cowstat_read(struct cowstat_table *t, const char *path,
		 char *err, size_t errlen);
void cowstat_free(struct cowstat_table *t);

/* Column index by header name, or -1. */
int cowstat_col(const struct cowstat_table *t, const char *name);

/* The row of process @pid, or NULL (rows are in increasing pid order). */
const struct cowstat_row *cowstat_find(const struct cowstat_table *t,
				       pid_t pid);

/* Value of column @name in @row, or -1 if there is no such column. */
long long cowstat_get(const struct cowstat_table *t,
		      const struct cowstat_row *row, const char *name);

#endif /* COWSTAT_TABLE_H */
