/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the cowstat test cases share: the case table entry, checks that
 * print a diagnostic and count a failure, and snapshots of puppets' rows.
 */
#ifndef COWSTAT_COWTEST_H
#define COWSTAT_COWTEST_H

#include <stdbool.h>
#include <sys/types.h>

#include "cowstat_table.h"
#include "ktap.h"
#include "puppet.h"

/* The guest's files, and the unprivileged user of its /etc/passwd. */
#define MODULE_PATH	"/lib/modules/cowstat.ko"
#define MAPS_PATH	"/proc/cowstat_maps"
#define COWPROBE	"/bin/cowprobe"
#define SUID_WAIT	"/tests/suid_wait"	/* setuid root: see suid_wait.c */
#define STUDENT_UID	1000

struct test_case {
	const char *name;
	/* Returns KTAP_PASS, KTAP_FAIL or KTAP_SKIP; *skip says why. */
	enum ktap_result (*fn)(const char **skip);
};

extern const struct test_case count_cases[], row_cases[], robust_cases[],
	event_cases[], exact_cases[], predict_cases[], maps_cases[], lesson_cases[],
	input_cases[], security_cases[], pagemap_cases[], prose_cases[], docs_cases[],
	watch_cases[], program_cases[];
extern const int nr_count_cases, nr_row_cases, nr_robust_cases, nr_event_cases,
	nr_exact_cases, nr_predict_cases, nr_maps_cases, nr_lesson_cases, nr_input_cases,
	nr_security_cases, nr_pagemap_cases, nr_prose_cases, nr_docs_cases, nr_watch_cases,
	nr_program_cases;

/* argv[1] of this program run by the kernel as the core-dump helper (test_exact.c). */
#define CORE_HELPER_FLAG	"--core-helper"
int core_helper_main(void);

/* Failures seen by check() since the current case started. */
extern int check_failures;

#define check(cond, ...) check_at(__FILE__, __LINE__, (cond), __VA_ARGS__)
bool check_at(const char *file, int line, bool cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Column @name of a row (the header is the one of the last snapshot). */
long long col(const struct cowstat_row *row, const char *name);
/* Numeric columns in that header, and whether column @i is an event count. */
int header_cols(void);
bool is_event_col(int i);

/* Read the table and copy the rows of puppets[0..n-1]; false if missing. */
bool snapshot(const struct puppet *puppets, int n, struct cowstat_row *rows);

/* Check that column @name moved by exactly @want from @before to @after. */
#define check_delta(who, before, after, name, want) \
	check(col(after, name) - col(before, name) == (want), \
	      "%s: %s changed by %lld, expected %lld", (who), (name), \
	      col(after, name) - col(before, name), (long long)(want))

/*
 * An event column the module cannot count says "-": a failure (both VM
 * kernels count every event); true then, with a diagnostic.
 */
bool uncounted(const struct cowstat_row *row, const char *name);

/* copies and reuses moved by exactly @copies and @reuses, forks not at all. */
void check_events(const char *who, const struct cowstat_row *before,
		  const struct cowstat_row *after, long copies, long reuses);

/* Check that every column but comm is the same in both rows. */
bool check_same(const char *who, const struct cowstat_row *before,
		const struct cowstat_row *after);

/* Start puppets (this program re-executed); false with a diagnostic. */
bool spawn(struct puppet *puppets, int n, const char *name);
bool pfork(struct puppet *puppets, int parent, int child);
bool pcmd(struct puppet *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Make every puppet exit and reap the first one. */
void finish(struct puppet *puppets, int n);

/* A value from /proc/PID/smaps_rollup in KiB, or -1. */
long long smaps_rollup_kb(pid_t pid, const char *field);

/* THP usable in this kernel (not "never")? */
bool thp_enabled(void);

/* Write @text to the file @path (a sysctl, a sysfs file); false if that failed. */
bool write_text(const char *path, const char *text);

/* The number in the file @path: COWSTAT_NA for "-", -1 if it cannot be read. */
long long read_value(const char *path);

/* One write(2) of @buf to a fresh O_WRONLY open of /proc/cowstat: 0 or -errno. */
int write_cmd(const void *buf, size_t len);

/* Give up CAP_SYS_ADMIN but stay root. */
bool drop_sys_admin(void);

/* Become STUDENT_UID (group too); false if that failed. */
bool become_student(void);

/* Run @fn in a child; its exit status (0: every check there passed). */
int in_child(int (*fn)(void *), void *arg);

#endif /* COWSTAT_COWTEST_H */
