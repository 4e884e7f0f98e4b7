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
#include <stdio.h>

#include "puppet.h"

enum format { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_HTML };

/* The page columns of a mapping, and the event columns of a process. */
enum { R_RSS, R_ANON, R_SHARED, R_PRIVATE, R_COW, R_REUSABLE, R_ZERO, R_FILE, R_THP, NR_RCOLS };
enum { E_COPIES, E_REUSES, E_FORKS, NR_ECOLS };
#define NA		LLONG_MIN	/* a figure that is missing */
#define MAX_AREAS	4

/*
 * What the next write to a page does, as the page map draws it (map.c
 * holds the characters, colours and legend of each).  From the module's
 * /proc/cowstat_pagemap, or without it from /proc/PID/pagemap, which
 * tells less (PS_PRIVATE, PS_SHARED_ANY).
 */
enum page_state {
	PS_ABSENT,	/* nothing mapped */
	PS_WRITABLE,	/* private, writable: the write makes no fault */
	PS_REUSE,	/* private, write-protected: the write faults, keeps the page */
	PS_SHARED,	/* mapped more than once: the write copies it */
	PS_COPY_ONCE,	/* mapped once, yet the write copies it (a large folio, KSM) */
	PS_NOCOW,	/* anonymous, but a write is no COW fault (read-only mapping) */
	PS_ZERO,	/* the zero page */
	PS_FILE,	/* page cache or shmem */
	PS_SWAP,	/* swapped out */
	PS_PRIVATE,	/* mapped once (no module: what a write does is unknown) */
	PS_SHARED_ANY,	/* mapped more than once, count unknown (no module, not root) */
	NR_PAGE_STATES
};

struct page_info {
	unsigned char state;	/* enum page_state */
	unsigned char maps;	/* map count, when known; else 0 */
	bool huge;		/* mapped by a huge PMD */
};

/* One process as one step shows it. */
struct view {
	int pid;
	long long area[MAX_AREAS][NR_RCOLS];	/* NA when the mapping is absent */
	long long event[NR_ECOLS];		/* the whole process */
	long long region_event[NR_ECOLS];	/* inside the region (forks: NA) */
	struct page_info *pages;		/* the region's pages, or NULL */
	bool started;		/* first shown since it was started or exec'd */
	bool forked;		/* first shown since it was forked */
};

/*
 * One step: built once (step.c), then drawn by one renderer per format
 * (render_text.c, render_json.c, render_csv.c).  The processes' views are
 * in pr->view[] (and the step before's in pr->prev[]), indexed by puppet.
 */
struct step {
	int number;
	char title[160];
	int who[PUPPET_MAX];
	int n;
	long long frames;		/* distinct frames behind the region, or NA */
	long long frames_before;	/* the step before's, or NA */
	char notes[3072];		/* prose and facts, a line each */
	char unexpected[1024];		/* checks that failed, a line each */
};

struct probe {
	/* options */
	const char *table;		/* /proc/cowstat */
	const char *maps;		/* /proc/cowstat_maps */
	long pages, writes;
	bool sizes_given;		/* -n or -k on the command line */
	bool pages_given;		/* -n on the command line */
	enum format format;
	bool show_map;
	bool color;

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
	int pagemap_fd;			/* /proc/cowstat_pagemap, or -1 */
	bool csv_header_done;
	bool html_table_open;		/* a measurement table (report_header()) */
	struct step cur;
	struct view view[PUPPET_MAX], prev[PUPPET_MAX];
	bool have_view[PUPPET_MAX], have_prev[PUPPET_MAX];
	bool started[PUPPET_MAX], forked[PUPPET_MAX];	/* see struct view */
	long long last_frames;
	unsigned long zero_pfn;		/* 0 when unknown (not root) */
	int failed;			/* a check of the lesson failed */
	char err[256];
};

struct lesson {
	const char *name;
	const char *summary;
	int (*run)(struct probe *pr);	/* 0, or -1 with pr->err set */
	const char *needs;		/* a program it runs (the full image has it), or NULL */
};

extern const struct lesson lessons[];
extern const int nr_lessons;

/* report.c: a lesson's steps, notes and checks */
void report_init(struct probe *pr);
void report_text(struct probe *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_note(struct probe *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int report_take(struct probe *pr, const char *title, const int *who, int n);
void report_show(struct probe *pr);
int report_step(struct probe *pr, const char *title, const int *who, int n);
void report_unexpected(struct probe *pr, const char *what);
void report_record(struct probe *pr, const char *table, int n,
		   const char *const *keys, const double *vals);
void report_header(struct probe *pr, const char *first, int n, const char *const *keys);
void report_summary(struct probe *pr);
void report_free(struct probe *pr);

/* step.c: reading one step's numbers, and what the renderers share */
int step_take(struct probe *pr);
void step_forget(struct probe *pr, int who);
long long row_event(struct probe *pr, const struct view *s, int c);
const char *elsewhere_cause(const struct view *s);
long long elsewhere_change(struct probe *pr, int who, int c);

/* render_*.c: one step in each format */
void render_text(struct probe *pr);
void render_json(struct probe *pr);
void render_csv(struct probe *pr);
void render_html(struct probe *pr);
void html_begin(struct probe *pr, const char *summary);
void html_end(struct probe *pr);
void html_escape(const char *s);
void html_paragraphs(const char *text, const char *class);
void json_str(const char *s);
void json_lines(const char *text);
void text_paragraphs(const char *text, const char *prefix);
extern const char *const rcol[NR_RCOLS];
extern const char *const ecol[NR_ECOLS];

/* pagemap.c: the pages of a region, and the frames behind them */
struct page_info *page_states(struct probe *pr, int pid, unsigned long addr,
			      unsigned long pages);
int page_watch(struct probe *pr, int pid, unsigned long addr, unsigned long pages);
long long region_frames(struct probe *pr, const int *who, int n);
unsigned long find_zero_pfn(void);

/* map.c: the characters of the page map, their colours and legend */
char page_char(const struct page_info *p);
bool page_shared(const struct page_info *p);
void map_legend(FILE *out, bool module, bool root, const char *indent);
void map_draw(struct probe *pr, const char *label, const struct page_info *pages,
	      const struct page_info *before, unsigned long n);
void map_css(FILE *out);
void map_legend_html(FILE *out, bool module, bool root);
void map_draw_html(FILE *out, const char *label, const struct page_info *pages,
		   const struct page_info *before, unsigned long n);

/* timing.c: the clock of the timing lessons, and their figures */
enum clock_kind { CLOCK_HOST, CLOCK_TCG, CLOCK_ICOUNT };
struct spread {
	double median, min, max;
};
enum clock_kind timing_clock(void);
const char *timing_unit(void);
void timing_caption(struct probe *pr, int runs);
struct spread timing_spread(double *v, int n);
const char *timing_human(double v, char *buf, size_t len);
const char *timing_time(double v, char *buf, size_t len);

/* faults.c, forkcost.c: the timing lessons */
int lesson_faults(struct probe *pr);
int lesson_forkcost(struct probe *pr);

/* watch.c: cowprobe watch */
int watch_main(int argc, char **argv);

/* lessons.c helpers; the puppets of a lesson, by index */
enum { PARENT, CHILD, CHILD2, CHILD3 };
long cmd(struct probe *pr, int who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int lesson_start(struct probe *pr, int n, const char *const *roles);
int lesson_written_region(struct probe *pr, const char *kind, long pages);
int lesson_fork_child(struct probe *pr, int parent, int child, const char *name);
long long area(struct probe *pr, int who, int col);
bool known(long long v);
long long region_change(struct probe *pr, int who, int col);
const char *count_of(long long n, const char *one, const char *many);
const char *pages_of(long long n);
bool eq(long long v, long long want);
void expect(struct probe *pr, bool ok, const char *what);
long reap(struct probe *pr, int parent);
void frames_note(struct probe *pr);

/* snapshot.c: the snapshot lesson */
int lesson_snapshot(struct probe *pr);

#endif /* COWPROBE_PROBE_H */
