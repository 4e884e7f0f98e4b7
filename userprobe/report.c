// SPDX-License-Identifier: GPL-2.0-only
/*
 * How a lesson reports a step: for each process involved, the rows of its
 * areas (the region, or data/bss/heap/stack) from /proc/cowstat_maps, its
 * event counts from /proc/cowstat, the change since it was last shown,
 * and a page map of the region from /proc/PID/pagemap, cross-checked
 * against the counts.  As text, JSON lines (one object a step) or CSV.
 * Without the module, the region's counts come from the page map alone.
 */

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cowstat_table.h"
#include "probe.h"

static void json_str(const char *s);

static const char *const rcol[NR_RCOLS] = {
	"rss", "anon", "shared", "private", "cow", "reusable", "zero", "file", "thp",
};
static const char *const ecol[NR_ECOLS] = { "copies", "reuses", "forks" };

#define MAPS_MAX_COLS	32

void report_init(struct probe *pr)
{
	pr->have_module = access(pr->table, R_OK) == 0 && access(pr->maps, R_OK) == 0;
	pr->zero_pfn = find_zero_pfn();
}

void report_text(struct probe *pr, const char *fmt, ...)
{
	va_list ap;

	if (pr->format != FMT_TEXT)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* A line to print with the next step (and to keep in its JSON object). */
void report_note(struct probe *pr, const char *fmt, ...)
{
	size_t len = strlen(pr->notes);
	va_list ap;

	if (len + 2 >= sizeof(pr->notes))
		return;
	va_start(ap, fmt);
	vsnprintf(pr->notes + len, sizeof(pr->notes) - len - 1, fmt, ap);
	va_end(ap);
	strcat(pr->notes, "\n");
}

/* A number the kernel fixes came out otherwise: say so now, fail the lesson. */
void report_unexpected(struct probe *pr, const char *what)
{
	pr->failed = 1;
	if (pr->format == FMT_JSON) {
		printf("{\"lesson\":");
		json_str(pr->lesson);
		printf(",\"step\":%d,\"unexpected\":", pr->step);
		json_str(what);
		printf("}\n");
	} else if (pr->format == FMT_TEXT) {
		printf("  UNEXPECTED: %s\n", what);
	}
	fprintf(stderr, "cowprobe: %s, step %d: %s\n", pr->lesson, pr->step, what);
}

/*
 * Where each of rcol[] is among the numbers of a /proc/cowstat_maps row
 * (after pid, start, end and perms), from its header; -1 when missing.
 */
/* Header word @tok names column @name, maybe marked inexact ("shared~"). */
static bool col_named(const char *tok, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(tok, name, len) && (!tok[len] || !strcmp(tok + len, "~"));
}

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

/* Fill the areas of the @n snapshots from one read of /proc/cowstat_maps. */
static int read_areas(struct probe *pr, struct snap *s, int n)
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
		for (k = 0; k < n; k++) {
			if (pid != s[k].pid)
				continue;
			for (a = 0; a < pr->nareas; a++)
				if (start <= pr->area_addr[a] && pr->area_addr[a] < end)
					for (i = 0; i < NR_RCOLS; i++)
						s[k].area[a][i] = index[i] < 0 ? NA : v[index[i]];
		}
	}
	fclose(f);
	return 0;
}

/* Count the map's letters and compare with the region's row; or fill it. */
static void check_map(struct probe *pr, const char *role, struct snap *s)
{
	long long shared = 0, private = 0, zero = 0, file = 0;
	const char *c;

	for (c = s->map; *c; c++) {
		if (*c == 'S' || *c == '+' || (*c >= '2' && *c <= '9'))
			shared++;
		else if (*c == 'p')
			private++;
		else if (*c == '0')
			zero++;
		else if (*c == 'f')
			file++;
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
	/* Without frame numbers (not root) a zero page looks shared. */
	if (s->area[0][R_RSS] == NA || !pr->zero_pfn)
		return;
	/* THP subpages: the map sees 4 KiB pages, as the counts do. */
	if (shared != s->area[0][R_SHARED] || private != s->area[0][R_PRIVATE] ||
	    file != s->area[0][R_FILE] || (pr->zero_pfn && zero != s->area[0][R_ZERO])) {
		char what[192];

		snprintf(what, sizeof(what), "%s: the page map (%lld shared, %lld private, %lld zero, "
			 "%lld file) disagrees with %s", role, shared, private, zero, file, pr->maps);
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

/* Events from the table, and the page map (and, without the module, the counts). */
static void take_snap(struct probe *pr, int who, const struct cowstat_table *t, struct snap *s)
{
	const struct cowstat_row *row = pr->have_module ? cowstat_find(t, s->pid) : NULL;
	int i;

	for (i = 0; row && i < NR_ECOLS; i++) {
		long long v = cowstat_get(t, row, ecol[i]);

		s->event[i] = v == COWSTAT_NA || v < 0 ? NA : v;
	}
	/* Without the module the map is where the counts come from. */
	if ((pr->show_map || !pr->have_module) && pr->region_pages && pr->area_addr[0] &&
	    (pr->have_module || region_mapped(s->pid, pr->area_addr[0]))) {
		s->map = page_map(pr, s->pid, pr->area_addr[0], pr->region_pages);
		if (s->map)
			check_map(pr, pr->role[who], s);
	}
}

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

static void text_step(struct probe *pr, const char *title, const int *who, int n,
		      const struct snap *s)
{
	const char *line, *nl;
	int k, a, i;

	printf("step %d: %s\n  %-8s %7s %-7s", pr->step, title, "", "pid", " area");
	for (i = 0; i < NR_RCOLS; i++)
		printf(" %*s", col_width(rcol[i]), rcol[i]);
	for (i = 0; i < NR_ECOLS; i++)
		printf(" %*s", col_width(ecol[i]), ecol[i]);
	printf("\n");
	for (k = 0; k < n; k++) {
		const struct snap *last = pr->have_last[who[k]] ? &pr->last[who[k]] : NULL;

		for (a = 0; a < pr->nareas; a++) {
			for (i = 0; i < 2; i++) {
				int c;

				if (i == 1 && !last)
					break;
				if (i == 0)
					printf("  %-8s %7d %-7s", a ? "" : pr->role[who[k]], s[k].pid,
					       pr->area_name[a]);
				else
					printf("  %-8s %7s %-7s", "  change", "", "");
				for (c = 0; c < NR_RCOLS; c++)
					print_num(s[k].area[a][c], i ? &last->area[a][c] : NULL,
						  col_width(rcol[c]));
				for (c = 0; c < NR_ECOLS; c++) {
					if (a)
						printf(" %*s", col_width(ecol[c]), "");
					else
						print_num(s[k].event[c], i ? &last->event[c] : NULL,
							  col_width(ecol[c]));
				}
				printf("\n");
			}
		}
	}
	for (k = 0; k < n && pr->show_map; k++) {
		const char *m = s[k].map;
		size_t off, len = m ? strlen(m) : 0;

		for (off = 0; off < len; off += 64)
			printf("  %-8s |%.64s|\n", off ? "" : pr->role[who[k]], m + off);
	}
	for (line = pr->notes; (nl = strchr(line, '\n')); line = nl + 1)
		printf("  %.*s\n", (int)(nl - line), line);
}

static void json_str(const char *s)
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

static void json_step(struct probe *pr, const char *title, const int *who, int n,
		      const struct snap *s)
{
	const char *line, *nl;
	int k, a, i;

	printf("{\"lesson\":");
	json_str(pr->lesson);
	printf(",\"step\":%d,\"title\":", pr->step);
	json_str(title);
	printf(",\"processes\":[");
	for (k = 0; k < n; k++) {
		printf("%s{\"role\":", k ? "," : "");
		json_str(pr->role[who[k]]);
		printf(",\"pid\":%d,\"areas\":{", s[k].pid);
		for (a = 0; a < pr->nareas; a++) {
			printf("%s", a ? "," : "");
			json_str(pr->area_name[a]);
			printf(":{");
			for (i = 0; i < NR_RCOLS; i++) {
				printf("%s\"%s\":", i ? "," : "", rcol[i]);
				json_num(s[k].area[a][i]);
			}
			printf("}");
		}
		printf("},\"events\":{");
		for (i = 0; i < NR_ECOLS; i++) {
			printf("%s\"%s\":", i ? "," : "", ecol[i]);
			json_num(s[k].event[i]);
		}
		printf("},\"map\":");
		if (s[k].map && pr->show_map)
			json_str(s[k].map);
		else
			printf("null");
		printf("}");
	}
	printf("],\"notes\":[");
	for (line = pr->notes, i = 0; (nl = strchr(line, '\n')); line = nl + 1, i++) {
		char buf[sizeof(pr->notes)];

		snprintf(buf, sizeof(buf), "%.*s", (int)(nl - line), line);
		printf("%s", i ? "," : "");
		json_str(buf);
	}
	printf("]}\n");
}

static void csv_step(struct probe *pr, const int *who, int n, const struct snap *s)
{
	int k, a, i;

	if (!pr->csv_header_done) {
		printf("lesson,step,role,pid,area");
		for (i = 0; i < NR_RCOLS; i++)
			printf(",%s", rcol[i]);
		for (i = 0; i < NR_ECOLS; i++)
			printf(",%s", ecol[i]);
		printf("\n");
		pr->csv_header_done = true;
	}
	for (k = 0; k < n; k++) {
		for (a = 0; a < pr->nareas; a++) {
			printf("%s,%d,%s,%d,%s", pr->lesson, pr->step, pr->role[who[k]], s[k].pid,
			       pr->area_name[a]);
			for (i = 0; i < NR_RCOLS; i++)
				s[k].area[a][i] == NA ? printf(",") : printf(",%lld", s[k].area[a][i]);
			for (i = 0; i < NR_ECOLS; i++)
				s[k].event[i] == NA ? printf(",") : printf(",%lld", s[k].event[i]);
			printf("\n");
		}
	}
}

int report_step(struct probe *pr, const char *title, const int *who, int n)
{
	struct cowstat_table t = { 0 };
	struct snap s[PUPPET_MAX];
	int k;

	pr->step++;
	for (k = 0; k < n; k++) {
		int a, c;

		s[k].pid = pr->pup[who[k]].pid;
		s[k].map = NULL;
		for (a = 0; a < MAX_AREAS; a++)
			for (c = 0; c < NR_RCOLS; c++)
				s[k].area[a][c] = NA;
		for (c = 0; c < NR_ECOLS; c++)
			s[k].event[c] = NA;
	}
	if (pr->have_module && (cowstat_read(&t, pr->table, pr->err, sizeof(pr->err)) ||
				read_areas(pr, s, n))) {
		cowstat_free(&t);
		return -1;
	}
	for (k = 0; k < n; k++)
		take_snap(pr, who[k], &t, &s[k]);
	cowstat_free(&t);
	if (pr->format == FMT_TEXT)
		text_step(pr, title, who, n, s);
	else if (pr->format == FMT_JSON)
		json_step(pr, title, who, n, s);
	else
		csv_step(pr, who, n, s);
	fflush(stdout);
	pr->notes[0] = '\0';
	for (k = 0; k < n; k++) {
		free(pr->last[who[k]].map);
		pr->last[who[k]] = s[k];
		pr->last[who[k]].map = NULL;
		pr->have_last[who[k]] = true;
		free(s[k].map);
	}
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
			printf(vals[i] == (long long)vals[i] ? ",\"%s\":%.0f" : ",\"%s\":%.3f", keys[i],
			       vals[i]);
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
			printf(vals[i] == (long long)vals[i] ? ",%.0f" : ",%.3f", vals[i]);
		printf("\n");
	} else {
		printf("  %-14s", table);
		for (i = 0; i < n; i++)
			printf(vals[i] == (long long)vals[i] ? " %12.0f" : " %12.2f", vals[i]);
		printf("\n");
	}
	fflush(stdout);
}

void report_free(struct probe *pr)
{
	int i;

	for (i = 0; i < PUPPET_MAX; i++) {
		free(pr->last[i].map);
		pr->last[i].map = NULL;
	}
}
