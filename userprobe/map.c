// SPDX-License-Identifier: GPL-2.0-only
/*
 * The page map: one character a page, telling what the next write to it
 * does.  One table gives each state its character, its colour and its
 * line of the legend, as page-types.c's page_flag_names[] drives both its
 * output and its usage text.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

#define ROW		64	/* pages a row */
#define WITH_MODULE	1	/* a state /proc/cowstat_pagemap tells */
#define WITHOUT		2	/* a state /proc/PID/pagemap alone tells */
#define NOT_ROOT	4	/* ...to a reader without frame numbers */

static const struct map_char {
	char ch, huge_ch;	/* huge_ch: in a huge PMD mapping */
	const char *shown;	/* as the legend names it */
	const char *sgr;	/* colour on a terminal: an ANSI SGR parameter */
	const char *css;	/* colour in HTML (render_html.c) */
	int modes;
	const char *meaning;
} map_chars[NR_PAGE_STATES] = {
	[PS_WRITABLE] = { 'w', 'W', "w", "32", "#a5d6a7", WITH_MODULE,
			  "private, writable: the next write makes no fault" },
	[PS_REUSE] = { 'r', 'R', "r", "33", "#ffe082", WITH_MODULE,
		       "private, write-protected: the next write faults and keeps the page" },
	[PS_SHARED] = { '2', '2', "2-9 +", "31", "#ef9a9a", WITH_MODULE | WITHOUT,
			"shared: its map count (+: 10 or more); the next write copies it" },
	[PS_COPY_ONCE] = { 'c', 'C', "c", "35", "#ce93d8", WITH_MODULE,
			   "mapped once, yet as things stand the next write copies it (part of "
			   "a huge page another process maps)" },
	[PS_NOCOW] = { 'a', 'A', "a", "37", "#e0e0e0", WITH_MODULE,
		       "anonymous, and a write is no copy-on-write (a read-only mapping)" },
	[PS_PRIVATE] = { 'p', 'p', "p", "32", "#a5d6a7", WITHOUT,
			 "private: mapped once (what a write does needs the module)" },
	[PS_SHARED_ANY] = { 'S', 'S', "S", "31", "#ef9a9a", NOT_ROOT,
			    "shared, map count unknown (the count needs root)" },
	[PS_ZERO] = { '0', 'Z', "0", "34", "#90caf9", WITH_MODULE | WITHOUT,
		      "the zero page (Z: the huge zero page); the next write copies it" },
	[PS_FILE] = { 'f', 'F', "f", "36", "#80deea", WITH_MODULE | WITHOUT,
		      "file or shmem: written in place if MAP_SHARED, else copied" },
	[PS_SWAP] = { 's', 's', "s", "2", "#bdbdbd", WITH_MODULE | WITHOUT, "swapped out" },
	[PS_ABSENT] = { '.', '.', ".", "2", "#ffffff", WITH_MODULE | WITHOUT,
			"not present: never touched, or gone" },
};

/* The legend's order: what a write does, from free to copied, then the rest. */
static const enum page_state legend_order[] = {
	PS_WRITABLE, PS_REUSE, PS_SHARED, PS_COPY_ONCE, PS_NOCOW, PS_PRIVATE, PS_SHARED_ANY,
	PS_ZERO, PS_FILE, PS_SWAP, PS_ABSENT,
};

char page_char(const struct page_info *p)
{
	const struct map_char *c = &map_chars[p->state];

	if (p->state == PS_SHARED)
		return p->maps >= 10 ? '+' : p->maps >= 2 ? (char)('0' + p->maps) : 'S';
	return p->huge ? c->huge_ch : c->ch;
}

bool page_shared(const struct page_info *p)
{
	return p->state == PS_SHARED || p->state == PS_SHARED_ANY;
}

/* The legend of the characters a map can show with (or without) the module, as root or not. */
void map_legend(FILE *out, bool module, bool root, const char *indent)
{
	int mode = module ? WITH_MODULE : root ? WITHOUT : WITHOUT | NOT_ROOT;
	char huge[32] = "";
	size_t i, n = 0;

	fprintf(out, "%sPage map: a character a page, for what the next write to it does.\n",
		indent);
	for (i = 0; i < sizeof(legend_order) / sizeof(legend_order[0]); i++) {
		const struct map_char *c = &map_chars[legend_order[i]];

		if (!(c->modes & mode))
			continue;
		fprintf(out, "%s  %-6s %s\n", indent, c->shown, c->meaning);
		if (c->huge_ch != c->ch && n + 3 < sizeof(huge) && module) {
			n += snprintf(huge + n, sizeof(huge) - n, "%s%c", n ? " " : "",
				      c->huge_ch);
		}
	}
	if (module)
		fprintf(out, "%s  %s  the same, in a huge PMD mapping; a row with one ends in 'huge'\n",
			indent, huge);
	fprintf(out, "%s  %-6s under a row: the page changed since the step before (its state, map "
		"count or huge mapping)\n", indent, "^");
}

static bool page_changed(const struct page_info *pages, const struct page_info *before,
			 unsigned long i)
{
	return before && (pages[i].state != before[i].state ||
			  page_char(&pages[i]) != page_char(&before[i]) ||
			  pages[i].huge != before[i].huge);
}

/* Row @r as text, its change marks, and whether it has any change or huge page. */
static void row_text(const struct page_info *pages, const struct page_info *before,
		     unsigned long first, unsigned long n, char *chars, char *marks,
		     bool *changed, bool *huge)
{
	unsigned long i;

	*changed = *huge = false;
	for (i = 0; i < n; i++) {
		bool ch = page_changed(pages, before, first + i);

		chars[i] = page_char(&pages[first + i]);
		marks[i] = ch ? '^' : ' ';
		*changed |= ch;
		*huge |= pages[first + i].huge;
	}
	chars[n] = marks[n] = '\0';
}

static void draw_row(struct probe *pr, const char *label, const struct page_info *pages,
		     unsigned long first, const char *chars, const char *marks, bool changed,
		     bool huge)
{
	size_t i, n = strlen(chars);
	char last[16] = "";

	printf("  %-8s |", label);
	if (!pr->color) {
		printf("%s|%s\n", chars, huge ? " huge" : "");
		if (changed)
			printf("  %-8s  %.*s\n", "", (int)(strrchr(marks, '^') - marks + 1), marks);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct page_info *p = &pages[first + i];
		char sgr[16];

		snprintf(sgr, sizeof(sgr), "%s%s%s", map_chars[p->state].sgr, p->huge ? ";4" : "",
			 marks[i] == '^' ? ";7" : "");
		if (!i || strcmp(sgr, last))
			printf("\033[0;%sm", sgr);
		putchar(chars[i]);
		strcpy(last, sgr);
	}
	printf("\033[0m|%s\n", huge ? " huge" : "");
}

/*
 * Rows of ROW pages; a run of rows the same as the one above (pages and
 * marks alike) is folded into one line that counts them.
 */
void map_draw(struct probe *pr, const char *label, const struct page_info *pages,
	      const struct page_info *before, unsigned long n)
{
	char chars[ROW + 1], marks[ROW + 1], last[ROW + 1] = "", last_marks[ROW + 1] = "";
	unsigned long first, same = 0;
	bool changed, huge;

	for (first = 0; first < n; first += ROW) {
		unsigned long len = n - first < ROW ? n - first : ROW;

		row_text(pages, before, first, len, chars, marks, &changed, &huge);
		if (first && !strcmp(chars, last) && !strcmp(marks, last_marks) &&
		    pages[first].huge == pages[first - ROW].huge) {
			same++;
			continue;
		}
		if (same)
			printf("  %-8s  ... %lu more row%s the same\n", "", same, same > 1 ? "s" : "");
		same = 0;
		draw_row(pr, first ? "" : label, pages, first, chars, marks, changed, huge);
		strcpy(last, chars);
		strcpy(last_marks, marks);
	}
	if (same)
		printf("  %-8s  ... %lu more row%s the same\n", "", same, same > 1 ? "s" : "");
}

/* ---- the same map in HTML (render_html.c) ---- */

/* One CSS rule a state: ".s3 { background: ... }". */
void map_css(FILE *out)
{
	int i;

	for (i = 0; i < NR_PAGE_STATES; i++)
		fprintf(out, ".s%d{background:%s}", i, map_chars[i].css);
	fprintf(out, "\n");
}

static void html_cell(FILE *out, const struct page_info *p, bool changed)
{
	fprintf(out, "<span class=\"pg s%d%s%s\">%c</span>", p->state, p->huge ? " huge" : "",
		changed ? " chg" : "", page_char(p));
}

void map_legend_html(FILE *out, bool module, bool root)
{
	int mode = module ? WITH_MODULE : root ? WITHOUT : WITHOUT | NOT_ROOT;
	struct page_info p = { 0 };
	size_t i;

	fprintf(out, "<table class=\"legend\"><caption>Page map: a cell a page, for what the "
		"next write to it does</caption>\n");
	for (i = 0; i < sizeof(legend_order) / sizeof(legend_order[0]); i++) {
		const struct map_char *c = &map_chars[legend_order[i]];

		if (!(c->modes & mode))
			continue;
		p.state = legend_order[i];
		p.maps = 2;
		fprintf(out, "<tr><td>");
		html_cell(out, &p, false);
		fprintf(out, "</td><td><code>%s</code></td><td>%s</td></tr>\n", c->shown, c->meaning);
	}
	if (module)
		fprintf(out, "<tr><td><span class=\"pg s%d huge\">W</span></td><td></td><td>a capital, "
			"underlined: the same, in a huge PMD mapping</td></tr>\n", PS_WRITABLE);
	fprintf(out, "<tr><td><span class=\"pg s%d chg\">w</span></td><td></td><td>outlined: the "
		"page changed since the step before</td></tr>\n</table>\n", PS_WRITABLE);
}

/* Every page a cell, ROW to a line: nothing folded, a projector shows them all. */
void map_draw_html(FILE *out, const char *label, const struct page_info *pages,
		   const struct page_info *before, unsigned long n)
{
	unsigned long i;

	fprintf(out, "<div class=\"map\"><div class=\"who\">%s</div><div class=\"cells\">", label);
	for (i = 0; i < n; i++) {
		if (i && i % ROW == 0)
			fprintf(out, "<br>");
		html_cell(out, &pages[i], page_changed(pages, before, i));
	}
	fprintf(out, "</div></div>\n");
}
