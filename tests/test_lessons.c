// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every cowprobe lesson, run three times: as text, --json and --csv.
 * Each run must exit 0: a lesson checks the numbers the kernel fixes
 * itself (pages copied, reused, shared, absent, zeroed; its page map
 * against /proc/cowstat_maps) and exits 1 when one is off.  The JSON lines
 * must parse, the CSV rows must have the header's columns, and the page
 * counts of every step must be the same in all three outputs (for the
 * segments lesson, whose areas are whole mappings of the program that
 * address-space randomisation lays out anew each run, the number of rows).
 * Timing lessons are checked for well-formed output only, never for speed.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cowtest.h"

#define MAX_VALUES	4096
#define PAGE_VALUES	9	/* rss anon shared private cow reusable zero file thp */

/* ---- a small JSON checker: does @s hold exactly one JSON value? ---- */

static const char *json_value(const char *s);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s && *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\' && !*++s)
			return NULL;
	}
	return *s == '"' ? s + 1 : NULL;
}

static const char *json_list(const char *s, char close, bool object)
{
	s = json_ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (object) {
			s = json_string(json_ws(s));
			if (!s)
				return NULL;
			s = json_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		s = json_value(s);
		if (!s)
			return NULL;
		s = json_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *s)
{
	char *end;

	s = json_ws(s);
	if (*s == '{')
		return json_list(s, '}', true);
	if (*s == '[')
		return json_list(s, ']', false);
	if (*s == '"')
		return json_string(s);
	if (!strncmp(s, "null", 4) || !strncmp(s, "true", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	if (*s != '-' && !isdigit((unsigned char)*s))
		return NULL;
	strtod(s, &end);
	/* strtod() also takes nan and inf, which JSON does not have. */
	if (end == s || strspn(s, "0123456789+-.eE") < (size_t)(end - s))
		return NULL;
	return end;
}

static bool json_valid(const char *line)
{
	const char *end = json_value(line);

	return end && !*json_ws(end);
}

/* ---- running cowprobe ---- */

static char *run(const char *lesson, const char *args, int *status)
{
	char cmd[256], *out = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), COWPROBE " %s %s 2>/tmp/lesson.err", args, lesson);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	if (getdelim(&out, &cap, '\0', f) < 0) {
		free(out);
		out = strdup("");
	}
	*status = pclose(f);
	/* Why a lesson failed: its own words ("cowprobe: thp, step 4: ..."). */
	if (*status) {
		char line[256];

		f = fopen("/tmp/lesson.err", "re");
		while (f && fgets(line, sizeof(line), f))
			ktap_diag("[%s] %.*s", args, (int)strcspn(line, "\n"), line);
		if (f)
			fclose(f);
	}
	return out;
}

/* The page-count values, step by step, in the order the output gives them. */
struct values {
	long long v[MAX_VALUES];
	int n;
};

static void add(struct values *vs, long long v)
{
	if (vs->n < MAX_VALUES)
		vs->v[vs->n++] = v;
}

/* A number, or "-" / "null" / empty for a missing one. */
static long long value_of(const char *tok)
{
	if (!*tok || !strcmp(tok, "-") || !strcmp(tok, "null"))
		return LLONG_MIN;
	return atoll(tok);
}

/* Text: the rows "role pid area rss ... thp copies reuses forks", not "change". */
static void text_values(char *out, struct values *vs)
{
	char *line, *save = NULL;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[20], *s2 = NULL, *t;
		int n = 0, first, i;

		if (strstr(line, "change") || strchr(line, '|'))
			continue;
		for (t = strtok_r(line, " ", &s2); t && n < 20; t = strtok_r(NULL, " ", &s2))
			tok[n++] = t;
		/* "parent 104 region v*9 e*3" or, for later areas, "104 bss v*9" */
		first = isdigit((unsigned char)tok[0][0]) ? 0 : 1;
		if (n < first + 2 + PAGE_VALUES || !isdigit((unsigned char)tok[first][0]) ||
		    !strstr(" region data bss heap stack ", tok[first + 1]))
			continue;
		for (i = 0; i < PAGE_VALUES; i++) {
			const char *tv = tok[first + 2 + i];

			if (strcmp(tv, "-") && strspn(tv, "0123456789") != strlen(tv))
				break;
		}
		if (i < PAGE_VALUES)
			continue;
		for (i = 0; i < PAGE_VALUES; i++)
			add(vs, value_of(tok[first + 2 + i]));
	}
}

/* JSON: each "areas" object's values, in order. */
static void json_values(const char *out, struct values *vs)
{
	static const char *const keys[PAGE_VALUES] = {
		"\"rss\":", "\"anon\":", "\"shared\":", "\"private\":", "\"cow\":",
		"\"reusable\":", "\"zero\":", "\"file\":", "\"thp\":",
	};
	const char *p = out;
	int i;

	while ((p = strstr(p, "\"rss\":"))) {
		for (i = 0; i < PAGE_VALUES; i++) {
			const char *k = strstr(p, keys[i]);
			char tok[32];

			if (!k)
				return;
			sscanf(k + strlen(keys[i]), "%31[^,}]", tok);
			add(vs, value_of(tok));
		}
		p++;
	}
}

/* CSV: columns 6..14 (rss..thp) of each data row; checks the column count. */
static void csv_values(char *out, struct values *vs, bool *ok)
{
	char *line, *save = NULL;
	int ncols = -1;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int cols = 1, i;
		char *c, *field;

		for (c = line; *c; c++)
			cols += *c == ',';
		if (ncols < 0) {
			ncols = cols;
			continue;
		}
		*ok &= cols == ncols;
		field = line;
		for (i = 0; i < 5 && field; i++) {
			field = strchr(field, ',');
			field = field ? field + 1 : NULL;
		}
		for (i = 0; i < PAGE_VALUES && field; i++) {
			char tok[32] = "";

			sscanf(field, "%31[^,]", tok);
			add(vs, value_of(tok));
			field = strchr(field, ',');
			field = field ? field + 1 : NULL;
		}
	}
}

static bool same(const struct values *a, const struct values *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, a->n * sizeof(a->v[0]));
}

enum kind { REGION, WHOLE_MAPPINGS, TIMING };

static enum ktap_result check_lesson(const char *lesson, const char *args, enum kind kind)
{
	static struct values text, json, csv;
	char *out[3], *line, *save = NULL;
	int status[3], i, lines = 0;
	bool csv_ok = true;

	out[0] = run(lesson, args, &status[0]);
	{
		char a[128];

		snprintf(a, sizeof(a), "--json %s", args);
		out[1] = run(lesson, a, &status[1]);
		snprintf(a, sizeof(a), "--csv %s", args);
		out[2] = run(lesson, a, &status[2]);
	}
	for (i = 0; i < 3; i++) {
		if (!check(out[i] != NULL, "cannot run cowprobe %s", lesson))
			goto out;
		check(WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0,
		      "cowprobe %s (%s): status %#x", lesson, i == 0 ? "text" : i == 1 ? "json" : "csv",
		      status[i]);
	}
	if (strstr(out[0], "UNEXPECTED"))
		ktap_diag("%s", out[0]);

	text.n = json.n = csv.n = 0;
	json_values(out[1], &json);
	for (line = strtok_r(out[1], "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++)
		check(json_valid(line), "%s --json: not JSON: %s", lesson, line);
	check(lines > 0, "%s --json printed nothing", lesson);
	csv_values(out[2], &csv, &csv_ok);
	check(csv_ok, "%s --csv: rows of different lengths", lesson);
	if (kind != TIMING) {
		text_values(out[0], &text);
		check(text.n > 0 && text.n == json.n && csv.n == json.n,
		      "%s: %d, %d and %d values in text, JSON and CSV", lesson, text.n, json.n, csv.n);
		if (kind == REGION) {
			check(same(&text, &json), "%s: text and JSON page counts differ", lesson);
			check(same(&csv, &json), "%s: CSV and JSON page counts differ", lesson);
		}
	}
out:
	for (i = 0; i < 3; i++)
		free(out[i]);
	return KTAP_PASS;
}

#define LESSON(name, args, kind) \
	static enum ktap_result lesson_##name(const char **skip) \
	{ \
		(void)skip; \
		return check_lesson(#name, args, kind); \
	}

LESSON(split, "", REGION)
LESSON(segments, "", WHOLE_MAPPINGS)
LESSON(zero, "", REGION)
LESSON(shared, "", REGION)
LESSON(dontfork, "", REGION)
LESSON(wipeonfork, "", REGION)
LESSON(mlock, "", REGION)
LESSON(exec, "", REGION)
LESSON(vfork, "", REGION)
static enum ktap_result lesson_thp(const char **skip)
{
	int status;
	char *out;

	(void)skip;
	check_lesson("thp", "", REGION);
	if (!thp_enabled())
		return KTAP_PASS;
	/* With THP on, the lesson must get to the split, not stop at "no huge pages". */
	out = run("thp", "--json", &status);
	check(out && strstr(out, "\"step\":3"), "the thp lesson never got to its third step");
	free(out);
	return KTAP_PASS;
}
LESSON(many, "", REGION)
LESSON(forkcost, "-n 4096", TIMING)

/*
 * snapshot --csv: the time series, a row per tick, then one after the
 * child exits.  At every tick each distinct page the parent has written
 * is one copy of the parent's, one original only the child maps, one
 * frame more: exact, from the kernel's counts against the writer's own
 * list of the pages it wrote.  After the exit, the dataset's frames alone.
 */
static void check_snapshot(const char *args, long n, long k)
{
	long ticks = (n + 15) / 16, rows = 0, last_written = 0;
	char *out, *line, *save = NULL;
	int status;

	out = run("snapshot", args, &status);
	check(out && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "cowprobe %s snapshot: status %#x", args, status);
	for (line = out ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		long tick, saved, writes, written, copies, priv, frames, extra;

		if (rows == 0 && !strcmp(line, "lesson,table,tick,saved,writes,written,copies,"
					  "child_private,frames,extra_kib"))
			continue;
		if (!check(sscanf(line, "snapshot,series,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld", &tick,
				  &saved, &writes, &written, &copies, &priv, &frames, &extra) == 8,
			   "not a row of the series: %s", line))
			break;
		check(tick == rows, "row %ld is tick %ld", rows, tick);
		rows++;
		if (tick > ticks) {
			check(priv == 0 && frames == n && extra == 0 && written == last_written,
			      "after the child exited: %s (expected %ld frames, no extra)", line, n);
			continue;
		}
		check(saved == (tick * 16 < n ? tick * 16 : n) && writes == tick * k,
		      "tick %ld: saved %ld, writes %ld", tick, saved, writes);
		check(written >= last_written && written <= writes && written <= n,
		      "tick %ld: %ld distinct pages written after %ld", tick, written, last_written);
		check(copies == written && priv == written && frames == n + written &&
		      extra == written * 4, "tick %ld: %ld pages written, but copies %ld, the "
		      "child's private %ld, frames %ld, extra %ld KiB", tick, written, copies, priv,
		      frames, extra);
		last_written = written;
	}
	check(rows == ticks + 2, "%s: %ld rows, expected %ld ticks and two more", args, rows,
	      ticks);
	check(k == 0 || last_written > 0, "%s: the parent wrote no page", args);
	free(out);
}

static enum ktap_result lesson_snapshot(const char **skip)
{
	int status;
	char *out;

	(void)skip;
	check_snapshot("--csv", 256, 8);
	check_snapshot("--csv -n 500 -k 100", 500, 100);	/* 32 ticks, the last short */
	check_snapshot("--csv -n 16 -k 0", 16, 0);
	out = run("snapshot", "", &status);
	check(out && WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(out, "step 4:"),
	      "cowprobe snapshot: status %#x", status);
	free(out);
	return KTAP_PASS;
}
LESSON(faults, "-n 512", TIMING)

/*
 * Without the module cowprobe still runs: the region's counts come from
 * pagemap (the same numbers), and it says which figures are missing.
 */
static enum ktap_result lesson_without_module(const char **skip)
{
	static struct values with, without;
	char *out, err[512] = "";
	int status, len;
	FILE *f;

	(void)skip;
	out = run("split", "--json", &status);
	with.n = 0;
	if (out)
		json_values(out, &with);
	free(out);
	if (!check(system("rmmod cowstat") == 0, "rmmod cowstat failed"))
		return KTAP_FAIL;
	out = run("split", "--json", &status);
	f = fopen("/tmp/lesson.err", "re");
	len = f ? (int)fread(err, 1, sizeof(err) - 1, f) : 0;
	err[len > 0 ? len : 0] = '\0';
	if (f)
		fclose(f);
	check(system("insmod /lib/modules/cowstat.ko") == 0, "insmod cowstat.ko failed");
	if (!check(out != NULL, "cannot run cowprobe"))
		return KTAP_FAIL;
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cowprobe split without the module: "
	      "status %#x", status);
	check(strstr(err, "copies, reuses, forks, cow and reusable are missing") != NULL,
	      "cowprobe does not say what is missing: '%s'", err);
	without.n = 0;
	json_values(out, &without);
	free(out);
	check(without.n == with.n && with.n > 0, "%d values without the module, %d with",
	      without.n, with.n);
	/* rss, anon, shared, private as with the module; cow and reusable are missing. */
	for (len = 0; len < with.n && len < without.n; len++)
		if (len % PAGE_VALUES < 4)
			check(with.v[len] == without.v[len], "value %d: %lld with the module, %lld without",
			      len, with.v[len], without.v[len]);
	return KTAP_PASS;
}

/* Every other lesson runs without the module too, with and without maps. */
static enum ktap_result lessons_without_module(const char **skip)
{
	static const char *const names[] = {
		"zero", "shared", "dontfork", "wipeonfork", "mlock", "exec", "vfork", "thp", "many",
		"snapshot",
	};
	unsigned int i, j;
	int status;
	char *out;

	(void)skip;
	if (!check(system("rmmod cowstat") == 0, "rmmod cowstat failed"))
		return KTAP_FAIL;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (j = 0; j < 2; j++) {
			out = run(names[i], j ? "--no-map" : "", &status);
			check(out && WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "cowprobe %s %s without the module: status %#x", names[i],
			      j ? "--no-map" : "", status);
			free(out);
		}
	}
	out = run("split", "--no-map", &status);
	check(out && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "cowprobe split --no-map without the module: status %#x", status);
	free(out);
	check(system("insmod /lib/modules/cowstat.ko") == 0, "insmod cowstat.ko failed");
	return KTAP_PASS;
}

const struct test_case lesson_cases[] = {
	{ "lesson_without_module", lesson_without_module },
	{ "lessons_without_module", lessons_without_module },
	{ "lesson_split", lesson_split },
	{ "lesson_segments", lesson_segments },
	{ "lesson_zero", lesson_zero },
	{ "lesson_shared", lesson_shared },
	{ "lesson_dontfork", lesson_dontfork },
	{ "lesson_wipeonfork", lesson_wipeonfork },
	{ "lesson_mlock", lesson_mlock },
	{ "lesson_exec", lesson_exec },
	{ "lesson_vfork", lesson_vfork },
	{ "lesson_thp", lesson_thp },
	{ "lesson_many", lesson_many },
	{ "lesson_snapshot", lesson_snapshot },
	{ "lesson_forkcost", lesson_forkcost },
	{ "lesson_faults", lesson_faults },
};
const int nr_lesson_cases = sizeof(lesson_cases) / sizeof(lesson_cases[0]);
