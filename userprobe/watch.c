// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowprobe watch: /proc/cowstat as a live table, like top.
 *
 * Every interval it reads /proc/cowstat and the system totals in
 * /sys/kernel/cowstat, and prints each process's page columns with its
 * events (copies, reuses, forks) as rates over the interval.  A process
 * that shares anonymous pages, as its parent does, is listed under it:
 * most likely a fork's child, and the pair is what copy-on-write is about.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cowstat_table.h"
#include "probe.h"

#define SYSFS_DIR	"/sys/kernel/cowstat"
#define MAX_PIDS	64

/* The page columns shown, as /proc/cowstat names them. */
static const char *const page_cols[] = {
	"rss", "shared", "private", "cow", "reusable", "thp", "swap",
};
#define NR_PAGE_COLS	(sizeof(page_cols) / sizeof(page_cols[0]))
static const char *const event_cols[] = { "copies", "reuses", "forks" };
#define NR_EVENT_COLS	3

/* What --sort accepts: a page column, an event rate, pid, or activity. */
enum { SORT_ACTIVITY = -1, SORT_PID = -2 };

struct sample {
	struct cowstat_table t;
	struct timespec when;		/* the table read */
	struct timespec when_totals;	/* the totals read, just before the table */
	long long total[NR_EVENT_COLS];	/* /sys/kernel/cowstat, or NA */
};

/* One process of a table, with what it is sorted and grouped by. */
struct line {
	const struct cowstat_row *row;
	double rate[NR_EVENT_COLS];	/* NAN when not counted */
	double key;
	long long shared;		/* the tie-break: among the idle, the most shared first */
	double family_key;		/* the largest key in its family */
	long parent;			/* the line it is listed under, or -1 */
	long child, next;		/* its first child and next sibling, or -1 */
	int depth;
};

struct watch {
	double interval;
	long count;			/* tables to print, 0 for no end */
	int sort;			/* index into page_cols/event rates, or SORT_* */
	bool sort_rate;			/* sort is an event rate */
	bool live;			/* redraw in place on a terminal */
	pid_t pids[MAX_PIDS];
	int npids;
	int col[NR_PAGE_COLS], ecol[NR_EVENT_COLS], ppid_col;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cowprobe watch [-i seconds] [-c count] [--sort column] [pid ...]\n"
		"\n"
		"/proc/cowstat as a live table: every interval, each process's pages\n"
		"(4 KiB each) and its copies, reuses and forks a second since the table\n"
		"before, with the system's totals from %s on top.  A process\n"
		"that shares anonymous pages, as its parent does, is listed under it,\n"
		"indented: a fork's child stays with its parent.  The most active first.\n"
		"\n"
		"  -i seconds  the interval (default 2; 0 with -c: back to back, to\n"
		"              measure watch itself)\n"
		"  -c count    print this many tables, one after the other, and exit\n"
		"              (without -c: redraw in place on a terminal, or print\n"
		"              tables until interrupted)\n"
		"  --sort col  activity (copies/s + reuses/s, the default), copies, reuses,\n"
		"              forks (as rates), pid, or a page column: rss, shared,\n"
		"              private, cow, reusable, thp, swap\n"
		"  pid ...     only these processes and their descendants; watch ends\n"
		"              when all of them have exited\n"
		"  -h, --help  this text\n"
		"\n"
		"Exit status: 0, 1 if the module is not loaded or a process named cannot\n"
		"be watched, 2 for bad usage.\n", SYSFS_DIR);
}

static void __attribute__((noreturn)) bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "cowprobe watch: %s, not '%s'\nTry 'cowprobe watch --help'.\n",
		what, arg);
	exit(2);
}

static void parse_sort(struct watch *w, const char *name)
{
	unsigned int i;

	if (!strcmp(name, "activity")) {
		w->sort = SORT_ACTIVITY;
		return;
	}
	if (!strcmp(name, "pid")) {
		w->sort = SORT_PID;
		return;
	}
	for (i = 0; i < NR_EVENT_COLS; i++) {
		size_t len = strlen(event_cols[i]);

		/* "copies" and "copies/s" both name the rate. */
		if (!strncmp(name, event_cols[i], len) &&
		    (!name[len] || !strcmp(name + len, "/s"))) {
			w->sort = i;
			w->sort_rate = true;
			return;
		}
	}
	for (i = 0; i < NR_PAGE_COLS; i++) {
		if (!strcmp(name, page_cols[i])) {
			w->sort = i;
			return;
		}
	}
	bad_usage("--sort takes activity, copies, reuses, forks, pid, rss, shared, private, "
		  "cow, reusable, thp or swap", name);
}

static long long read_total(const char *name)
{
	char path[64], buf[32];
	long long v = NA;
	FILE *f;

	snprintf(path, sizeof(path), SYSFS_DIR "/%s", name);
	f = fopen(path, "re");
	if (!f)
		return NA;
	if (fgets(buf, sizeof(buf), f) && buf[0] != '-')
		v = strtoll(buf, NULL, 10);
	fclose(f);
	return v;
}

/* The totals, then the table, each with the time it was read (a long walk skews neither). */
static int take(struct sample *s)
{
	char err[256];
	int i;

	for (i = 0; i < NR_EVENT_COLS; i++)
		s->total[i] = read_total(event_cols[i]);
	clock_gettime(CLOCK_MONOTONIC, &s->when_totals);
	if (cowstat_read(&s->t, COWSTAT_PATH, err, sizeof(err))) {
		fprintf(stderr, "cowprobe watch: %s\n", err);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &s->when);
	return 0;
}

/* The index of @pid's row in @t, or -1. */
static long find_row(const struct cowstat_table *t, long long pid)
{
	const struct cowstat_row *row = pid > 0 && pid <= INT_MAX ? cowstat_find(t, pid) : NULL;

	return row ? row - t->rows : -1;
}

/*
 * @row's process in the sample before: the same pid.  Its counts live as
 * long as the process (through exec, a new name, a new parent); a pid
 * reused within the interval shows as counts that went back, which
 * rate() treats as a process new in the interval.
 */
static const struct cowstat_row *before(const struct sample *prev, const struct cowstat_row *row)
{
	long i = find_row(&prev->t, row->val[prev->t.pid_col]);

	return i < 0 ? NULL : &prev->t.rows[i];
}

static double seconds(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * Events a second: since the sample before, or, for a process new in the
 * interval (@then 0, or counts that went back: a pid reused), all of them.
 */
static double rate(long long now, long long then, double dt)
{
	if (now == NA || then == NA || dt <= 0)
		return NAN;
	return (now < then ? now : now - then) / dt;
}

/* A named pid, or a descendant of one (the climb is bounded: a racy read may loop). */
static bool wanted(const struct watch *w, const struct cowstat_table *t, long i)
{
	int hops, k;

	if (!w->npids)
		return true;
	for (hops = 0; i >= 0 && hops < 64; hops++) {
		for (k = 0; k < w->npids; k++)
			if (t->rows[i].val[t->pid_col] == w->pids[k])
				return true;
		i = find_row(t, t->rows[i].val[w->ppid_col]);
	}
	return false;
}

static double sort_key(const struct watch *w, const struct cowstat_table *t,
		       const struct line *l)
{
	double v;

	if (w->sort == SORT_PID)
		return -(double)l->row->val[t->pid_col];
	if (w->sort == SORT_ACTIVITY) {
		v = (isnan(l->rate[0]) ? 0 : l->rate[0]) + (isnan(l->rate[1]) ? 0 : l->rate[1]);
		return v;
	}
	if (w->sort_rate)
		return isnan(l->rate[w->sort]) ? -1 : l->rate[w->sort];
	return w->col[w->sort] < 0 ? 0 : (double)l->row->val[w->col[w->sort]];
}

/* Lines in order of their family, then their own key, then pid. */
static const struct line *cmp_base;

static int cmp_family(const void *a, const void *b)
{
	const struct line *x = cmp_base + *(const long *)a, *y = cmp_base + *(const long *)b;

	if (x->family_key != y->family_key)
		return x->family_key > y->family_key ? -1 : 1;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	if (x->shared != y->shared)
		return x->shared > y->shared ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* @root and its family, depth first, each process before its children (no recursion). */
static void emit(struct line *l, long root, long *order, size_t *k, bool *done)
{
	long cur = root;

	l[root].depth = 0;
	for (;;) {
		done[cur] = true;
		order[(*k)++] = cur;
		if (l[cur].child >= 0) {
			l[l[cur].child].depth = l[cur].depth + 1;
			cur = l[cur].child;
			continue;
		}
		/* Up to the first ancestor with a next sibling. */
		while (cur != root && l[cur].next < 0)
			cur = l[cur].parent;
		if (cur == root)
			return;
		l[l[cur].next].depth = l[cur].depth;
		cur = l[cur].next;
	}
}

/*
 * The order of the table: a process that shares anonymous pages goes
 * under its parent (when that is shown); families in the order of their
 * most active member; in a family each process before its children, the
 * most active first.
 */
static void arrange(struct line *l, size_t n, long *order, bool *done)
{
	long *last = malloc(n * sizeof(*last) + 1);
	size_t i, k = 0;

	if (!last) {
		perror("cowprobe watch");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		l[i].family_key = l[i].key;
		l[i].child = l[i].next = -1;
		last[i] = -1;
		order[i] = i;
	}
	for (i = 0; i < n; i++) {
		long p = l[i].parent;
		int hops;

		done[i] = false;
		for (hops = 0; p >= 0 && hops < 64; hops++, p = l[p].parent)
			if (l[i].key > l[p].family_key)
				l[p].family_key = l[i].key;
	}
	/* A child's key counts in its family above; once known, spread it down. */
	for (i = 0; i < n; i++) {
		long p = l[i].parent;
		int hops;

		for (hops = 0; p >= 0 && hops < 64; hops++, p = l[p].parent)
			if (l[p].family_key > l[i].family_key)
				l[i].family_key = l[p].family_key;
	}
	cmp_base = l;
	qsort(order, n, sizeof(*order), cmp_family);
	/* Children linked to their parent in sorted order. */
	for (i = 0; i < n; i++) {
		long c = order[i], p = l[c].parent;

		if (p < 0)
			continue;
		if (last[p] < 0)
			l[p].child = c;
		else
			l[last[p]].next = c;
		last[p] = c;
	}
	memcpy(last, order, n * sizeof(*last));
	for (i = 0; i < n; i++)
		if (l[last[i]].parent < 0)
			emit(l, last[i], order, &k, done);
	/* Parents in a cycle (pids reused while the table was read): as roots. */
	for (i = 0; i < n; i++) {
		if (!done[last[i]]) {
			l[last[i]].depth = 0;
			order[k++] = last[i];
		}
	}
	free(last);
}

static void put_rate(double r)
{
	if (isnan(r))
		printf(" %8s", "-");
	else if (r > 0 && r < 9.95)
		printf(" %8.1f", r);
	else
		printf(" %8.0f", r);
}

static void put_count(long long v)
{
	if (v == NA)
		printf(" %8s", "-");
	else
		printf(" %8lld", v);
}

/* The lines wanted from @cur, with their rates since @prev. */
static size_t lines_of(const struct watch *w, const struct sample *prev,
		       const struct sample *cur, struct line *l, long *line_of_row)
{
	const struct cowstat_table *t = &cur->t;
	double dt = prev ? seconds(&prev->when, &cur->when) : 0;	/* 0: no rates yet */
	size_t i, n = 0;
	int e;

	for (i = 0; i < t->nrows; i++) {
		const struct cowstat_row *row = &t->rows[i], *then;

		line_of_row[i] = -1;
		if (!wanted(w, t, i))
			continue;
		then = prev ? before(prev, row) : NULL;
		l[n].row = row;
		for (e = 0; e < NR_EVENT_COLS; e++) {
			long long now = w->ecol[e] < 0 ? NA : row->val[w->ecol[e]];

			/* A process new since the table before: all its events are in the interval. */
			l[n].rate[e] = rate(now, then && w->ecol[e] >= 0 ? then->val[w->ecol[e]] : 0,
					    dt);
		}
		l[n].key = sort_key(w, t, &l[n]);
		l[n].shared = row->val[w->col[1]];
		line_of_row[i] = n++;
	}
	for (i = 0; i < n; i++) {
		long p = find_row(t, l[i].row->val[w->ppid_col]);

		/*
		 * Under its parent while both share anonymous pages: after fork
		 * (not exec) they share them with each other, most likely.
		 */
		l[i].parent = p >= 0 && l[i].row->val[w->col[1]] > 0 &&
			      t->rows[p].val[w->col[1]] > 0 ? line_of_row[p] : -1;
	}
	return n;
}

static int terminal_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || ws.ws_row < 8)
		return 24;
	return ws.ws_row;
}

/* What the rows are sorted by, as --sort names it. */
static const char *sort_name(const struct watch *w)
{
	static char name[16];

	if (w->sort == SORT_ACTIVITY)
		return "activity";
	if (w->sort == SORT_PID)
		return "pid";
	snprintf(name, sizeof(name), "%s%s", w->sort_rate ? event_cols[w->sort] : page_cols[w->sort],
		 w->sort_rate ? "/s" : "");
	return name;
}

static void print_table(const struct watch *w, const struct sample *prev,
			const struct sample *cur, struct line *l, size_t n, const long *order)
{
	const struct cowstat_table *t = &cur->t;
	double dt = prev ? seconds(&prev->when, &cur->when) : 0;
	double dt_totals = prev ? seconds(&prev->when_totals, &cur->when_totals) : 0;
	size_t i, shown = n;
	char clock[16];
	struct timespec wall;
	unsigned int c;
	int e;

	clock_gettime(CLOCK_REALTIME, &wall);
	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&wall.tv_sec));
	if (w->live) {
		printf("\033[H\033[2J");
		if (n > (size_t)terminal_rows() - 5)
			shown = terminal_rows() - 5;
	}
	printf("cowstat watch %s.%ld: %zu processes", clock, wall.tv_nsec / 100000000, t->nrows);
	if (n != t->nrows)
		printf(", %zu of them watched", n);
	if (prev)
		printf("; pages of 4 KiB, events a second over the last %.1f s", dt);
	else
		printf("; pages of 4 KiB, events a second from the next table on");
	printf("; by %s\n", sort_name(w));
	printf("system:");
	for (e = 0; e < NR_EVENT_COLS; e++) {
		double r = prev ? rate(cur->total[e], prev->total[e], dt_totals) : NAN;

		if (isnan(r))
			printf(" %s -", event_cols[e]);
		else
			printf(" %s %.*f/s", event_cols[e], r > 0 && r < 9.95, r);
	}
	printf("; since the module was loaded (or reset):");
	for (e = 0; e < NR_EVENT_COLS; e++) {
		if (cur->total[e] == NA)
			printf(" %s -", event_cols[e]);
		else
			printf(" %s %lld", event_cols[e], cur->total[e]);
	}
	printf("\n%8s %8s", "PID", "PPID");
	for (c = 0; c < NR_PAGE_COLS; c++) {
		char name[16];
		int k;

		for (k = 0; page_cols[c][k] && k < 15; k++)
			name[k] = page_cols[c][k] - 'a' + 'A';
		name[k] = '\0';
		printf(" %8s", name);
	}
	printf(" %8s %8s %8s COMMAND\n", "COPIES/s", "REUSES/s", "FORKS/s");
	for (i = 0; i < shown; i++) {
		const struct line *x = &l[order[i]];

		printf("%8lld %8lld", x->row->val[t->pid_col], x->row->val[w->ppid_col]);
		for (c = 0; c < NR_PAGE_COLS; c++)
			put_count(w->col[c] < 0 ? NA : x->row->val[w->col[c]]);
		for (e = 0; e < NR_EVENT_COLS; e++)
			put_rate(x->rate[e]);
		printf(" %*s%s\n", 2 * (x->depth < 8 ? x->depth : 8), "", x->row->comm);
	}
	if (shown < n)
		printf("... %zu more\n", n - shown);
}

/* Why a pid named on the command line has no row in /proc/cowstat. */
static void __attribute__((noreturn)) not_watchable(pid_t pid)
{
	char path[64], line[256];
	long tgid = -1;
	bool vm = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "cowprobe watch: no process %d\n", pid);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Tgid: %ld", &tgid);
		if (!strncmp(line, "VmSize:", 7))
			vm = true;
	}
	fclose(f);
	if (tgid > 0 && tgid != pid)
		fprintf(stderr, "cowprobe watch: %d is a thread of process %ld: watch %ld\n",
			pid, tgid, tgid);
	else if (!vm)
		fprintf(stderr, "cowprobe watch: process %d has no memory of its own "
			"(a kernel thread, or exiting)\n", pid);
	else
		fprintf(stderr, "cowprobe watch: process %d is not yours to see: cowstat shows a "
			"process to whom ptrace may read it (its user, or root)\n", pid);
	exit(1);
}

static void pause_for(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void find_columns(struct watch *w, const struct cowstat_table *t)
{
	unsigned int c;

	for (c = 0; c < NR_PAGE_COLS; c++)
		w->col[c] = cowstat_col(t, page_cols[c]);
	for (c = 0; c < NR_EVENT_COLS; c++)
		w->ecol[c] = cowstat_col(t, event_cols[c]);
	w->ppid_col = cowstat_col(t, "ppid");
	if (w->ppid_col < 0 || w->col[1] < 0) {
		fprintf(stderr, "cowprobe watch: %s has no ppid or shared column\n", COWSTAT_PATH);
		exit(1);
	}
}

/* realloc(), or the end: without memory there is no table to show. */
static void *grow(void *p, size_t size)
{
	void *q = realloc(p, size);

	if (!q) {
		perror("cowprobe watch");
		exit(1);
	}
	return q;
}

int watch_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "sort", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch w = { .interval = 2, .sort = SORT_ACTIVITY };
	struct sample s[2], *prev = &s[0], *cur = &s[1], *tmp;
	long *order = NULL, *line_of_row = NULL;
	struct line *l = NULL;
	bool *done = NULL;
	long printed;
	char *end;
	int opt, k;

	opterr = 0;	/* getopt's own messages would say "watch:" */
	while ((opt = getopt_long(argc, argv, "i:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			errno = 0;
			w.interval = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(w.interval >= 0) ||
			    w.interval > 86400)
				bad_usage("-i needs seconds from 0.1 to 86400", optarg);
			break;
		case 'c':
			errno = 0;
			w.count = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || w.count < 1)
				bad_usage("-c needs a count of tables of at least 1", optarg);
			break;
		case 'S':
			parse_sort(&w, optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "cowprobe watch: %s '%s'\nTry 'cowprobe watch --help'.\n",
				optopt == 'i' || optopt == 'c' || optopt == 'S' ? "a value is missing after" :
				"no such option:", argv[optind - 1]);
			return 2;
		}
	}
	if (w.interval < 0.1 && !(w.interval == 0 && w.count)) {
		char arg[32];

		snprintf(arg, sizeof(arg), "%g", w.interval);
		bad_usage("-i needs seconds from 0.1 to 86400 (0 only with -c)", arg);
	}
	for (; optind < argc; optind++) {
		long pid;

		errno = 0;
		pid = strtol(argv[optind], &end, 10);
		if (end == argv[optind] || *end || errno || pid < 1 || pid > INT_MAX)
			bad_usage("a pid is a number of at least 1", argv[optind]);
		k = pid;
		if (w.npids == MAX_PIDS)
			bad_usage("at most 64 pids", argv[optind]);
		w.pids[w.npids++] = k;
	}
	w.live = !w.count && isatty(STDOUT_FILENO);

	if (take(prev))
		return 1;
	find_columns(&w, &prev->t);
	for (k = 0; k < w.npids; k++)
		if (find_row(&prev->t, w.pids[k]) < 0)
			not_watchable(w.pids[k]);

	/*
	 * The first table at once, from the first read, without rates: a
	 * process shorter-lived than the interval (a save's child) is in it.
	 */
	for (printed = 0; !w.count || printed < w.count; printed++) {
		const struct sample *before_now = printed ? prev : NULL;
		size_t n;

		if (printed) {
			pause_for(w.interval);
			if (take(cur))
				return 1;
		} else {
			*cur = *prev;
			memset(&prev->t, 0, sizeof(prev->t));
		}
		l = grow(l, (cur->t.nrows + 1) * sizeof(*l));
		order = grow(order, (cur->t.nrows + 1) * sizeof(*order));
		line_of_row = grow(line_of_row, (cur->t.nrows + 1) * sizeof(*line_of_row));
		done = grow(done, cur->t.nrows + 1);
		n = lines_of(&w, before_now, cur, l, line_of_row);
		arrange(l, n, order, done);
		if (printed && !w.live)
			printf("\n");
		print_table(&w, before_now, cur, l, n, order);
		if (fflush(stdout) || ferror(stdout)) {
			perror("cowprobe watch: stdout");
			return 1;
		}
		if (w.npids && !n) {
			printf("All the processes watched have exited.\n");
			break;
		}
		cowstat_free(&prev->t);
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	cowstat_free(&prev->t);
	cowstat_free(&cur->t);
	free(l);
	free(order);
	free(line_of_row);
	free(done);
	return 0;
}
