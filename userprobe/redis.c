// SPDX-License-Identifier: GPL-2.0-only
/*
 * The redis lesson: Debian's own redis-server, filled with values of
 * 4 KiB, saves a snapshot in the background (BGSAVE: fork(), and the child
 * writes the dataset to disk) while redis-benchmark overwrites keys.
 * cowstat follows the server and its child through the save; then Redis's
 * own report of the copy-on-write it caused (its log line and INFO
 * persistence) is set next to cowstat's figures.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cowstat_table.h"
#include "programs.h"

#define REDIS_SERVER	"/usr/bin/redis-server"
#define REDIS_CLI	"/usr/bin/redis-cli"
#define REDIS_BENCH	"/usr/bin/redis-benchmark"
#define DEFAULT_KEYS	25600		/* 100 MiB of values */
#define POLL_NS		50000000	/* how often the save is sampled: 50 ms */
#define MAX_SAMPLES	4096
#define TEXT_ROWS	16

struct redis {
	char dir[64], sock[96], log[96];
	pid_t server, bench;
};

/* One look at the server and its child during the save. */
struct sample {
	double t;			/* seconds since BGSAVE */
	struct prow row[2];		/* server, child */
};

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* redis-cli -s SOCK ARGS...: its first line of output in @out. */
static int cli(struct probe *pr, struct redis *r, const char *a, const char *b, char *out,
	       size_t len)
{
	char *argv[] = { REDIS_CLI, "-s", r->sock, (char *)a, (char *)b, NULL };
	int fd, status;
	ssize_t n = 0, got;
	pid_t pid = program_start(argv, NULL, &fd);

	if (pid < 0)
		return -1;
	while (n < (ssize_t)len - 1 && (got = read(fd, out + n, len - 1 - n)) > 0)
		n += got;
	out[n] = '\0';
	close(fd);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(pr->err, sizeof(pr->err), "redis-cli %s failed", a);
		return -1;
	}
	return 0;
}

/* A field of INFO persistence ("rdb_last_cow_size"), or NA. */
static long long info_field(struct probe *pr, struct redis *r, const char *name)
{
	char out[4096], *p;

	if (cli(pr, r, "info", "persistence", out, sizeof(out)))
		return NA;
	p = strstr(out, name);
	return p && p[strlen(name)] == ':' ? atoll(p + strlen(name) + 1) : NA;
}

static int start_server(struct probe *pr, struct redis *r)
{
	char *argv[] = {
		REDIS_SERVER, "--port", "0", "--unixsocket", r->sock, "--save", "",
		"--appendonly", "no", "--dir", r->dir, "--logfile", r->log, NULL,
	};
	char out[64] = "";
	int i;

	/* mkdtemp() turns the six X into a unique name, and makes the directory 0700. */
	snprintf(r->dir, sizeof(r->dir), "/tmp/cowprobe-redis-XXXXXX");
	if (!mkdtemp(r->dir)) {
		snprintf(pr->err, sizeof(pr->err), "mkdtemp %s: %s", r->dir, strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/redis.log", r->dir);
	r->server = program_start(argv, NULL, NULL);
	for (i = 0; r->server > 0 && i < 200 && strncmp(out, "PONG", 4); i++) {
		usleep(100000);
		if (access(r->sock, F_OK) == 0)
			cli(pr, r, "ping", NULL, out, sizeof(out));
	}
	if (strncmp(out, "PONG", 4)) {
		snprintf(pr->err, sizeof(pr->err), "redis-server did not start (see %s)", r->log);
		return -1;
	}
	return 0;
}

/* redis-benchmark: @requests SETs of 4 KiB values to @keys random keys, 16 at a time. */
static pid_t benchmark(struct redis *r, long requests, long keys)
{
	char n[24], k[24], *argv[] = {
		REDIS_BENCH, "-s", r->sock, "-q", "-t", "set", "-n", n, "-r", k, "-d", "4096",
		"-P", "16", NULL,
	};

	snprintf(n, sizeof(n), "%ld", requests);
	snprintf(k, sizeof(k), "%ld", keys);
	return program_start(argv, NULL, NULL);
}

static void stop(struct redis *r)
{
	char path[160];

	if (r->bench > 0) {
		kill(r->bench, SIGTERM);
		waitpid(r->bench, NULL, 0);
	}
	if (r->server > 0) {
		kill(r->server, SIGTERM);
		waitpid(r->server, NULL, 0);
	}
	if (!r->dir[0])
		return;		/* no directory of ours to clean */
	unlink(r->sock);
	unlink(r->log);
	snprintf(path, sizeof(path), "%s/dump.rdb", r->dir);
	unlink(path);
	rmdir(r->dir);
}

/* The server's child (the saving one) in the table, or 0. */
static pid_t child_of(struct probe *pr, pid_t parent)
{
	struct cowstat_table t;
	pid_t child = 0;
	size_t i;

	if (cowstat_read(&t, pr->table, NULL, 0))
		return 0;
	for (i = 0; i < t.nrows && !child; i++)
		if (cowstat_get(&t, &t.rows[i], "ppid") == parent)
			child = t.rows[i].val[t.pid_col];
	cowstat_free(&t);
	return child;
}

/* "Fork CoW for RDB: current 61 MB, peak 61 MB, average 41 MB": the log's line, or "". */
static void log_line(struct redis *r, char *line, size_t len)
{
	char buf[512], *p;
	FILE *f = fopen(r->log, "re");

	line[0] = '\0';
	while (f && fgets(buf, sizeof(buf), f))
		if ((p = strstr(buf, "Fork CoW for RDB")))
			snprintf(line, len, "%.*s", (int)strcspn(p, "\n"), p);
	if (f)
		fclose(f);
}

static const char *const roles[2] = { "redis-server", "saving child" };

/*
 * Sample the save every POLL_NS until the child has exited: the looks at
 * it in s[0..n), and in s[n] the first look without it.  Returns n, or -1
 * (a save not seen, or not over within MAX_SAMPLES looks).
 */
static int follow_save(struct probe *pr, struct redis *r, struct sample *s, pid_t *child)
{
	struct timespec t0, pause = { 0, POLL_NS };
	pid_t pids[2] = { r->server, 0 };
	int n = 0, tries;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The child, as soon as the server has forked it (a few looks at most). */
	for (tries = 0; !pids[1] && tries < 200; tries++) {
		pids[1] = child_of(pr, r->server);
		if (!pids[1])
			nanosleep(&pause, NULL);
	}
	for (*child = pids[1]; pids[1] && n < MAX_SAMPLES; n++) {
		if (program_rows(pr, pids, 2, s[n].row))
			return -1;
		s[n].t = since(&t0);
		if (!s[n].row[1].v[ROW_PID])
			break;		/* the child has exited */
		nanosleep(&pause, NULL);
	}
	if (!pids[1] || n == 0 || n == MAX_SAMPLES) {
		snprintf(pr->err, sizeof(pr->err), "%s", !pids[1] || n == 0 ?
			 "the save ended before cowstat could look at it: try a larger -n" :
			 "the save did not end within the looks the lesson keeps");
		return -1;
	}
	return n;
}

static void series(struct probe *pr, const struct sample *s, int n, long long copies0)
{
	static const char *const keys[] = {
		"seconds", "server_copies", "child_private", "child_copies", "extra_kib",
	};
	int i, every = (n + TEXT_ROWS - 1) / TEXT_ROWS;
	double v[5];

	if (pr->format == FMT_TEXT)
		printf("  %7s %13s %13s %12s %11s\n", "seconds", "server copies", "child private",
		       "child copies", "extra");
	else
		report_header(pr, "", 5, keys);
	for (i = 0; i < n; i++) {
		v[0] = s[i].t;
		v[1] = s[i].row[0].v[ROW_COPIES] - copies0;
		v[2] = s[i].row[1].v[ROW_PRIVATE];
		v[3] = s[i].row[1].v[ROW_COPIES];
		v[4] = v[2] * 4;
		if (pr->format != FMT_TEXT)
			report_record(pr, "save", 5, keys, v);
		else if (i % (every ? every : 1) == 0 || i == n - 1)
			printf("  %7.2f %13.0f %13.0f %12.0f %7.0f KiB\n", v[0], v[1], v[2], v[3],
			       v[4]);
	}
	if (pr->format == FMT_HTML)
		report_summary(pr);
}

/*
 * Redis's own figures beside cowstat's.  The child measures its
 * Private_Dirty (/proc/self/smaps) about once a second and as it exits, and
 * logs "Fork CoW for RDB: current C MB, peak P MB, average A MB" (MB of
 * 2^20 bytes, rounded down); INFO persistence's rdb_last_cow_size is that
 * peak, in bytes (Redis 7.0).  @late: the server's copies after
 * cowstat's last look.
 */
static void compare(struct probe *pr, struct redis *r, const struct sample *s, int n,
		    long long late)
{
	static const char *const keys[] = {
		"redis_current_mib", "redis_peak_bytes", "child_private_last", "child_private_max",
		"late_copies", "given_back", "slack",
	};
	long long peak_bytes = info_field(pr, r, "rdb_last_cow_size"), last, max = 0, given = 0;
	long long current = NA, slack, diff;
	double gap = s[n].t - s[n - 1].t, v[7];
	char line[256], peak_text[32], given_text[128], *p;
	int i;

	log_line(r, line, sizeof(line));
	if (peak_bytes == NA)
		snprintf(peak_text, sizeof(peak_text), "(missing)");
	else
		snprintf(peak_text, sizeof(peak_text), "%lld", peak_bytes);
	p = strstr(line, "current ");
	if (p)
		current = atoll(p + 8);
	last = s[n - 1].row[1].v[ROW_PRIVATE];
	for (i = 0; i < n; i++)
		if (s[i].row[1].v[ROW_PRIVATE] > max)
			max = s[i].row[1].v[ROW_PRIVATE];
	/* What the child gave back after the last look, at the pace of the two before. */
	if (n > 1 && s[n - 2].row[1].v[ROW_ANON] > s[n - 1].row[1].v[ROW_ANON])
		given = (s[n - 2].row[1].v[ROW_ANON] - s[n - 1].row[1].v[ROW_ANON]) * gap /
			(s[n - 1].t - s[n - 2].t);
	if (given)
		snprintf(given_text, sizeof(given_text), ", and the child, giving pages back at "
			 "the pace of its last looks, may have given back some %lld", given);
	else
		given_text[0] = '\0';
	/* Apart by what changed between the two looks, Redis's rounding down, 5%. */
	slack = late + 2 * given + 256 + last / 20;
	diff = current == NA ? NA : llabs(current * 256 - last);

	report_text(pr, "\nRedis's own report\n");
	report_note(pr, "Redis's log: \"%s\"; INFO persistence: rdb_last_cow_size:%s.",
		    line[0] ? line : "(no CoW line)", peak_text);
	report_note(pr, "Both count the same pages: Redis's child reads its own Private_Dirty in "
		    "/proc/self/smaps, the pages no other process maps and that were written (the "
		    "originals the server copied away from, the child's own writes); cowstat's "
		    "'private' counts the anonymous pages mapped once.");
	if (current == NA || peak_bytes == NA) {
		/* Another Redis, which reports otherwise (or not at all): nothing to set beside. */
		report_note(pr, "This Redis reported no %s: nothing to compare.",
			    current == NA ? "\"Fork CoW for RDB\" line" : "rdb_last_cow_size");
		report_unexpected(pr, "Redis's own CoW figures are missing");
	} else {
		report_note(pr, "Current, as the child exited: Redis %lld MiB, cowstat %lld pages "
			    "(%lld MiB) at its last look, at most %.0f ms earlier.  In between the "
			    "server copied %lld pages%s.  %s", current, last, last / 256, gap * 1000,
			    late, given_text, diff > slack ?
			    "They differ by more than that explains." :
			    "They agree, to what changed in between.");
		report_note(pr, "Peak: Redis %lld MiB (rdb_last_cow_size, the highest of its looks "
			    "once a second), cowstat %lld pages (%lld MiB, the highest of its looks "
			    "every few tens of ms).  %s", peak_bytes >> 20, max, max / 256,
			    max > last ? "The peak was mid-save: as the child writes values out it "
			    "gives their pages back, and its private pages fall." :
			    "The peak was the last look: the save ended before the child's giving "
			    "back outpaced the server's copies.");
		if (diff > slack) {
			char what[200];

			snprintf(what, sizeof(what), "Redis's current CoW (%lld MiB) and the child's "
				 "last private pages (%lld) differ by more than %lld pages", current,
				 last, slack);
			report_unexpected(pr, what);
		}
		if (peak_bytes / 4096 > max + max / 20 + 256)
			report_unexpected(pr, "Redis's CoW peak exceeds every look cowstat took");
	}
	if (pr->format != FMT_TEXT) {
		v[0] = current == NA ? NAN : current;
		v[1] = peak_bytes == NA ? NAN : peak_bytes;
		v[2] = last;
		v[3] = max;
		v[4] = late;
		v[5] = given;
		v[6] = slack;
		report_header(pr, "", 7, keys);
		report_record(pr, "redis report", 7, keys, v);
	}
}

static int save_with_writes(struct probe *pr, struct redis *r, long keys)
{
	static struct sample s[MAX_SAMPLES];
	struct prow before[2], after[2];
	pid_t pids[2] = { r->server, 0 }, child;
	long long copies0;
	char out[256];
	int n, status;

	if (program_rows(pr, pids, 1, before) || cli(pr, r, "bgsave", NULL, out, sizeof(out)))
		return -1;
	copies0 = before[0].v[ROW_COPIES];
	r->bench = benchmark(r, keys, keys);
	if (r->bench < 0) {
		snprintf(pr->err, sizeof(pr->err), "cannot start %s", REDIS_BENCH);
		return -1;
	}
	n = follow_save(pr, r, s, &child);
	if (n < 0 || program_rows(pr, pids, 1, after))
		return -1;
	if (waitpid(r->bench, &status, 0) != r->bench || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		snprintf(pr->err, sizeof(pr->err), "redis-benchmark failed (status %#x)", status);
		return -1;
	}
	r->bench = 0;

	report_text(pr, "BGSAVE, while redis-benchmark overwrites %ld random keys: %d looks at "
		    "the save, one\nabout every %.0f ms (copies since BGSAVE; the child's private "
		    "pages are the extra memory):\n\n", keys, n,
		    n > 1 ? s[n - 1].t / (n - 1) * 1000 : 0.0);
	series(pr, s, n, copies0);
	report_text(pr, "\nthe last look before the child (pid %d) exited, %.2f s after BGSAVE\n",
		    (int)child, s[n - 1].t);
	program_show(pr, roles, s[n - 1].row, 2);
	expect(pr, after[0].v[ROW_FORKS] - before[0].v[ROW_FORKS] >= 1,
	       "redis-server's forks did not count the save");
	report_note(pr, "BGSAVE forked the child: redis-server's forks %+lld.  The child writes "
		    "the dataset as it was at fork() to %s/dump.rdb, while the server goes on "
		    "writing: each page it writes first is copied (its copies %+lld during the "
		    "save), and the child keeps the original as its own ('private').",
		    after[0].v[ROW_FORKS] - before[0].v[ROW_FORKS], r->dir,
		    after[0].v[ROW_COPIES] - copies0);
	if (s[0].row[1].v[ROW_ANON] > s[n - 1].row[1].v[ROW_ANON])
		report_note(pr, "The child's anonymous pages fell from %lld to %lld: Redis 7's child "
			    "gives back (madvise MADV_DONTNEED) the memory of each large value it "
			    "has written, so that the server's next write to that page finds it "
			    "its own again: a reuse, not a copy (the server's reuses %+lld).",
			    s[0].row[1].v[ROW_ANON], s[n - 1].row[1].v[ROW_ANON],
			    after[0].v[ROW_REUSES] - before[0].v[ROW_REUSES]);
	report_summary(pr);

	compare(pr, r, s, n, after[0].v[ROW_COPIES] - s[n - 1].row[0].v[ROW_COPIES]);
	if (pr->format != FMT_TEXT) {
		static const char *const fig_keys[] = {
			"forks", "server_copies", "server_reuses", "child_anon_first",
			"child_anon_last",
		};
		double v[] = {
			after[0].v[ROW_FORKS] - before[0].v[ROW_FORKS],
			after[0].v[ROW_COPIES] - copies0,
			after[0].v[ROW_REUSES] - before[0].v[ROW_REUSES],
			s[0].row[1].v[ROW_ANON], s[n - 1].row[1].v[ROW_ANON],
		};

		report_header(pr, "", 5, fig_keys);
		report_record(pr, "save figures", 5, fig_keys, v);
	}
	report_summary(pr);
	return 0;
}

int lesson_redis(struct probe *pr)
{
	struct redis r = { .server = 0 };
	long keys = pr->pages_given ? pr->pages : DEFAULT_KEYS;
	struct prow row[1];
	char out[64];
	int ret = -1, status;

	if (program_counts(pr))
		return -1;
	if (start_server(pr, &r))
		goto out;
	report_note(pr, "Debian's redis-server, on a Unix socket in %s, with no automatic "
		    "saves: the lesson asks for one.", r.dir);
	r.bench = benchmark(&r, 4 * keys, keys);
	if (r.bench < 0 || waitpid(r.bench, &status, 0) != r.bench || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		snprintf(pr->err, sizeof(pr->err), "redis-benchmark failed");
		goto out;
	}
	r.bench = 0;
	if (cli(pr, &r, "dbsize", NULL, out, sizeof(out)) ||
	    program_rows(pr, &r.server, 1, row))
		goto out;
	report_text(pr, "redis-server, filled by redis-benchmark: %ld SETs of 4 KiB values to "
		    "%ld random keys\n", 4 * keys, keys);
	program_show(pr, roles, row, 1);
	report_note(pr, "%ld keys hold a value (DBSIZE); the server's memory is its own: 'private' "
		    "%lld pages (%lld MiB).", atol(out), row[0].v[ROW_PRIVATE],
		    row[0].v[ROW_PRIVATE] / 256);
	report_summary(pr);
	ret = save_with_writes(pr, &r, keys);
out:
	stop(&r);
	return ret;
}
