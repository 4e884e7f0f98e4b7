// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which rows /proc/cowstat has: its header, one row per process in pid
 * order, none for kernel threads or exited processes, one per thread group,
 * comm last, and only the reader's own processes for a reader without
 * CAP_SYS_ADMIN.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */

static bool read_table(struct cowstat_table *t)
{
	char err[256];

	return check(cowstat_read(t, COWSTAT_PATH, err, sizeof(err)) == 0, "%s", err);
}

/* The columns of the contract, in order, comm last. */
static enum ktap_result header_names_columns(const char **skip)
{
	static const char *const want[] = {
		"pid", "ppid", "rss", "anon", "shared", "private", "cow", "reusable",
		"zero", "file", "swap", "thp", "copies", "reuses", "forks", "rcopies", "rreuses",
	};
	struct cowstat_table t;
	unsigned int i;

	(void)skip;
	if (!read_table(&t))
		return KTAP_FAIL;
	check(t.ncols == (int)(sizeof(want) / sizeof(want[0])), "%d numeric columns, expected %zu",
	      t.ncols, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]) && i < (unsigned int)t.ncols; i++)
		check(!strcmp(t.name[i], want[i]), "column %u is '%s', expected '%s'", i + 1,
		      t.name[i], want[i]);
	check(t.nrows > 0, "no rows at all");
	cowstat_free(&t);
	return KTAP_PASS;
}

/* Rows come in strictly increasing pid order, and each adds up. */
static enum ktap_result rows_in_pid_order(const char **skip)
{
	struct cowstat_table t;
	size_t i;

	(void)skip;
	if (!read_table(&t))
		return KTAP_FAIL;
	for (i = 0; i < t.nrows; i++) {
		const struct cowstat_row *r = &t.rows[i];
		long long pid = cowstat_get(&t, r, "pid");

		if (i)
			check(pid > cowstat_get(&t, &t.rows[i - 1], "pid"),
			      "pid %lld follows pid %lld", pid, cowstat_get(&t, &t.rows[i - 1], "pid"));
		check(cowstat_get(&t, r, "anon") == cowstat_get(&t, r, "shared") +
		      cowstat_get(&t, r, "private"), "pid %lld: anon != shared + private", pid);
		check(cowstat_get(&t, r, "rss") == cowstat_get(&t, r, "anon") +
		      cowstat_get(&t, r, "file"), "pid %lld: rss != anon + file", pid);
		/* Predictions about mapped pages: never more than there are. */
		check(cowstat_get(&t, r, "cow") + cowstat_get(&t, r, "reusable") <=
		      cowstat_get(&t, r, "rss") + cowstat_get(&t, r, "zero"),
		      "pid %lld: cow + reusable > rss + zero", pid);
		check(cowstat_get(&t, r, "reusable") <= cowstat_get(&t, r, "anon"),
		      "pid %lld: reusable > anon", pid);
	}
	check(cowstat_find(&t, getpid()) != NULL, "no row for the test itself");
	check(cowstat_find(&t, 1) != NULL, "no row for init");
	cowstat_free(&t);
	return KTAP_PASS;
}

/* The flags field (the 9th) of /proc/PID/stat, or 0. */
static unsigned long task_flags(int pid)
{
	char path[64], buf[512], *p;
	unsigned long flags = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');	/* comm may hold spaces and parens */
		for (i = 0; p && i < 7; i++)
			p = strchr(p + 1, ' ');
		if (p)
			flags = strtoul(p + 1, NULL, 10);
	}
	fclose(f);
	return flags;
}

/* Kernel threads (PF_KTHREAD: kthreadd, kworkers...) have no mm, no row. */
static enum ktap_result no_rows_for_kernel_threads(const char **skip)
{
	struct cowstat_table t;
	struct dirent *d;
	int kthreads = 0;
	DIR *dir;

	(void)skip;
	if (!read_table(&t))
		return KTAP_FAIL;
	dir = opendir("/proc");
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		if (task_flags(atoi(d->d_name)) & PF_KTHREAD) {
			kthreads++;
			check(!cowstat_find(&t, atoi(d->d_name)), "kernel thread %s has a row",
			      d->d_name);
		}
	}
	if (dir)
		closedir(dir);
	check(kthreads > 0, "found no kernel thread to look for");
	check(!cowstat_find(&t, 2), "kthreadd (pid 2) has a row");
	cowstat_free(&t);
	return KTAP_PASS;
}

/* The state letter of /proc/PID/stat, or 0 when there is no such process. */
static char task_state(pid_t pid)
{
	char path[64], buf[512], *p;
	char state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		state = p[2];
	fclose(f);
	return state;
}

/*
 * A child that exited has no row, already as a zombie (it has no mm any
 * more) and after its parent reaped it; the parent's row stays.
 */
static enum ktap_result exited_process_has_no_row(const char **skip)
{
	struct cowstat_row rows[2];
	struct cowstat_table t;
	struct puppet p[2];
	long status;
	char err[256];
	int tries;

	(void)skip;
	if (!spawn(p, 2, "t-exit"))
		return KTAP_FAIL;
	if (!pfork(p, 0, 1) || !snapshot(p, 2, rows) || !pcmd(&p[1], "exit 7"))
		goto out;
	/* The child replies, then exits: wait (boundedly) until it is a zombie. */
	for (tries = 0; tries < 10000 && task_state(p[1].pid) != 'Z'; tries++)
		usleep(1000);
	if (check(task_state(p[1].pid) == 'Z', "child %d never became a zombie",
		  (int)p[1].pid) && read_table(&t)) {
		check(!cowstat_find(&t, p[1].pid), "zombie %d has a row", (int)p[1].pid);
		cowstat_free(&t);
	}
	status = puppet_cmd(&p[0], err, sizeof(err), "wait");
	check(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 7,
	      "child's wait status %ld, expected exit 7", status);
	if (read_table(&t)) {
		check(!cowstat_find(&t, p[1].pid), "exited child %d still has a row", (int)p[1].pid);
		check(cowstat_find(&t, p[0].pid) != NULL, "parent %d lost its row", (int)p[0].pid);
		cowstat_free(&t);
	}
out:
	finish(p, 2);
	return KTAP_PASS;
}

/* Threads share one mm: the thread group has one row, the thread none. */
static enum ktap_result one_row_per_thread_group(const char **skip)
{
	struct cowstat_table t;
	struct puppet p[1];
	struct dirent *d;
	char path[64];
	int threads = 0;
	size_t i, rows = 0;
	DIR *dir;

	(void)skip;
	if (!spawn(p, 1, "t-threads"))
		return KTAP_FAIL;
	if (!pcmd(&p[0], "thread") || !pcmd(&p[0], "thread") || !read_table(&t))
		goto out;
	for (i = 0; i < t.nrows; i++)
		rows += cowstat_get(&t, &t.rows[i], "pid") == p[0].pid;
	check(rows == 1, "%zu rows for the thread group, expected 1", rows);

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p[0].pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		threads++;
		if (atoi(d->d_name) != p[0].pid)
			check(!cowstat_find(&t, atoi(d->d_name)), "thread %s has a row", d->d_name);
	}
	if (dir)
		closedir(dir);
	check(threads == 3, "the puppet has %d threads, expected 3", threads);
	cowstat_free(&t);
out:
	finish(p, 1);
	return KTAP_PASS;
}

/* comm comes last and may hold spaces; it is read back whole. */
static enum ktap_result comm_with_spaces(const char **skip)
{
	struct cowstat_row rows[1];
	struct puppet p[1];

	(void)skip;
	if (!spawn(p, 1, "a b  c"))
		return KTAP_FAIL;
	if (snapshot(p, 1, rows))
		check(!strcmp(rows[0].comm, "a b  c"), "comm '%s', expected 'a b  c'",
		      rows[0].comm);
	finish(p, 1);
	return KTAP_PASS;
}

/* In a child that dropped root: does the table show exactly what it should? */
static int unprivileged_view(pid_t own_puppet, pid_t setuid_like)
{
	struct cowstat_table t;
	int bad = 0;
	size_t i;

	if (!read_table(&t))
		return 1;
	for (i = 0; i < t.nrows; i++) {
		long long pid = cowstat_get(&t, &t.rows[i], "pid");

		bad |= !check(pid == getpid() || pid == own_puppet,
			      "uid %d sees pid %lld, which is not its own", STUDENT_UID, pid);
	}
	bad |= !check(cowstat_find(&t, getpid()) != NULL, "uid %d does not see itself",
		      STUDENT_UID);
	bad |= !check(cowstat_find(&t, own_puppet) != NULL,
		      "uid %d does not see its own process %d", STUDENT_UID, (int)own_puppet);
	bad |= !check(!cowstat_find(&t, setuid_like),
		      "uid %d sees %d, whose effective uid is root", STUDENT_UID, (int)setuid_like);
	cowstat_free(&t);
	return bad;
}

/*
 * Without CAP_SYS_ADMIN a reader sees only processes whose uids are all its
 * own: not init, not root's processes, not a process of its real uid that
 * runs with root's effective uid (as a setuid program would).  Root sees
 * them all.
 */
static enum ktap_result non_root_sees_own_processes(const char **skip)
{
	struct cowstat_table t;
	struct puppet mine[1];
	pid_t reader, setuid_like;
	int status = -1, ready[2];
	char c;

	(void)skip;
	if (!check(pipe(ready) == 0, "pipe: %s", strerror(errno)))
		return KTAP_FAIL;
	setuid_like = fork();
	if (setuid_like == 0) {
		close(ready[0]);
		if (setresuid(STUDENT_UID, 0, 0) || write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	check(read(ready[0], &c, 1) == 1, "setresuid child did not start");
	close(ready[0]);

	reader = fork();
	if (reader == 0) {
		int bad;

		if (!become_student())
			_exit(2);
		if (!spawn(mine, 1, "t-student"))
			_exit(3);
		bad = unprivileged_view(mine[0].pid, setuid_like);
		finish(mine, 1);
		fflush(stdout);
		_exit(bad);
	}
	if (check(reader > 0, "fork: %s", strerror(errno)))
		waitpid(reader, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the unprivileged reader failed (status %#x)", status);

	if (read_table(&t)) {
		check(cowstat_find(&t, setuid_like) != NULL, "root does not see pid %d",
		      (int)setuid_like);
		check(cowstat_find(&t, 1) != NULL, "root does not see init");
		cowstat_free(&t);
	}
	kill(setuid_like, SIGKILL);
	waitpid(setuid_like, NULL, 0);
	return KTAP_PASS;
}

const struct test_case row_cases[] = {
	{ "header_names_columns", header_names_columns },
	{ "rows_in_pid_order", rows_in_pid_order },
	{ "no_rows_for_kernel_threads", no_rows_for_kernel_threads },
	{ "exited_process_has_no_row", exited_process_has_no_row },
	{ "one_row_per_thread_group", one_row_per_thread_group },
	{ "comm_with_spaces", comm_with_spaces },
	{ "non_root_sees_own_processes", non_root_sees_own_processes },
};
const int nr_row_cases = sizeof(row_cases) / sizeof(row_cases[0]);
