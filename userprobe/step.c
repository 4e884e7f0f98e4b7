// SPDX-License-Identifier: GPL-2.0-only
/*
 * Taking one step: for each process involved, the rows of its areas (the
 * region, or data/bss/heap/stack) from /proc/cowstat_maps, its event
 * counts from /proc/cowstat (the whole process's, and those inside the
 * region: rcopies, rreuses), the states of the region's pages
 * (pagemap.c), cross-checked against the counts, and the frames behind
 * the region.  Without the module, the region's counts come from the
 * page map alone.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowstat_table.h"
#include "probe.h"

#define MAPS_MAX_COLS	32

const char *const rcol[NR_RCOLS] = {
	"rss", "anon", "shared", "private", "cow", "reusable", "zero", "file", "thp",
};
const char *const ecol[NR_ECOLS] = { "copies", "reuses", "forks" };
/* The region's share of each event, a column of /proc/cowstat; NULL: none. */
static const char *const region_ecol[NR_ECOLS] = { "rcopies", "rreuses", NULL };

/* Header word @tok names column @name, maybe marked inexact ("shared~"). */
static bool col_named(const char *tok, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(tok, name, len) && (!tok[len] || !strcmp(tok + len, "~"));
}

/*
 * Where each of rcol[] is among the numbers of a /proc/cowstat_maps row
 * (after pid, start, end and perms), from its header; -1 when missing.
 */
static int maps_columns(char *header, int *index, int *nvals)
{
	char *save = NULL, *tok;
	int n = 0, i;

	for (i = 0; i < NR_RCOLS; i++)
		index[i] = -1;
	for (tok = strtok_r(header, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), n++)
		for (i = 0; i < NR_RCOLS; i++)
			if (n >= 4 && col_named(tok, rcol[i]))
				index[i] = n - 4;
	*nvals = n - 5;		/* less pid, start, end, perms and name */
	return *nvals > 0 && *nvals <= MAPS_MAX_COLS ? 0 : -1;
}

/* Fill the areas of the step's views from one read of /proc/cowstat_maps. */
static int read_areas(struct probe *pr)
{
	int index[NR_RCOLS], nvals, a, i, k;
	char line[512];
	FILE *f;

	f = fopen(pr->maps, "re");
	if (!f) {
		snprintf(pr->err, sizeof(pr->err), "%s: %m", pr->maps);
		return -1;
	}
	if (!fgets(line, sizeof(line), f) || maps_columns(line, index, &nvals)) {
		snprintf(pr->err, sizeof(pr->err), "%s: no header of page columns", pr->maps);
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		long long v[MAPS_MAX_COLS];
		unsigned long start, end;
		int pid, used;
		char *p;

		if (sscanf(line, "%d %lx %lx %*s%n", &pid, &start, &end, &used) != 3)
			continue;
		for (i = 0, p = line + used; i < nvals; i++, p += used)
			if (sscanf(p, "%lld%n", &v[i], &used) != 1)
				break;
		if (i < nvals)
			continue;
		for (k = 0; k < pr->cur.n; k++) {
			struct view *s = &pr->view[pr->cur.who[k]];

			if (pid != s->pid)
				continue;
			for (a = 0; a < pr->nareas; a++)
				if (start <= pr->area_addr[a] && pr->area_addr[a] < end)
					for (i = 0; i < NR_RCOLS; i++)
						s->area[a][i] = index[i] < 0 ? NA : v[index[i]];
		}
	}
	fclose(f);
	return 0;
}

/* Count the map's pages and compare with the region's row; or fill it. */
static void check_map(struct probe *pr, const char *role, struct view *s)
{
	long long shared = 0, private = 0, zero = 0, file = 0, reusable = 0;
	unsigned long i;

	for (i = 0; i < pr->region_pages; i++) {
		const struct page_info *p = &s->pages[i];

		if (page_shared(p))
			shared++;
		else if (p->state == PS_ZERO)
			zero++;
		else if (p->state == PS_FILE)
			file++;
		else if (p->state != PS_ABSENT && p->state != PS_SWAP)
			private++;
		reusable += p->state == PS_REUSE;
	}
	if (!pr->have_module) {
		s->area[0][R_PRIVATE] = private;
		s->area[0][R_FILE] = file;
		/* Without frame numbers (not root) a zero page looks shared. */
		if (!pr->zero_pfn)
			return;
		s->area[0][R_RSS] = shared + private + file;
		s->area[0][R_ANON] = shared + private;
		s->area[0][R_SHARED] = shared;
		s->area[0][R_ZERO] = zero;
		return;
	}
	if (s->area[0][R_RSS] == NA)
		return;
	if (shared != s->area[0][R_SHARED] || private != s->area[0][R_PRIVATE] ||
	    file != s->area[0][R_FILE] || zero != s->area[0][R_ZERO] ||
	    reusable != s->area[0][R_REUSABLE]) {
		char what[224];

		snprintf(what, sizeof(what), "%s: the page map (%lld shared, %lld private, "
			 "%lld reusable, %lld zero, %lld file) disagrees with %s", role, shared,
			 private, reusable, zero, file, pr->maps);
		report_unexpected(pr, what);
	}
}

/* Does process @pid map @addr at all?  (/proc/PID/maps: for lack of the module.) */
static bool region_mapped(int pid, unsigned long addr)
{
	unsigned long start, end;
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%lx", &start, &end) == 2 && start <= addr && addr < end;
	if (f)
		fclose(f);
	return found;
}

/* Events from the table, and the region's pages. */
static void take_view(struct probe *pr, int who, const struct cowstat_table *t)
{
	struct view *s = &pr->view[who];
	const struct cowstat_row *row = pr->have_module ? cowstat_find(t, s->pid) : NULL;
	bool mapped;
	int i;

	for (i = 0; row && i < NR_ECOLS; i++) {
		long long v = cowstat_get(t, row, ecol[i]);

		s->event[i] = v == COWSTAT_NA || v < 0 ? NA : v;
		v = region_ecol[i] ? cowstat_get(t, row, region_ecol[i]) : -1;
		s->region_event[i] = v == COWSTAT_NA || v < 0 ? NA : v;
	}
	if (!pr->region_pages || !pr->area_addr[0])
		return;
	mapped = pr->have_module ? s->area[0][R_RSS] != NA :
				   region_mapped(s->pid, pr->area_addr[0]);
	if (!mapped)
		return;
	s->pages = page_states(pr, s->pid, pr->area_addr[0], pr->region_pages);
	if (s->pages)
		check_map(pr, pr->role[who], s);
}

/* Keep the views of the step's processes as the step before's. */
static void keep_prev(struct probe *pr, int who)
{
	free(pr->prev[who].pages);
	pr->prev[who] = pr->view[who];
	pr->have_prev[who] = pr->have_view[who];
	memset(&pr->view[who], 0, sizeof(pr->view[who]));
}

/* A process is gone (reaped, or exec'd into a new image): nothing to compare with. */
void step_forget(struct probe *pr, int who)
{
	free(pr->prev[who].pages);
	free(pr->view[who].pages);
	memset(&pr->prev[who], 0, sizeof(pr->prev[who]));
	memset(&pr->view[who], 0, sizeof(pr->view[who]));
	pr->have_prev[who] = pr->have_view[who] = false;
}

/* Read the numbers of the step in pr->cur (its processes set). */
int step_take(struct probe *pr)
{
	struct cowstat_table t = { 0 };
	int k, a, c;

	for (k = 0; k < pr->cur.n; k++) {
		int who = pr->cur.who[k];
		struct view *s;

		keep_prev(pr, who);
		s = &pr->view[who];
		s->pid = pr->pup[who].pid;
		for (a = 0; a < MAX_AREAS; a++)
			for (c = 0; c < NR_RCOLS; c++)
				s->area[a][c] = NA;
		for (c = 0; c < NR_ECOLS; c++)
			s->event[c] = s->region_event[c] = NA;
		s->started = pr->started[who];
		s->forked = pr->forked[who];
		pr->started[who] = pr->forked[who] = false;
		pr->have_view[who] = true;
	}
	if (pr->have_module && (cowstat_read(&t, pr->table, pr->err, sizeof(pr->err)) ||
				read_areas(pr))) {
		cowstat_free(&t);
		return -1;
	}
	for (k = 0; k < pr->cur.n; k++)
		take_view(pr, pr->cur.who[k], &t);
	cowstat_free(&t);
	pr->cur.frames_before = pr->last_frames;
	pr->cur.frames = region_frames(pr, pr->cur.who, pr->cur.n);
	pr->last_frames = pr->cur.frames;
	return 0;
}

/* ---- what the renderers share ---- */

/*
 * The events a row shows: a lesson's region has its own (rcopies,
 * rreuses), "-" where it is not mapped; the areas of the segments lesson
 * show the whole process's.  forks are always the whole process's.
 */
long long row_event(struct probe *pr, const struct view *s, int c)
{
	if (c != E_FORKS && pr->region_pages && pr->have_module)
		return s->region_event[c];
	return s->event[c];
}

/* Why a process's events outside the region happened. */
const char *elsewhere_cause(const struct view *s)
{
	if (s->started && s->forked)
		return "the program starting up (its first writes to its data pages, copied from "
		       "the program file), then fork() returning (its first writes since to its "
		       "stack and data)";
	if (s->started)
		return "the program starting up: its first writes to its data pages, copied from "
		       "the program file, and to pages it already had";
	if (s->forked)
		return "fork() returning: its first writes since to its stack and data, which "
		       "fork had made shared (copies) or the other process had already copied, "
		       "leaving them its own (reuses)";
	return "its own stack, written while it carried out the step";
}

/* Events outside the region: all of them where the region is not mapped. */
static long long elsewhere(const struct view *s, int c)
{
	if (s->event[c] == NA)
		return NA;
	if (s->region_event[c] == NA)
		return s->pages ? NA : s->event[c];
	return s->event[c] - s->region_event[c];
}

/* The change of @who's events of column @c outside the region since it was last shown. */
long long elsewhere_change(struct probe *pr, int who, int c)
{
	long long d = elsewhere(&pr->view[who], c);

	if (d != NA && pr->have_prev[who] && elsewhere(&pr->prev[who], c) != NA)
		d -= elsewhere(&pr->prev[who], c);
	return d;
}
