// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a lesson says against what it shows.  From the --json lines:
 *  - split's exact figures: frames 256, 256, 320, 320, 256; the events
 *    inside the region (0 copies at fork, k for the child, k reuses and 0
 *    copies for the parent); and its page maps, character by character;
 *  - every figure the prose (notes) cites is one the step shows: "'shared'
 *    192" a process's value, "'thp' -512" a process's change, "copies +64"
 *    a change of the events in the region, "frames 320" / "frames +64" /
 *    "+256 KiB" the frames and their change; no "1 pages";
 * for the defaults, -n 1, -k 0, and without the module.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cowtest.h"

#define COLS	9
#define PROCS	4
#define STEPS	16

static const char *const cols[COLS] = {
	"rss", "anon", "shared", "private", "cow", "reusable", "zero", "file", "thp",
};

struct proc_nums {
	char role[16];
	long long area[COLS];
	long long rev[2];	/* region events: copies, reuses */
	char map[1100];
};

struct step_nums {
	int n;
	struct proc_nums p[PROCS];
	long long frames;
	char notes[4096];
};

/* The number after @key in @s (before @end), or LLONG_MIN for null or none. */
static long long num_after(const char *s, const char *end, const char *key)
{
	const char *k = strstr(s, key);

	if (!k || (end && k > end))
		return LLONG_MIN;
	k += strlen(key);
	return isdigit((unsigned char)*k) || *k == '-' ? atoll(k) : LLONG_MIN;
}

static void parse_proc(const char *s, const char *end, struct proc_nums *p)
{
	const char *region = strstr(s, "\"region\":{"), *m;
	char key[32];
	int i;

	sscanf(s, "{\"role\":\"%15[^\"]", p->role);
	for (i = 0; i < COLS; i++) {
		snprintf(key, sizeof(key), "\"%s\":", cols[i]);
		p->area[i] = region && region < end ? num_after(region, end, key) : LLONG_MIN;
	}
	s = strstr(s, "\"region_events\":");
	p->rev[0] = num_after(s, end, "\"copies\":");
	p->rev[1] = num_after(s, end, "\"reuses\":");
	p->map[0] = '\0';
	m = strstr(s, "\"map\":\"");
	if (m && m < end)
		sscanf(m + 7, "%1099[^\"]", p->map);
}

/* One step's JSON line; false if it is no step (a measurement, say). */
static bool parse_step(const char *line, struct step_nums *st)
{
	const char *p = strstr(line, "\"processes\":["), *next, *end, *notes;

	if (!p)
		return false;
	end = strstr(p, "],\"frames\":");
	st->n = 0;
	for (p = strstr(p, "{\"role\":"); p && p < end && st->n < PROCS; p = next) {
		next = strstr(p + 1, "{\"role\":");
		parse_proc(p, next && next < end ? next : end, &st->p[st->n++]);
	}
	st->frames = end ? num_after(end, NULL, "\"frames\":") : LLONG_MIN;
	notes = strstr(line, "\"notes\":[");
	snprintf(st->notes, sizeof(st->notes), "%s", notes ? notes + 9 : "");
	return true;
}

/* The lesson's steps, from its --json output. */
static int steps_of(const char *lesson, const char *args, struct step_nums *st, int max)
{
	char cmd[256], *line = NULL;
	size_t cap = 0;
	int n = 0, status;
	FILE *f;

	snprintf(cmd, sizeof(cmd), COWPROBE " --json %s %s 2>/dev/null", args, lesson);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (n < max && parse_step(line, &st[n]))
			n++;
	free(line);
	status = pclose(f);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cowprobe %s %s: status %#x", lesson,
	      args, status);
	return n;
}

static const struct proc_nums *same_role(const struct step_nums *st, const char *role)
{
	int k;

	for (k = 0; st && k < st->n; k++)
		if (!strcmp(st->p[k].role, role))
			return &st->p[k];
	return NULL;
}

/* Is @v the value (or, @signed_, the change) of column @c for some process? */
static bool shown(const struct step_nums *st, const struct step_nums *prev, int c, long long v,
		  bool signed_)
{
	int k;

	for (k = 0; k < st->n; k++) {
		const struct proc_nums *b = same_role(prev, st->p[k].role);
		long long now = st->p[k].area[c];

		if (!signed_ && now == v)
			return true;
		if (signed_ && b && now != LLONG_MIN && b->area[c] != LLONG_MIN &&
		    now - b->area[c] == v)
			return true;
	}
	return false;
}

static bool event_shown(const struct step_nums *st, const struct step_nums *prev, int e,
			long long v)
{
	int k;

	for (k = 0; k < st->n; k++) {
		const struct proc_nums *b = same_role(prev, st->p[k].role);

		if (b && st->p[k].rev[e] != LLONG_MIN && b->rev[e] != LLONG_MIN &&
		    st->p[k].rev[e] - b->rev[e] == v)
			return true;
	}
	return false;
}

/* The signed or unsigned integer at @s, and whether it had a sign; false if none. */
static bool number_at(const char *s, long long *v, bool *signed_)
{
	*signed_ = *s == '+' || *s == '-';
	if (!isdigit((unsigned char)s[*signed_]))
		return false;
	*v = atoll(s);
	return true;
}

static void check_notes(const char *what, int step, const struct step_nums *st,
			const struct step_nums *prev)
{
	static const char *const plural[] = { "1 pages", "1 writes", "1 frames", "1 mappings" };
	const char *p;
	long long v, df = prev && st->frames != LLONG_MIN && prev->frames != LLONG_MIN ?
			  st->frames - prev->frames : LLONG_MIN;
	bool sg;
	int c, i;
	char key[32];

	for (i = 0; i < 4; i++)
		for (p = st->notes; (p = strstr(p, plural[i])); p++)
			check(p > st->notes && isdigit((unsigned char)p[-1]),
			      "%s step %d: '%s' in its notes", what, step, plural[i]);
	for (c = 0; c < COLS; c++) {
		snprintf(key, sizeof(key), "'%s' ", cols[c]);
		for (p = st->notes; (p = strstr(p, key)); p++)
			if (number_at(p + strlen(key), &v, &sg))
				check(shown(st, prev, c, v, sg), "%s step %d: the notes cite %s%lld, "
				      "which no process shows", what, step, key, v);
	}
	for (i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "%s ", i ? "reuses" : "copies");
		for (p = st->notes; (p = strstr(p, key)); p++)
			if (number_at(p + strlen(key), &v, &sg) && sg)
				check(event_shown(st, prev, i, v), "%s step %d: the notes cite %s%+lld, "
				      "which no region's events show", what, step, key, v);
	}
	for (p = st->notes; (p = strstr(p, "frames ")); p++) {
		if (!number_at(p + 7, &v, &sg))
			continue;
		check(sg ? v == df : v == st->frames, "%s step %d: the notes cite frames %s%lld, the "
		      "step shows %lld (change %lld)", what, step, sg ? (v >= 0 ? "+" : "") : "", v,
		      st->frames, df);
	}
	for (p = st->notes; (p = strstr(p, " KiB")); p++) {
		const char *q = p;

		while (q > st->notes && (isdigit((unsigned char)q[-1]) || q[-1] == '+' || q[-1] == '-'))
			q--;
		if (number_at(q, &v, &sg) && sg)
			check(df != LLONG_MIN && v == 4 * df, "%s step %d: the notes cite %lld KiB, "
			      "frames changed by %lld", what, step, v, df);
	}
}

/* Every step's notes against its numbers. */
static void check_lesson_notes(const char *lesson, const char *args)
{
	static struct step_nums st[STEPS];
	char what[96];
	int n, i;

	n = steps_of(lesson, args, st, STEPS);
	snprintf(what, sizeof(what), "%s %s", lesson, args);
	check(n > 0, "%s: no steps", what);
	for (i = 0; i < n; i++)
		check_notes(what, i + 1, &st[i], i ? &st[i - 1] : NULL);
}

static bool map_is(const char *map, char a, int na, char b, int nb)
{
	int i;

	if ((int)strlen(map) != na + nb)
		return false;
	for (i = 0; i < na + nb; i++)
		if (map[i] != (i < na ? a : b))
			return false;
	return true;
}

/* split with n = 256, k = 64: the figures and maps the kernel fixes. */
static enum ktap_result split_shows_exact_figures(const char **skip)
{
	static const long long frames[5] = { 256, 256, 320, 320, 256 };
	static struct step_nums st[STEPS];
	const struct proc_nums *pa, *ch;
	int n, i;

	(void)skip;
	n = steps_of("split", "-n 256 -k 64", st, STEPS);
	if (!check(n == 5, "split has %d steps, expected 5", n))
		return KTAP_FAIL;
	for (i = 0; i < 5; i++)
		check(st[i].frames == frames[i], "step %d: frames %lld, expected %lld", i + 1,
		      st[i].frames, frames[i]);
	pa = &st[0].p[0];
	check(map_is(pa->map, 'w', 256, 'w', 0), "step 1: parent's map %.8s...", pa->map);
	for (i = 0; i < 2; i++)
		check(st[1].p[i].rev[0] - (i ? 0 : pa->rev[0]) == 0 &&
		      map_is(st[1].p[i].map, '2', 256, '2', 0),
		      "step 2: %s: region copies %lld, map %.8s...", st[1].p[i].role,
		      st[1].p[i].rev[0], st[1].p[i].map);
	pa = &st[2].p[0];
	ch = &st[2].p[1];
	check(ch->rev[0] - st[1].p[1].rev[0] == 64 && ch->rev[1] == st[1].p[1].rev[1],
	      "step 3: the child's region copies %lld, reuses %lld, expected 64 and 0",
	      ch->rev[0] - st[1].p[1].rev[0], ch->rev[1] - st[1].p[1].rev[1]);
	check(map_is(pa->map, 'r', 64, '2', 192) && map_is(ch->map, 'w', 64, '2', 192),
	      "step 3: maps %.70s / %.70s", pa->map, ch->map);
	pa = &st[3].p[0];
	check(pa->rev[1] - st[2].p[0].rev[1] == 64 && pa->rev[0] == st[2].p[0].rev[0],
	      "step 4: the parent's region reuses %lld, copies %lld, expected 64 and 0",
	      pa->rev[1] - st[2].p[0].rev[1], pa->rev[0] - st[2].p[0].rev[0]);
	check(map_is(pa->map, 'w', 64, '2', 192), "step 4: parent's map %.70s", pa->map);
	check(map_is(st[4].p[0].map, 'w', 64, 'r', 192), "step 5: parent's map %.70s",
	      st[4].p[0].map);
	return KTAP_PASS;
}

/* The notes of every lesson with a region, for the option values that change them. */
static enum ktap_result notes_cite_what_steps_show(const char **skip)
{
	static const char *const names[] = {
		"split", "zero", "shared", "dontfork", "wipeonfork", "mlock", "exec", "vfork",
		"thp", "many", "snapshot",
	};
	static const char *const odd[] = { "split", "zero", "shared", "mlock", "many", "snapshot" };
	unsigned int i;

	(void)skip;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		check_lesson_notes(names[i], "");
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		check_lesson_notes(odd[i], "-n 1");
		check_lesson_notes(odd[i], "-k 0");
		check_lesson_notes(odd[i], "-n 3 -k 3");
	}
	return KTAP_PASS;
}

/* Without the module the notes cite no figure the run lacks (events, cow, frames...). */
static enum ktap_result notes_without_module(const char **skip)
{
	static const char *const names[] = { "split", "zero", "shared", "mlock", "many", "exec" };
	unsigned int i;

	(void)skip;
	if (!check(system("rmmod cowstat") == 0, "rmmod cowstat failed"))
		return KTAP_FAIL;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		check_lesson_notes(names[i], "");
		check_lesson_notes(names[i], "-k 0");
	}
	check(system("insmod /lib/modules/cowstat.ko") == 0, "insmod cowstat.ko failed");
	return KTAP_PASS;
}

static int student_notes(void *unused)
{
	(void)unused;
	if (!become_student())
		return 100;
	check_lesson_notes("split", "");
	check_lesson_notes("split", "-k 0");
	check_lesson_notes("zero", "");
	return check_failures ? 1 : 0;
}

/* As uid 1000 (no frame numbers, no kpagecount): the same rule. */
static enum ktap_result notes_as_student(const char **skip)
{
	int status = in_child(student_notes, NULL);

	(void)skip;
	check(status == 0, "as uid 1000: exit status %d", status);
	return KTAP_PASS;
}

/*
 * The teaching guide's exercises (docs/teaching.md): each answer is a
 * comment the test reads,
 *	<!-- check: LESSON [OPTIONS] | step N | ROLE COLUMN = VALUE -->
 * COLUMN a page column of the region, copies or reuses (their change in
 * the region at that step), or "frames = VALUE" without a role; the
 * lesson is run and the step's figure must be the answer.
 */
static bool exercise_holds(const char *spec)
{
	static struct step_nums st[STEPS];
	char lesson[96], role[16] = "", column[16];
	const struct proc_nums *p, *b;
	long long want, got = LLONG_MIN;
	int step, n, c;

	if (sscanf(spec, " %95[^|]| step %d | frames = %lld", lesson, &step, &want) == 3) {
		strcpy(column, "frames");
	} else if (sscanf(spec, " %95[^|]| step %d | %15s %15s = %lld", lesson, &step, role, column,
			  &want) != 5) {
		return check(false, "exercise: cannot read '%s'", spec);
	}
	{
		char *args = strchr(lesson, ' ');

		if (args)
			*args++ = '\0';
		n = steps_of(lesson, args ? args : "", st, STEPS);
	}
	if (!check(step >= 1 && step <= n, "exercise '%s': the lesson has %d steps", spec, n))
		return false;
	p = same_role(&st[step - 1], role);
	b = step > 1 ? same_role(&st[step - 2], role) : NULL;
	if (!strcmp(column, "frames"))
		got = st[step - 1].frames;
	for (c = 0; p && c < COLS; c++)
		if (!strcmp(column, cols[c]))
			got = p->area[c];
	if (p && (!strcmp(column, "copies") || !strcmp(column, "reuses"))) {
		int e = column[0] == 'r';

		got = b ? p->rev[e] - b->rev[e] : p->rev[e];
	}
	return check(got == want, "exercise '%s': the lesson shows %lld", spec, got);
}

static enum ktap_result exercises_hold(const char **skip)
{
	char line[512];
	int n = 0;
	FILE *f;

	(void)skip;
	f = fopen("/docs/teaching.md", "re");
	if (!f) {
		check(false, "no /docs/teaching.md in the image");
		return KTAP_FAIL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *spec = strstr(line, "<!-- check:"), *end;

		if (!spec || !(end = strstr(spec, "-->")))
			continue;
		*end = '\0';
		exercise_holds(spec + strlen("<!-- check:"));
		n++;
	}
	fclose(f);
	check(n >= 10, "only %d exercises checked", n);
	ktap_diag("%d exercise answers checked against the lessons", n);
	return KTAP_PASS;
}

const struct test_case prose_cases[] = {
	{ "split_shows_exact_figures", split_shows_exact_figures },
	{ "notes_cite_what_steps_show", notes_cite_what_steps_show },
	{ "notes_without_module", notes_without_module },
	{ "notes_as_student", notes_as_student },
	{ "exercises_hold", exercises_hold },
};
const int nr_prose_cases = sizeof(prose_cases) / sizeof(prose_cases[0]);
