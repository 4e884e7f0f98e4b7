/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cowprobe's lessons: what a lesson drives (puppets, a region), and how it
 * reports each step (report.c) in text, JSON lines or CSV.
 */
#ifndef COWPROBE_PROBE_H
#define COWPROBE_PROBE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "puppet.h"

enum format { FMT_TEXT, FMT_JSON, FMT_CSV };

/* The page columns of a mapping, and the event columns of a process. */
enum { R_RSS, R_ANON, R_SHARED, R_PRIVATE, R_COW, R_REUSABLE, R_ZERO, R_FILE, R_THP, NR_RCOLS };
enum { E_COPIES, E_REUSES, E_FORKS, NR_ECOLS };
#define NA		LLONG_MIN	/* a figure that is missing */
#define MAX_AREAS	4

/* What one process shows in one step. */
struct snap {
	int pid;
	long long area[MAX_AREAS][NR_RCOLS];	/* NA when the mapping is absent */
	long long event[NR_ECOLS];
	char *map;				/* page map of area 0, or NULL */
};

struct probe {
	/* options */
	const char *table;		/* /proc/cowstat */
	const char *maps;		/* /proc/cowstat_maps */
	long pages, writes;
	enum format format;
	bool show_map;

	/* what the lesson set up */
	const char *lesson;
	struct puppet pup[PUPPET_MAX];
	int npup;
	const char *role[PUPPET_MAX];
	int nareas;			/* areas shown per process */
	const char *area_name[MAX_AREAS];
	unsigned long area_addr[MAX_AREAS];	/* an address inside each */
	unsigned long region_pages;	/* pages of area 0, for the map */
	int vfork_child;		/* a vfork()ed child still waiting, or 0 */

	/* reporting state */
	bool have_module;		/* /proc/cowstat and /proc/cowstat_maps */
	bool csv_header_done;
	int step;
	struct snap last[PUPPET_MAX];
	bool have_last[PUPPET_MAX];
	char notes[1024];
	unsigned long zero_pfn;		/* 0 when unknown (not root) */
	int failed;			/* a check of the lesson failed */
	char err[256];
};

struct lesson {
	const char *name;
	const char *summary;
	int (*run)(struct probe *pr);	/* 0, or -1 with pr->err set */
};

extern const struct lesson lessons[];
extern const int nr_lessons;

/* report.c */
void report_init(struct probe *pr);
void report_text(struct probe *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_note(struct probe *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int report_step(struct probe *pr, const char *title, const int *who, int n);
void report_unexpected(struct probe *pr, const char *what);
void report_record(struct probe *pr, const char *table, int n,
		   const char *const *keys, const double *vals);
void report_free(struct probe *pr);

/* pagemap.c: one character a page; counts[] indexed by the map's letters. */
#define MAP_LEGEND	"S or 2-9: shared (its map count), p: private, 0: zero page, " \
			"f: file or shmem, s: swapped, .: not present"
char *page_map(struct probe *pr, int pid, unsigned long addr, unsigned long pages);
unsigned long find_zero_pfn(void);

/* faults.c */
int lesson_faults(struct probe *pr);

/* lessons.c helpers */
long cmd(struct probe *pr, int who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* COWPROBE_PROBE_H */
