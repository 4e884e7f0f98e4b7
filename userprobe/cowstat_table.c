// SPDX-License-Identifier: GPL-2.0-only
/* Reading /proc/cowstat: see cowstat_table.h. */

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cowstat_table.h"

static int fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = errnum;
	return -1;
}

static int parse_header(struct cowstat_table *t, char *line)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (n == COWSTAT_MAX_COLS || strlen(tok) >= COWSTAT_NAME_LEN)
			return -1;
		/* "shared~": a column this kernel cannot count exactly (see README). */
		if (tok[strlen(tok) - 1] == '~') {
			tok[strlen(tok) - 1] = '\0';
			t->inexact = true;
		}
		strcpy(t->name[n++], tok);
	}
	/* comm comes last; everything before it is a number. */
	if (n < 2 || strcmp(t->name[n - 1], "comm"))
		return -1;
	t->ncols = n - 1;
	t->pid_col = cowstat_col(t, "pid");
	return t->pid_col < 0 ? -1 : 0;
}

/* "    123     1 ... comm with spaces\n": numbers, one space, comm. */
static int parse_row(const struct cowstat_table *t, struct cowstat_row *row,
		     const char *line)
{
	const char *p = line;
	char *end;
	size_t len;
	int i;

	for (i = 0; i < t->ncols; i++) {
		while (*p == ' ')
			p++;
		if (p[0] == '-' && p[1] == ' ') {
			row->val[i] = COWSTAT_NA;
			p++;
			continue;
		}
		errno = 0;
		row->val[i] = strtoll(p, &end, 10);
		if (end == p || errno || *end != ' ')
			return -1;
		p = end;
	}
	p++;
	len = strcspn(p, "\n");
	if (len >= sizeof(row->comm))
		len = sizeof(row->comm) - 1;
	memcpy(row->comm, p, len);
	row->comm[len] = '\0';
	return 0;
}

int cowstat_read(struct cowstat_table *t, const char *path,
		 char *err, size_t errlen)
{
	size_t cap = 0, lineno = 0;
	char *line = NULL;
	ssize_t len;
	FILE *f;
	int ret = -1, saved;

	memset(t, 0, sizeof(*t));
	f = fopen(path, "re");
	if (!f)
		return fail(err, errlen, errno, "%s: %s%s", path, strerror(errno),
			    errno == ENOENT ? " (is the cowstat module loaded?)" : "");

	while ((len = getline(&line, &cap, f)) > 0) {
		struct cowstat_row *rows;

		/* A last line cut short by a failed read is that failure. */
		if (line[len - 1] != '\n' && ferror(f))
			break;
		if (lineno++ == 0) {
			if (parse_header(t, line)) {
				fail(err, errlen, EPROTO, "%s: not a cowstat header", path);
				goto out;
			}
			continue;
		}
		rows = realloc(t->rows, (t->nrows + 1) * sizeof(*rows));
		if (!rows) {
			fail(err, errlen, ENOMEM, "%s: out of memory", path);
			goto out;
		}
		t->rows = rows;
		if (parse_row(t, &t->rows[t->nrows], line)) {
			fail(err, errlen, EPROTO, "%s:%zu: malformed row", path, lineno);
			goto out;
		}
		t->nrows++;
	}
	if (ferror(f)) {
		fail(err, errlen, errno, "%s: read: %s", path, strerror(errno));
		goto out;
	}
	if (lineno == 0) {
		fail(err, errlen, EPROTO, "%s: empty", path);
		goto out;
	}
	ret = 0;
out:
	saved = errno;
	free(line);
	fclose(f);
	if (ret)
		cowstat_free(t);
	errno = saved;
	return ret;
}

void cowstat_free(struct cowstat_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->nrows = 0;
}

int cowstat_col(const struct cowstat_table *t, const char *name)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		if (!strcmp(t->name[i], name))
			return i;
	return -1;
}

/* A binary search: the module prints its rows in increasing pid order. */
const struct cowstat_row *cowstat_find(const struct cowstat_table *t,
				       pid_t pid)
{
	size_t lo = 0, hi = t->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		long long p = t->rows[mid].val[t->pid_col];

		if (p == pid)
			return &t->rows[mid];
		if (p < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

long long cowstat_get(const struct cowstat_table *t,
		      const struct cowstat_row *row, const char *name)
{
	int col = cowstat_col(t, name);

	return col < 0 ? -1 : row->val[col];
}
