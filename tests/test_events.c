// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event counts: forks, counters freed with their processes, the reset
 * command and its refusals, and the module with events=0.  (Copies and
 * reuses are checked with the page counts, in test_counts.c.)
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

#define SYSFS		"/sys/kernel/cowstat/"
#define HELD		64	/* children alive at once */
#define SHORT_LIVED	3000	/* children that come and go */

static long long sysfs_value(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), SYSFS "%s", name);
	return read_value(path);
}

/* forks counts children that are new processes: not threads. */
static enum ktap_result forks_counted(const char **skip)
{
	struct cowstat_row before[1], after[4];
	struct puppet p[4];

	(void)skip;
	if (!spawn(p, 4, "t-forks"))
		return KTAP_FAIL;
	if (!snapshot(p, 1, before))
		goto out;
	check(col(&before[0], "forks") == 0, "a new process has forks %lld",
	      col(&before[0], "forks"));
	if (!pcmd(&p[0], "thread") || !pfork(p, 0, 1) || !pfork(p, 0, 2) ||
	    !pfork(p, 2, 3) || !snapshot(p, 4, after))
		goto out;
	check_delta("parent", &before[0], &after[0], "forks", 2);
	check(col(&after[1], "forks") == 0, "child 1: forks %lld, expected 0",
	      col(&after[1], "forks"));
	check(col(&after[2], "forks") == 1, "child 2: forks %lld, expected 1",
	      col(&after[2], "forks"));
out:
	finish(p, 4);
	return KTAP_PASS;
}

/*
 * A child that copies one page (so it gets counters), then exits, or with
 * a pipe, waits for the pipe's write end to close first.
 */
static pid_t cow_child(const int *pipe_fds)
{
	static volatile char page[4096];
	pid_t pid;
	char c;

	page[0] = (char)(page[0] + 1);	/* the parent's own page, which the child's write copies */
	pid = fork();
	if (pid == 0) {
		page[0] = (char)(page[0] + 1);
		if (pipe_fds) {
			close(pipe_fds[1]);
			if (read(pipe_fds[0], &c, 1) < 0)
				_exit(1);
		}
		_exit(0);
	}
	return pid;
}

/*
 * Counters live as long as their process: HELD children that each copied
 * a page hold HELD more entries; once they and SHORT_LIVED more have come
 * and gone, the module tracks no more processes than before.
 */
static enum ktap_result counters_freed_on_exit(const char **skip)
{
	pid_t held[HELD];
	long long base, peak, after;
	int i, hold[2];

	(void)skip;
	if (sysfs_value("tracked") < 0) {
		*skip = "no " SYSFS "tracked";
		return KTAP_SKIP;
	}
	waitpid(cow_child(NULL), NULL, 0);	/* this process has counters now */
	base = sysfs_value("tracked");
	if (!check(pipe(hold) == 0, "pipe: %s", strerror(errno)))
		return KTAP_FAIL;
	for (i = 0; i < HELD; i++)
		held[i] = cow_child(hold);
	/* Each child copies its page before it blocks: wait until all did. */
	for (i = 0; i < 10000 && sysfs_value("tracked") < base + HELD; i++)
		usleep(1000);
	peak = sysfs_value("tracked");
	close(hold[1]);
	close(hold[0]);
	for (i = 0; i < HELD; i++)
		waitpid(held[i], NULL, 0);
	for (i = 0; i < SHORT_LIVED; i++)
		waitpid(cow_child(NULL), NULL, 0);
	after = sysfs_value("tracked");
	ktap_diag("tracked: %lld before, %lld with %d children, %lld after %d more came and went",
		  base, peak, HELD, after, SHORT_LIVED);
	/* Processes of earlier tests may still be exiting: they only lower the count. */
	check(peak - after >= HELD, "%d children alive, tracked %lld, %lld after they exited", HELD,
	      peak, after);
	check(after <= base, "tracked %lld after the children exited, %lld before", after, base);
	return KTAP_PASS;
}

/* In a child: the errno a write of "reset" gets without privilege. */
static int unprivileged_reset(bool keep_root)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (keep_root ? !drop_sys_admin() : !become_student())
			_exit(255);
		_exit(-write_cmd("reset", 5));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

/*
 * "reset" in one write, from CAP_SYS_ADMIN, zeroes every counter; anything
 * else is refused and changes nothing.
 */
static enum ktap_result reset_write_rules(const char **skip)
{
	static const struct { const char *what; const char *buf; size_t len; } bad[] = {
		{ "empty", "", 0 },
		{ "RESET", "RESET", 5 },
		{ "reset and a space", "reset ", 6 },
		{ "reset and two newlines", "reset\n\n", 7 },
		{ "a NUL byte", "\0", 1 },
		{ "reset with a NUL", "reset\0", 6 },
		{ "resetting", "resetting", 9 },
		{ "half a command", "res", 3 },
	};
	struct cowstat_row rows[1];
	struct puppet p[2];
	char *big, noise[64];
	unsigned int i;
	int err;

	(void)skip;
	if (!spawn(p, 2, "t-reset"))
		return KTAP_FAIL;
	/* A quiescent puppet with every counter above zero. */
	if (!pcmd(&p[0], "map anon 64") || !pcmd(&p[0], "write 0 64") || !pfork(p, 0, 1) ||
	    !pcmd(&p[0], "write 0 64") || !snapshot(p, 1, rows))
		goto out;
	check(col(&rows[0], "copies") > 0 &&
	      col(&rows[0], "forks") == 1, "the puppet's counters are not set up");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = write_cmd(bad[i].buf, bad[i].len);
		check(err == -EINVAL, "writing %s: %s, expected EINVAL", bad[i].what, strerror(-err));
	}
	for (i = 0; i < sizeof(noise); i++)
		noise[i] = (char)(i * 37 + 11);
	err = write_cmd(noise, sizeof(noise));
	check(err == -EINVAL, "64 bytes of noise: %s, expected EINVAL", strerror(-err));
	big = malloc(1 << 20);
	if (big) {
		memset(big, 'r', 1 << 20);
		memcpy(big, "reset\n", 6);
		err = write_cmd(big, 1 << 20);
		check(err == -EINVAL, "1 MiB starting with reset: %s, expected EINVAL",
		      strerror(-err));
		free(big);
	}
	/* Byte by byte: each write is one letter of "reset", none a command. */
	{
		int fd = open(COWSTAT_PATH, O_WRONLY | O_CLOEXEC);

		for (i = 0; fd >= 0 && i < 6; i++)
			check(write(fd, &"reset\n"[i], 1) < 0 && errno == EINVAL,
			      "byte %u of reset alone was accepted", i);
		if (fd >= 0)
			close(fd);
	}
	err = unprivileged_reset(true);
	check(err == EPERM, "root without CAP_SYS_ADMIN: %s, expected EPERM", strerror(err));
	err = unprivileged_reset(false);
	check(err == EACCES, "uid %d: %s, expected EACCES (the file is 0644)", STUDENT_UID,
	      strerror(err));

	/* Nothing above reset anything. */
	if (!snapshot(p, 1, rows))
		goto out;
	check(col(&rows[0], "forks") == 1, "a refused write reset the counters");

	check(write_cmd("reset\n", 6) == 0, "reset refused for root");
	if (snapshot(p, 1, rows))
		check(col(&rows[0], "copies") == 0 &&
		      col(&rows[0], "reuses") == 0 &&
		      col(&rows[0], "forks") == 0, "after reset: copies %lld reuses %lld forks %lld",
		      col(&rows[0], "copies"), col(&rows[0], "reuses"), col(&rows[0], "forks"));
	check(sysfs_value("forks") == 0, "total forks %lld right after reset",
	      sysfs_value("forks"));
	check(write_cmd("reset", 5) == 0, "reset without a newline refused");
out:
	finish(p, 2);
	return KTAP_PASS;
}

static bool reload(const char *params)
{
	char cmd[256];
	int status;

	snprintf(cmd, sizeof(cmd), "rmmod cowstat && insmod " MODULE_PATH " %s", params);
	status = system(cmd);
	return check(status == 0, "'%s' failed (status %#x)", cmd, status);
}

/*
 * With events=0 the event columns and totals say "-", and the page counts
 * of a quiescent process are what they were with events on.
 */
static enum ktap_result events_off_says_so(const char **skip)
{
	static const char *const events[] = { "copies", "reuses", "forks" };
	struct cowstat_row on[2], off[2];
	char state[32] = "";
	struct puppet p[2];
	unsigned int i;
	FILE *f;
	int c;

	(void)skip;
	if (!spawn(p, 2, "t-off"))
		return KTAP_FAIL;
	if (!pcmd(&p[0], "map anon 256") || !pcmd(&p[0], "write 0 256") || !pfork(p, 0, 1) ||
	    !pcmd(&p[1], "write 0 16") || !snapshot(p, 2, on))
		goto out;
	if (!reload("events=0"))
		goto out;
	if (snapshot(p, 2, off)) {
		for (c = 0; c < 2; c++) {
			for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
				check(col(&off[c], events[i]) == COWSTAT_NA, "%s shows %lld with events=0",
				      events[i], col(&off[c], events[i]));
			for (i = 0; i < (unsigned int)header_cols(); i++)
				if (!is_event_col(i))
					check(on[c].val[i] == off[c].val[i],
					      "column %d changed from %lld to %lld with events=0", i,
					      on[c].val[i], off[c].val[i]);
		}
	}
	f = fopen(SYSFS "events", "re");
	if (f) {
		if (!fgets(state, sizeof(state), f))
			state[0] = '\0';
		fclose(f);
	}
	check(!strcmp(state, "off\n"), SYSFS "events says '%s' with events=0", state);
	check(sysfs_value("copies") == COWSTAT_NA, "total copies is not '-' with events=0");
	reload("");
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * Module parameters the kernel cannot parse are refused at load, with
 * "`banana' invalid for parameter `events'" in dmesg.  (A parameter the
 * module does not have is ignored by the kernel, with a notice.)
 */
static enum ktap_result bad_parameters_refused(const char **skip)
{
	static const char *const bad[] = { "events=banana", "events=7", "yield=-1", "yield=" };
	char cmd[192];
	unsigned int i;
	int status;

	(void)skip;
	if (!check(system("rmmod cowstat") == 0, "rmmod cowstat failed"))
		return KTAP_FAIL;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "insmod " MODULE_PATH " %s 2>/dev/null", bad[i]);
		status = system(cmd);
		check(status != 0 && access(COWSTAT_PATH, F_OK) != 0,
		      "insmod with %s was accepted", bad[i]);
		if (status == 0)
			system("rmmod cowstat");
	}
	status = system("insmod " MODULE_PATH);
	return check(status == 0, "insmod cowstat.ko failed after the refusals") ? KTAP_PASS
										: KTAP_FAIL;
}

/*
 * The module checks at load that its hooks see a copy, made in the memory
 * of the process that loads it: a plain load does, silently.  A loader
 * under mlockall(MCL_FUTURE) gets its pages at once, and no copy can be
 * made there: the module must say "not checked", not switch copies off.
 */
static enum ktap_result loads_under_mlockall(const char **skip)
{
	char state[32] = "";
	int status = -1, fd;
	pid_t pid;
	FILE *f;

	(void)skip;
	/* A plain load makes its copy and checks it: dmesg says nothing of it. */
	if (!reload(""))
		return KTAP_FAIL;
	check(system("dmesg | tail -n 2 | grep -q 'copies not checked'") != 0,
	      "a plain load could not make its test copy");
	if (!check(system("rmmod cowstat") == 0, "rmmod cowstat failed"))
		return KTAP_FAIL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = open(MODULE_PATH, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || mlockall(MCL_CURRENT | MCL_FUTURE))
			_exit(2);
		_exit(syscall(SYS_finit_module, fd, "", 0) ? 1 : 0);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (!check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "loading under mlockall failed (status %#x)", status)) {
		system("insmod " MODULE_PATH);
		return KTAP_FAIL;
	}
	f = fopen(SYSFS "events", "re");
	if (f) {
		if (!fgets(state, sizeof(state), f))
			state[0] = '\0';
		fclose(f);
	}
	check(!strcmp(state, "on\n"), SYSFS "events says '%.*s' after a load under mlockall",
	      (int)strcspn(state, "\n"), state);
	check(sysfs_value("copies") != COWSTAT_NA, "copies are off after a load under mlockall");
	check(system("dmesg | tail -n 2 | grep -q 'copies not checked'") == 0,
	      "a load under mlockall does not say that its copies were not checked");
	return KTAP_PASS;
}

const struct test_case event_cases[] = {
	{ "forks_counted", forks_counted },
	{ "counters_freed_on_exit", counters_freed_on_exit },
	{ "reset_write_rules", reset_write_rules },
	{ "events_off_says_so", events_off_says_so },
	{ "bad_parameters_refused", bad_parameters_refused },
	{ "loads_under_mlockall", loads_under_mlockall },
};
const int nr_event_cases = sizeof(event_cases) / sizeof(event_cases[0]);
