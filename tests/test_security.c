// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who sees what, beyond plain uids (test_rows.c, test_maps.c): root in a
 * user namespace, a reader in a pid namespace, hidepid and subset=pid
 * mounts of proc, a process that drops privileges, and no kernel address
 * in anything the module prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

/* Run @fn in a child; its exit status (0: every check there passed). */
static int in_child(int (*fn)(void *), void *arg)
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

/* Rows of @path; pids in @pids (up to @max); the count, or -1. */
static int rows_of(const char *path, long long *pids, int max)
{
	struct cowstat_table t;
	char err[256];
	int i, n;

	if (cowstat_read(&t, path, err, sizeof(err))) {
		check(false, "%s", err);
		return -1;
	}
	n = (int)t.nrows;
	for (i = 0; i < n && i < max; i++)
		pids[i] = cowstat_get(&t, &t.rows[i], "pid");
	cowstat_free(&t);
	return n;
}

static bool has_pid(const long long *pids, int n, long long pid)
{
	int i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

static int userns_reader(void *arg)
{
	long long pids[256];
	int n, bad = 0;

	(void)arg;
	/* Dumpable again after setuid, as after an exec: else its /proc/self is root's. */
	if (!become_student() || prctl(PR_SET_DUMPABLE, 1))
		return 100;
	if (unshare(CLONE_NEWUSER))
		return errno == EPERM || errno == EINVAL ? 99 : 101;	/* 99: not allowed here */
	if (!write_file("/proc/self/setgroups", "deny") ||
	    !write_file("/proc/self/uid_map", "0 1000 1") ||
	    !write_file("/proc/self/gid_map", "0 1000 1"))
		return 102;
	/* Root of its namespace, with every capability in it. */
	bad |= !check(getuid() == 0, "not uid 0 in the new namespace");
	n = rows_of(COWSTAT_PATH, pids, 256);
	bad |= !check(n > 0 && has_pid(pids, n, getpid()), "namespace root does not see itself");
	bad |= !check(!has_pid(pids, n, 1), "namespace root sees init, a process of real root");
	bad |= !check(write_cmd("reset", 5) == -EACCES,
		      "namespace root opened /proc/cowstat for writing");
	return bad;
}

/*
 * Root inside a user namespace (uid 1000 outside) is not root: it sees the
 * processes of uid 1000 only, and cannot reset.
 */
static enum ktap_result userns_root_is_not_root(const char **skip)
{
	int status = in_child(userns_reader, NULL);

	if (status == 99) {
		*skip = "unprivileged user namespaces are off in this kernel";
		return KTAP_SKIP;
	}
	check(status == 0, "the reader in a user namespace failed (status %d)", status);
	return KTAP_PASS;
}

static int pidns_init(void *arg)
{
	long long pids[256];
	int n, bad = 0;

	(void)arg;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    (mkdir("/tmp/nsproc", 0755) && errno != EEXIST) ||
	    mount("proc", "/tmp/nsproc", "proc", 0, NULL))
		return 101;
	n = rows_of("/tmp/nsproc/cowstat", pids, 256);
	bad |= !check(n == 1 && pids[0] == 1,
		      "in a new pid namespace root sees %d rows, first pid %lld; expected only "
		      "itself, as pid 1", n, n > 0 ? pids[0] : -1);
	umount("/tmp/nsproc");
	return bad;
}

static int pidns_reader(void *arg)
{
	if (unshare(CLONE_NEWPID | CLONE_NEWNS))
		return 100;
	return in_child(pidns_init, arg);	/* the first child is pid 1 there */
}

/*
 * Through a proc mounted in a new pid namespace, /proc/cowstat lists the
 * processes of that namespace, with their pids there.
 */
static enum ktap_result pid_namespace_sees_its_own(const char **skip)
{
	(void)skip;
	check(in_child(pidns_reader, NULL) == 0, "the reader in a pid namespace failed");
	return KTAP_PASS;
}

static int student_rows(void *arg)
{
	const char *path = arg;
	long long pids[256];
	int n;

	if (!become_student())
		return 100;
	n = rows_of(path, pids, 256);
	return n < 0 ? 101 : !check(!has_pid(pids, n, 1), "uid 1000 sees init through %s", path);
}

/*
 * A proc mounted with hidepid=invisible shows the same rows as /proc: all
 * of them to root, only its own to uid 1000 (the module's rule is at least
 * as strict as hidepid's).  With subset=pid it has no cowstat at all.
 */
static enum ktap_result hidepid_mounts(const char **skip)
{
	long long pids[256];
	int n;

	(void)skip;
	if (!check((mkdir("/tmp/hideproc", 0755) == 0 || errno == EEXIST) &&
		   (mkdir("/tmp/subsetproc", 0755) == 0 || errno == EEXIST), "mkdir"))
		return KTAP_FAIL;
	if (!check(mount("proc", "/tmp/hideproc", "proc", 0, "hidepid=invisible") == 0,
		   "mount proc hidepid=invisible: %s", strerror(errno)))
		return KTAP_FAIL;
	n = rows_of("/tmp/hideproc/cowstat", pids, 256);
	check(n > 1 && has_pid(pids, n, 1) && has_pid(pids, n, getpid()),
	      "root through hidepid=invisible: %d rows, init %s", n,
	      has_pid(pids, n, 1) ? "seen" : "not seen");
	check(in_child(student_rows, "/tmp/hideproc/cowstat") == 0,
	      "uid 1000 through hidepid=invisible");
	umount("/tmp/hideproc");

	if (check(mount("proc", "/tmp/subsetproc", "proc", 0, "subset=pid") == 0,
		  "mount proc subset=pid: %s", strerror(errno))) {
		check(access("/tmp/subsetproc/cowstat", F_OK) < 0 && errno == ENOENT,
		      "cowstat is in a subset=pid proc");
		umount("/tmp/subsetproc");
	}
	return KTAP_PASS;
}

struct dropper {
	int cmd[2], ack[2];
};

/* A root process that becomes uid 1000, then, on command, dumpable again. */
static void dropper_main(struct dropper *d)
{
	char c;

	close(d->cmd[1]);	/* so that the parent's close ends the last read */
	close(d->ack[0]);
	if (setresgid(STUDENT_UID, STUDENT_UID, STUDENT_UID) ||
	    setresuid(STUDENT_UID, STUDENT_UID, STUDENT_UID))
		_exit(1);
	/* Giving up root made it not dumpable (suid_dumpable is 0). */
	if (write(d->ack[1], prctl(PR_GET_DUMPABLE) == 0 ? "0" : "1", 1) != 1)
		_exit(1);
	if (read(d->cmd[0], &c, 1) != 1 || prctl(PR_SET_DUMPABLE, 1) ||
	    write(d->ack[1], "d", 1) != 1)
		_exit(1);
	while (read(d->cmd[0], &c, 1) > 0)
		;
	_exit(0);
}

static pid_t dropped;

static int student_sees_dropped(void *arg)
{
	long long pids[256];
	int n;

	(void)arg;
	if (!become_student())
		return 100;
	n = rows_of(COWSTAT_PATH, pids, 256);
	return n < 0 ? 101 : has_pid(pids, n, dropped) ? 1 : 0;
}

/*
 * A process that gave up root for uid 1000 is not dumpable, and (as for
 * ptrace and /proc/PID/maps) uid 1000 does not see it; once it declares
 * itself dumpable it does.  Root sees it throughout.
 */
static enum ktap_result uid_change_hidden_until_dumpable(const char **skip)
{
	struct dropper d;
	long long pids[256];
	char c = 0;
	int n;

	(void)skip;
	if (!check(pipe(d.cmd) == 0 && pipe(d.ack) == 0, "pipe"))
		return KTAP_FAIL;
	dropped = fork();
	if (dropped == 0)
		dropper_main(&d);
	close(d.cmd[0]);
	close(d.ack[1]);
	if (check(dropped > 0 && read(d.ack[0], &c, 1) == 1, "the dropping child did not start")) {
		check(c == '0', "dropping root left the process dumpable");
		check(in_child(student_sees_dropped, NULL) == 0,
		      "uid 1000 sees a process that is not dumpable");
		n = rows_of(COWSTAT_PATH, pids, 256);
		check(has_pid(pids, n, dropped), "root does not see the process that dropped root");
		if (check(write(d.cmd[1], "d", 1) == 1 && read(d.ack[0], &c, 1) == 1,
			  "PR_SET_DUMPABLE failed"))
			check(in_child(student_sees_dropped, NULL) == 1,
			      "uid 1000 does not see its dumpable process");
	}
	close(d.cmd[1]);
	close(d.ack[0]);
	if (dropped > 0)
		waitpid(dropped, NULL, 0);
	return KTAP_PASS;
}

/* Does @path hold a 16-digit hex number that starts with ffff (a kernel address)? */
static bool has_kernel_address(const char *path)
{
	char *buf = malloc(1 << 22), *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;
	bool found = false;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (len < (1 << 22) - 1 && (n = read(fd, buf + len, (1 << 22) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(fd);
	for (p = buf; (p = strstr(p, "ffff")) != NULL && !found; p++)
		found = strspn(p, "0123456789abcdef") >= 16;
	free(buf);
	return found;
}

/* No row, mapping or total shows a kernel address (page frame numbers are not shown at all). */
static enum ktap_result no_kernel_addresses(const char **skip)
{
	static const char *const paths[] = {
		COWSTAT_PATH, MAPS_PATH, "/sys/kernel/cowstat/copies",
		"/sys/kernel/cowstat/reuses", "/sys/kernel/cowstat/forks",
		"/sys/kernel/cowstat/tracked", "/sys/kernel/cowstat/lost",
		"/sys/kernel/cowstat/events",
	};
	unsigned int i;

	(void)skip;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		check(!has_kernel_address(paths[i]), "%s shows a kernel address", paths[i]);
	return KTAP_PASS;
}

const struct test_case security_cases[] = {
	{ "userns_root_is_not_root", userns_root_is_not_root },
	{ "pid_namespace_sees_its_own", pid_namespace_sees_its_own },
	{ "hidepid_mounts", hidepid_mounts },
	{ "uid_change_hidden_until_dumpable", uid_change_hidden_until_dumpable },
	{ "no_kernel_addresses", no_kernel_addresses },
};
const int nr_security_cases = sizeof(security_cases) / sizeof(security_cases[0]);
