// SPDX-License-Identifier: GPL-2.0-only
/*
 * Robustness: readers in parallel with processes that fork, write, mmap,
 * munmap and exit; the module unloaded and loaded again under open
 * readers; cowprobe's answers to good and bad arguments.  The host checks
 * afterwards that the guest's kernel log has no BUG, WARNING, Oops or
 * Call Trace.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

#define READERS		3
#define CHURNERS	3
#define CHURN_CYCLES	150
#define RELOADS		5

/* Readers stop when the test closes the write end of this pipe. */
static int stop_pipe[2];

static bool stopped(int stop_fd)
{
	struct pollfd pfd = { .fd = stop_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;	/* readable: EOF, the writer closed */
}

/*
 * Read and parse the whole table until told to stop; every row must add
 * up even while its process changes.  With @unloading, the file vanishing
 * (ENOENT) or failing under an open descriptor (EIO) is expected.
 * Exits 0, or 1 after a diagnostic.
 */
static void reader(int stop_fd, bool unloading)
{
	struct cowstat_table t;
	long reads = 0, gone = 0;
	char err[256];
	size_t i;

	while (!stopped(stop_fd)) {
		if (cowstat_read(&t, COWSTAT_PATH, err, sizeof(err))) {
			if (unloading && (errno == ENOENT || errno == EIO)) {
				gone++;
				continue;
			}
			check(false, "reader %d after %ld reads: %s", (int)getpid(), reads, err);
			_exit(1);
		}
		for (i = 0; i < t.nrows; i++) {
			const struct cowstat_row *r = &t.rows[i];

			if (!check(cowstat_get(&t, r, "anon") == cowstat_get(&t, r, "shared") +
				   cowstat_get(&t, r, "private"), "row of pid %lld does not add up",
				   cowstat_get(&t, r, "pid")))
				_exit(1);
		}
		cowstat_free(&t);
		reads++;
	}
	ktap_diag("reader %d: %ld reads, %ld while unloaded", (int)getpid(), reads, gone);
	_exit(0);
}

/* Fork children that map, write, fork again, unmap and exit. */
static void churner(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int cycle;

	for (cycle = 0; cycle < CHURN_CYCLES; cycle++) {
		pid_t pid = fork();

		if (pid < 0)
			_exit(1);
		if (pid == 0) {
			size_t len = (size_t)(16 + cycle % 48) * page;
			char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED)
				_exit(1);
			memset(p, cycle, len);
			if (fork() == 0) {
				memset(p, cycle + 1, len / 2);
				_exit(0);
			}
			munmap(p, len / 2);
			wait(NULL);
			_exit(0);
		}
		if (waitpid(pid, NULL, 0) < 0)
			_exit(1);
	}
	_exit(0);
}

static pid_t start_reader(bool unloading)
{
	pid_t pid = fork();

	if (pid == 0) {
		close(stop_pipe[1]);
		reader(stop_pipe[0], unloading);
	}
	return pid;
}

/* Wait for @n children; returns how many did not exit 0. */
static int reap(const pid_t *pids, int n)
{
	int i, status, bad = 0;

	for (i = 0; i < n; i++) {
		if (pids[i] <= 0 || waitpid(pids[i], &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	return bad;
}

static enum ktap_result parallel_readers_under_churn(const char **skip)
{
	pid_t readers[READERS], churners[CHURNERS];
	int i;

	(void)skip;
	if (!check(pipe(stop_pipe) == 0, "pipe: %s", strerror(errno)))
		return KTAP_FAIL;
	for (i = 0; i < READERS; i++)
		readers[i] = start_reader(false);
	for (i = 0; i < CHURNERS; i++) {
		churners[i] = fork();
		if (churners[i] == 0) {
			close(stop_pipe[1]);
			churner();
		}
	}
	check(reap(churners, CHURNERS) == 0, "a churning process failed");
	close(stop_pipe[1]);
	check(reap(readers, READERS) == 0, "a reader failed");
	close(stop_pipe[0]);
	return KTAP_PASS;
}

static bool run_cmd(const char *cmd)
{
	int status = system(cmd);

	return check(status == 0, "'%s' failed (status %#x)", cmd, status);
}

/*
 * rmmod while readers hold the file open and keep reading, then insmod
 * again, RELOADS times: open descriptors fail with EIO, new opens with
 * ENOENT, and nothing else happens.  The table reads normally afterwards.
 */
static enum ktap_result reload_under_readers(const char **skip)
{
	struct cowstat_table t;
	pid_t readers[READERS];
	char buf[64], err[256];
	int i, fd;

	(void)skip;
	if (!check(pipe(stop_pipe) == 0, "pipe: %s", strerror(errno)))
		return KTAP_FAIL;
	for (i = 0; i < READERS; i++)
		readers[i] = start_reader(true);
	for (i = 0; i < RELOADS; i++) {
		/* A reader stopped in the middle of the table, across the unload. */
		fd = open(COWSTAT_PATH, O_RDONLY | O_CLOEXEC);
		check(fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf),
		      "partial read before rmmod failed");
		if (!run_cmd("rmmod cowstat")) {
			close(fd);
			break;
		}
		check(read(fd, buf, sizeof(buf)) < 0 && errno == EIO,
		      "read after rmmod: expected EIO");
		close(fd);
		check(access(COWSTAT_PATH, F_OK) < 0 && errno == ENOENT,
		      "%s still there after rmmod", COWSTAT_PATH);
		if (!run_cmd("insmod " MODULE_PATH))
			break;
	}
	close(stop_pipe[1]);
	check(reap(readers, READERS) == 0, "a reader failed");
	close(stop_pipe[0]);
	if (check(cowstat_read(&t, COWSTAT_PATH, err, sizeof(err)) == 0, "%s", err)) {
		check(cowstat_find(&t, getpid()) != NULL, "no row for the test after reloading");
		cowstat_free(&t);
	}
	return KTAP_PASS;
}

/* Run cowprobe with @args; its exit status, stdout and stderr. */
static int cowprobe(const char *args, char *out, size_t outlen, char *errbuf, size_t errlen)
{
	char cmd[256];
	int status, len;
	FILE *f;

	snprintf(cmd, sizeof(cmd), COWPROBE " %s >/tmp/cowprobe.out 2>/tmp/cowprobe.err", args);
	status = system(cmd);
	f = fopen("/tmp/cowprobe.out", "re");
	len = f ? (int)fread(out, 1, outlen - 1, f) : 0;
	out[len] = '\0';
	if (f)
		fclose(f);
	f = fopen("/tmp/cowprobe.err", "re");
	len = f ? (int)fread(errbuf, 1, errlen - 1, f) : 0;
	errbuf[len] = '\0';
	if (f)
		fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Bad arguments: exit 2, a message on stderr naming the problem. */
static enum ktap_result cowprobe_rejects_bad_arguments(const char **skip)
{
	static const struct { const char *args, *says; } bad[] = {
		/* 0 and -5 alike: the range -n takes, and what was given. */
		{ "-n 0", "-n needs a number of pages from 1 to 1048576, not '0'" },
		{ "-n -5", "-n needs a number of pages from 1 to 1048576, not '-5'" },
		{ "-k -1", "-k needs a number of pages from 0 to 1048576, not '-1'" },
		{ "-n abc", "not 'abc'" },
		{ "--json --csv", "--json, --csv and --html: choose one output format" },
		{ "--csv --html split", "--json, --csv and --html: choose one output format" },
		{ "--color=sometimes", "--color takes auto, always or never, not 'sometimes'" },
		{ "-p /nonexistent", "-p /nonexistent: No such file" },
		{ "-n 99999999999999999999", "not '99999999999999999999'" },
		{ "-n 12x", "not '12x'" },
		{ "-n 5 -k 10", "-k cannot exceed" },
		{ "-n 1048576", "free memory" },
		{ "-x", "invalid option" },
		{ "-n", "requires an argument" },
		{ "extra", "no lesson 'extra'" },
		{ "split extra", "unexpected argument 'extra'" },
		{ "-n 100 forkcost", "forkcost needs -n of at least 256 pages" },
		{ "watch -i 0", "-i needs seconds from 0.1 to 86400 (0 only with -c), not '0'" },
		{ "watch -i 1e9", "-i needs seconds from 0.1 to 86400, not '1e9'" },
		{ "watch -c 0", "-c needs a count of tables of at least 1, not '0'" },
		{ "watch --sort size", "--sort takes activity, copies, reuses, forks, pid, rss" },
		{ "watch 12ab", "a pid is a number of at least 1, not '12ab'" },
		{ "watch -x", "cowprobe watch: no such option: '-x'" },
		{ "watch -c", "cowprobe watch: a value is missing after '-c'" },
	};
	char out[4096], err[4096];
	unsigned int i;
	int status;

	(void)skip;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		status = cowprobe(bad[i].args, out, sizeof(out), err, sizeof(err));
		check(status == 2, "cowprobe %s: exit %d, expected 2", bad[i].args, status);
		check(strstr(err, bad[i].says) != NULL, "cowprobe %s: stderr '%s' lacks '%s'",
		      bad[i].args, err, bad[i].says);
	}
	status = cowprobe("--help", out, sizeof(out), err, sizeof(err));
	check(status == 0 && strstr(out, "usage: cowprobe"), "cowprobe --help: exit %d", status);
	return KTAP_PASS;
}

/*
 * The legend names every character the map draws: each character of
 * every lesson's maps, with and without the module, is in the legend the
 * lesson printed (the first word of a legend line, "2-9 +", or the line
 * of letters for huge mappings).
 */
static void legend_chars(const char *out, bool *named)
{
	const char *line = strstr(out, "Page map:"), *p;

	for (line = line ? strchr(line, '\n') : NULL; line && line[1] == ' ';
	     line = strchr(line + 1, '\n')) {
		for (p = line + 1; *p == ' '; p++)
			;
		if (!strncmp(p, "2-9 +", 5)) {
			memset(named + '2', true, 8);
			named['+'] = true;
			continue;
		}
		/* "w   meaning", or the huge letters: "W R C A Z F  the same, ..." */
		for (; *p && *p != '\n' && (p[1] == ' ' || p[1] == '\n'); p += 2) {
			named[(unsigned char)*p] = true;
			if (p[2] == ' ')
				break;
		}
	}
}

static void check_legend(const char *lesson)
{
	char out[65536], err[4096], *line;
	int status = cowprobe(lesson, out, sizeof(out), err, sizeof(err));
	bool named[256] = { false };

	check(status == 0, "cowprobe %s: exit %d", lesson, status);
	legend_chars(out, named);
	check(named['.'] && named['0'], "cowprobe %s: no legend", lesson);
	for (line = strchr(out, '|'); line; line = strchr(line, '\n')) {
		char *bar = strchr(line, '|'), *p;

		if (!bar)
			break;
		for (p = bar + 1; *p && *p != '|' && *p != '\n'; p++)
			if (!check(named[(unsigned char)*p], "cowprobe %s: '%c' in a map, not in the legend",
				   lesson, *p))
				return;
		line = strchr(bar + 1, '\n');
		if (!line)
			break;
	}
}

static enum ktap_result legend_names_every_char(const char **skip)
{
	static const char *const lessons[] = {
		"split", "zero", "shared", "wipeonfork", "thp", "many",
	};
	unsigned int i;

	(void)skip;
	for (i = 0; i < sizeof(lessons) / sizeof(lessons[0]); i++)
		check_legend(lessons[i]);
	if (!check(system("rmmod cowstat") == 0, "rmmod cowstat failed"))
		return KTAP_FAIL;
	check_legend("split");
	check_legend("zero");
	check(system("insmod /lib/modules/cowstat.ko") == 0, "insmod cowstat.ko failed");
	return KTAP_PASS;
}

/*
 * The demo runs, and the numbers it prints are exact: the child's write of
 * k pages shows as shared -k in both rows (cowprobe prints the change
 * line under each row).
 */
static enum ktap_result cowprobe_demo_runs(const char **skip)
{
	char out[16384], err[4096], *step;
	int status;

	(void)skip;
	status = cowprobe("-n 64 -k 16", out, sizeof(out), err, sizeof(err));
	check(status == 0, "cowprobe -n 64 -k 16: exit %d: %s", status, err);
	check(strstr(out, "exit status 0") != NULL, "cowprobe did not report the child's exit");
	step = strstr(out, "step 3:");
	if (check(step != NULL, "no step 3 in cowprobe's output")) {
		/* change lines: "    change  <rss> <anon> <shared> ..." */
		char *line = step;
		int changes = 0;
		long rss, anon, shared, private;

		while ((line = strstr(line, "  change"))) {
			line += strlen("  change");
			if (sscanf(line, "%ld %ld %ld %ld", &rss, &anon, &shared, &private) == 4 &&
			    changes < 2) {
				check(shared == -16 && private == 16,
				      "step 3 change line %d: shared %+ld private %+ld, expected -16 +16",
				      changes + 1, shared, private);
				changes++;
			}
		}
		check(changes == 2, "%d change lines in step 3, expected 2", changes);
	}
	return KTAP_PASS;
}

const struct test_case robust_cases[] = {
	{ "parallel_readers_under_churn", parallel_readers_under_churn },
	{ "reload_under_readers", reload_under_readers },
	{ "cowprobe_rejects_bad_arguments", cowprobe_rejects_bad_arguments },
	{ "legend_names_every_char", legend_names_every_char },
	{ "cowprobe_demo_runs", cowprobe_demo_runs },
};
const int nr_robust_cases = sizeof(robust_cases) / sizeof(robust_cases[0]);
