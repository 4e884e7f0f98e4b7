// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowprobe: fork, write, and watch shared pages turn private.
 *
 * A parent process maps a region and writes every page, then forks; the
 * child writes some of the pages.  After each step cowprobe prints both
 * processes' /proc/cowstat rows and the change since the previous step.
 *
 * The parent and child are puppets (puppet.h): cowprobe itself only
 * watches, so its own reading and printing never moves their numbers.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowstat_table.h"
#include "puppet.h"

#define DEFAULT_PAGES	1024
#define DEFAULT_WRITES	256
#define MAX_PAGES	(1L << 20)	/* 4 GiB of 4 KiB pages */

enum { PARENT, CHILD, NR_PUPPETS };

static const char *const role[NR_PUPPETS] = { "parent", "child" };

struct probe {
	const char *path;		/* the table, /proc/cowstat */
	long pages, writes;
	struct puppet pup[NR_PUPPETS];
	struct cowstat_row last[NR_PUPPETS];
	int shown[NR_PUPPETS];		/* last[] holds a row */
	char err[256];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cowprobe [-n pages] [-k pages] [-p path]\n"
		"\n"
		"Map a region, write every page, fork, let the child write some of the\n"
		"pages, and show after each step the /proc/cowstat rows of the parent\n"
		"and the child with the change since the step before.\n"
		"\n"
		"  -n pages   pages in the region (default %d, at most %ld)\n"
		"  -k pages   pages the child writes, 0 to n (default %d, or n if smaller)\n"
		"  -p path    where to read the table (default %s)\n"
		"  -h, --help this text\n"
		"\n"
		"Exit status: 0 on success, 1 if a step failed, 2 for bad usage.\n",
		DEFAULT_PAGES, MAX_PAGES, DEFAULT_WRITES, COWSTAT_PATH);
}

static void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "cowprobe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'cowprobe --help'.\n");
	exit(2);
}

static long parse_count(const char *opt, const char *arg, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end || errno == ERANGE || v < 0 || v > max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s needs a number of pages from 0 to %ld, not '%%s'",
			 opt, max);
		bad_usage(msg, arg);
	}
	return v;
}

/* The numeric columns worth showing: all but pid and ppid. */
static int shown_col(const struct cowstat_table *t, int col)
{
	return strcmp(t->name[col], "pid") && strcmp(t->name[col], "ppid");
}

static void print_header(const struct cowstat_table *t)
{
	int i;

	printf("  %-8s %7s", "", "pid");
	for (i = 0; i < t->ncols; i++)
		if (shown_col(t, i))
			printf(" %7s", t->name[i]);
	printf("\n");
}

/* The shown columns of @row, or with @prev their change since @prev. */
static void print_values(const struct cowstat_table *t, const struct cowstat_row *row,
			 const struct cowstat_row *prev)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		if (!shown_col(t, i))
			continue;
		if (row->val[i] == COWSTAT_NA)
			printf(" %7s", "-");
		else if (prev)
			printf(" %+7lld", row->val[i] - prev->val[i]);
		else
			printf(" %7lld", row->val[i]);
	}
	printf("\n");
}

static void print_row(struct probe *pr, const struct cowstat_table *t, int who,
		      const struct cowstat_row *row)
{
	printf("  %-8s %7lld", role[who], row->val[t->pid_col]);
	print_values(t, row, NULL);
	if (pr->shown[who]) {
		printf("  %-8s %7s", "  change", "");
		print_values(t, row, &pr->last[who]);
	}
	pr->last[who] = *row;
	pr->shown[who] = 1;
}

/* Print the rows of the first @n puppets; 0, or -1 if a row is missing. */
static int show_step(struct probe *pr, int n)
{
	struct cowstat_table t;
	int who, ret = 0;

	if (cowstat_read(&t, pr->path, pr->err, sizeof(pr->err)))
		return -1;
	print_header(&t);
	for (who = 0; who < n; who++) {
		const struct cowstat_row *row = cowstat_find(&t, pr->pup[who].pid);

		if (!row) {
			snprintf(pr->err, sizeof(pr->err), "%s: no row for the %s (pid %d)",
				 pr->path, role[who], (int)pr->pup[who].pid);
			ret = -1;
			break;
		}
		print_row(pr, &t, who, row);
	}
	cowstat_free(&t);
	return ret;
}

static int run_demo(struct probe *pr)
{
	long n = pr->pages, k = pr->writes;
	int status;

	printf("cowprobe: a parent maps %ld pages (%ld KiB) of private anonymous memory,\n"
	       "writes every one and forks; then the child writes %ld of them.\n"
	       "Counts are 4 KiB pages from %s; 'change' is since the step before.\n"
	       "(cowprobe itself only watches: parent and child are processes it\n"
	       "started and drives step by step, so its reading never moves their counts.)\n\n",
	       n, n * 4, k, pr->path);

	printf("step 1: the parent maps %ld pages and writes each one\n", n);
	if (puppet_cmd(&pr->pup[PARENT], pr->err, sizeof(pr->err), "map anon %ld", n) < 0 ||
	    puppet_cmd(&pr->pup[PARENT], pr->err, sizeof(pr->err), "write 0 %ld", n) < 0 ||
	    show_step(pr, 1))
		return -1;
	printf("  Every page of the region is the parent's own: private.\n\n");

	printf("step 2: fork()\n");
	if (puppet_fork(pr->pup, PARENT, CHILD, "cow-child", pr->err, sizeof(pr->err)) ||
	    show_step(pr, 2))
		return -1;
	printf("  fork() copied the page tables, not the pages: parent and child map the\n"
	       "  same %ld pages (and the rest of the parent's memory), now shared and\n"
	       "  write-protected; 'cow' counts the shared pages a write would copy.\n"
	       "  The few pages still private are those the child has already written\n"
	       "  (its stack, libc's data): each was copied on that first write.\n\n", n);

	printf("step 3: the child writes %ld of the %ld pages\n", k, n);
	if (puppet_cmd(&pr->pup[CHILD], pr->err, sizeof(pr->err), "write 0 %ld", k) < 0 ||
	    show_step(pr, 2))
		return -1;
	printf("  Each write faulted and the kernel copied that one page for the child:\n"
	       "  'shared' fell by %ld in both; the child's copies and the parent's\n"
	       "  originals, each mapped once now, count as 'private'.\n\n", k);

	printf("step 4: the child exits\n");
	if (puppet_cmd(&pr->pup[CHILD], pr->err, sizeof(pr->err), "exit 0") < 0)
		return -1;
	status = (int)puppet_cmd(&pr->pup[PARENT], pr->err, sizeof(pr->err), "wait");
	if (status < 0 || show_step(pr, 1))
		return -1;
	if (WIFEXITED(status))
		printf("  The parent reaped the child: exit status %d (WIFEXITED).\n",
		       WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("  The parent reaped the child: killed by signal %d (WIFSIGNALED).\n",
		       WTERMSIG(status));
	printf("  With the child gone, every page it shared is mapped once again:\n"
	       "  the parent's pages are all private, and nothing was copied for it.\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct probe pr = { .path = COWSTAT_PATH, .pages = DEFAULT_PAGES, .writes = -1 };
	struct cowstat_table t;
	int opt, ret, status;

	if (argc > 1 && !strcmp(argv[1], PUPPET_FLAG))
		puppet_main(argc, argv);

	while ((opt = getopt_long(argc, argv, "n:k:p:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			pr.pages = parse_count("-n", optarg, MAX_PAGES);
			if (pr.pages == 0)
				bad_usage("-n needs at least one page, not '%s'", optarg);
			break;
		case 'k':
			pr.writes = parse_count("-k", optarg, MAX_PAGES);
			break;
		case 'p':
			pr.path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (pr.writes < 0)
		pr.writes = pr.pages < DEFAULT_WRITES ? pr.pages : DEFAULT_WRITES;
	if (pr.writes > pr.pages) {
		char n[24];

		snprintf(n, sizeof(n), "%ld", pr.pages);
		bad_usage("-k cannot exceed the %s pages of the region (-n)", n);
	}

	/* The parent's n pages and the child's k copies must fit in RAM. */
	if (pr.pages + pr.writes > sysconf(_SC_AVPHYS_PAGES)) {
		char need[64];

		snprintf(need, sizeof(need), "%ld MiB", (pr.pages + pr.writes) / 256);
		fprintf(stderr, "cowprobe: -n %ld -k %ld needs %s, more than the %ld MiB of free memory\n",
			pr.pages, pr.writes, need, sysconf(_SC_AVPHYS_PAGES) / 256);
		return 2;
	}

	/* Fail early and plainly when the module is not there. */
	if (cowstat_read(&t, pr.path, pr.err, sizeof(pr.err))) {
		fprintf(stderr, "cowprobe: %s\n", pr.err);
		return 1;
	}
	cowstat_free(&t);

	if (puppet_spawn(pr.pup, NR_PUPPETS, "/proc/self/exe", "cow-parent",
			 pr.err, sizeof(pr.err))) {
		fprintf(stderr, "cowprobe: %s\n", pr.err);
		return 1;
	}
	fflush(stdout);
	ret = run_demo(&pr);
	if (ret)
		fprintf(stderr, "cowprobe: %s\n", pr.err);
	puppet_cmd(&pr.pup[PARENT], pr.err, sizeof(pr.err), "exit 0");
	puppet_release(pr.pup, NR_PUPPETS);
	waitpid(pr.pup[PARENT].pid, &status, 0);
	if (fflush(stdout) || ferror(stdout)) {
		perror("cowprobe: stdout");
		return 1;
	}
	return ret ? 1 : 0;
}
