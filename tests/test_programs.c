// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lessons with real programs, in the full image (make test
 * IMAGE=full; skipped elsewhere): Debian's redis-server and python3 as
 * cowprobe runs them, checked on the figures of --json.
 *
 * What must hold exactly: a BGSAVE is one fork of the server; the extra
 * memory of the save is the child's private pages, 4 KiB each.  What may
 * vary with the programs' versions is stated at each check: that Redis
 * reports the child's Private_Dirty (Redis 6 and 7: /proc/self/smaps), and
 * how many pages Python's objects and its collector's headers take (3.11).
 */

#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

#define ITEMS	100000		/* prefork's default */

/* The number after "KEY": in a JSON line, or -1 (missing, or null). */
static double field(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p || !strncmp(p + strlen(pat), "null", 4))
		return -1;	/* missing: every figure checked here is >= 0 */
	return atof(p + strlen(pat));
}

/* cowprobe --json LESSON: its lines, one string (NULL on failure); the exit status checked. */
static char *run_json(const char *lesson)
{
	char cmd[128], *out = NULL;
	size_t cap = 0;
	int status;
	FILE *f;

	snprintf(cmd, sizeof(cmd), COWPROBE " --json %s 2>/tmp/%s.err", lesson, lesson);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	if (getdelim(&out, &cap, '\0', f) < 0) {
		free(out);
		out = NULL;
	}
	status = pclose(f);
	if (!check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cowprobe %s: status %#x",
		   lesson, status)) {
		char line[256];

		/* Its own words: "cowprobe: redis, step 2: ...". */
		snprintf(cmd, sizeof(cmd), "/tmp/%s.err", lesson);
		f = fopen(cmd, "re");
		while (f && fgets(line, sizeof(line), f))
			ktap_diag("%.*s", (int)strcspn(line, "\n"), line);
		if (f)
			fclose(f);
	}
	return out;
}

/* The first line of @out with "table":"@table". */
static const char *table_line(const char *out, const char *table)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"table\":\"%s\"", table);
	return out ? strstr(out, pat) : NULL;
}

static enum ktap_result redis_save_beside_redis_report(const char **skip)
{
	const char *line, *fig, *rep;
	double last_t = -1, current, last;
	int samples = 0;
	char *out;

	if (access("/usr/bin/redis-server", X_OK)) {
		*skip = "no redis-server: the full image has it (make test IMAGE=full)";
		return KTAP_SKIP;
	}
	out = run_json("redis");
	fig = table_line(out, "save figures");
	rep = table_line(out, "redis report");
	if (!check(fig && rep, "no figures from the redis lesson"))
		goto out;
	/* Exact: BGSAVE forked once; the server wrote during it, so it copied. */
	check(field(fig, "forks") == 1, "the server's forks during the save: %.0f",
	      field(fig, "forks"));
	check(field(fig, "server_copies") > 0 && field(rep, "child_private_max") > 0,
	      "no copies during the save: %.0f copies, at most %.0f private in the child",
	      field(fig, "server_copies"), field(rep, "child_private_max"));
	for (line = table_line(out, "save"); line; line = table_line(line + 1, "save")) {
		check(field(line, "seconds") >= last_t, "the save's samples go back in time");
		check(field(line, "extra_kib") == 4 * field(line, "child_private"),
		      "extra %.0f KiB is not the child's %.0f private pages", field(line, "extra_kib"),
		      field(line, "child_private"));
		last_t = field(line, "seconds");
		samples++;
	}
	check(samples > 0, "no samples of the save");
	/*
	 * May vary with Redis's version: Redis 7.0 logs the child's
	 * Private_Dirty as it exits ("current", MiB rounded down) and keeps
	 * the peak of its looks once a second in rdb_last_cow_size.  The
	 * current figure agrees with cowstat's last look at the child's
	 * private pages, but for what changed between the two looks (the
	 * server's later copies, twice the pages the child was giving back,
	 * Redis's rounding, 5%: the lesson's slack); Redis's peak is no
	 * higher than cowstat's highest look, which looks more often.
	 */
	current = field(rep, "redis_current_mib") * 256;
	last = field(rep, "child_private_last");
	check(current >= 0 && fabs(current - last) <= field(rep, "slack"),
	      "Redis's current CoW %.0f pages, cowstat's last look %.0f, apart by more than %.0f",
	      current, last, field(rep, "slack"));
	check(field(rep, "redis_peak_bytes") / 4096 <= field(rep, "child_private_max") * 1.05 + 256,
	      "Redis's peak %.0f pages, cowstat's highest look %.0f",
	      field(rep, "redis_peak_bytes") / 4096, field(rep, "child_private_max"));
	ktap_diag("redis: %d looks; Redis current %.0f pages, cowstat %.0f; Redis peak %.0f, "
		  "cowstat %.0f; the server's copies %.0f", samples, current, last,
		  field(rep, "redis_peak_bytes") / 4096, field(rep, "child_private_max"),
		  field(fig, "server_copies"));
out:
	free(out);
	return KTAP_PASS;
}

static enum ktap_result prefork_freeze_spares_the_collector(const char **skip)
{
	const char *fork_line, *collect, *read;
	double lists = ITEMS * 56.0 / 4096;	/* pages of the lists, 56 bytes each at least */
	char *out;

	if (access("/usr/bin/python3", X_OK)) {
		*skip = "no python3: the full image has it (make test IMAGE=full)";
		return KTAP_SKIP;
	}
	out = run_json("prefork");
	fork_line = table_line(out, "fork");
	collect = table_line(out, "gc.collect");
	read = table_line(out, "read 1/4");
	if (!check(fork_line && collect && read, "the prefork lesson's side-by-side rows are missing"))
		goto out;
	/*
	 * May vary with Python's version (3.11 here): without gc.freeze() one
	 * collection writes the header of every list, so a worker copies at
	 * least the pages the lists take; with it, next to nothing (5% of that).
	 */
	check(field(collect, "copies_without") >= lists, "gc.collect() copied %.0f pages, not the "
	      "%.0f the lists take at least", field(collect, "copies_without"), lists);
	check(field(collect, "copies_with") <= field(collect, "copies_without") / 20,
	      "with gc.freeze() the collection still copied %.0f pages",
	      field(collect, "copies_with"));
	/* Reading a quarter writes reference counts, frozen or not: a quarter of the lists. */
	check(field(read, "copies_with") - field(collect, "copies_with") >= lists / 4,
	      "reading a quarter copied %.0f pages, fewer than %.0f",
	      field(read, "copies_with") - field(collect, "copies_with"), lists / 4);
	check(field(collect, "frames_kib_with") < field(collect, "frames_kib_without"),
	      "gc.freeze() did not save memory: %.0f KiB against %.0f",
	      field(collect, "frames_kib_with"), field(collect, "frames_kib_without"));
	ktap_diag("prefork: a worker's copies after gc.collect() %.0f without gc.freeze(), %.0f "
		  "with; after reading 1/4, %.0f and %.0f", field(collect, "copies_without"),
		  field(collect, "copies_with"), field(read, "copies_without"),
		  field(read, "copies_with"));
out:
	free(out);
	return KTAP_PASS;
}

const struct test_case program_cases[] = {
	{ "redis_save_beside_redis_report", redis_save_beside_redis_report },
	{ "prefork_freeze_spares_the_collector", prefork_freeze_spares_the_collector },
};
const int nr_program_cases = sizeof(program_cases) / sizeof(program_cases[0]);
