// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event counts that stay exact on the paths where a fault does not simply
 * copy or reuse once: two threads faulting on one page together, a first
 * write that needs an anon_vma while the mmap lock is contended (the
 * per-VMA-lock fault retried), faults in flight while the counters are
 * reset; a kernel thread's child (a user-mode helper) with counters of its
 * own; and no fault missed.  Every count is taken once the faults
 * have returned.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

#define N	1000	/* pages of a region */
#define K	100	/* pages of a known step */
#define ROUNDS	300	/* first writes under a contended mmap lock */
#define SYSFS	"/sys/kernel/cowstat/"

enum { PARENT, CHILD };

/*
 * The child's two threads write each of the N shared pages at the same
 * moment: both fault, and where both reach the copy, one copy is
 * installed and the other dropped (wp_page_copy() finds the PTE changed).
 * N pages turned private: N copies, exactly.
 */
static enum ktap_result threads_fault_one_page(const char **skip)
{
	struct cowstat_row before[2], after[2];
	struct puppet p[2];

	(void)skip;
	if (!spawn(p, 2, "t-race"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map anon %d", N) || !pcmd(&p[PARENT], "write 0 %d", N) ||
	    !pfork(p, PARENT, CHILD) || !pcmd(&p[CHILD], "workers") || !snapshot(p, 2, before) ||
	    !pcmd(&p[CHILD], "race 0 %d", N) || !snapshot(p, 2, after))
		goto out;
	check_delta("child", &before[CHILD], &after[CHILD], "private", N);
	check_delta("child", &before[CHILD], &after[CHILD], "shared", -N);
	check_events("child", &before[CHILD], &after[CHILD], N, 0);
	/* The parent's pages are its own again (reusable), and it faulted on none. */
	check_delta("parent", &before[PARENT], &after[PARENT], "reusable", N);
	check_events("parent", &before[PARENT], &after[PARENT], 0, 0);
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * The same with THPs: after a child came and went, each of 16 THPs is the
 * parent's alone again, still write-protected.  Two threads write the
 * first page of each at the same moment: one fault reuses the whole THP;
 * the other, if it got as far, finds the huge PMD changed and does
 * nothing.  16 reuses, not one copy.
 */
#define THPS		16
#define THP_PAGES	512

static enum ktap_result threads_fault_one_thp(const char **skip)
{
	struct cowstat_row before[1], after[1];
	enum ktap_result r = KTAP_PASS;
	struct puppet p[2];
	int i;

	if (!thp_enabled()) {
		*skip = "transparent huge pages are disabled";
		return KTAP_SKIP;
	}
	if (!spawn(p, 2, "t-racethp"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map thp %d", THPS * THP_PAGES) ||
	    !pcmd(&p[PARENT], "write 0 %d", THPS * THP_PAGES))
		goto out;
	if (smaps_rollup_kb(p[PARENT].pid, "AnonHugePages") < THPS * THP_PAGES * 4) {
		*skip = "the kernel did not back the region with THPs";
		r = KTAP_SKIP;
		goto out;
	}
	if (!pfork(p, PARENT, CHILD) || !pcmd(&p[CHILD], "exit 0") || !pcmd(&p[PARENT], "wait") ||
	    !pcmd(&p[PARENT], "workers") || !snapshot(p, 1, before))
		goto out;
	for (i = 0; i < THPS; i++)
		if (!pcmd(&p[PARENT], "race %d 1", i * THP_PAGES))
			goto out;
	if (!snapshot(p, 1, after))
		goto out;
	check_events("parent", before, after, 0, THPS);
	check_delta("parent", before, after, "thp", 0);
out:
	finish(p, 2);
	return r;
}

/*
 * ROUNDS times a fresh page is read (the zero page) and written (a copy of
 * it), each time in a new mapping with no anon_vma yet, while a thread of
 * the same process maps and unmaps memory without a pause.  Where faults
 * run under the per-VMA lock (6.4 on), the copy must take the mmap lock to
 * make the anon_vma; when it cannot, the fault returns VM_FAULT_RETRY and
 * runs again under the mmap lock.  One copy a round, however often.
 */
static enum ktap_result retried_fault_counts_once(const char **skip)
{
	struct cowstat_row before[1], after[1];
	struct puppet p[1];

	(void)skip;
	if (!spawn(p, 1, "t-retry"))
		return KTAP_FAIL;
	if (!pcmd(&p[0], "workers") || !snapshot(p, 1, before) ||
	    !pcmd(&p[0], "anonvma %d", ROUNDS) || !snapshot(p, 1, after))
		goto out;
	check_events("puppet", &before[0], &after[0], ROUNDS, 0);
out:
	finish(p, 1);
	return KTAP_PASS;
}

/* A child that resets the counters once, @delay_us from now. */
static pid_t reset_later(long delay_us)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		usleep(delay_us);
		_exit(write_cmd("reset", 5) == 0 ? 0 : 1);
	}
	return pid;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

#define TRIALS	20	/* a fault caught half-way is rare: give it many chances */
#define STORM	20	/* rounds of reuses in a storm */

/*
 * The parent writes its pages after a child came and went: reuses, 1000 a
 * round.  While it does, the counters are reset once, at a random moment.
 * No fault caught half-way may leave a count behind: the known step that
 * follows (the parent writes K pages it shares with a new child: K copies)
 * moves its copies by exactly K.  TRIALS times.  (Loading the module while
 * faults run would be the same test, but it patches the code they run,
 * which multi-threaded TCG does not emulate faithfully: see vm/boot.sh;
 * make test-stress loads and unloads under load on one TCG thread.)
 */
static enum ktap_result reset_under_load(const char **skip)
{
	struct cowstat_row before[1], after[1];
	double t0, storm_us;
	struct puppet p[2];
	int trial, bad = 0;
	long delay;
	pid_t later;

	(void)skip;
	if (!spawn(p, 2, "t-reset-load"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map anon %d", N) || !pcmd(&p[PARENT], "write 0 %d", N))
		goto out;
	t0 = now_us();
	if (!pcmd(&p[PARENT], "storm %d", STORM))
		goto out;
	storm_us = now_us() - t0;
	srandom(1);
	for (trial = 0; trial < TRIALS && !bad; trial++) {
		delay = random() % (long)storm_us;
		later = reset_later(delay);
		if (!check(later > 0, "fork: %s", strerror(errno)))
			break;
		pcmd(&p[PARENT], "storm %d", STORM);
		waitpid(later, NULL, 0);
		if (!pfork(p, PARENT, CHILD) || !snapshot(p, 1, before) ||
		    !pcmd(&p[PARENT], "write 0 %d", K) || !snapshot(p, 1, after) ||
		    !pcmd(&p[CHILD], "exit 0") || !pcmd(&p[PARENT], "wait"))
			break;
		bad = !check_delta("parent", before, after, "copies", K);
		if (bad)
			ktap_diag("trial %d of %d: reset %ld us into a storm of %.0f us", trial + 1,
				  TRIALS, delay, storm_us);
	}
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * Every fault since load was followed: /sys/kernel/cowstat/missed is 0
 * after the races above (it counts faults that found no free slot).
 */
static enum ktap_result no_probe_hit_missed(const char **skip)
{
	(void)skip;
	check(read_value(SYSFS "missed") == 0, SYSFS "missed is %lld",
	      read_value(SYSFS "missed"));
	return KTAP_PASS;
}

#define HELPER_PID	"/tmp/core-helper.pid"
#define HELPER_GO	"/tmp/core-helper.go"

/*
 * The core-dump helper: run by the kernel (core_pattern "|..."), a child of
 * a kernel thread.  It writes its pid, waits for HELPER_GO, then takes the
 * core and exits.
 */
int core_helper_main(void)
{
	char buf[4096];
	FILE *f;
	int i;

	f = fopen(HELPER_PID ".tmp", "we");
	if (!f)
		return 1;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	rename(HELPER_PID ".tmp", HELPER_PID);
	for (i = 0; i < 30000 && access(HELPER_GO, F_OK); i++)
		usleep(1000);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	return 0;
}

/*
 * A kernel thread's child that becomes a process (a user-mode helper: here
 * the core-dump pipe's) has event counters from its fork, like any other
 * process: its row shows numbers, not "-".
 */
static enum ktap_result kthread_child_counted(const char **skip)
{
	char pattern[256] = "", cmd[128];
	struct cowstat_table t;
	long long helper = 0;
	FILE *f;
	pid_t victim;
	int i;

	(void)skip;
	f = fopen("/proc/sys/kernel/core_pattern", "re");
	if (!check(f && fgets(pattern, sizeof(pattern), f), "cannot read core_pattern")) {
		if (f)
			fclose(f);
		return KTAP_FAIL;
	}
	fclose(f);
	unlink(HELPER_PID);
	unlink(HELPER_GO);
	snprintf(cmd, sizeof(cmd), "|/tests/cowstat_test %s", CORE_HELPER_FLAG);
	if (!check(write_text("/proc/sys/kernel/core_pattern", cmd), "cannot set core_pattern"))
		return KTAP_FAIL;

	fflush(stdout);
	victim = fork();
	if (victim == 0) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

		setrlimit(RLIMIT_CORE, &rl);
		abort();
	}
	for (i = 0; i < 20000 && access(HELPER_PID, F_OK); i++)
		usleep(1000);
	f = fopen(HELPER_PID, "re");
	if (check(f && fscanf(f, "%lld", &helper) == 1, "the core-dump helper never ran")) {
		char err[256];

		if (check(cowstat_read(&t, COWSTAT_PATH, err, sizeof(err)) == 0, "%s", err)) {
			const struct cowstat_row *row = cowstat_find(&t, (pid_t)helper);

			if (check(row != NULL, "no row for the core-dump helper %lld", helper)) {
				check(cowstat_get(&t, row, "ppid") == 2,
				      "the helper's parent is %lld, not kthreadd",
				      cowstat_get(&t, row, "ppid"));
				check(cowstat_get(&t, row, "copies") != COWSTAT_NA &&
				      cowstat_get(&t, row, "forks") != COWSTAT_NA,
				      "the helper, a kernel thread's child, has no counters ('-')");
			}
			cowstat_free(&t);
		}
	}
	if (f)
		fclose(f);
	write_text(HELPER_GO, "go\n");
	if (victim > 0)
		waitpid(victim, NULL, 0);
	write_text("/proc/sys/kernel/core_pattern", pattern);
	unlink(HELPER_PID);
	unlink(HELPER_GO);
	return KTAP_PASS;
}

/* A process that exits at once; glibc's clone() ends it with exit(2). */
static int exit_at_once(void *arg)
{
	(void)arg;
	return 0;
}

/* The copies of process @pid in /proc/cowstat, or -1. */
static long long copies_of(pid_t pid)
{
	struct puppet who = { .pid = pid };
	struct cowstat_row row;

	return snapshot(&who, 1, &row) ? col(&row, "copies") : -1;
}

#define EXITS	3000	/* more than the module's 2048 fault slots */

/*
 * A task that exits may still fault: exit_mm() clears its
 * CLONE_CHILD_CLEARTID word, or a robust futex.  Since 7.x runs the exit
 * tracepoint, which frees the task's fault slot, before exit_mm(), a slot
 * taken there could outlive its task (when that fault makes no event: a
 * copy that loses a race); so an exiting task's faults take no slot and
 * count nothing, on every kernel.  Here a forked child makes EXITS
 * processes in turn that share its memory (CLONE_VM), each clearing a word
 * on a page of its own that the child shares with us: EXITS copies at
 * exit, none counted (a count there would also make counters for a
 * process already gone, which nothing frees).  The totals rise by exactly
 * the copies of the child and of this process, nothing is missed, no
 * counters are left behind, and a copy made afterwards counts.
 */
static enum ktap_result exiting_tasks_count_nothing(const char **skip)
{
	const long page = sysconf(_SC_PAGESIZE);
	long long missed = read_value(SYSFS "missed"), tracked, total, mine, theirs;
	static char stack[65536] __attribute__((aligned(16)));
	int go[2], done[2], status = -1;
	struct puppet p[2];
	char *mem, c = 0;
	pid_t child;
	long i;

	(void)skip;
	mem = mmap(NULL, EXITS * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(mem != MAP_FAILED && !pipe(go) && !pipe(done), "mmap or pipe: %s",
		   strerror(errno)))
		return KTAP_FAIL;
	for (i = 0; i < EXITS; i++)
		*(volatile int *)(mem + i * page) = 1;
	tracked = read_value(SYSFS "tracked");
	fflush(stdout);
	child = fork();
	if (child == 0) {
		if (write(done[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < EXITS; i++) {
			int *tid = (int *)(mem + i * page);

			if (clone(exit_at_once, stack + sizeof(stack),
				  CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, NULL, NULL, NULL,
				  tid) < 0)
				_exit(3);
			/*
			 * The kernel clears the word once the process's mm is
			 * released.  Read it, no futex: FUTEX_WAIT pins the page
			 * for writing, which would copy it here first.
			 */
			while (__atomic_load_n(tid, __ATOMIC_ACQUIRE))
				usleep(100);
		}
		while (wait(NULL) > 0)
			;
		if (write(done[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(4);
		_exit(0);
	}
	if (!check(child > 0, "fork: %s", strerror(errno)))
		return KTAP_FAIL;
	/* Twice: the first read's writes copy what this process shares with the child. */
	copies_of(getpid());
	read_value(SYSFS "copies");
	if (read(done[0], &c, 1) != 1)
		c = -1;		/* the child is waiting for go, its copies made */
	theirs = copies_of(child);
	mine = copies_of(getpid());
	total = read_value(SYSFS "copies");
	if (c == 0 && write(go[1], &c, 1) == 1 && read(done[0], &c, 1) == 1) {
		theirs = copies_of(child) - theirs;
		mine = copies_of(getpid()) - mine;
		total = read_value(SYSFS "copies") - total;
		ktap_diag("%d exits: copies +%lld in the totals, the child's %lld, ours +%lld",
			  EXITS, total, theirs, mine);
		check(total == theirs + mine, "the exiting tasks' faults counted %lld copies",
		      total - theirs - mine);
	}
	if (write(go[1], &c, 1) != 1)
		kill(child, SIGKILL);
	check(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "the child of %d exits failed (status %#x)", EXITS,
	      status);
	munmap(mem, EXITS * page);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	check(read_value(SYSFS "missed") == missed, "missed rose from %lld to %lld", missed,
	      read_value(SYSFS "missed"));
	check(read_value(SYSFS "tracked") == tracked,
	      "%lld processes tracked before, %lld after the exits: counters for the dead",
	      tracked, read_value(SYSFS "tracked"));

	/* A child's K writes to shared pages: K copies. */
	if (!spawn(p, 2, "t-exitslots"))
		return KTAP_FAIL;
	if (pcmd(&p[PARENT], "map anon %d", K) && pcmd(&p[PARENT], "write 0 %d", K) &&
	    pfork(p, PARENT, CHILD)) {
		struct cowstat_row before[1], after[1];

		if (snapshot(&p[CHILD], 1, before) && pcmd(&p[CHILD], "write 0 %d", K) &&
		    snapshot(&p[CHILD], 1, after))
			check(col(&after[0], "copies") - col(&before[0], "copies") == K,
			      "after the exits, %d copies counted %lld", K,
			      col(&after[0], "copies") - col(&before[0], "copies"));
	}
	finish(p, 2);
	return KTAP_PASS;
}

const struct test_case exact_cases[] = {
	{ "threads_fault_one_page", threads_fault_one_page },
	{ "threads_fault_one_thp", threads_fault_one_thp },
	{ "retried_fault_counts_once", retried_fault_counts_once },
	{ "reset_under_load", reset_under_load },
	{ "no_probe_hit_missed", no_probe_hit_missed },
	{ "kthread_child_counted", kthread_child_counted },
	{ "exiting_tasks_count_nothing", exiting_tasks_count_nothing },
};
const int nr_exact_cases = sizeof(exact_cases) / sizeof(exact_cases[0]);
