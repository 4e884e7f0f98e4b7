// SPDX-License-Identifier: GPL-2.0-only
/*
 * stall_bench: does reading /proc/cowstat (or /proc/cowstat_maps) stall
 * the process it reads?  A process with a large mapping (so that each read
 * of it is long) mmaps, writes and munmaps a small region in a loop,
 * taking its mmap lock for writing twice a round, and times every round.
 * Its slowest round is measured without readers, then with that many
 * processes reading the file over and over at the lowest priority (so that
 * what remains is waiting for the lock, not for the CPU).  The module
 * drops the mmap lock when it is contended, so a round waits for one page
 * table's walk, not for a whole process's (or mapping's).
 *
 * Usage: stall_bench [big_pages [loops [readers [file]]]]
 * Prints CSV: file,readers,loops,max_round_ns,median_round_ns
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_READERS	8
#define PAGE	4096UL

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Readers run at nice 19, so that the CPU is the measured process's when it wants it. */
static void reader(const char *path)
{
	static char buf[1 << 16];

	if (nice(19) < 0)
		exit(1);
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
			;
		if (fd >= 0)
			close(fd);
	}
}

/* Time @loops mmap+write+munmap rounds (both calls take the mmap lock for writing). */
static void churn(long loops, double *max, double *median)
{
	double *t = calloc(loops, sizeof(*t));
	long i;

	for (i = 0; t && i < loops; i++) {
		double t0 = now_ns();
		char *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			exit(1);
		p[0] = 1;
		munmap(p, 16 * PAGE);
		t[i] = now_ns() - t0;
		usleep(100);	/* let the readers run between munmaps */
	}
	if (!t)
		exit(1);
	qsort(t, loops, sizeof(*t), cmp);
	*max = t[loops - 1];
	*median = t[loops / 2];
	free(t);
}

int main(int argc, char **argv)
{
	long pages = argc > 1 ? atol(argv[1]) : 65536, loops = argc > 2 ? atol(argv[2]) : 200;
	int nreaders = argc > 3 ? atoi(argv[3]) : 2;
	const char *path = argc > 4 ? argv[4] : "/proc/cowstat";
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	pid_t readers[MAX_READERS];
	double max, median;
	char *big;
	int r;

	if (pages < 1 || loops < 1 || nreaders < 1 || nreaders > MAX_READERS) {
		fprintf(stderr, "usage: stall_bench [big_pages [loops [readers [file]]]]\n");
		return 2;
	}
	big = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED)
		return 1;
	madvise(big, pages * PAGE, MADV_NOHUGEPAGE);	/* a long walk: many PTE tables */
	memset(big, 1, pages * PAGE);

	printf("file,readers,loops,max_round_ns,median_round_ns\n");
	churn(loops, &max, &median);
	printf("%s,0,%ld,%.0f,%.0f\n", name, loops, max, median);
	fflush(stdout);

	for (r = 0; r < nreaders; r++) {
		readers[r] = fork();
		if (readers[r] == 0)
			reader(path);
	}
	churn(loops, &max, &median);
	printf("%s,%d,%ld,%.0f,%.0f\n", name, nreaders, loops, max, median);
	for (r = 0; r < nreaders; r++)
		kill(readers[r], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}
