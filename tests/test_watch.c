// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowprobe watch: its tables hold /proc/cowstat's numbers, its rates
 * times the interval are the events counted, a fork's child is listed
 * under its parent, processes that exit leave the table cleanly, and a
 * process it cannot show is an error that names it.
 *
 * The cases read watch's output through a pipe, a table at a time, and
 * act on the puppets between two tables: each interval is 2 or 3 seconds
 * of the guest's clock, and what they do between takes milliseconds.  The
 * first table comes at once, without rates ("-").
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

#define REGION		64
#define WRITES		16

/* One row of a table: the page columns, the rates, and the command with its indent. */
struct watch_row {
	long long pid, ppid, page[7];
	double rate[3];			/* copies/s, reuses/s, forks/s */
	int indent;
	char comm[64];
};

static const char *const page_names[7] = {
	"rss", "shared", "private", "cow", "reusable", "thp", "swap",
};

static bool parse_row(const char *line, struct watch_row *r)
{
	const char *p = line;
	char *end;
	int i;

	r->pid = strtoll(p, &end, 10);
	r->ppid = strtoll(end, &end, 10);
	for (i = 0; i < 7; i++)
		r->page[i] = strtoll(end, &end, 10);
	for (i = 0; i < 3; i++) {
		while (*end == ' ')
			end++;
		if (*end == '-') {	/* no rate: the first table */
			r->rate[i] = NAN;
			end++;
		} else {
			r->rate[i] = strtod(end, &end);
		}
	}
	if (end == p || *end != ' ')
		return false;
	p = end + 1;
	r->indent = strspn(p, " ");
	snprintf(r->comm, sizeof(r->comm), "%.*s", (int)strcspn(p + r->indent, "\n"),
		 p + r->indent);
	return r->pid > 0;
}

/* The next line of @f, or false at the end; no escape sequence may be in a pipe's output. */
static bool next_line(FILE *f, char *line, size_t len)
{
	if (!fgets(line, len, f))
		return false;
	check(!strchr(line, '\033'), "an escape sequence in watch's output to a pipe: %s", line);
	return true;
}

/*
 * The three header lines of a table (after the blank line between two
 * when @between): its interval in *dt and the processes watched.
 */
static bool read_header(FILE *f, bool between, double *dt, int *watched)
{
	char line[512], *p;

	if (between && !(next_line(f, line, sizeof(line)) && line[0] == '\n'))
		return check(false, "no blank line between two tables");
	if (!next_line(f, line, sizeof(line)) || strncmp(line, "cowstat watch ", 14))
		return check(false, "no table header: %s", line);
	p = strstr(line, "over the last ");
	*dt = p ? strtod(p + 14, NULL) : between ? 0 : NAN;	/* the first: no interval */
	p = strstr(line, " of them watched");
	while (p && p > line && p[-1] != ' ')
		p--;
	*watched = p ? atoi(p) : -1;
	check(between ? *dt > 0 : isnan(*dt) && strstr(line, "from the next table on") != NULL,
	      "%s: %s", between ? "no interval" : "the first table has an interval", line);
	if (!next_line(f, line, sizeof(line)) || strncmp(line, "system: copies ", 15))
		return check(false, "no system line: %s", line);
	if (!next_line(f, line, sizeof(line)) || !strstr(line, "PID") || !strstr(line, "COPIES/s"))
		return check(false, "no column header: %s", line);
	return true;
}

static bool read_row(FILE *f, struct watch_row *r)
{
	char line[512];

	if (!next_line(f, line, sizeof(line)))
		return check(false, "the table ended early");
	return check(parse_row(line, r), "not a row: %s", line);
}

/* A row shows the process's /proc/cowstat page columns, as read now (it is idle). */
static void check_pages(const char *who, const struct watch_row *r,
			const struct cowstat_row *now)
{
	int i;

	for (i = 0; i < 7; i++)
		check(r->page[i] == col(now, page_names[i]), "%s: %s %lld in watch, %lld in %s",
		      who, page_names[i], r->page[i], col(now, page_names[i]), COWSTAT_PATH);
}

/* A rate times the interval is the count it came from, give or take its rounding. */
static void check_rate(const char *who, const char *what, double rate, double dt,
		       long long count)
{
	/* Printed as "%.1f" below 9.95, else "%.0f"; the interval as "%.1f". */
	double slack = (rate < 9.95 ? 0.05 : 0.5) * dt + 0.05 * rate + 0.5;

	check(fabs(rate * dt - count) <= slack, "%s: %s %.1f/s over %.1f s, but %lld counted",
	      who, what, rate, dt, count);
}

/* A puppet parent with its region written, forked: the pair the cases watch. */
static bool forked_pair(struct puppet *p)
{
	return spawn(p, 2, "cow-watch") && pcmd(&p[0], "map anon %d", REGION) &&
	       pcmd(&p[0], "write 0 %d", REGION) && pfork(p, 0, 1);
}

/* watch printed nothing more than the tables read, and exited 0. */
static void end_watch(FILE *f, const char *what)
{
	char line[512];
	int status;

	check(!next_line(f, line, sizeof(line)), "%s: %s", what, line);
	status = pclose(f);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cowprobe watch: status %#x", status);
}

static FILE *start_watch(const char *opts, pid_t pid)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), COWPROBE " watch %s %d", opts, (int)pid);
	return popen(cmd, "r");
}

/*
 * The parent alone in the first table, printed at once: no rates.  Between the
 * tables it forks and the child writes WRITES pages of the region: the
 * child is new in the second table, under its parent, with every event
 * it ever had in that interval; the parent's one fork is there too.
 */
static enum ktap_result watch_rates_and_families(const char **skip)
{
	struct cowstat_row before[2], now[2];
	struct watch_row r, c;
	struct puppet p[2] = { 0 };
	int watched;
	double dt;
	FILE *f;

	(void)skip;
	if (!spawn(p, 2, "cow-watch"))
		return KTAP_FAIL;
	if (!pcmd(&p[0], "map anon %d", REGION) || !pcmd(&p[0], "write 0 %d", REGION))
		goto out;
	f = start_watch("-c 2 -i 3", p[0].pid);
	if (!check(f != NULL, "popen cowprobe watch"))
		goto out;
	if (read_header(f, false, &dt, &watched) && read_row(f, &r) && snapshot(p, 1, now)) {
		check(watched == 1, "the first table watches %d processes, not 1", watched);
		check(r.pid == p[0].pid && r.indent == 0, "first row: pid %lld indent %d",
		      r.pid, r.indent);
		check_pages("parent, table 1", &r, &now[0]);
		check(isnan(r.rate[0]) && isnan(r.rate[1]) && isnan(r.rate[2]),
		      "rates in the first table, printed at once: %.1f %.1f %.1f", r.rate[0],
		      r.rate[1], r.rate[2]);
	}
	snapshot(p, 1, before);
	if (pfork(p, 0, 1) && pcmd(&p[1], "write 0 %d", WRITES) &&
	    read_header(f, true, &dt, &watched) && read_row(f, &r) && read_row(f, &c) &&
	    snapshot(p, 2, now)) {
		check(watched == 2, "the second table watches %d processes, not 2", watched);
		check(r.pid == p[0].pid && c.pid == p[1].pid, "rows %lld, %lld: not parent, child",
		      r.pid, c.pid);
		check(r.indent == 0 && c.indent == 2 && !strcmp(c.comm, r.comm),
		      "the child is not indented under its parent: '%s' %d, '%s' %d",
		      r.comm, r.indent, c.comm, c.indent);
		check(c.ppid == p[0].pid, "the child's PPID is %lld", c.ppid);
		check_pages("parent, table 2", &r, &now[0]);
		check_pages("child", &c, &now[1]);
		check(c.page[2] >= WRITES, "the child has %lld private pages, fewer than its %d copies",
		      c.page[2], WRITES);
		check_rate("child", "copies", c.rate[0], dt, col(&now[1], "copies"));
		check_rate("child", "reuses", c.rate[1], dt, col(&now[1], "reuses"));
		check_rate("parent", "copies", r.rate[0], dt,
			   col(&now[0], "copies") - col(&before[0], "copies"));
		check_rate("parent", "forks", r.rate[2], dt, 1);
		check(col(&now[1], "copies") >= WRITES, "the child copied %lld pages, fewer than %d",
		      col(&now[1], "copies"), WRITES);
	}
	end_watch(f, "more than two tables");
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * A child that exits leaves the table; when the last process watched
 * has exited too, watch says so and exits 0.
 */
static enum ktap_result watch_follows_exits(const char **skip)
{
	struct puppet p[2] = { 0 };
	struct watch_row r, c;
	int watched;
	char line[512];
	double dt;
	FILE *f;

	(void)skip;
	if (!forked_pair(p))
		goto out;
	f = start_watch("-c 5 -i 2", p[0].pid);
	if (!check(f != NULL, "popen cowprobe watch"))
		goto out;
	if (read_header(f, false, &dt, &watched) && read_row(f, &r) && read_row(f, &c))
		check(r.pid == p[0].pid && c.pid == p[1].pid, "table 1: rows %lld, %lld", r.pid,
		      c.pid);
	if (pcmd(&p[1], "exit 0") && pcmd(&p[0], "wait") && read_header(f, true, &dt, &watched) &&
	    read_row(f, &r)) {
		p[1].pid = 0;
		check(watched == 1 && r.pid == p[0].pid, "table 2: %d watched, row %lld", watched,
		      r.pid);
	}
	finish(p, 1);
	p[0].pid = 0;
	if (read_header(f, true, &dt, &watched)) {
		check(watched == 0, "table 3: %d watched, after the last exited", watched);
		check(next_line(f, line, sizeof(line)) &&
		      !strcmp(line, "All the processes watched have exited.\n"),
		      "not the last line: %s", line);
	}
	end_watch(f, "more after the end");
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * A process's counts go on when its parent exits and it is reparented:
 * the idle child's rates stay 0 (they once jumped to its whole count in
 * one interval, as if it were new, because its ppid changed).
 */
static enum ktap_result watch_keeps_counting_across_reparenting(const char **skip)
{
	struct puppet p[2] = { 0 };
	struct watch_row r, c;
	int status, watched;
	char opts[64];
	double dt;
	FILE *f;

	(void)skip;
	if (!forked_pair(p) || !pcmd(&p[1], "write 0 %d", WRITES))
		goto out;
	snprintf(opts, sizeof(opts), "-c 2 -i 2 %d", (int)p[1].pid);
	f = start_watch(opts, p[0].pid);
	if (!check(f != NULL, "popen cowprobe watch"))
		goto out;
	if (read_header(f, false, &dt, &watched) && read_row(f, &r) && read_row(f, &c))
		check(c.pid == p[1].pid && c.ppid == p[0].pid && isnan(c.rate[0]),
		      "table 1: child %lld of %lld, copies/s %.1f", c.pid, c.ppid, c.rate[0]);
	/* The parent exits (its pid reaped here); the child is reparented. */
	if (pcmd(&p[0], "exit 0") && waitpid(p[0].pid, &status, 0) == p[0].pid) {
		p[0].pid = 0;
		if (read_header(f, true, &dt, &watched) && read_row(f, &c))
			check(c.pid == p[1].pid && c.ppid != r.pid && c.rate[0] == 0 &&
			      c.rate[1] == 0 && c.rate[2] == 0, "table 2: the idle child %lld (ppid "
			      "%lld) at %.1f copies/s, %.1f reuses/s, %.1f forks/s", c.pid, c.ppid,
			      c.rate[0], c.rate[1], c.rate[2]);
	}
	end_watch(f, "more than two tables");
out:
	finish(p, 2);
	return KTAP_PASS;
}

/* Run cowprobe watch @args: exit status, and stderr in @err. */
static int watch_status(const char *args, char *err, size_t len)
{
	char cmd[192];
	size_t n = 0;
	int status;
	FILE *f;

	/* exec: $$ in @args is then cowprobe's own pid. */
	snprintf(cmd, sizeof(cmd), "exec " COWPROBE " watch %s 2>&1 >/dev/null", args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(err, 1, len - 1, f);
	err[n] = '\0';
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect_refusal(const char *args, int want, const char *says)
{
	char err[512];
	int status = watch_status(args, err, sizeof(err));

	check(status == want && strstr(err, says), "cowprobe watch %s: exit %d, '%s' (expected "
	      "%d, '%s')", args, status, err, want, says);
}

static int student_watch(void *arg)
{
	(void)arg;
	if (!become_student())
		return 3;
	expect_refusal("-c 1 -i 0.2 1", 1, "cowprobe watch: process 1 is not yours to see");
	/* Its own processes it sees: itself. */
	expect_refusal("-c 1 -i 0.2 $$", 0, "");
	return check_failures ? 1 : 0;
}

/* The first kernel thread's pid (kthreadd, 2, in the VM). */
static int kernel_thread(void)
{
	char path[64], buf[64];
	FILE *f;
	int pid;

	for (pid = 2; pid < 200; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		buf[0] = '\0';
		while (fgets(buf, sizeof(buf), f) && strncmp(buf, "VmSize:", 7))
			;
		fclose(f);
		if (strncmp(buf, "VmSize:", 7))
			return pid;
	}
	return -1;
}

/* A thread of @pid other than its leader, or -1. */
static int other_thread(pid_t pid)
{
	char path[64];
	struct dirent *d;
	int tid = -1;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir)))
		if (atoi(d->d_name) > 0 && atoi(d->d_name) != pid)
			tid = atoi(d->d_name);
	if (dir)
		closedir(dir);
	return tid;
}

/* Each pid it cannot watch is an error naming it: exit 1, before any table. */
static enum ktap_result watch_names_what_it_cannot_show(const char **skip)
{
	struct puppet p[1] = { 0 };
	char args[64], says[128];
	int pid, status;

	(void)skip;
	status = in_child(student_watch, NULL);
	check(status == 0, "as uid %d: status %d", STUDENT_UID, status);
	expect_refusal("-c 1 4000000", 1, "cowprobe watch: no process 4000000");
	pid = kernel_thread();
	if (check(pid > 0, "no kernel thread found")) {
		snprintf(args, sizeof(args), "-c 1 %d", pid);
		snprintf(says, sizeof(says), "process %d has no memory of its own", pid);
		expect_refusal(args, 1, says);
	}
	if (spawn(p, 1, "cow-watch") && pcmd(&p[0], "thread")) {
		pid = other_thread(p[0].pid);
		snprintf(args, sizeof(args), "-c 1 %d", pid);
		snprintf(says, sizeof(says), "%d is a thread of process %d: watch %d", pid,
			 (int)p[0].pid, (int)p[0].pid);
		if (check(pid > 0, "no second thread in the puppet"))
			expect_refusal(args, 1, says);
	}
	finish(p, 1);
	return KTAP_PASS;
}

const struct test_case watch_cases[] = {
	{ "watch_rates_and_families", watch_rates_and_families },
	{ "watch_follows_exits", watch_follows_exits },
	{ "watch_keeps_counting_across_reparenting", watch_keeps_counting_across_reparenting },
	{ "watch_names_what_it_cannot_show", watch_names_what_it_cannot_show },
};
const int nr_watch_cases = sizeof(watch_cases) / sizeof(watch_cases[0]);
