/* SPDX-License-Identifier: GPL-2.0-only */
/* The lessons with real programs (redis, prefork): see programs.c. */
#ifndef COWPROBE_PROGRAMS_H
#define COWPROBE_PROGRAMS_H

#include <math.h>
#include <stdbool.h>
#include <sys/types.h>

#include "probe.h"

/* A process's row: its whole /proc/cowstat counts (pages; events since it began). */
enum {
	ROW_PID, ROW_RSS, ROW_ANON, ROW_SHARED, ROW_PRIVATE, ROW_COPIES, ROW_REUSES, ROW_FORKS,
	NR_ROW_COLS
};
struct prow {
	long long v[NR_ROW_COLS];		/* NA where missing; v[ROW_PID] 0: no such row */
};

int program_counts(struct probe *pr);
pid_t program_start(char *const argv[], int *in, int *out);
int program_rows(struct probe *pr, const pid_t *pids, int n, struct prow *rows);
long long pss_anon_kib(pid_t pid);
void program_show(struct probe *pr, const char *const *roles, const struct prow *rows, int n);

/* The lessons */
int lesson_redis(struct probe *pr);
int lesson_prefork(struct probe *pr);

#endif /* COWPROBE_PROGRAMS_H */
