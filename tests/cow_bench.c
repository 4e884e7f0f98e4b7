// SPDX-License-Identifier: GPL-2.0-only
/*
 * cow_bench: the cost of a write fault, of one of three kinds:
 *
 *   copy   a parent writes PAGES pages and forks; the child writes one byte
 *          into each, every write a copy-on-write fault (wp_page_copy());
 *   reuse  the same, but the child exits first and the parent writes its
 *          pages again: every write a fault that reuses the page;
 *   touch  a child writes PAGES pages never touched before: every write
 *          allocates a fresh page (do_anonymous_page()).
 *
 * Prints the time per fault, the best of ROUNDS forks, in nanoseconds of
 * CLOCK_MONOTONIC: in the benchmark VM (QEMU -icount shift=0) that is guest
 * instructions, the same from run to run.
 *
 * Usage: cow_bench [pages [rounds [copy|reuse|touch]]]
 */

#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* In a child: write every page once; report ns per write through @fd. */
static void child_writes(volatile char *p, long pages, long page, int fd)
{
	double t0, t1, per;
	long i;

	t0 = now_ns();
	for (i = 0; i < pages; i++)
		p[i * page] = 2;
	t1 = now_ns();
	per = (t1 - t0) / pages;
	_exit(write(fd, &per, sizeof(per)) == sizeof(per) ? 0 : 1);
}

/* The parent, once its child has exited: write every page again (reuses). */
static double parent_rewrites(volatile char *p, long pages, long page)
{
	double t0 = now_ns();
	long i;

	for (i = 0; i < pages; i++)
		p[i * page] = 3;
	return (now_ns() - t0) / pages;
}

int main(int argc, char **argv)
{
	long pages = argc > 1 ? atol(argv[1]) : 4096, rounds = argc > 2 ? atol(argv[2]) : 5;
	const char *kind = argc > 3 ? argv[3] : "copy";
	long page = sysconf(_SC_PAGESIZE), r;
	bool reuse = !strcmp(kind, "reuse"), touch = !strcmp(kind, "touch");
	double best = 0, per;
	int fds[2], status;
	char *p;

	if (pages < 1 || rounds < 1 || (!reuse && !touch && strcmp(kind, "copy"))) {
		fprintf(stderr, "usage: cow_bench [pages [rounds [copy|reuse|touch]]]\n");
		return 2;
	}
	p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || pipe(fds)) {
		perror("cow_bench");
		return 1;
	}
	madvise(p, pages * page, MADV_NOHUGEPAGE);	/* 4 KiB faults only */
	if (!touch)
		memset(p, 1, pages * page);
	for (r = 0; r < rounds; r++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("cow_bench: fork");
			return 1;
		}
		if (pid == 0 && reuse)
			_exit(0);
		if (pid == 0)
			child_writes(p, pages, page, fds[1]);
		if (reuse) {
			if (waitpid(pid, &status, 0) < 0)
				return 1;
			per = parent_rewrites(p, pages, page);
			if (r == 0 || per < best)
				best = per;
			continue;
		}
		if (read(fds[0], &per, sizeof(per)) != sizeof(per) ||
		    waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "cow_bench: the child failed\n");
			return 1;
		}
		if (r == 0 || per < best)
			best = per;
	}
	printf("%.1f\n", best);
	return 0;
}
