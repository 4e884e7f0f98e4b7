// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who sees what, beyond plain uids (test_rows.c, test_maps.c): the ptrace
 * rule's gids and CAP_SYS_PTRACE, a descriptor inherited across a setuid
 * exec, root in a user namespace, a reader in a pid namespace, hidepid and
 * subset=pid mounts of proc, a process that drops privileges, and no
 * kernel address in anything the module prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"


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
	if (!write_text("/proc/self/setgroups", "deny") ||
	    !write_text("/proc/self/uid_map", "0 1000 1") ||
	    !write_text("/proc/self/gid_map", "0 1000 1"))
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

/* The pids of the rows of open file @fd, read from its start; their count, or -1. */
static int pids_in_fd(int fd, long long *pids, int max)
{
	static char buf[1 << 20];
	ssize_t len = 0, r;
	char *line, *save = NULL;
	int n = 0;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while (len < (ssize_t)sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += r;
	buf[len] = '\0';
	if (!strtok_r(buf, "\n", &save))		/* the header */
		return -1;
	while ((line = strtok_r(NULL, "\n", &save)) && n < max)
		if (sscanf(line, "%lld", &pids[n]) == 1)
			n++;
	return line ? -1 : n;
}

/* The pids of the rows of @path; their count, or -1. */
static int pids_of(const char *path, long long *pids, int max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), n;

	if (fd < 0)
		return -1;
	n = pids_in_fd(fd, pids, max);
	close(fd);
	return n;
}

/* The Uid: line of /proc/@pid/status ("1000 0 0 0"), or "". */
static void status_uids(pid_t pid, char *uids, size_t len)
{
	char path[64], line[256], found[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	uids[0] = '\0';
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %63[0-9 \t]", found) == 1) {
			snprintf(uids, len, "%s", found);
			break;
		}
	}
	if (f)
		fclose(f);
	uids[strcspn(uids, "\n")] = '\0';
}

/* The inherited-descriptor scene: P opened the files, forked C, exec'd a setuid program. */
struct suid_scene {
	int ready[2];	/* suid_wait says "r" here once it runs */
	int hold[2];	/* it runs until this closes */
	int result[2];	/* C's verdict: one byte, 0 when every check passed */
	pid_t p;
};

/* C: what P opened, read once P is the setuid image. */
static void scene_child(struct suid_scene *sc, const int *fds, pid_t p)
{
	static const char *const what[] = { COWSTAT_PATH, MAPS_PATH };
	static long long pids[16384];
	char r, verdict = 0;
	int i, n;

	close(sc->hold[1]);
	close(sc->ready[1]);
	if (read(sc->ready[0], &r, 1) != 1 || r != 'r')
		verdict = 2;
	for (i = 0; i < 2 && !verdict; i++) {
		n = pids_in_fd(fds[i], pids, 16384);
		verdict |= !check(n >= 0, "reading the inherited %s failed", what[i]);
		verdict |= !check(!has_pid(pids, n, p),
				  "%s opened by %d, read by its child after %d exec'd a setuid-root "
				  "program, shows %d: the new image's rows leak", what[i], (int)p,
				  (int)p, (int)p);
		verdict |= !check(has_pid(pids, n, getpid()),
				  "%s (inherited): the child %d does not see itself", what[i],
				  (int)getpid());
	}
	if (write(sc->result[1], &verdict, 1) != 1)
		_exit(1);
	_exit(0);
}

/* P: uid 1000, dumpable; opens both files without O_CLOEXEC, forks C, execs suid_wait. */
static void scene_parent(struct suid_scene *sc)
{
	int fds[2];
	pid_t c;

	if (!become_student() || prctl(PR_SET_DUMPABLE, 1))
		_exit(100);
	fds[0] = open(COWSTAT_PATH, O_RDONLY);
	fds[1] = open(MAPS_PATH, O_RDONLY);
	if (fds[0] < 0 || fds[1] < 0)
		_exit(101);
	c = fork();
	if (c == 0)
		scene_child(sc, fds, getppid());
	if (c < 0 || dup2(sc->hold[0], STDIN_FILENO) < 0 || dup2(sc->ready[1], STDOUT_FILENO) < 0)
		_exit(102);
	execl(SUID_WAIT, "suid_wait", (char *)NULL);
	_exit(103);
}

/*
 * A process opens /proc/cowstat and /proc/cowstat_maps (no O_CLOEXEC),
 * forks, and execs a setuid-root program; its child reads the inherited
 * descriptors.  The opener's exemption (it sees itself) is for the memory
 * it had when it opened them: the child sees itself, never the setuid
 * image's rows (addresses, libraries: an ASLR leak).
 */
static enum ktap_result inherited_fd_after_setuid_exec(const char **skip)
{
	struct suid_scene sc;
	char verdict = 1, uids[64] = "";

	(void)skip;
	/* Close-on-exec: suid_wait keeps only stdin and stdout of them (dup2()). */
	if (!check(pipe2(sc.ready, O_CLOEXEC) == 0 && pipe2(sc.hold, O_CLOEXEC) == 0 &&
		   pipe2(sc.result, O_CLOEXEC) == 0, "pipe"))
		return KTAP_FAIL;
	fflush(stdout);
	sc.p = fork();
	if (sc.p == 0)
		scene_parent(&sc);
	close(sc.ready[0]);
	close(sc.ready[1]);
	close(sc.hold[0]);
	close(sc.result[1]);
	if (check(sc.p > 0 && read(sc.result[0], &verdict, 1) == 1,
		  "the reading child gave no verdict")) {
		status_uids(sc.p, uids, sizeof(uids));
		check(!strncmp(uids, "1000\t0\t0\t0", 10),
		      "process %d has uids '%s', not the setuid image's 1000 0 0 0", (int)sc.p, uids);
		check(verdict == 0, "the reading child's checks failed (%d)", verdict);
	}
	close(sc.hold[1]);	/* suid_wait exits */
	close(sc.result[0]);
	if (sc.p > 0)
		waitpid(sc.p, NULL, 0);
	return KTAP_PASS;
}

/*
 * A root process that takes the uid @uid and gid @gid, dumpable, says so
 * on a pipe, and runs until @hold's write end closes.
 */
static pid_t holder(uid_t uid, gid_t gid, int *hold)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(hold))
		return -1;
	if (pipe(ready)) {
		close(hold[0]);
		close(hold[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(hold[1]);
		close(ready[0]);
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid) ||
		    prctl(PR_SET_DUMPABLE, 1) || write(ready[1], "r", 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(hold[0]);
	close(ready[1]);
	if (pid > 0 && read(ready[0], &c, 1) != 1)
		pid = -1;	/* it failed to change its credentials */
	close(ready[0]);
	return pid;
}

struct seen {
	pid_t want[2];	/* pids to look for */
	const char *path;
};

/* As uid 1000 (gid 1000): bit i of the status is set when want[i] is seen. */
static int student_sees(void *arg)
{
	const struct seen *s = arg;
	static long long pids[16384];
	int n, i, bits = 0;

	if (!become_student())
		return 100;
	n = pids_of(s->path, pids, 16384);
	if (n < 0)
		return 101;
	for (i = 0; i < 2; i++)
		bits |= has_pid(pids, n, s->want[i]) << i;
	return bits;
}

/*
 * The ptrace rule asks for the gids as well as the uids: a process of uid
 * 1000 whose gids are 2000 is not uid 1000's to see; one of uid and gid
 * 1000 is (both dumpable).  The same for both files.
 */
static enum ktap_result foreign_gid_hidden(const char **skip)
{
	static const char *const paths[] = { COWSTAT_PATH, MAPS_PATH };
	int hold_foreign[2], hold_own[2];
	struct seen s;
	unsigned int i;
	int bits;

	(void)skip;
	fflush(stdout);
	s.want[0] = holder(STUDENT_UID, 2000, hold_foreign);
	s.want[1] = holder(STUDENT_UID, STUDENT_UID, hold_own);
	if (check(s.want[0] > 0 && s.want[1] > 0, "the holders did not start")) {
		for (i = 0; i < 2; i++) {
			s.path = paths[i];
			bits = in_child(student_sees, &s);
			check(bits < 100, "the reader of %s failed (%d)", paths[i], bits);
			check(bits < 100 && !(bits & 1),
			      "%s: uid 1000 gid 1000 sees process %d of uid 1000, gid 2000",
			      paths[i], (int)s.want[0]);
			check(bits < 100 && (bits & 2),
			      "%s: uid 1000 gid 1000 does not see its own process %d", paths[i],
			      (int)s.want[1]);
		}
	}
	close(hold_foreign[1]);
	close(hold_own[1]);
	for (i = 0; i < 2; i++)
		if (s.want[i] > 0)
			waitpid(s.want[i], NULL, 0);
	return KTAP_PASS;
}

/* Become uid and gid 1000 with only capability @cap (effective and permitted). */
static bool student_with_only(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (prctl(PR_SET_KEEPCAPS, 1) || setgroups(0, NULL) ||
	    setresgid(STUDENT_UID, STUDENT_UID, STUDENT_UID) ||
	    setresuid(STUDENT_UID, STUDENT_UID, STUDENT_UID))
		return false;
	data[cap / 32].effective = data[cap / 32].permitted = 1u << (cap % 32);
	return syscall(SYS_capset, &hdr, data) == 0;
}

/* As uid 1000 with one capability: bit 0 set when init's rows are in both files. */
static int capable_reader(void *arg)
{
	static long long pids[16384];
	int cap = *(int *)arg, n, m;

	if (!student_with_only(cap))
		return 100;
	n = pids_of(COWSTAT_PATH, pids, 16384);
	if (n < 0)
		return 101;
	n = has_pid(pids, n, 1);
	m = pids_of(MAPS_PATH, pids, 16384);
	if (m < 0)
		return 101;
	m = has_pid(pids, m, 1);
	return n == m ? n : 102;
}

/*
 * CAP_SYS_PTRACE is what lets a reader see other users' processes, as for
 * ptrace and /proc/PID/maps: uid 1000 with CAP_SYS_PTRACE alone sees init
 * (root's) in both files; with CAP_SYS_ADMIN alone it does not.
 */
static enum ktap_result ptrace_capability_reader(const char **skip)
{
	int cap, status;

	(void)skip;
	cap = CAP_SYS_PTRACE;
	status = in_child(capable_reader, &cap);
	check(status == 1, "uid 1000 with CAP_SYS_PTRACE only: %s", status == 0 ?
	      "does not see init" : status == 102 ? "the two files disagree" : "reader failed");
	cap = CAP_SYS_ADMIN;
	status = in_child(capable_reader, &cap);
	check(status == 0, "uid 1000 with CAP_SYS_ADMIN only: %s", status == 1 ?
	      "sees init" : status == 102 ? "the two files disagree" : "reader failed");
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
	{ "inherited_fd_after_setuid_exec", inherited_fd_after_setuid_exec },
	{ "foreign_gid_hidden", foreign_gid_hidden },
	{ "ptrace_capability_reader", ptrace_capability_reader },
	{ "userns_root_is_not_root", userns_root_is_not_root },
	{ "pid_namespace_sees_its_own", pid_namespace_sees_its_own },
	{ "hidepid_mounts", hidepid_mounts },
	{ "uid_change_hidden_until_dumpable", uid_change_hidden_until_dumpable },
	{ "no_kernel_addresses", no_kernel_addresses },
};
const int nr_security_cases = sizeof(security_cases) / sizeof(security_cases[0]);
