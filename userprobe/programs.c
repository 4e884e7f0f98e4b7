// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the lessons with real programs (redis.c, prefork.c) share: starting
 * a program, the /proc/cowstat rows of its processes, and drawing them.
 * These processes are whole programs, not puppets with one region: their
 * rows are the whole process's, and the frames they use are the sum of
 * their PSS of anonymous memory (smaps_rollup's Pss_Anon), which counts a
 * page shared by k of them as 1/k in each.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cowstat_table.h"
#include "probe.h"
#include "programs.h"

static const char *const row_keys[NR_ROW_COLS] = {
	"pid", "rss", "anon", "shared", "private", "copies", "reuses", "forks",
};

/* The module is loaded and counts events (not events=0): what these lessons read. */
int program_counts(struct probe *pr)
{
	char buf[16] = "";
	FILE *f = fopen("/sys/kernel/cowstat/events", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	if (!pr->have_module || strncmp(buf, "on", 2)) {
		snprintf(pr->err, sizeof(pr->err), "the %s lesson needs the cowstat module, "
			 "counting events (/sys/kernel/cowstat/events: on)", pr->lesson);
		return -1;
	}
	return 0;
}

static void close_pair(int *fds)
{
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
}

/*
 * Start @argv[0] with its stdin and stdout on pipes (@in, @out), or on
 * /dev/null.  It gets SIGTERM if cowprobe dies first: an interrupted
 * lesson leaves no server running.
 */
pid_t program_start(char *const argv[], int *in, int *out)
{
	int to[2] = { -1, -1 }, from[2] = { -1, -1 };
	pid_t pid;

	if ((in && pipe2(to, O_CLOEXEC)) || (out && pipe2(from, O_CLOEXEC))) {
		close_pair(to);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(in ? to[0] : null, STDIN_FILENO);
		dup2(out ? from[1] : null, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0) {
		close_pair(to);
		close_pair(from);
		return -1;
	}
	if (in) {
		close(to[0]);
		*in = to[1];
	}
	if (out) {
		close(from[1]);
		*out = from[0];
	}
	return pid;
}

/* The rows of processes @pids[0..n) now; a process without one has pid 0. */
int program_rows(struct probe *pr, const pid_t *pids, int n, struct prow *rows)
{
	struct cowstat_table t;
	int i, c;

	if (cowstat_read(&t, pr->table, pr->err, sizeof(pr->err)))
		return -1;
	for (i = 0; i < n; i++) {
		const struct cowstat_row *row = pids[i] > 0 ? cowstat_find(&t, pids[i]) : NULL;

		memset(&rows[i], 0, sizeof(rows[i]));
		for (c = 0; row && c < NR_ROW_COLS; c++) {
			long long v = cowstat_get(&t, row, row_keys[c]);

			rows[i].v[c] = v == COWSTAT_NA || v < 0 ? NA : v;
		}
	}
	cowstat_free(&t);
	return 0;
}

/* Anonymous memory @pid uses, a shared page counted 1/k (Pss_Anon), in KiB; or NA. */
long long pss_anon_kib(pid_t pid)
{
	char path[64], line[128];
	long long kib = NA;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pss_Anon: %lld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* The rows of a step: a table in text, a record a row otherwise. */
void program_show(struct probe *pr, const char *const *roles, const struct prow *rows, int n)
{
	int i, c;

	if (pr->format != FMT_TEXT) {
		double v[NR_ROW_COLS];

		report_header(pr, "", NR_ROW_COLS, row_keys);
		for (i = 0; i < n; i++) {
			for (c = 0; c < NR_ROW_COLS; c++)
				v[c] = rows[i].v[c] == NA ? NAN : rows[i].v[c];
			report_record(pr, roles[i], NR_ROW_COLS, row_keys, v);
		}
		return;
	}
	printf("  %-12s", "");
	for (c = 0; c < NR_ROW_COLS; c++)
		printf(" %8s", row_keys[c]);
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("  %-12s", roles[i]);
		for (c = 0; c < NR_ROW_COLS; c++) {
			if (rows[i].v[c] == NA || !rows[i].v[ROW_PID])
				printf(" %8s", "-");
			else
				printf(" %8lld", rows[i].v[c]);
		}
		printf("\n");
	}
}
