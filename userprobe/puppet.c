// SPDX-License-Identifier: GPL-2.0-only
/*
 * Puppets, the controller's side: see puppet.h.  Commands and replies are
 * SOCK_SEQPACKET messages; the puppet's side is puppet_side.c.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "puppet.h"

#define MSG_LEN		128
#define REPLY_TIMEOUT_MS	60000

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

/* Wait for "ok TEXT" (TEXT, if any, copied to @text) or "err MESSAGE". */
static long await_reply_text(struct puppet *p, char *text, size_t textlen,
			     char *err, size_t errlen)
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
	if (sscanf(msg, "ok %ld", &val) == 1) {
		if (text)
			snprintf(text, textlen, "%s", msg + 3);
		return val;
	}
	return fail(err, errlen, "puppet %d: %s", (int)p->pid, msg);
}

static long await_reply(struct puppet *p, char *err, size_t errlen)
{
	return await_reply_text(p, NULL, 0, err, errlen);
}

/* Send one formatted command; 0, or -1 with a message in @err. */
static int send_cmd(struct puppet *p, char *err, size_t errlen, const char *fmt, va_list ap)
{
	char msg[MSG_LEN];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (send(p->fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		return fail(err, errlen, "puppet %d: send: %s", (int)p->pid, strerror(errno));
	return 0;
}

long puppet_query(struct puppet *p, char *text, size_t textlen, char *err,
		  size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = send_cmd(p, err, errlen, fmt, ap);
	va_end(ap);
	return ret ? ret : await_reply_text(p, text, textlen, err, errlen);
}

long puppet_cmd(struct puppet *p, char *err, size_t errlen,
		const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = send_cmd(p, err, errlen, fmt, ap);
	va_end(ap);
	return ret ? ret : await_reply(p, err, errlen);
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

static int send_fmt(struct puppet *p, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int send_fmt(struct puppet *p, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = send_cmd(p, err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

int puppet_vfork_start(struct puppet *puppets, int parent, int child,
		       char *err, size_t errlen)
{
	long pid;

	if (send_fmt(&puppets[parent], err, errlen, "vfork %d", child))
		return -1;
	/* The child reports on its own channel while the parent is suspended. */
	pid = await_reply(&puppets[child], err, errlen);
	if (pid < 0)
		return -1;
	puppets[child].pid = pid;
	return 0;
}

int puppet_vfork_finish(struct puppet *puppets, int parent, int child,
			char *err, size_t errlen)
{
	/* "go": the child execs a fresh puppet, which says hello... */
	if (puppet_cmd(&puppets[child], err, errlen, "go") < 0)
		return -1;
	/* ...and the parent, running again, returns from vfork(). */
	return await_reply(&puppets[parent], err, errlen) < 0 ? -1 : 0;
}

void puppet_release(struct puppet *puppets, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		close(puppets[i].fd);
		puppets[i].fd = -1;
	}
}
