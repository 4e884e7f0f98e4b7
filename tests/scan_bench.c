// SPDX-License-Identifier: GPL-2.0-only
/*
 * scan_bench: what one full read of /proc/cowstat costs per mapped page,
 * against the kernel's own walk (every process's /proc/PID/smaps_rollup)
 * and a userspace scan (/proc/PID/pagemap + /proc/kpagecount, the method
 * of procrank and page-types), on the same processes in one run.  Costs
 * are CLOCK_MONOTONIC ns: guest instructions in the benchmark VM.  The
 * cost of the processes already there is measured first and subtracted,
 * so the figure is the cost of the workload's pages alone.
 *
 * Usage: scan_bench fixed | procs N PAGES | size PAGES | watch N PAGES
 *   fixed  8 forked pairs of 4000-page processes and one 32 MiB THP region
 *   procs  N processes of PAGES pages each
 *   size   one process of PAGES pages
 * Prints CSV: workload,pages,method,ns_per_page
 *   watch  N processes of PAGES pages: what one refresh of `cowprobe watch`
 *          costs (read, parse, sort and print a table), beside one read of
 *          /proc/cowstat.  Prints CSV: workload,rows,refresh_ns,read_ns
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS		5
#define MAX_KIDS	2100
#define PAGE		4096UL
#define THP_SIZE	(2UL << 20)

static pid_t kids[MAX_KIDS];
static int nkids;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Map @pages pages (THP-aligned if @thp), write them, maybe fork, say ready, sleep. */
static void __attribute__((noreturn)) sleeper(long pages, bool thp, bool pair, int ready)
{
	size_t len = pages * PAGE;
	char *p;

	setpgid(0, 0);	/* its pair child too: kill_kids() kills the group */
	p = mmap(NULL, len + (thp ? THP_SIZE : 0), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	if (thp)
		p = (char *)(((unsigned long)p + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(p, 1, len);
	if (pair && fork() < 0)
		_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static void spawn(long pages, bool thp, bool pair)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		exit(1);
	pid = fork();
	if (pid == 0)
		sleeper(pages, thp, pair, ready[1]);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		exit(1);
	close(ready[0]);
	kids[nkids++] = pid;
}

static void kill_kids(void)
{
	int i;

	for (i = 0; i < nkids; i++)
		kill(-kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	nkids = 0;
}

static long long read_all(const char *path, char *buf, size_t len)
{
	long long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, len)) > 0)
		total += n;
	close(fd);
	return total;
}

/* Every pid in /proc. */
static int list_pids(int *pids, int max)
{
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int n = 0;

	while (dir && (d = readdir(dir)) && n < max)
		if (d->d_name[0] >= '1' && d->d_name[0] <= '9')
			pids[n++] = atoi(d->d_name);
	if (dir)
		closedir(dir);
	return n;
}

static void scan_cowstat(void)
{
	static char buf[1 << 16];

	read_all("/proc/cowstat", buf, sizeof(buf));
}

static void scan_smaps(void)
{
	static int pids[4096];
	static char buf[1 << 14];
	char path[64];
	int i, n = list_pids(pids, 4096);

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pids[i]);
		read_all(path, buf, sizeof(buf));
	}
}

/* procrank's way: every mapping's pagemap, and the map count of each frame. */
static void scan_pagemap(void)
{
	static int pids[4096];
	static uint64_t pm[512];
	char path[64], line[512];
	int i, n = list_pids(pids, 4096), kpc = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);

	for (i = 0; i < n; i++) {
		unsigned long start, end, a;
		FILE *maps;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/maps", pids[i]);
		maps = fopen(path, "re");
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pids[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		while (maps && fd >= 0 && fgets(line, sizeof(line), maps)) {
			if (sscanf(line, "%lx-%lx", &start, &end) != 2 || start >= 0xffffffff00000000UL)
				continue;
			for (a = start; a < end; a += 512 * PAGE) {
				size_t cnt = (end - a) / PAGE < 512 ? (end - a) / PAGE : 512, j;
				ssize_t got = pread(fd, pm, cnt * 8, (a / PAGE) * 8);

				for (j = 0; got > 0 && j < (size_t)got / 8; j++) {
					uint64_t count, pfn = pm[j] & ((1ULL << 55) - 1);

					if ((pm[j] >> 63) && pfn &&
					    pread(kpc, &count, 8, pfn * 8) != 8)
						break;
				}
			}
		}
		if (maps)
			fclose(maps);
		if (fd >= 0)
			close(fd);
	}
	close(kpc);
}

/* Column @name of /proc/cowstat's header line, or -1. */
static int column(const char *header, const char *name)
{
	char copy[512], *tok, *save = NULL;
	int i = 0;

	snprintf(copy, sizeof(copy), "%s", header);
	for (tok = strtok_r(copy, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), i++)
		if (!strcmp(tok, name))
			return i;
	return -1;
}

/* Mapped pages (rss + zero + swap) of every row of /proc/cowstat. */
static long long mapped_pages(void)
{
	char line[512], *p, *end;
	long long total = 0, v;
	int want[3], i, j;
	FILE *f = fopen("/proc/cowstat", "re");

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	want[0] = column(line, "rss");
	want[1] = column(line, "zero");
	want[2] = column(line, "swap");
	if (want[0] < 0 || want[1] < 0 || want[2] < 0) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		for (i = 0, p = line; i <= want[2] || i <= want[1] || i <= want[0]; i++, p = end) {
			v = strtoll(p, &end, 10);
			if (end == p)
				break;
			for (j = 0; j < 3; j++)
				if (i == want[j])
					total += v;
		}
	}
	fclose(f);
	return total;
}

static double best_of(void (*scan)(void))
{
	double best = 0, t;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		t = now_ns();
		scan();
		t = now_ns() - t;
		if (!r || t < best)
			best = t;
	}
	return best;
}

static const struct { const char *name; void (*scan)(void); } methods[] = {
	{ "cowstat", scan_cowstat },
	{ "smaps_rollup", scan_smaps },
	{ "pagemap+kpagecount", scan_pagemap },
};

/* cowprobe watch -i 0 -c @count, its output to /dev/null: ns it took, best of 3. */
static double watch_ns(const char *count)
{
	double best = 0, t;
	int r, status;
	pid_t pid;

	for (r = 0; r < 3; r++) {
		t = now_ns();
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, STDOUT_FILENO);
			execl("/bin/cowprobe", "cowprobe", "watch", "-i", "0", "-c", count, (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || status) {
			fprintf(stderr, "scan_bench: cowprobe watch failed\n");
			exit(1);
		}
		t = now_ns() - t;
		if (!r || t < best)
			best = t;
	}
	return best;
}

/* The refresh of watch: 11 tables less 1, over 10; the start-up cancels out. */
static int bench_watch(int n, long pages)
{
	double refresh, read;
	long long rows;
	FILE *f;
	char line[512];
	int i;

	for (i = 0; i < n && i < MAX_KIDS; i++)
		spawn(pages, false, false);
	refresh = (watch_ns("11") - watch_ns("1")) / 10;
	read = best_of(scan_cowstat);
	f = fopen("/proc/cowstat", "re");
	for (rows = -1; f && fgets(line, sizeof(line), f);)
		rows++;
	if (f)
		fclose(f);
	kill_kids();
	printf("%d processes x %ld pages,%lld,%.0f,%.0f\n", n, pages, rows, refresh, read);
	return 0;
}

int main(int argc, char **argv)
{
	double base[3], with[3];
	long long p0, p1;
	char label[64];
	unsigned int m;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: scan_bench fixed | procs N PAGES | size PAGES | "
			"watch N PAGES\n");
		return 2;
	}
	if (!strcmp(argv[1], "watch") && argc == 4)
		return bench_watch(atoi(argv[2]), atol(argv[3]));
	p0 = mapped_pages();
	for (m = 0; m < 3; m++)
		base[m] = best_of(methods[m].scan);

	if (!strcmp(argv[1], "fixed")) {
		for (i = 0; i < 8; i++)
			spawn(4000, false, true);
		spawn(32 * 256, true, false);
		snprintf(label, sizeof(label), "8 pairs x 4000 + 32 MiB THP");
	} else if (!strcmp(argv[1], "procs") && argc == 4) {
		int n = atoi(argv[2]);

		for (i = 0; i < n && i < MAX_KIDS; i++)
			spawn(atol(argv[3]), false, false);
		snprintf(label, sizeof(label), "%d processes x %s pages", n, argv[3]);
	} else if (!strcmp(argv[1], "size") && argc == 3) {
		spawn(atol(argv[2]), false, false);
		snprintf(label, sizeof(label), "1 process x %s pages", argv[2]);
	} else {
		fprintf(stderr, "scan_bench: bad arguments\n");
		return 2;
	}
	p1 = mapped_pages();
	for (m = 0; m < 3; m++)
		with[m] = best_of(methods[m].scan);
	kill_kids();

	for (m = 0; m < 3; m++)
		printf("%s,%lld,%s,%.1f\n", label, p1 - p0, methods[m].name,
		       (with[m] - base[m]) / (double)(p1 - p0));
	return 0;
}
