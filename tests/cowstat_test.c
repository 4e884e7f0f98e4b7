// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowstat_test: the tests that run inside the VM, as root, with the module
 * loaded.  Prints KTAP; exits 0 when no case failed.
 *
 * Usage: cowstat_test [NAME...]   (run only the cases named)
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

int check_failures;
static struct cowstat_table header;

bool check_at(const char *file, int line, bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return true;
	check_failures++;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return false;
}

long long col(const struct cowstat_row *row, const char *name)
{
	int i = cowstat_col(&header, name);

	if (i < 0) {
		check(false, "no column '%s' in %s", name, COWSTAT_PATH);
		return -1;
	}
	return row->val[i];
}

int header_cols(void)
{
	return header.ncols;
}

bool is_event_col(int i)
{
	return !strcmp(header.name[i], "copies") || !strcmp(header.name[i], "reuses") ||
	       !strcmp(header.name[i], "forks");
}

bool snapshot(const struct puppet *puppets, int n, struct cowstat_row *rows)
{
	struct cowstat_table t;
	char err[256];
	bool ok = true;
	int i;

	if (!check(cowstat_read(&t, COWSTAT_PATH, err, sizeof(err)) == 0, "%s", err))
		return false;
	memcpy(header.name, t.name, sizeof(header.name));
	header.ncols = t.ncols;
	header.pid_col = t.pid_col;
	for (i = 0; i < n; i++) {
		const struct cowstat_row *row = cowstat_find(&t, puppets[i].pid);

		ok &= check(row != NULL, "no row for puppet %d (pid %d)", i,
			    (int)puppets[i].pid);
		if (row)
			rows[i] = *row;
	}
	cowstat_free(&t);
	return ok;
}

bool check_same(const char *who, const struct cowstat_row *before,
		const struct cowstat_row *after)
{
	bool ok = true;
	int i;

	for (i = 0; i < header.ncols; i++)
		ok &= check(before->val[i] == after->val[i], "%s: %s changed from %lld to %lld",
			    who, header.name[i], before->val[i], after->val[i]);
	return ok;
}

bool spawn(struct puppet *puppets, int n, const char *name)
{
	char err[256];

	return check(puppet_spawn(puppets, n, "/proc/self/exe", name, err,
				  sizeof(err)) == 0, "%s", err);
}

bool pfork(struct puppet *puppets, int parent, int child)
{
	char err[256];

	return check(puppet_fork(puppets, parent, child, "", err, sizeof(err)) == 0,
		     "%s", err);
}

bool pcmd(struct puppet *p, const char *fmt, ...)
{
	char cmd[128], err[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return check(puppet_cmd(p, err, sizeof(err), "%s", cmd) >= 0, "%s: %s", cmd, err);
}

/* Is @pid gone, or a zombie (its exit done)? */
static bool exited(pid_t pid)
{
	char path[64], buf[256], *p;
	bool gone = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		gone = p[1] == ' ' && p[2] == 'Z';
	fclose(f);
	return gone;
}

void finish(struct puppet *puppets, int n)
{
	pid_t first = puppets[0].pid;
	int i, tries;

	/* Closing the channels makes every puppet's recv() return 0: exit. */
	puppet_release(puppets, n);
	if (first > 0)
		waitpid(first, NULL, 0);
	/* The children are not ours to reap: wait until they have exited. */
	for (i = 1; i < n; i++)
		for (tries = 0; puppets[i].pid > 0 && !exited(puppets[i].pid) && tries < 5000; tries++)
			usleep(1000);
}

long long smaps_rollup_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = atoll(line + len + 1);
	fclose(f);
	return kb;
}

bool thp_enabled(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return line[0] && !strstr(line, "[never]");
}

/*
 * An event column the module cannot count says "-": a failure here, as
 * both VM kernels (x86-64, 6.1 and 6.12) count every event.
 */
bool uncounted(const struct cowstat_row *row, const char *name)
{
	if (col(row, name) != COWSTAT_NA)
		return false;
	check(false, "%s: not counted on this kernel (see dmesg)", name);
	return true;
}

void check_events(const char *who, const struct cowstat_row *before,
			 const struct cowstat_row *after, long copies, long reuses)
{
	long long dc = col(after, "copies") - col(before, "copies");
	long long dr = col(after, "reuses") - col(before, "reuses");

	if (!uncounted(after, "copies"))
		check(dc == copies, "%s: copies rose by %lld, expected %ld", who, dc, copies);
	if (!uncounted(after, "reuses"))
		check(dr == reuses, "%s: reuses rose by %lld, expected %ld", who, dr, reuses);
	check_delta(who, before, after, "forks", 0);
}

bool write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	bool ok = f && fputs(text, f) >= 0;

	if (f)
		ok &= fclose(f) == 0;
	return ok;
}

long long read_value(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] == '-' ? COWSTAT_NA : atoll(buf);
}

int write_cmd(const void *buf, size_t len)
{
	int fd = open(COWSTAT_PATH, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, buf, len) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* Give up CAP_SYS_ADMIN but stay root. */
bool drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	data[0].permitted &= ~(1u << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data) == 0;
}

/* Run @fn in a child; its exit status (0: every check there passed). */
int in_child(int (*fn)(void *), void *arg)
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	if (pid > 0)
		waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

bool become_student(void)
{
	return setgid(STUDENT_UID) == 0 && setuid(STUDENT_UID) == 0;
}

static bool wanted(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct {
		const struct test_case *cases;
		const int *n;
	} suites[] = {
		{ docs_cases, &nr_docs_cases },	/* first: a fresh VM, THP to be had */
		{ row_cases, &nr_row_cases },
		{ count_cases, &nr_count_cases },
		{ event_cases, &nr_event_cases },
		{ exact_cases, &nr_exact_cases },
		{ predict_cases, &nr_predict_cases },
		{ maps_cases, &nr_maps_cases },
		{ pagemap_cases, &nr_pagemap_cases },
		{ lesson_cases, &nr_lesson_cases },
		{ prose_cases, &nr_prose_cases },
		{ watch_cases, &nr_watch_cases },
		{ program_cases, &nr_program_cases },
		{ input_cases, &nr_input_cases },
		{ security_cases, &nr_security_cases },
		{ robust_cases, &nr_robust_cases },
	};
	struct ktap k = { 0 };
	int s, i, plan = 0;

	if (argc > 1 && !strcmp(argv[1], PUPPET_FLAG))
		puppet_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], CORE_HELPER_FLAG))
		return core_helper_main();
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Work out the plan before running anything. */
	for (s = 0; s < (int)(sizeof(suites) / sizeof(suites[0])); s++)
		for (i = 0; i < *suites[s].n; i++)
			plan += wanted(suites[s].cases[i].name, argc, argv);
	ktap_plan(plan);

	for (s = 0; s < (int)(sizeof(suites) / sizeof(suites[0])); s++) {
		for (i = 0; i < *suites[s].n; i++) {
			const struct test_case *tc = &suites[s].cases[i];
			const char *skip = "";
			enum ktap_result r;

			if (!wanted(tc->name, argc, argv))
				continue;
			check_failures = 0;
			r = tc->fn(&skip);
			if (check_failures)
				r = KTAP_FAIL;
			ktap_result(&k, r, tc->name, skip);
		}
	}
	return ktap_finish(&k);
}
