// SPDX-License-Identifier: GPL-2.0-only
/* Puppets: see puppet.h.  Commands and replies are SOCK_SEQPACKET messages. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "puppet.h"

#define MSG_LEN		128
#define REPLY_TIMEOUT_MS	60000
#define THP_SIZE	(2UL << 20)

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the controller's side ---- */

static long await_reply(struct puppet *p, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	char msg[MSG_LEN];
	ssize_t n;
	long val;
	int ret;

	do
		ret = poll(&pfd, 1, REPLY_TIMEOUT_MS);
	while (ret < 0 && errno == EINTR);
	if (ret == 0)
		return fail(err, errlen, "puppet %d did not answer", (int)p->pid);
	n = recv(p->fd, msg, sizeof(msg) - 1, 0);
	if (n <= 0)
		return fail(err, errlen, "puppet %d is gone", (int)p->pid);
	msg[n] = '\0';
	if (sscanf(msg, "ok %ld", &val) == 1)
		return val;
	return fail(err, errlen, "puppet %d: %s", (int)p->pid, msg);
}

long puppet_cmd(struct puppet *p, char *err, size_t errlen,
		const char *fmt, ...)
{
	char msg[MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (send(p->fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		return fail(err, errlen, "puppet %d: send: %s", (int)p->pid,
			    strerror(errno));
	return await_reply(p, err, errlen);
}

int puppet_spawn(struct puppet *puppets, int n, const char *exe,
		 const char *name, char *err, size_t errlen)
{
	char fdarg[PUPPET_MAX][12];
	char *argv[PUPPET_MAX + 4];
	int theirs[PUPPET_MAX];
	int i, sv[2];
	pid_t pid;

	if (n < 1 || n > PUPPET_MAX)
		return fail(err, errlen, "between 1 and %d puppets", PUPPET_MAX);
	argv[0] = (char *)"puppet";
	argv[1] = (char *)PUPPET_FLAG;
	argv[2] = (char *)name;
	for (i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
			fail(err, errlen, "socketpair: %s", strerror(errno));
			goto out_close;
		}
		puppets[i].pid = 0;
		puppets[i].fd = sv[0];
		theirs[i] = sv[1];
		snprintf(fdarg[i], sizeof(fdarg[i]), "%d", sv[1]);
		argv[3 + i] = fdarg[i];
	}
	argv[3 + n] = NULL;

	pid = fork();
	if (pid < 0) {
		fail(err, errlen, "fork: %s", strerror(errno));
		goto out_close;
	}
	if (pid == 0) {
		for (i = 0; i < n; i++)
			fcntl(theirs[i], F_SETFD, 0);
		execv(exe, argv);
		_exit(127);
	}
	for (i = 0; i < n; i++)
		close(theirs[i]);
	puppets[0].pid = pid;
	/* The puppet says hello once it waits for commands. */
	if (await_reply(&puppets[0], err, errlen) < 0) {
		puppet_release(puppets, n);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return 0;

out_close:
	while (i-- > 0) {
		close(puppets[i].fd);
		close(theirs[i]);
	}
	return -1;
}

int puppet_fork(struct puppet *puppets, int parent, int child,
		const char *name, char *err, size_t errlen)
{
	long pid;

	pid = puppet_cmd(&puppets[parent], err, errlen, "fork %d %s", child, name);
	if (pid < 0)
		return -1;
	puppets[child].pid = pid;
	return await_reply(&puppets[child], err, errlen) < 0 ? -1 : 0;
}

void puppet_release(struct puppet *puppets, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		close(puppets[i].fd);
		puppets[i].fd = -1;
	}
}

/*
 * ---- the puppet's side ----
 * No stdio and no malloc here: between commands a puppet's memory must stay
 * exactly as it was.
 */

static struct {
	int fd[PUPPET_MAX];
	int me;
	int quiet;	/* replies off while warming up */
	char *base;
	size_t pages;
	size_t len;
} pp;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void reply(const char *fmt, ...)
{
	char msg[MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!pp.quiet && send(pp.fd[pp.me], msg, strlen(msg), MSG_NOSIGNAL) < 0)
		_exit(3);
}

/*
 * Map every page of the puppet's file mappings (its program text, rodata
 * and data) now, so that code run for the first time during a step
 * cannot add file pages to the step's counts.  A child calls it again:
 * fork() leaves file mappings to fault in.  Errors are harmless: a mapping
 * that cannot be populated is only less quiet.
 */
static void populate_file_mappings(void)
{
	char maps[16384], *line, *next;
	unsigned long start, end, inode;
	ssize_t n, len = 0;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (len < (ssize_t)sizeof(maps) - 1 &&
	       (n = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += n;
	close(fd);
	maps[len] = '\0';
	for (line = maps; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &start, &end, &inode) == 3 &&
		    inode && start != (unsigned long)pp.base)	/* not shmem regions */
			madvise((void *)start, end - start, MADV_POPULATE_READ);
	}
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void do_map(const char *kind, size_t pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = pages * page;
	int shared = !strcmp(kind, "shared"), thp = !strcmp(kind, "thp");
	int file = !strcmp(kind, "file"), fd = -1;
	char *p;

	if (pp.base || !pages || (!shared && !thp && !file && strcmp(kind, "anon"))) {
		reply("err bad map");
		return;
	}
	/* "file": a private mapping of this program's own file. */
	if (file) {
		fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			reply("err open: %s", strerror(errno));
			return;
		}
	}
	/* Over-allocate a THP region so that it can start on a 2 MiB boundary. */
	p = mmap(NULL, len + (thp ? THP_SIZE : 0), PROT_READ | PROT_WRITE,
		 (shared ? MAP_SHARED : MAP_PRIVATE) | (file ? 0 : MAP_ANONYMOUS), fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED) {
		reply("err mmap: %s", strerror(errno));
		return;
	}
	if (thp) {
		char *aligned = (char *)(((unsigned long)p + THP_SIZE - 1) & ~(THP_SIZE - 1));

		if (aligned > p)
			munmap(p, aligned - p);
		munmap(aligned + len, p + THP_SIZE - aligned);
		p = aligned;
	}
	madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	pp.base = p;
	pp.pages = pages;
	pp.len = len;
	reply("ok 0");
}

static void do_touch(int write, size_t first, size_t count)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), i;
	volatile char *p;
	char sum = 0;

	if ((!pp.base && count) || first > pp.pages || count > pp.pages - first) {
		reply("err pages %zu..%zu outside the region", first, first + count);
		return;
	}
	p = (volatile char *)pp.base + first * page;
	for (i = 0; i < count; i++, p += page) {
		if (write)
			*p = (char)(i + 1);
		else
			sum += *p;
	}
	reply("ok %d", sum & 0);
}

static void run_command(char *msg);

/*
 * Run the write and read paths once with nothing to touch, replies off.
 * In a fresh child, the first writes to its stack and to libc's data are
 * COW copies; made here, they cannot blur the first real command's count.
 */
static void warm_up(void)
{
	char write_none[] = "write 0 0", read_none[] = "read 0 0";

	pp.quiet = 1;
	run_command(write_none);
	run_command(read_none);
	pp.quiet = 0;
}

static void do_fork(int child, const char *name)
{
	pid_t pid;

	if (child <= 0 || child >= PUPPET_MAX || pp.fd[child] < 0) {
		reply("err no channel %d", child);
		return;
	}
	pid = fork();
	if (pid < 0) {
		reply("err fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		pp.me = child;
		if (*name)
			prctl(PR_SET_NAME, name);
		populate_file_mappings();
		warm_up();
		reply("ok 0");
		return;
	}
	reply("ok %d", (int)pid);
}

static void run_command(char *msg)
{
	char kind[16], name[16] = "";
	size_t a, b;
	pthread_t t;
	int st, n;

	if (sscanf(msg, "map %15s %zu", kind, &a) == 2) {
		do_map(kind, a);
	} else if (sscanf(msg, "write %zu %zu", &a, &b) == 2) {
		do_touch(1, a, b);
	} else if (sscanf(msg, "read %zu %zu", &a, &b) == 2) {
		do_touch(0, a, b);
	} else if (sscanf(msg, "fork %d %15s", &n, name) >= 1) {
		do_fork(n, name);
	} else if (!strcmp(msg, "addr")) {
		reply("ok %ld", (long)pp.base);
	} else if (!strcmp(msg, "unmap")) {
		if (pp.base)
			munmap(pp.base, pp.len);
		pp.base = NULL;
		reply("ok 0");
	} else if (!strcmp(msg, "thread")) {
		n = pthread_create(&t, NULL, idle_thread, NULL);
		if (n)
			reply("err pthread_create: %s", strerror(n));
		else
			reply("ok 0");
	} else if (!strcmp(msg, "wait")) {
		if (wait(&st) < 0)
			reply("err wait: %s", strerror(errno));
		else
			reply("ok %d", st);
	} else if (sscanf(msg, "exit %d", &n) == 1) {
		reply("ok 0");
		_exit(n);
	} else {
		reply("err unknown command '%s'", msg);
	}
}

void puppet_main(int argc, char **argv)
{
	char msg[MSG_LEN];
	ssize_t n;
	int i;

	if (argc < 4 || argc - 3 > PUPPET_MAX)
		_exit(2);
	prctl(PR_SET_NAME, argv[2]);
	for (i = 0; i < PUPPET_MAX; i++)
		pp.fd[i] = i < argc - 3 ? atoi(argv[3 + i]) : -1;
	pp.me = 0;
	populate_file_mappings();
	reply("ok 0");
	for (;;) {
		n = recv(pp.fd[pp.me], msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			_exit(0);	/* the controller is gone */
		msg[n] = '\0';
		run_command(msg);
	}
}
