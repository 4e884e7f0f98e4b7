/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cowstat: per-process page-sharing counts after fork().
 *
 * All counts are in base pages (4 KiB on x86); a PMD-mapped transparent
 * huge page counts as HPAGE_PMD_NR of them.
 */
#ifndef COWSTAT_H
#define COWSTAT_H

#include <linux/mm_types.h>

/*
 * One process's (or one mapping's) page counts, filled by the walk.
 *
 * rss      = anon + file: every mapped page except the zero page, as Rss in
 *            /proc/PID/smaps_rollup
 * anon     = shared + private: anonymous pages (PageAnon), wherever mapped
 * shared   anonymous pages whose map count is above one (the map count of
 *          the subpage, as smaps_account() takes it)
 * private  anonymous pages mapped by this process alone
 *
 * Two predictions that overlap the partition above: for each page of a
 * private writable mapping, what its next write does, decided as
 * do_wp_page() and do_huge_pmd_wp_page() of the running kernel decide it
 * (cowstat_write_fault() in cowstat_walk.c).  A page in neither is written
 * without a fault (its entry is writable already) or is not predicted.
 *
 * cow      the write faults and copies the page: a shared anonymous page,
 *          a KSM page, a page of a large folio the kernel will not reuse,
 *          the zero page, a page-cache page mapped privately
 * reusable the write faults and the kernel reuses the page in place: a
 *          write-protected anonymous page that is exclusive to this process
 *          (or that the kernel finds to be so)
 *
 * zero     mappings of the zero page, the huge zero page counting as 512
 * file     page-cache and shmem pages (MAP_SHARED anonymous memory is shmem)
 * swap     swap entries in the page tables
 * thp      anonymous pages mapped by huge PMDs
 */
struct cowstat_counts {
	unsigned long rss;
	unsigned long anon;
	unsigned long shared;
	unsigned long private;
	unsigned long cow;
	unsigned long reusable;
	unsigned long zero;
	unsigned long file;
	unsigned long swap;
	unsigned long thp;
};

extern bool cowstat_yield;	/* drop a contended mmap lock (module parameter) */
int cowstat_walk_mm(struct mm_struct *mm, struct cowstat_counts *c);
int cowstat_walk_range(struct mm_struct *mm, unsigned long start, unsigned long end,
		       struct cowstat_counts *c);

/*
 * /proc/cowstat_pagemap: one byte per page, for the pages of one process
 * (cowstat_pagemap.c), made by the same decisions as the counts above.
 *
 *   bits 0-2  enum cowstat_page_kind: what the page is, and what its next
 *             write does
 *   bit  3    COWSTAT_PAGE_HUGE: mapped by a huge PMD (a THP, the huge
 *             zero page)
 *   bits 4-7  the page's map count, 15 for 15 or more; 0 for no page and
 *             for the zero page.  Shared means 2 or more.
 */
enum cowstat_page_kind {
	COWSTAT_PAGE_NONE,	/* nothing mapped (no VMA, no entry, hugetlb, PFN maps) */
	COWSTAT_PAGE_WRITABLE,	/* anonymous, mapped writable: the next write makes no fault */
	COWSTAT_PAGE_REUSE,	/* anonymous, write-protected: the next write reuses it */
	COWSTAT_PAGE_COPY,	/* anonymous, write-protected: the next write copies it (cow) */
	COWSTAT_PAGE_ANON,	/* anonymous, a write is no COW fault: read-only, uffd-wp, NUMA */
	COWSTAT_PAGE_ZERO,	/* the zero page (a write copies it in a writable private VMA) */
	COWSTAT_PAGE_FILE,	/* page cache or shmem (a write copies it in a private VMA) */
	COWSTAT_PAGE_SWAP,	/* swapped out, or under migration: not present */
};

#define COWSTAT_PAGE_KIND	0x07
#define COWSTAT_PAGE_HUGE	0x08
#define COWSTAT_PAGE_MAPS_SHIFT	4
#define COWSTAT_PAGE_MAPS_MAX	15

int cowstat_walk_pages(struct mm_struct *mm, unsigned long start, unsigned long end,
		       u8 *pages);

/* Events since load, per process and in total: cowstat_events.c. */
enum cowstat_event {
	COWSTAT_COPIES,		/* write faults that copied a page */
	COWSTAT_REUSES,		/* write faults that reused an exclusive page */
	COWSTAT_FORKS,		/* children that are new processes */
	COWSTAT_NR_EVENTS
};

int cowstat_events_init(bool enable);
void cowstat_events_exit(void);
bool cowstat_events_on(void);
bool cowstat_event_available(enum cowstat_event event);
void cowstat_event_add(enum cowstat_event event, struct mm_struct *mm, unsigned long addr);
bool cowstat_events_of(pid_t tgid, long *count, long *in_range);
int cowstat_events_watch(pid_t tgid, unsigned long start, unsigned long end);
void cowstat_events_totals(long *count);
long cowstat_events_tracked(void);
long cowstat_events_lost(void);
long cowstat_events_missed(void);
void cowstat_events_check(void);
void cowstat_events_reset(void);

/*
 * The hooks on the fault paths that find copies and reuses:
 * cowstat_faults.c.  Attach returns the events they can count, as
 * BIT(COWSTAT_COPIES) | BIT(COWSTAT_REUSES), or 0.
 */
unsigned long cowstat_faults_attach(void);
void cowstat_faults_detach(void);
void cowstat_faults_task_exit(struct task_struct *tsk);
long cowstat_faults_missed(void);
bool cowstat_faults_reuses_seen(void);

/* /proc/cowstat and /proc/cowstat_maps: cowstat_proc.c, cowstat_maps.c. */
struct seq_file;
struct task_struct;

/*
 * Who reads a file, fixed at open as for /proc/PID/maps: the opener's
 * credentials (file->f_cred) and memory.
 */
struct cowstat_reader {
	struct pid_namespace *ns;
	struct file *file;
	struct mm_struct *self;	/* the opener's mm at open (mmgrab()), or NULL */
};

void cowstat_reader_init(struct cowstat_reader *r, struct inode *inode,
			 struct file *file);
void cowstat_reader_release(struct cowstat_reader *r);
struct task_struct *cowstat_find_task(const struct cowstat_reader *r,
				      pid_t *tgid);
struct mm_struct *cowstat_get_group_mm(const struct cowstat_reader *r,
				       struct task_struct *leader);
void cowstat_show_page_header(struct seq_file *m);
void cowstat_show_counts(struct seq_file *m, const struct cowstat_counts *c);
void cowstat_put_num(struct seq_file *m, unsigned long v, unsigned int width);

int cowstat_proc_init(void);
void cowstat_proc_exit(void);
int cowstat_maps_init(void);
void cowstat_maps_exit(void);
int cowstat_pagemap_init(void);
void cowstat_pagemap_exit(void);

/* /sys/kernel/cowstat: cowstat_sysfs.c. */
int cowstat_sysfs_init(void);
void cowstat_sysfs_exit(void);

#endif /* COWSTAT_H */
