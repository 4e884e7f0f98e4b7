// SPDX-License-Identifier: GPL-2.0-only
/*
 * A step as text: a row per area of each process with the change since
 * it was last shown, its events elsewhere in the process, the frames
 * behind the region, the page maps, and the step's notes.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "probe.h"

/* A column is as wide as its name, 7 at least. */
static int col_width(const char *name)
{
	int len = (int)strlen(name);

	return len > 7 ? len : 7;
}

static void print_num(long long v, const long long *prev, int width)
{
	if (v == NA || (prev && *prev == NA))
		printf(" %*s", width, "-");
	else if (prev)
		printf(" %+*lld", width, v - *prev);
	else
		printf(" %*lld", width, v);
}

static void area_rows(struct probe *pr, int who)
{
	const struct view *s = &pr->view[who];
	const struct view *last = pr->have_prev[who] ? &pr->prev[who] : NULL;
	int a, i, c;

	for (a = 0; a < pr->nareas; a++) {
		for (i = 0; i < 2; i++) {
			if (i == 1 && !last)
				break;
			if (i == 0)
				printf("  %-8s %7d %-7s", a ? "" : pr->role[who], s->pid,
				       pr->area_name[a]);
			else
				printf("  %-8s %7s %-7s", "  change", "", "");
			for (c = 0; c < NR_RCOLS; c++)
				print_num(s->area[a][c], i ? &last->area[a][c] : NULL,
					  col_width(rcol[c]));
			for (c = 0; c < NR_ECOLS; c++) {
				long long prev = i ? row_event(pr, last, c) : 0;

				if (a)
					printf(" %*s", col_width(ecol[c]), "");
				else
					print_num(row_event(pr, s, c), i ? &prev : NULL,
						  col_width(ecol[c]));
			}
			printf("\n");
		}
	}
}

/*
 * Each process's events outside the region, with their cause; processes
 * with the same figures and cause share one paragraph (many: three
 * children forked alike).
 */
static void elsewhere_lines(struct probe *pr)
{
	long long d[PUPPET_MAX][2];
	bool told[PUPPET_MAX] = { false };
	int k, j, c;

	if (!pr->region_pages)
		return;		/* the areas' rows show the whole process's events */
	for (k = 0; k < pr->cur.n; k++)
		for (c = 0; c < 2; c++)
			d[k][c] = elsewhere_change(pr, pr->cur.who[k], c);
	for (k = 0; k < pr->cur.n; k++) {
		const struct view *s = &pr->view[pr->cur.who[k]];
		char text[512], role[16], others[96] = "";
		size_t len = 0;

		if (told[k] || d[k][0] == NA || d[k][1] == NA || (!d[k][0] && !d[k][1]))
			continue;
		for (j = k + 1; j < pr->cur.n; j++) {
			if (d[j][0] != d[k][0] || d[j][1] != d[k][1] ||
			    elsewhere_cause(&pr->view[pr->cur.who[j]]) != elsewhere_cause(s))
				continue;
			told[j] = true;
			len += snprintf(others + len, sizeof(others) - len, "%s%s", len ? ", " : "and ",
					pr->role[pr->cur.who[j]]);
		}
		snprintf(role, sizeof(role), "%-8s ", pr->role[pr->cur.who[k]]);
		snprintf(text, sizeof(text), "%s%selsewhere in the process: copies %+lld, reuses "
			 "%+lld%s: %s\n", others, len ? ": " : "", d[k][0], d[k][1],
			 len ? " each" : "", elsewhere_cause(s));
		text_paragraphs(text, role);
	}
}

static void frames_line(const struct step *st)
{
	if (st->frames == NA)
		return;
	long long d = st->frames_before == NA ? NA : st->frames - st->frames_before;

	printf("  %-8s %lld physical page%s the region", "frames", st->frames,
	       st->frames == 1 ? " holds" : "s hold");
	if (d != NA)
		printf(" (%+lld page%s, %+lld KiB)", d, d == 1 || d == -1 ? "" : "s", d * 4);
	printf("\n");
}

#define WIDTH	76

/* Each line of @text a paragraph, wrapped at WIDTH columns after "  " and @prefix. */
void text_paragraphs(const char *text, const char *prefix)
{
	int plen = (int)strlen(prefix), room = WIDTH - 2 - plen;
	const char *line, *nl, *p;

	for (line = text; (nl = strchr(line, '\n')); line = nl + 1) {
		for (p = line; p < nl;) {
			int cut = (int)(nl - p);

			if (cut > room) {
				for (cut = room; cut > 0 && p[cut] != ' '; cut--)
					;
				if (!cut)
					cut = room;
			}
			while (cut > 0 && p[cut - 1] == ' ')
				cut--;
			printf("  %-*s%.*s\n", plen, p == line ? prefix : "", cut, p);
			for (p += cut; p < nl && *p == ' '; p++)
				;
		}
	}
}

void render_text(struct probe *pr)
{
	const struct step *st = &pr->cur;
	int k, i;

	printf("step %d: %s\n  %-8s %7s %-7s", st->number, st->title, "", "pid", " area");
	for (i = 0; i < NR_RCOLS; i++)
		printf(" %*s", col_width(rcol[i]), rcol[i]);
	for (i = 0; i < NR_ECOLS; i++)
		printf(" %*s", col_width(ecol[i]), ecol[i]);
	printf("\n");
	for (k = 0; k < st->n; k++)
		area_rows(pr, st->who[k]);
	elsewhere_lines(pr);
	frames_line(st);
	for (k = 0; k < st->n && pr->show_map; k++) {
		int who = st->who[k];
		const struct view *s = &pr->view[who];

		if (s->pages)
			map_draw(pr, pr->role[who], s->pages,
				 pr->have_prev[who] ? pr->prev[who].pages : NULL, pr->region_pages);
		else if (pr->region_pages)
			printf("  %-8s (the region is not mapped)\n", pr->role[who]);
	}
	text_paragraphs(st->unexpected, "UNEXPECTED: ");
	text_paragraphs(st->notes, "");
	printf("\n");
}
