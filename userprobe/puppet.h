/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Puppets: processes that map a region and, one command at a time, write
 * it, read it, fork or exit, while their controller reads /proc/cowstat.
 *
 * A puppet is started with exec, so it shares no anonymous page with its
 * controller: whatever the controller allocates or writes while it reads
 * and prints cannot move the puppet's counts.  Between two commands a
 * puppet sleeps in recv(), so its memory does not change while it is
 * observed, and its counts are exact.
 */
#ifndef COWSTAT_PUPPET_H
#define COWSTAT_PUPPET_H

#include <stddef.h>
#include <sys/types.h>

#define PUPPET_FLAG	"--puppet"	/* argv[1] of a puppet process */
#define PUPPET_MAX	16

struct puppet {
	pid_t pid;	/* 0 until the puppet runs */
	int fd;		/* the controller's end of its command channel */
};

/*
 * Start puppets[0] by running @exe (the calling program, which must call
 * puppet_main() when argv[1] is PUPPET_FLAG) with comm @name, and open
 * channels for @n - 1 descendants that puppet_fork() can create later.
 * Returns 0, or -1 with a message in @err.
 */
int puppet_spawn(struct puppet *puppets, int n, const char *exe,
		 const char *name, char *err, size_t errlen);

/*
 * Send a command and wait for the reply:
 *   map anon|shared|thp|file PAGES, unmap, addr (of the region),
 *   write FIRST COUNT, read FIRST COUNT, poke PAGE VALUE, peek PAGE,
 *   madvise dontfork|wipeonfork|mergeable|nohugepage, mlock, munlock,
 *   seg addr|get|set DELTA (a value each in data, bss, heap and stack),
 *   thread, exec (a fresh puppet, same channel), forktime ROUNDS, pin
 *   (to the CPU it runs on),
 *   wait, exit STATUS,
 *   and for the tests (puppet_faults.c): workers, race FIRST COUNT,
 *   anonvma ROUNDS, wpass FIRST COUNT, fill FIRST COUNT, storm ROUNDS;
 * and wait for the reply.  Returns the command's value (>= 0), or -1 with a message in
 * @err.
 */
long puppet_cmd(struct puppet *p, char *err, size_t errlen,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * puppets[parent] forks; the child, named @name (no spaces; "" keeps the
 * parent's comm), becomes puppets[child] and waits for commands.
 */
int puppet_fork(struct puppet *puppets, int parent, int child,
		const char *name, char *err, size_t errlen);

/* Like puppet_cmd(), with the reply's text after "ok " copied to @text. */
long puppet_query(struct puppet *p, char *text, size_t textlen, char *err,
		  size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * vfork() in two halves: puppets[parent] vforks and is suspended, the
 * child (puppets[child], its pid known) waits; then the child execs a
 * fresh puppet and the parent runs again.
 */
int puppet_vfork_start(struct puppet *puppets, int parent, int child,
		       char *err, size_t errlen);
int puppet_vfork_finish(struct puppet *puppets, int parent, int child,
			char *err, size_t errlen);

/* Close every channel; puppets still alive then exit by themselves. */
void puppet_release(struct puppet *puppets, int n);

/* The puppet's side; never returns. */
void puppet_main(int argc, char **argv) __attribute__((noreturn));

#endif /* COWSTAT_PUPPET_H */
