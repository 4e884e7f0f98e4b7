// SPDX-License-Identifier: GPL-2.0-only
/*
 * A step as one JSON object on one line: its processes (areas, events of
 * the whole process and of the region, page map), the frames behind the
 * region, and its notes (the prose, so that other renderings need no
 * copy of it) and failed checks.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_num(long long v)
{
	if (v == NA)
		printf("null");
	else
		printf("%lld", v);
}

/* The lines of @text as a JSON array of strings. */
void json_lines(const char *text)
{
	const char *line, *nl;
	int i;

	printf("[");
	for (line = text, i = 0; (nl = strchr(line, '\n')); line = nl + 1, i++) {
		char buf[1024];

		snprintf(buf, sizeof(buf), "%.*s", (int)(nl - line), line);
		printf("%s", i ? "," : "");
		json_str(buf);
	}
	printf("]");
}

static void json_map(struct probe *pr, const struct view *s)
{
	unsigned long i;
	char *map;

	if (!s->pages || !pr->show_map) {
		printf("null");
		return;
	}
	map = malloc(pr->region_pages + 1);
	if (!map) {
		printf("null");
		return;
	}
	for (i = 0; i < pr->region_pages; i++)
		map[i] = page_char(&s->pages[i]);
	map[i] = '\0';
	json_str(map);
	free(map);
}

static void json_process(struct probe *pr, int who)
{
	const struct view *s = &pr->view[who];
	int a, i;

	printf("{\"role\":");
	json_str(pr->role[who]);
	printf(",\"pid\":%d,\"areas\":{", s->pid);
	for (a = 0; a < pr->nareas; a++) {
		printf("%s", a ? "," : "");
		json_str(pr->area_name[a]);
		printf(":{");
		for (i = 0; i < NR_RCOLS; i++) {
			printf("%s\"%s\":", i ? "," : "", rcol[i]);
			json_num(s->area[a][i]);
		}
		printf("}");
	}
	printf("},\"events\":{");
	for (i = 0; i < NR_ECOLS; i++) {
		printf("%s\"%s\":", i ? "," : "", ecol[i]);
		json_num(s->event[i]);
	}
	printf("},\"region_events\":{\"copies\":");
	json_num(s->region_event[E_COPIES]);
	printf(",\"reuses\":");
	json_num(s->region_event[E_REUSES]);
	printf("},\"map\":");
	json_map(pr, s);
	printf("}");
}

void render_json(struct probe *pr)
{
	const struct step *st = &pr->cur;
	int k;

	printf("{\"lesson\":");
	json_str(pr->lesson);
	printf(",\"step\":%d,\"title\":", st->number);
	json_str(st->title);
	printf(",\"processes\":[");
	for (k = 0; k < st->n; k++) {
		printf("%s", k ? "," : "");
		json_process(pr, st->who[k]);
	}
	printf("],\"frames\":");
	json_num(st->frames);
	printf(",\"notes\":");
	json_lines(st->notes);
	printf(",\"unexpected\":");
	json_lines(st->unexpected);
	printf("}\n");
}
