// SPDX-License-Identifier: GPL-2.0-only
/*
 * The puppet's side (see puppet.h): a loop that reads one command, does
 * it, and replies.  No stdio and no malloc between commands: a puppet's
 * memory must stay exactly as it was while it is observed.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "puppet.h"
#include "puppet_internal.h"

#define MSG_LEN		128
#define THP_SIZE	(2UL << 20)

/*
 * The "segments" lesson's values, one in data, bss, heap and stack each,
 * every one alone on its page, so that a write to one copies that page and
 * nothing else touches it.
 */
#define SEG_PAGE	4096
static long seg_data[SEG_PAGE / sizeof(long)] __attribute__((aligned(SEG_PAGE))) = { 1 };
static long seg_bss[SEG_PAGE / sizeof(long)] __attribute__((aligned(SEG_PAGE)));
static long *seg_heap, *seg_stack;

static struct {
	char *self[3];		/* argv[0] and [2], to exec a fresh puppet */
	int fd[PUPPET_MAX];
	int me;
	int quiet;	/* replies off while warming up */
	char *base;
	size_t pages;
	size_t len;
	char msg[MSG_LEN];	/* the command being run */
} pp __attribute__((aligned(256)));	/* on one page: warm_up() copies it whole */

#define reply	puppet_reply

void puppet_reply(const char *fmt, ...)
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

char *puppet_region(size_t *pages)
{
	*pages = pp.pages;
	return pp.base;
}

bool puppet_range_ok(size_t first, size_t count)
{
	return pp.base && first <= pp.pages && count <= pp.pages - first;
}

static void run_command(char *msg);

/*
 * Run the write and read paths once with nothing to touch, replies off.
 * In a fresh child, the first writes to its stack and to libc's data are
 * COW copies; made here, they cannot blur the first real command's count.
 */
/* Write the stack @depth bytes below here (commands go less deep). */
static void touch_stack(size_t depth)
{
	char stack[depth];

	memset(stack, 0, depth);
	__asm__ volatile("" : : "r"(stack) : "memory");	/* keep the writes */
}

static void warm_up(void)
{
	char write_none[] = "write 0 0", read_none[] = "read 0 0";

	touch_stack(16384);
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
	warm_up();	/* both sides: their first writes after fork happen now */
	if (pid == 0) {
		pp.me = child;
		if (*name)
			prctl(PR_SET_NAME, name);
		populate_file_mappings();
		reply("ok 0");
		return;
	}
	reply("ok %d", (int)pid);
}

/* Re-exec this program as a fresh puppet on channel @fd. */
static void exec_fresh_puppet(int fd)
{
	char fdarg[12], *argv[5];

	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	argv[0] = pp.self[0];
	argv[1] = (char *)PUPPET_FLAG;
	argv[2] = pp.self[2];
	argv[3] = fdarg;
	argv[4] = NULL;
	fcntl(fd, F_SETFD, 0);
	execv("/proc/self/exe", argv);
}

/*
 * vfork(): the child borrows this process's memory and this process waits
 * until the child execs.  The child uses only system calls on its stack
 * frame: it reports its pid on its channel, waits for "go", then execs a
 * fresh puppet there.
 */
static void do_vfork(int child)
{
	char msg[32];
	pid_t pid;

	if (child <= 0 || child >= PUPPET_MAX || pp.fd[child] < 0) {
		reply("err no channel %d", child);
		return;
	}
	pid = vfork();
	if (pid == 0) {
		int len = snprintf(msg, sizeof(msg), "ok %d", (int)getpid());

		/* Not a byte of the parent's memory is changed here. */
		if (send(pp.fd[child], msg, len, MSG_NOSIGNAL) == len &&
		    recv(pp.fd[child], msg, sizeof(msg), 0) > 0)
			exec_fresh_puppet(pp.fd[child]);
		_exit(127);
	}
	if (pid < 0)
		reply("err vfork: %s", strerror(errno));
	else
		reply("ok %d", (int)pid);
}

static sigjmp_buf peek_env;

static void peek_fault(int sig)
{
	siglongjmp(peek_env, sig);
}

/* The first byte of page @i, or the signal reading it raised. */
static void do_peek(size_t i)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct sigaction sa = { .sa_handler = peek_fault }, old_segv, old_bus;
	int sig, value;

	if (!pp.base || i >= pp.pages) {
		reply("err page %zu outside the region", i);
		return;
	}
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(peek_env, 1);
	if (!sig)
		value = ((volatile unsigned char *)pp.base)[i * page];
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	if (sig)
		reply("err %s reading page %zu", sig == SIGSEGV ? "SIGSEGV" : "SIGBUS", i);
	else
		reply("ok %d", value);
}

static void do_madvise(const char *what)
{
	static const struct { const char *name; int advice; } advice[] = {
		{ "dontfork", MADV_DONTFORK },
		{ "wipeonfork", MADV_WIPEONFORK },
		{ "mergeable", MADV_MERGEABLE },
		{ "nohugepage", MADV_NOHUGEPAGE },
	};
	unsigned int i;

	for (i = 0; i < sizeof(advice) / sizeof(advice[0]); i++) {
		if (strcmp(what, advice[i].name))
			continue;
		if (madvise(pp.base, pp.len, advice[i].advice))
			reply("err madvise %s: %s", what, strerror(errno));
		else
			reply("ok 0");
		return;
	}
	reply("err unknown advice '%s'", what);
}

/* Nanoseconds of CLOCK_MONOTONIC (guest instructions under -icount). */
static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The fastest of @rounds fork() calls, as the parent sees it. */
/* fork() @rounds times (at most 15): the median, fastest and slowest, in ns. */
static void do_forktime(int rounds)
{
	long long t[15], x;
	pid_t pid;
	int i, j;

	if (rounds < 1 || rounds > 15) {
		reply("err forktime takes 1 to 15 rounds");
		return;
	}
	for (i = 0; i < rounds; i++) {
		x = now_ns();
		pid = fork();
		if (pid == 0)
			_exit(0);
		x = now_ns() - x;
		if (pid < 0 || waitpid(pid, NULL, 0) < 0) {
			reply("err fork: %s", strerror(errno));
			return;
		}
		for (j = i; j > 0 && t[j - 1] > x; j--)	/* sorted as they come */
			t[j] = t[j - 1];
		t[j] = x;
	}
	reply("ok %lld %lld %lld", t[rounds / 2], t[0], t[rounds - 1]);
}

static void do_segments(const char *what, long delta)
{
	if (!strcmp(what, "addr")) {
		reply("ok %lx %lx %lx %lx", (unsigned long)seg_data,
		      (unsigned long)seg_bss, (unsigned long)seg_heap,
		      (unsigned long)seg_stack);
	} else if (!strcmp(what, "set")) {
		seg_data[0] += delta;
		seg_bss[0] += delta;
		*seg_heap += delta;
		*seg_stack += delta;
		reply("ok 0");
	} else if (!strcmp(what, "get")) {
		reply("ok %ld %ld %ld %ld", seg_data[0], seg_bss[0], *seg_heap, *seg_stack);
	} else {
		reply("err unknown segment command '%s'", what);
	}
}

/* Stay on the CPU this runs on now (and so will children forked from here). */
static void do_pin(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof(set), &set))
		reply("err pin: %s", strerror(errno));
	else
		reply("ok %d", cpu);
}

static void run_command(char *msg)
{
	char kind[16], name[16] = "";
	size_t a, b;
	pthread_t t;
	long delta;
	int st, n;

	if (sscanf(msg, "map %15s %zu", kind, &a) == 2) {
		do_map(kind, a);
	} else if (sscanf(msg, "write %zu %zu", &a, &b) == 2) {
		do_touch(1, a, b);
	} else if (sscanf(msg, "read %zu %zu", &a, &b) == 2) {
		do_touch(0, a, b);
	} else if (sscanf(msg, "fork %d %15s", &n, name) >= 1) {
		do_fork(n, name);
	} else if (sscanf(msg, "vfork %d", &n) == 1) {
		do_vfork(n);
	} else if (sscanf(msg, "poke %zu %zu", &a, &b) == 2) {
		if (pp.base && a < pp.pages) {
			pp.base[a * (size_t)sysconf(_SC_PAGESIZE)] = (char)b;
			reply("ok 0");
		} else {
			reply("err page %zu outside the region", a);
		}
	} else if (sscanf(msg, "peek %zu", &a) == 1) {
		do_peek(a);
	} else if (sscanf(msg, "madvise %15s", kind) == 1) {
		do_madvise(kind);
	} else if (!strcmp(msg, "mlock") || !strcmp(msg, "munlock")) {
		if ((msg[1] == 'l' ? mlock : munlock)(pp.base, pp.len))
			reply("err %s: %s", msg, strerror(errno));
		else
			reply("ok 0");
	} else if (!strcmp(msg, "exec")) {
		exec_fresh_puppet(pp.fd[pp.me]);
		reply("err exec: %s", strerror(errno));
	} else if (sscanf(msg, "forktime %d", &n) == 1) {
		do_forktime(n);
	} else if (sscanf(msg, "seg %15s %ld", kind, &delta) >= 1) {
		do_segments(kind, delta);
	} else if (!strcmp(msg, "pin")) {
		do_pin();
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
	} else if (!puppet_fault_command(msg)) {
		reply("err unknown command '%s'", msg);
	}
}

void puppet_main(int argc, char **argv)
{
	long stack_page[SEG_PAGE / sizeof(long)] __attribute__((aligned(SEG_PAGE)));
	ssize_t n;
	int i;

	if (argc < 4 || argc - 3 > PUPPET_MAX)
		_exit(2);
	prctl(PR_SET_NAME, argv[2]);
	pp.self[0] = argv[0];
	pp.self[2] = argv[2];
	seg_heap = aligned_alloc(SEG_PAGE, SEG_PAGE);
	if (!seg_heap)
		_exit(2);
	*seg_heap = 3;
	seg_data[0] = 1;	/* written: an anonymous copy, like the others */
	seg_bss[0] = 2;
	stack_page[0] = 4;
	seg_stack = stack_page;
	for (i = 0; i < PUPPET_MAX; i++)
		pp.fd[i] = i < argc - 3 ? atoi(argv[3 + i]) : -1;
	pp.me = 0;
	touch_stack(65536);	/* so that warm_up() finds these pages, not new ones */
	populate_file_mappings();
	reply("ok 0");
	for (;;) {
		n = recv(pp.fd[pp.me], pp.msg, sizeof(pp.msg) - 1, 0);
		if (n <= 0)
			_exit(0);	/* the controller is gone */
		pp.msg[n] = '\0';
		run_command(pp.msg);
	}
}
