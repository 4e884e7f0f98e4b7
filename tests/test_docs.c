// SPDX-License-Identifier: GPL-2.0-only
/*
 * The docs that cannot drift: each committed transcript in docs/lessons/
 * (made by make lessons on the kernel named in docs/lessons/KERNEL) must be
 * what the lesson prints now, but for what varies from run to run: the
 * pids in the rows, and the lines of events elsewhere in a process (the
 * puppet's own stack and data, whose first writes vary by a page or two).
 * The timing lessons (forkcost, faults), segments (whole mappings laid
 * out by address-space randomisation), the lessons with real programs
 * (redis, prefork: their timing and their allocators) and watch.txt (a
 * live table, not a lesson) vary in their figures and are not compared.  Run first, on a fresh VM, so that the thp lesson still gets
 * its huge pages.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cowtest.h"

#define DOCS	"/docs/lessons"

static char *slurp(FILE *f)
{
	char *text = NULL;
	size_t cap = 0;

	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = strdup("");
	}
	return text;
}

/* "  parent       102 region ..." : the pid, masked. */
static void mask_pid(char *line)
{
	char *p = line;

	while (*p == ' ')
		p++;
	if (!isalpha((unsigned char)*p))
		return;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return;
	{
		char *end = p;

		while (isdigit((unsigned char)*end))
			end++;
		if (*end != ' ' || !strstr(end, " region"))
			return;
		memset(p, '#', end - p);
	}
}

/* The text with pids masked and the "elsewhere" paragraphs left out. */
static char *masked(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out, *copy = strdup(text), *line, *save = NULL;
	bool skipping = false;

	*out = '\0';
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, " elsewhere in the process: ")) {
			skipping = true;
			continue;
		}
		/* Its wrapped lines: 11 spaces, then words (not a map row, fold or marks). */
		if (skipping && !strncmp(line, "           ", 11) && line[11] != ' ' &&
		    line[11] != '|')
			continue;
		skipping = false;
		mask_pid(line);
		o += sprintf(o, "%s\n", line);
	}
	free(copy);
	return out;
}

/* The first line where @a and @b differ, for the diagnostic. */
static void first_difference(const char *name, const char *a, const char *b)
{
	int n = 1;

	while (*a && *a == *b) {
		n += *a == '\n';
		a++;
		b++;
	}
	ktap_diag("%s, line %d: committed '%.*s'", name, n, (int)strcspn(a, "\n"), a);
	ktap_diag("%s, line %d: printed   '%.*s'", name, n, (int)strcspn(b, "\n"), b);
}

static bool compared(const char *name)
{
	static const char *const varying[] = {
		"forkcost.txt", "faults.txt", "segments.txt", "redis.txt", "prefork.txt",
		"watch.txt",
	};
	unsigned int i;

	for (i = 0; i < sizeof(varying) / sizeof(varying[0]); i++)
		if (!strcmp(name, varying[i]))
			return false;
	return true;
}

static enum ktap_result transcripts_match_lessons(const char **skip)
{
	static char reason[160];
	struct utsname u;
	char kernel[128] = "", cmd[192];
	struct dirent *e;
	int checked = 0;
	FILE *f;
	DIR *d;

	f = fopen(DOCS "/KERNEL", "re");
	if (!check(f && fgets(kernel, sizeof(kernel), f), "no %s/KERNEL", DOCS)) {
		if (f)
			fclose(f);
		return KTAP_FAIL;
	}
	fclose(f);
	kernel[strcspn(kernel, "\n")] = '\0';
	uname(&u);
	if (strcmp(kernel, u.release)) {
		snprintf(reason, sizeof(reason), "the transcripts are %s's, this is %s", kernel,
			 u.release);
		*skip = reason;
		return KTAP_SKIP;
	}
	d = opendir(DOCS);
	if (!check(d != NULL, "no %s", DOCS))
		return KTAP_FAIL;
	while ((e = readdir(d))) {
		char *doc, *now, *a, *b, path[512], lesson[64];
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".txt") || !compared(e->d_name))
			continue;
		snprintf(lesson, sizeof(lesson), "%.*s", (int)(len - 4), e->d_name);
		snprintf(path, sizeof(path), "%s/%s", DOCS, e->d_name);
		f = fopen(path, "re");
		if (!check(f != NULL, "cannot read %s", path))
			continue;
		doc = slurp(f);
		fclose(f);
		/* As make lessons runs it (vm/init): plain text, stderr too. */
		snprintf(cmd, sizeof(cmd), "echo '$ cowprobe %s'; NO_COLOR=1 " COWPROBE " %s 2>&1",
			 lesson, lesson);
		f = popen(cmd, "r");
		if (!check(f != NULL, "cannot run cowprobe %s", lesson)) {
			free(doc);
			continue;
		}
		now = slurp(f);
		pclose(f);
		a = masked(doc);
		b = masked(now);
		if (!check(!strcmp(a, b), "docs/lessons/%s no longer matches what cowprobe %s "
			   "prints: run make lessons", e->d_name, lesson))
			first_difference(e->d_name, a, b);
		checked++;
		free(a);
		free(b);
		free(doc);
		free(now);
	}
	closedir(d);
	check(checked >= 10, "only %d transcripts compared", checked);
	return KTAP_PASS;
}

const struct test_case docs_cases[] = {
	{ "transcripts_match_lessons", transcripts_match_lessons },
};
const int nr_docs_cases = sizeof(docs_cases) / sizeof(docs_cases[0]);
