// SPDX-License-Identifier: GPL-2.0-only
/*
 * A lesson as one self-contained HTML page (--html): inline CSS, no
 * script, nothing fetched, readable on a projector.  Each step is a
 * <section class="step"> with its title, a table of its processes' rows
 * and changes, its events elsewhere, its frames, its page maps drawn as
 * coloured cells (map.c: the same states and legend as the text map) and
 * its prose.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "probe.h"

void html_escape(const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", stdout);
		else if (*s == '>')
			fputs("&gt;", stdout);
		else if (*s == '&')
			fputs("&amp;", stdout);
		else if (*s == '"')
			fputs("&quot;", stdout);
		else
			putchar(*s);
	}
}

static const char style[] =
	"body{font-family:sans-serif;font-size:18px;max-width:78em;margin:1em auto;padding:0 1em;"
	"color:#111}"
	"h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-top:2px solid #ccc;"
	"padding-top:.6em}"
	"table.rows{border-collapse:collapse;font-size:.8em;margin:.5em 0}"
	"table.rows td,table.rows th{border:1px solid #ccc;padding:.15em .45em;text-align:right}"
	"table.rows th{background:#eee}table.rows td.l{text-align:left}"
	"tr.delta td{color:#555;font-style:italic}"
	".map{display:flex;gap:.6em;margin:.4em 0}.who{width:5em;font-weight:bold}"
	".cells{font-family:monospace;line-height:1.05}"
	".pg{display:inline-block;width:.95em;text-align:center;font-size:.8em;"
	"border:1px solid #fff}"
	".huge{text-decoration:underline}.chg{outline:2px solid #000;outline-offset:-2px}"
	"table.legend{font-size:.8em;margin:.5em 0}table.legend td{padding:.1em .5em}"
	"p.note{margin:.4em 0}p.unexpected{color:#b00;font-weight:bold}"
	".line{font-size:.85em;margin:.2em 0}";

/* The page's head, the lesson's title and the legend of its maps. */
void html_begin(struct probe *pr, const char *summary)
{
	printf("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>cowprobe ");
	html_escape(pr->lesson);
	printf("</title>\n<style>%s", style);
	map_css(stdout);
	printf("</style></head>\n<body>\n<h1>cowprobe ");
	html_escape(pr->lesson);
	printf(": ");
	html_escape(summary);
	printf("</h1>\n");
	if (strcmp(pr->lesson, "forkcost") && strcmp(pr->lesson, "faults") &&
	    strcmp(pr->lesson, "segments"))
		map_legend_html(stdout, pr->pagemap_fd >= 0, pr->zero_pfn != 0);
}

void html_end(struct probe *pr)
{
	(void)pr;
	printf("</body></html>\n");
}

static void html_num(long long v, const long long *prev)
{
	if (v == NA || (prev && *prev == NA))
		printf("<td>-</td>");
	else if (prev)
		printf("<td>%+lld</td>", v - *prev);
	else
		printf("<td>%lld</td>", v);
}

static void html_rows(struct probe *pr, int who)
{
	const struct view *s = &pr->view[who];
	const struct view *last = pr->have_prev[who] ? &pr->prev[who] : NULL;
	int a, i, c;

	for (a = 0; a < pr->nareas; a++) {
		for (i = 0; i < 2 && (i == 0 || last); i++) {
			printf(i ? "<tr class=\"delta\"><td class=\"l\">change</td><td></td><td></td>" :
				   "<tr><td class=\"l\">");
			if (!i) {
				html_escape(a ? "" : pr->role[who]);
				printf("</td><td>%d</td><td class=\"l\">", s->pid);
				html_escape(pr->area_name[a]);
				printf("</td>");
			}
			for (c = 0; c < NR_RCOLS; c++)
				html_num(s->area[a][c], i ? &last->area[a][c] : NULL);
			for (c = 0; c < NR_ECOLS; c++) {
				long long prev = i ? row_event(pr, last, c) : 0;

				if (a)
					printf("<td></td>");
				else
					html_num(row_event(pr, s, c), i ? &prev : NULL);
			}
			printf("</tr>\n");
		}
	}
}

void html_paragraphs(const char *text, const char *class)
{
	const char *line, *nl;

	for (line = text; (nl = strchr(line, '\n')); line = nl + 1) {
		char buf[1024];

		snprintf(buf, sizeof(buf), "%.*s", (int)(nl - line), line);
		printf("<p class=\"%s\">", class);
		html_escape(buf);
		printf("</p>\n");
	}
}

void render_html(struct probe *pr)
{
	const struct step *st = &pr->cur;
	int k, i;

	printf("<section class=\"step\" id=\"step%d\">\n<h2>step %d: ", st->number, st->number);
	html_escape(st->title);
	printf("</h2>\n<table class=\"rows\"><tr><th></th><th>pid</th><th>area</th>");
	for (i = 0; i < NR_RCOLS; i++)
		printf("<th>%s</th>", rcol[i]);
	for (i = 0; i < NR_ECOLS; i++)
		printf("<th>%s</th>", ecol[i]);
	printf("</tr>\n");
	for (k = 0; k < st->n; k++)
		html_rows(pr, st->who[k]);
	printf("</table>\n");
	for (k = 0; k < st->n && pr->region_pages; k++) {
		int who = st->who[k];
		long long d[2] = { elsewhere_change(pr, who, E_COPIES),
				   elsewhere_change(pr, who, E_REUSES) };

		if (d[0] == NA || d[1] == NA || (!d[0] && !d[1]))
			continue;
		printf("<p class=\"line\"><b>");
		html_escape(pr->role[who]);
		printf("</b> elsewhere in the process: copies %+lld, reuses %+lld: ", d[0], d[1]);
		html_escape(elsewhere_cause(&pr->view[who]));
		printf("</p>\n");
	}
	if (st->frames != NA) {
		printf("<p class=\"line\"><b>frames</b> %lld physical page%s the region", st->frames,
		       st->frames == 1 ? " holds" : "s hold");
		if (st->frames_before != NA)
			printf(" (%+lld pages, %+lld KiB)", st->frames - st->frames_before,
			       (st->frames - st->frames_before) * 4);
		printf("</p>\n");
	}
	for (k = 0; k < st->n && pr->show_map; k++) {
		int who = st->who[k];

		if (!pr->view[who].pages)
			continue;
		map_draw_html(stdout, pr->role[who], pr->view[who].pages,
			      pr->have_prev[who] ? pr->prev[who].pages : NULL, pr->region_pages);
	}
	html_paragraphs(st->unexpected, "unexpected");
	html_paragraphs(st->notes, "note");
	printf("</section>\n");
}
