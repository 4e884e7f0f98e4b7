// SPDX-License-Identifier: GPL-2.0-only
/*
 * How a lesson reports: each step is taken once (step.c: the numbers of
 * its processes), the lesson checks them and writes its prose from them
 * (report_note()), and one renderer draws it (render_text.c,
 * render_json.c, render_csv.c).  Also the measurement tables of the
 * timing lessons (report_record()).
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

#define TABLE_WIDTH	11	/* a column of a measurement table */

void report_init(struct probe *pr)
{
	pr->have_module = access(pr->table, R_OK) == 0 && access(pr->maps, R_OK) == 0;
	pr->pagemap_fd = pr->have_module ? open("/proc/cowstat_pagemap", O_RDONLY | O_CLOEXEC) : -1;
	pr->zero_pfn = find_zero_pfn();
	pr->last_frames = NA;
}

/* Text between steps (text output only). */
void report_text(struct probe *pr, const char *fmt, ...)
{
	va_list ap;

	if (pr->format != FMT_TEXT)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void add_line(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);

	if (len + 2 >= size)
		return;
	vsnprintf(buf + len, size - len - 1, fmt, ap);
	strcat(buf, "\n");
}

/* A paragraph of the step's prose, built from its numbers; kept in its JSON. */
void report_note(struct probe *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(pr->cur.notes, sizeof(pr->cur.notes), fmt, ap);
	va_end(ap);
}

static void unexpected_line(struct probe *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(pr->cur.unexpected, sizeof(pr->cur.unexpected), fmt, ap);
	va_end(ap);
}

/* A number the kernel fixes came out otherwise: shown with the step, fails the lesson. */
void report_unexpected(struct probe *pr, const char *what)
{
	pr->failed = 1;
	unexpected_line(pr, "%s", what);
	fprintf(stderr, "cowprobe: %s, step %d: %s\n", pr->lesson, pr->cur.number, what);
}

/* Take a step: the numbers of processes @who[0..n), for the lesson to check and tell. */
int report_take(struct probe *pr, const char *title, const int *who, int n)
{
	int k;

	pr->cur.number++;
	snprintf(pr->cur.title, sizeof(pr->cur.title), "%s", title);
	for (k = 0; k < n; k++)
		pr->cur.who[k] = who[k];
	pr->cur.n = n;
	return step_take(pr);
}

/* Draw the step taken, with its notes, and start the next one empty. */
void report_show(struct probe *pr)
{
	if (pr->format == FMT_TEXT)
		render_text(pr);
	else if (pr->format == FMT_JSON)
		render_json(pr);
	else if (pr->format == FMT_HTML)
		render_html(pr);
	else
		render_csv(pr);
	fflush(stdout);
	pr->cur.notes[0] = pr->cur.unexpected[0] = '\0';
}

int report_step(struct probe *pr, const char *title, const int *who, int n)
{
	if (report_take(pr, title, who, n))
		return -1;
	report_show(pr);
	return 0;
}

/* One row of a measurement table (forkcost, faults). */
void report_record(struct probe *pr, const char *table, int n,
		   const char *const *keys, const double *vals)
{
	int i;

	if (pr->format == FMT_JSON) {
		printf("{\"lesson\":");
		json_str(pr->lesson);
		printf(",\"table\":");
		json_str(table);
		for (i = 0; i < n; i++)
			if (isnan(vals[i]))
				printf(",\"%s\":null", keys[i]);
			else
				printf(vals[i] == (long long)vals[i] ? ",\"%s\":%.0f" :
				       ",\"%s\":%.3f", keys[i], vals[i]);
		printf("}\n");
	} else if (pr->format == FMT_CSV) {
		if (!pr->csv_header_done) {
			printf("lesson,table");
			for (i = 0; i < n; i++)
				printf(",%s", keys[i]);
			printf("\n");
			pr->csv_header_done = true;
		}
		printf("%s,%s", pr->lesson, table);
		for (i = 0; i < n; i++)
			if (isnan(vals[i]))
				printf(",");
			else
				printf(vals[i] == (long long)vals[i] ? ",%.0f" : ",%.3f", vals[i]);
		printf("\n");
	} else if (pr->format == FMT_HTML) {
		printf("<tr><td class=\"l\">");
		html_escape(table);
		printf("</td>");
		for (i = 0; i < n; i++) {
			char buf[32];

			printf("<td>%s</td>", isnan(vals[i]) ? "-" :
			       timing_human(vals[i], buf, sizeof(buf)));
		}
		printf("</tr>\n");
	} else {
		printf("  %-14s", table);
		for (i = 0; i < n; i++) {
			char buf[32];

			printf(" %*s", TABLE_WIDTH, isnan(vals[i]) ? "-" :
			       timing_human(vals[i], buf, sizeof(buf)));
		}
		printf("\n");
	}
	fflush(stdout);
}

/* The header of a measurement table, as text: @first, then @keys. */
void report_header(struct probe *pr, const char *first, int n, const char *const *keys)
{
	int i;

	if (pr->format == FMT_HTML) {
		printf("<table class=\"rows\"><tr><th>");
		html_escape(first);
		printf("</th>");
		for (i = 0; i < n; i++)
			printf("<th>%s</th>", keys[i]);
		printf("</tr>\n");
		pr->html_table_open = true;
		return;
	}
	if (pr->format != FMT_TEXT)
		return;
	printf("  %-14s", first);
	for (i = 0; i < n; i++)
		printf(" %*s", TABLE_WIDTH, keys[i]);
	printf("\n");
}

/* The notes of a lesson without steps (a timing lesson), now. */
void report_summary(struct probe *pr)
{
	if (pr->format == FMT_TEXT) {
		text_paragraphs(pr->cur.notes, "");
		text_paragraphs(pr->cur.unexpected, "UNEXPECTED: ");
		printf("\n");
	} else if (pr->format == FMT_HTML) {
		if (pr->html_table_open)
			printf("</table>\n");
		pr->html_table_open = false;
		html_paragraphs(pr->cur.notes, "note");
		html_paragraphs(pr->cur.unexpected, "unexpected");
	} else if (pr->format == FMT_JSON) {
		printf("{\"lesson\":");
		json_str(pr->lesson);
		printf(",\"notes\":");
		json_lines(pr->cur.notes);
		printf(",\"unexpected\":");
		json_lines(pr->cur.unexpected);
		printf("}\n");
	}
	fflush(stdout);
	pr->cur.notes[0] = pr->cur.unexpected[0] = '\0';
}

/* The end of the lesson: what no step showed yet, and the views. */
void report_free(struct probe *pr)
{
	const char *line, *nl;
	int i;

	for (line = pr->cur.unexpected; (nl = strchr(line, '\n')); line = nl + 1) {
		char what[512];

		snprintf(what, sizeof(what), "%.*s", (int)(nl - line), line);
		if (pr->format == FMT_JSON) {
			printf("{\"lesson\":");
			json_str(pr->lesson);
			printf(",\"step\":%d,\"unexpected\":", pr->cur.number);
			json_str(what);
			printf("}\n");
		} else if (pr->format == FMT_TEXT) {
			printf("  UNEXPECTED: %s\n", what);
		} else if (pr->format == FMT_HTML) {
			printf("<p class=\"unexpected\">");
			html_escape(what);
			printf("</p>\n");
		}
	}
	pr->cur.unexpected[0] = '\0';
	for (i = 0; i < PUPPET_MAX; i++)
		step_forget(pr, i);
	if (pr->pagemap_fd >= 0)
		close(pr->pagemap_fd);
	pr->pagemap_fd = -1;
}
