/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The smallest KTAP producer: a plan, one result line per test case, "# "
 * diagnostics, and a closing "# Totals" line as kselftest prints it.
 */
#ifndef COWSTAT_KTAP_H
#define COWSTAT_KTAP_H

#include <stdarg.h>
#include <stdio.h>

struct ktap {
	int n, pass, fail, skip;
};

static inline void ktap_plan(int n)
{
	printf("KTAP version 1\n1..%d\n", n);
	fflush(stdout);
}

static inline void ktap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static inline void ktap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

enum ktap_result { KTAP_PASS, KTAP_FAIL, KTAP_SKIP };

static inline void ktap_result(struct ktap *k, enum ktap_result r,
			       const char *name, const char *skip_reason)
{
	k->n++;
	if (r == KTAP_SKIP) {
		k->skip++;
		printf("ok %d %s # SKIP %s\n", k->n, name, skip_reason);
	} else if (r == KTAP_PASS) {
		k->pass++;
		printf("ok %d %s\n", k->n, name);
	} else {
		k->fail++;
		printf("not ok %d %s\n", k->n, name);
	}
	fflush(stdout);
}

static inline int ktap_finish(struct ktap *k)
{
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       k->pass, k->fail, k->skip);
	fflush(stdout);
	return k->fail ? 1 : 0;
}

#endif /* COWSTAT_KTAP_H */
