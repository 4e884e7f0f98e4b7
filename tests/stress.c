// SPDX-License-Identifier: GPL-2.0-only
/*
 * stress: run inside the VM by tests/stress-in-vm.sh (make test-stress).
 *
 *   stress churn SECONDS     readers of /proc/cowstat and /proc/cowstat_maps,
 *                            processes that fork, exec, map, unmap, protect,
 *                            remap and advise memory (THPs made, split and
 *                            collapsed), and the module unloaded and loaded
 *                            again, all at once for SECONDS
 *   stress readers           only the readers, until SIGTERM (beside the
 *                            kernel's cow selftest)
 *   stress witness           under fault injection: forks children whose
 *                            counters may fail to be made, and checks that
 *                            each row then says '-' or is exact
 *
 * STRESS_FAULTS=1 (make test-debug): the readers and the churners mark
 * themselves for the kernel's fault injection (/proc/self/make-it-fail,
 * with failslab and fail_page_alloc's task-filter), so a share of the
 * allocations made for them, the module's included, fail.  A reader's
 * ENOMEM then counts as refused.  Not the loader (see spawn()).
 *
 * Prints what it did as KTAP diagnostics ("# reads 123 ...") and exits 0
 * when no reader met an error other than the files vanishing while the
 * module was out (ENOENT at open, EIO from a file opened before), no
 * load or unload failed and every worker exited cleanly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MODULE_PATH	"/lib/modules/cowstat.ko"
#define READERS		4
#define CHURNERS	3
#define REGIONS		8
#define PAGE		4096UL
#define HUGE		(2UL << 20)

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25	/* 6.1 has it; older libc headers may not */
#endif

static const char *const files[] = { "/proc/cowstat", "/proc/cowstat_maps" };

/* What each worker did, in a shared page the parent sums at the end. */
struct tally {
	long reads, vanished, errors, refused;	/* readers */
	long forks, execs, threads, ops;	/* churners */
	long loads, unloads, load_errors;	/* the loader */
};

static bool faults;	/* STRESS_FAULTS=1 */

/* Let fault injection fail this task's allocations, or stop it. */
static void make_it_fail(bool on)
{
	int fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, on ? "1" : "0", 1) != 1)
			perror("stress: make-it-fail");
		close(fd);
	}
}

static struct tally *tallies;	/* one per worker, MAP_SHARED */
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned int rnd(unsigned int *seed, unsigned int n)
{
	return (unsigned int)rand_r(seed) % n;
}

/*
 * One open file, read in pieces of random size, sometimes held open for a
 * while in the middle, sometimes rewound or read with pread at an odd
 * offset (seq_file regenerates the text up to there).
 */
static void read_once(struct tally *t, unsigned int *seed)
{
	static const size_t sizes[] = { 1, 7, 64, 4096, 65536 };
	static char buf[65536];
	const char *path = files[rnd(seed, 2)];
	size_t size = sizes[rnd(seed, 5)];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const char *op = "read";
	int rewound = 0;
	ssize_t n;

	if (fd < 0) {
		if (errno == ENOENT) {
			t->vanished++;
			usleep(1000);
		} else if (faults && errno == ENOMEM) {
			t->refused++;
		} else {
			fprintf(stderr, "# reader: open %s: %s\n", path, strerror(errno));
			t->errors++;
		}
		return;
	}
	while (!stop) {
		switch (rnd(seed, 64)) {
		case 0:
			usleep(2000);	/* hold it open, mid-table */
			break;
		case 1:	/* once a pass: with 1-byte reads it would never end */
			if (rewound++)
				break;
			op = "lseek";
			if (lseek(fd, 0, SEEK_SET) < 0)
				goto fail;
			break;
		case 2:
			op = "pread";
			n = pread(fd, buf, size, rnd(seed, 8192));
			if (n < 0)
				goto fail;
			break;
		}
		op = "read";
		n = read(fd, buf, size);
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
	}
	t->reads++;
	close(fd);
	return;
fail:
	/* proc's lseek says EINVAL where read says EIO: the entry was removed. */
	if (!strcmp(op, "lseek") && errno == EINVAL && read(fd, buf, 1) < 0 && errno == EIO)
		errno = EIO;
	if (errno == EIO) {
		t->vanished++;	/* the module went away while this file was open */
	} else if (faults && errno == ENOMEM) {
		t->refused++;	/* an injected failure, reported as such */
	} else {
		fprintf(stderr, "# reader: %s %s: %s\n", op, path, strerror(errno));
		t->errors++;
	}
	close(fd);
}

static void reader(struct tally *t, unsigned int seed)
{
	while (!stop)
		read_once(t, &seed);
}

struct region {
	char *addr;
	size_t len;
	bool readonly;	/* some of it was made read-only */
	bool dontfork;	/* some of it is not in a forked child (MADV_DONTFORK) */
};

/* Write to about 3 pages in 4 of @r, unless some of it is read-only. */
static void touch(const struct region *r, unsigned int *seed)
{
	size_t off;

	if (!r->addr || r->readonly)
		return;
	for (off = 0; off < r->len; off += PAGE)
		if (rnd(seed, 4))
			r->addr[off] = (char)off;
}

static void *thread_body(void *arg)
{
	const struct region *r = arg;

	if (r->addr && !r->readonly)
		r->addr[0]++;
	return NULL;
}

/* One random operation on @r; the counts it moves go to @t. */
static void churn_once(struct tally *t, struct region *regions, unsigned int *seed)
{
	static const int advice[] = {
		MADV_DONTNEED, MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK,
		MADV_KEEPONFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE,
	};
	struct region *r = &regions[rnd(seed, REGIONS)];
	size_t pages, off, newlen;
	bool exec_child;
	unsigned int i;
	pthread_t th;
	void *p;
	pid_t pid;

	t->ops++;
	if (!r->addr) {
		/* A small region, or a 2 MiB-aligned one for THPs. */
		if (rnd(seed, 3)) {
			r->len = (1 + rnd(seed, 256)) * PAGE;
			p = mmap(NULL, r->len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		} else {
			r->len = 2 * HUGE;
			p = mmap(NULL, 3 * HUGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED) {
				char *a = (char *)(((unsigned long)p + HUGE - 1) & ~(HUGE - 1));

				munmap(p, (size_t)(a - (char *)p));
				munmap(a + 2 * HUGE, (size_t)((char *)p + 3 * HUGE - (a + 2 * HUGE)));
				p = a;
				madvise(p, r->len, MADV_HUGEPAGE);
			}
		}
		if (p == MAP_FAILED) {
			r->len = 0;
			return;
		}
		r->addr = p;
		r->readonly = false;
		r->dontfork = false;
		touch(r, seed);
		return;
	}
	pages = r->len / PAGE;
	off = rnd(seed, (unsigned int)pages) * PAGE;
	switch (rnd(seed, 9)) {
	case 0:	/* unmap it all */
		munmap(r->addr, r->len);
		r->addr = NULL;
		break;
	case 1:	/* unmap the tail: splits a THP when it cuts one */
		if (off) {
			munmap(r->addr + off, r->len - off);
			r->len = off;
		}
		break;
	case 2:	/* protect a part: splits the VMA, and the PMD under it */
		if (rnd(seed, 2) && mprotect(r->addr + off, PAGE, PROT_READ) == 0)
			r->readonly = true;
		break;
	case 3:	/* move, grow or shrink */
		newlen = (1 + rnd(seed, (unsigned int)pages + 64)) * PAGE;
		p = mremap(r->addr, r->len, newlen, MREMAP_MAYMOVE);
		if (p != MAP_FAILED) {
			r->addr = p;
			r->len = newlen;
		}
		break;
	case 4:
		i = rnd(seed, 8);
		if (madvise(r->addr + off, r->len - off, advice[i]) == 0 && advice[i] == MADV_DONTFORK)
			r->dontfork = true;
		break;
	case 5:	/* write: faults, COW copies and reuses */
		if (mprotect(r->addr, r->len, PROT_READ | PROT_WRITE) == 0)
			r->readonly = false;
		touch(r, seed);
		break;
	case 6:	/* a thread that writes and exits */
		if (pthread_create(&th, NULL, thread_body, r) == 0) {
			pthread_join(th, NULL);
			t->threads++;
		}
		break;
	default:	/* fork: the child writes, sometimes execs, and exits */
		exec_child = rnd(seed, 4) == 0;
		pid = fork();
		if (pid == 0) {
			unsigned int s = *seed + 1;

			for (i = 0; i < REGIONS; i++)
				if (!regions[i].dontfork)
					touch(&regions[i], &s);
			if (exec_child)
				execl("/bin/true", "true", (char *)NULL);
			_exit(0);
		}
		if (pid > 0) {
			t->forks++;
			t->execs += exec_child;
			waitpid(pid, NULL, 0);
		}
		break;
	}
}

static void churner(struct tally *t, unsigned int seed)
{
	struct region regions[REGIONS] = { { 0 } };

	while (!stop)
		churn_once(t, regions, &seed);
}

/* What the shell's exit status cannot tell under faults (its own fork may fail). */
static bool module_loaded(void)
{
	return access("/sys/module/cowstat", F_OK) == 0;
}

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Unload and load the module over and over, with its parameters varied.
 * STRESS_EVENTS=0 or 1 fixes events=; STRESS_LOADER=none leaves the
 * module alone; STRESS_LOADER=ftrace turns the kernel's own function
 * tracer on wp_page_copy on and off instead (to tell the module's trouble
 * from the kernel's).
 */
static void loader(struct tally *t, unsigned int seed)
{
	const char *events = getenv("STRESS_EVENTS");
	const char *how = getenv("STRESS_LOADER");
	char cmd[128];

	if (how && !strcmp(how, "none"))
		return;
	if (how && !strcmp(how, "ftrace")) {
		run("mount -t tracefs none /sys/kernel/tracing 2>/dev/null; "
		    "echo wp_page_copy > /sys/kernel/tracing/set_ftrace_filter");
		while (!stop) {
			usleep(rnd(&seed, 50000));
			t->loads += run("echo function > /sys/kernel/tracing/current_tracer") == 0;
			usleep(rnd(&seed, 20000));
			t->unloads += run("echo nop > /sys/kernel/tracing/current_tracer") == 0;
		}
		return;
	}
	while (!stop) {
		usleep(rnd(&seed, 50000));
		run("rmmod cowstat");
		if (module_loaded()) {
			t->load_errors++;
			break;
		}
		t->unloads++;
		usleep(rnd(&seed, 20000));
		snprintf(cmd, sizeof(cmd), "insmod " MODULE_PATH " events=%u yield=%u",
			 events ? *events == '1' : rnd(&seed, 4) != 0, rnd(&seed, 2));
		run(cmd);
		if (!module_loaded()) {
			t->load_errors++;
			break;
		}
		t->loads++;
	}
}

static pid_t spawn(void (*fn)(struct tally *, unsigned int), struct tally *t, unsigned int seed)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGTERM, on_term);
		/*
		 * Not the loader: failing the module loader's own allocations
		 * makes the kernel warn (jump_label_module_notify), cowstat or not.
		 */
		if (faults && fn != loader)
			make_it_fail(true);
		fn(t, seed);
		_exit(0);
	}
	return pid;
}

/*
 * The "copies" (or "forks") column of @pid in /proc/cowstat: its value, -1
 * for "-", -2 for no row.  The header names the columns.
 */
static long long column_of(pid_t pid, const char *name)
{
	static char text[1 << 20];
	char *line, *save, *tok, *save2;
	int col = -1, i, fd = open("/proc/cowstat", O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		return -2;
	while (len < (ssize_t)sizeof(text) - 1 &&
	       (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	close(fd);
	text[len] = '\0';
	line = strtok_r(text, "\n", &save);	/* the header */
	for (i = 0, tok = line ? strtok_r(line, " ", &save2) : NULL; tok;
	     i++, tok = strtok_r(NULL, " ", &save2))
		if (!strcmp(tok, name))
			col = i;
	if (col < 0)
		return -2;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		tok = strtok_r(line, " ", &save2);
		if (!tok || atoll(tok) != pid)
			continue;
		for (i = 0; tok && i < col; i++)
			tok = strtok_r(NULL, " ", &save2);
		return !tok ? -2 : *tok == '-' ? -1 : atoll(tok);
	}
	return -2;
}

/*
 * Under fault injection the module may fail to make a child's counters
 * at fork.  The row must then say "-": never a count that misses events.
 * Children fork with faults on, and write WRITES pages of a region shared
 * with the parent after it turned them off: their copies rise by exactly
 * WRITES (up to 2 more, from their own stack, as make test allows), or
 * the row says "-".  The parent's forks rise by the forks that worked.
 */
static int witness(void)
{
	enum { CHILDREN = 40, PAGES = 64, WRITES = 8, EXTRA = 2 };
	long long before[CHILDREN], after, forks0, forks1;
	int go[2], done[2], i, n = 0, failed = 0, unknown = 0, exact = 0, wrong = 0;
	pid_t kids[CHILDREN];
	char *region, c;

	region = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (region == MAP_FAILED || pipe(go) || pipe(done))
		return 1;
	memset(region, 1, PAGES * PAGE);
	forks0 = column_of(getpid(), "forks");
	make_it_fail(true);
	for (i = 0; i < CHILDREN; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			volatile char stack[16384];
			unsigned int k;

			make_it_fail(false);
			memset((char *)stack, 0, sizeof(stack));
			if (read(go[0], &c, 1) != 1)
				_exit(1);
			for (k = 0; k < WRITES; k++)
				region[k * 4 * PAGE] = 2;
			if (write(done[1], "d", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		if (pid > 0)
			kids[n++] = pid;
		else
			failed++;
	}
	make_it_fail(false);
	forks1 = column_of(getpid(), "forks");
	usleep(100000);	/* every child blocked in read() */
	for (i = 0; i < n; i++)
		before[i] = column_of(kids[i], "copies");
	for (i = 0; i < n; i++)
		if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1)
			wrong++;
	for (i = 0; i < n; i++) {
		after = column_of(kids[i], "copies");
		if (before[i] == -1 || after == -1) {
			unknown += before[i] == -1 && after == -1;
			wrong += before[i] != after;	/* "-" for good or never */
		} else if (before[i] >= 0 && after - before[i] >= WRITES &&
			   after - before[i] <= WRITES + EXTRA) {
			exact++;
		} else {
			fprintf(stderr, "# witness: child %d copies %lld -> %lld, expected +%d\n",
				kids[i], before[i], after, WRITES);
			wrong++;
		}
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	if (forks0 >= 0 && forks1 != forks0 + n) {
		fprintf(stderr, "# witness: parent's forks %lld -> %lld, %d forks worked\n",
			forks0, forks1, n);
		wrong++;
	}
	printf("# witness: %d children (%d forks failed): %d rows exact, %d say '-', %d wrong\n",
	       n, failed, exact, unknown, wrong);
	return wrong != 0;
}

int main(int argc, char **argv)
{
	pid_t pids[READERS + CHURNERS + 1];
	struct tally sum = { 0 };
	int i, n = 0, failed = 0, status;
	bool churn;
	long seconds = 0;

	faults = getenv("STRESS_FAULTS") && !strcmp(getenv("STRESS_FAULTS"), "1");
	if (argc == 2 && !strcmp(argv[1], "witness"))
		return witness();
	churn = argc == 3 && !strcmp(argv[1], "churn");
	if (churn)
		seconds = strtol(argv[2], NULL, 10);
	if (!(churn && seconds > 0) && !(argc == 2 && !strcmp(argv[1], "readers"))) {
		fprintf(stderr, "usage: stress churn SECONDS | stress readers | stress witness\n");
		return 2;
	}
	tallies = mmap(NULL, sizeof(*tallies) * (READERS + CHURNERS + 1), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tallies == MAP_FAILED) {
		perror("stress: mmap");
		return 1;
	}
	signal(SIGTERM, on_term);
	for (i = 0; i < READERS; i++)
		pids[n++] = spawn(reader, &tallies[i], 1000 + i);
	if (churn) {
		for (i = 0; i < CHURNERS; i++)
			pids[n++] = spawn(churner, &tallies[READERS + i], 2000 + i);
		pids[n++] = spawn(loader, &tallies[READERS + CHURNERS], 3000);
		sleep((unsigned int)seconds);
	} else {
		while (!stop)
			pause();
	}
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++) {
		if (pids[i] <= 0 || waitpid(pids[i], &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "# worker %d did not exit cleanly\n", i);
			failed = 1;
		}
	}
	for (i = 0; i < n; i++) {
		struct tally *t = &tallies[i];

		sum.reads += t->reads;
		sum.vanished += t->vanished;
		sum.errors += t->errors;
		sum.refused += t->refused;
		sum.forks += t->forks;
		sum.execs += t->execs;
		sum.threads += t->threads;
		sum.ops += t->ops;
		sum.loads += t->loads;
		sum.unloads += t->unloads;
		sum.load_errors += t->load_errors;
	}
	printf("# reads %ld, vanished %ld, reader errors %ld\n", sum.reads, sum.vanished,
	       sum.errors);
	if (faults)
		printf("# under fault injection: %ld reads refused with ENOMEM\n", sum.refused);
	if (churn)
		printf("# forks %ld (execs %ld), threads %ld, memory operations %ld, unloads %ld, loads %ld, load errors %ld\n",
		       sum.forks, sum.execs, sum.threads, sum.ops, sum.unloads, sum.loads,
		       sum.load_errors);
	return failed || sum.errors || sum.load_errors;
}
