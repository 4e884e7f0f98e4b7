// SPDX-License-Identifier: GPL-2.0-only
/*
 * Puppet commands that drive the kernel's write-fault paths as only the
 * tests need them (puppet.h lists every command):
 *
 *   workers            start two threads that wait for the next two commands
 *   race FIRST COUNT   both threads write each page of the range at the same
 *                      moment (a spin barrier before every page)
 *   anonvma ROUNDS     ROUNDS times: map a fresh page, read it, write it,
 *                      unmap it, while a worker maps and unmaps memory
 *                      without a pause (each first write needs an anon_vma
 *                      under a contended mmap lock)
 *   wpass FIRST COUNT  write each page of the range; reply how many page
 *                      frames changed (from /proc/self/pagemap, as root)
 *   fill FIRST COUNT   write the same byte to each page (identical pages)
 *   storm ROUNDS       ROUNDS times: fork a child that exits at once, reap
 *                      it, write every page of the region (reuses, each)
 *
 * A step's events must be the region's alone: these commands write no
 * memory but the region, the workers' stacks, fresh mappings of their own
 * and this file's state, which "workers" writes first (so that it is the
 * puppet's own page, not one shared with a parent, when a step runs).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "puppet_internal.h"

enum job { JOB_NONE, JOB_RACE, JOB_CHURN };

#define NR_WORKERS	2

static struct {
	pthread_t thread[NR_WORKERS];
	int started;
	atomic_uint gen;		/* bumped for each job; futex word */
	atomic_uint done;		/* workers through with the job; futex word */
	atomic_int job;
	atomic_ulong arrived;		/* race: arrivals at the page barriers */
	atomic_int stop;		/* churn: time to stop */
	volatile char *base;		/* race: the first page */
	size_t count;
	long page;
} w __attribute__((aligned(4096)));	/* a page of its own */

static void futex_wait(atomic_uint *word, unsigned int val)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_uint *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, NR_WORKERS, NULL, NULL, 0);
}

/* Both threads write page i only when both have arrived at its barrier. */
static void race(int id)
{
	unsigned long want;
	size_t i;

	for (i = 0; i < w.count; i++) {
		want = NR_WORKERS * (i + 1);
		atomic_fetch_add(&w.arrived, 1);
		while (atomic_load(&w.arrived) < want)
			;
		w.base[i * w.page] = (char)(id + 1);
	}
}

/* Take the mmap lock for writing, again and again, until told to stop. */
static void churn(void)
{
	void *p;

	while (!atomic_load(&w.stop)) {
		p = mmap(NULL, w.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			munmap(p, w.page);
	}
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned int seen = 0, gen;

	for (;;) {
		while ((gen = atomic_load(&w.gen)) == seen)
			futex_wait(&w.gen, seen);
		seen = gen;
		if (atomic_load(&w.job) == JOB_RACE)
			race(id);
		else if (atomic_load(&w.job) == JOB_CHURN && id == 1)
			churn();
		atomic_fetch_add(&w.done, 1);
		futex_wake(&w.done);
	}
	return NULL;
}

static void start_job(enum job job)
{
	atomic_store(&w.done, 0);
	atomic_store(&w.job, job);
	atomic_fetch_add(&w.gen, 1);
	futex_wake(&w.gen);
}

static void wait_job(void)
{
	unsigned int done;

	while ((done = atomic_load(&w.done)) < NR_WORKERS)
		futex_wait(&w.done, done);
}

static void do_workers(void)
{
	int i, err;

	if (w.started) {
		puppet_reply("err workers are running already");
		return;
	}
	/* Write every field now: this page is the puppet's own from here on. */
	memset(&w, 0, sizeof(w));
	w.page = sysconf(_SC_PAGESIZE);
	for (i = 0; i < NR_WORKERS; i++) {
		err = pthread_create(&w.thread[i], NULL, worker, (void *)(intptr_t)i);
		if (err) {
			puppet_reply("err pthread_create: %s", strerror(err));
			return;
		}
		w.started++;
	}
	/* One empty job each: the workers' first steps are behind them too. */
	w.count = 0;
	start_job(JOB_RACE);
	wait_job();
	puppet_reply("ok %d", NR_WORKERS);
}

static void do_race(size_t first, size_t count)
{
	size_t pages;
	char *base = puppet_region(&pages);

	if (w.started != NR_WORKERS || !puppet_range_ok(first, count)) {
		puppet_reply("err race needs the workers and pages of the region");
		return;
	}
	w.base = base + first * w.page;
	w.count = count;
	atomic_store(&w.arrived, 0);
	start_job(JOB_RACE);
	wait_job();
	puppet_reply("ok %zu", count);
}

static void do_anonvma(size_t rounds)
{
	volatile char *p;
	char *reserve;
	size_t i;
	int bad = 0;

	if (w.started != NR_WORKERS || !rounds || rounds > 100000) {
		puppet_reply("err anonvma needs the workers and 1..100000 rounds");
		return;
	}
	/* Each page between two inaccessible ones: no neighbour to merge with, no anon_vma. */
	reserve = mmap(NULL, (2 * rounds + 1) * w.page, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (reserve == MAP_FAILED) {
		puppet_reply("err mmap: %s", strerror(errno));
		return;
	}
	atomic_store(&w.stop, 0);
	start_job(JOB_CHURN);
	for (i = 0; i < rounds && !bad; i++) {
		p = mmap(reserve + (2 * i + 1) * w.page, w.page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED) {
			bad = errno;
			break;
		}
		(void)p[0];		/* the zero page */
		p[0] = 1;		/* its copy, which needs an anon_vma */
		munmap((void *)p, w.page);
	}
	atomic_store(&w.stop, 1);
	wait_job();
	munmap(reserve, (2 * rounds + 1) * w.page);
	if (bad)
		puppet_reply("err mmap: %s", strerror(bad));
	else
		puppet_reply("ok %zu", rounds);
}

#define PM_PFN_MASK	((1ULL << 55) - 1)	/* Documentation/admin-guide/mm/pagemap.rst */

static int read_frames(int fd, uint64_t *frames, size_t first, size_t count, const char *base,
		       size_t page)
{
	size_t len = count * sizeof(*frames);
	off_t off = (off_t)((uintptr_t)base / page + first) * (off_t)sizeof(*frames);

	return pread(fd, frames, len, off) == (ssize_t)len ? 0 : -1;
}

static void do_wpass(size_t first, size_t count)
{
	size_t pages, i, changed = 0, pfns = 0, page = (size_t)sysconf(_SC_PAGESIZE);
	char *base = puppet_region(&pages);
	uint64_t *before, *after;
	int fd;

	if (!puppet_range_ok(first, count) || !count) {
		puppet_reply("err pages %zu..%zu outside the region", first, first + count);
		return;
	}
	/* A fresh mapping for the frame numbers: its pages are new, never copies. */
	before = mmap(NULL, 2 * count * sizeof(*before), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (before == MAP_FAILED) {
		puppet_reply("err mmap: %s", strerror(errno));
		return;
	}
	after = before + count;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read_frames(fd, before, first, count, base, page)) {
		puppet_reply("err /proc/self/pagemap: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < count; i++)
		((volatile char *)base)[(first + i) * page] = (char)(i + 7);
	if (read_frames(fd, after, first, count, base, page)) {
		puppet_reply("err /proc/self/pagemap: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < count; i++) {
		pfns += (after[i] & PM_PFN_MASK) != 0;
		changed += (before[i] & PM_PFN_MASK) != (after[i] & PM_PFN_MASK);
	}
	if (!pfns)
		puppet_reply("err no page frame numbers in pagemap (not root?)");
	else
		puppet_reply("ok %zu", changed);
out:
	if (fd >= 0)
		close(fd);
	munmap(before, 2 * count * sizeof(*before));
}

static void do_fill(size_t first, size_t count)
{
	size_t pages, i, page = (size_t)sysconf(_SC_PAGESIZE);
	volatile char *base = puppet_region(&pages);

	if (!puppet_range_ok(first, count)) {
		puppet_reply("err pages %zu..%zu outside the region", first, first + count);
		return;
	}
	for (i = 0; i < count; i++)
		base[(first + i) * page] = 0x5a;
	puppet_reply("ok %zu", count);
}

static void do_storm(size_t rounds)
{
	size_t pages, i, r, page = (size_t)sysconf(_SC_PAGESIZE);
	volatile char *base = puppet_region(&pages);
	pid_t pid;

	if (!base || !rounds) {
		puppet_reply("err storm needs a region and rounds");
		return;
	}
	for (r = 0; r < rounds; r++) {
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) < 0) {
			puppet_reply("err fork: %s", strerror(errno));
			return;
		}
		for (i = 0; i < pages; i++)
			base[i * page] = (char)r;
	}
	puppet_reply("ok %zu", rounds);
}

bool puppet_fault_command(const char *msg)
{
	size_t a, b;

	if (!strcmp(msg, "workers"))
		do_workers();
	else if (sscanf(msg, "race %zu %zu", &a, &b) == 2)
		do_race(a, b);
	else if (sscanf(msg, "anonvma %zu", &a) == 1)
		do_anonvma(a);
	else if (sscanf(msg, "wpass %zu %zu", &a, &b) == 2)
		do_wpass(a, b);
	else if (sscanf(msg, "fill %zu %zu", &a, &b) == 2)
		do_fill(a, b);
	else if (sscanf(msg, "storm %zu", &a) == 1)
		do_storm(a);
	else
		return false;
	return true;
}
