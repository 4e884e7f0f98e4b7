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
#include <linux/uidgid.h>

/*
 * One process's page counts, filled by cowstat_walk_mm().
 *
 * rss     = anon + file: every mapped page except the zero page, as Rss in
 *           /proc/PID/smaps_rollup
 * anon    = shared + private: anonymous pages (PageAnon), wherever mapped
 * shared  anonymous pages whose map count is above one (page_mapcount() of
 *         the subpage, as smaps_account() takes it)
 * private anonymous pages mapped by this process alone
 * cow     shared pages in private writable mappings: a write copies them
 * zero    mappings of the zero page, the huge zero page counting as 512
 * file    page-cache and shmem pages (MAP_SHARED anonymous memory is shmem)
 * swap    swap entries in the page tables
 * thp     anonymous pages mapped by huge PMDs
 */
struct cowstat_counts {
	unsigned long rss;
	unsigned long anon;
	unsigned long shared;
	unsigned long private;
	unsigned long cow;
	unsigned long zero;
	unsigned long file;
	unsigned long swap;
	unsigned long thp;
};

int cowstat_walk_mm(struct mm_struct *mm, struct cowstat_counts *c);
extern bool cowstat_yield;	/* drop a contended mmap lock (module parameter) */
int cowstat_walk_vma(struct vm_area_struct *vma, struct cowstat_counts *c);

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
bool cowstat_events_of(pid_t tgid, long *count);
void cowstat_events_totals(long *count);
long cowstat_events_tracked(void);
long cowstat_events_lost(void);
void cowstat_events_reset(void);

/* /proc/cowstat and /proc/cowstat_maps: cowstat_proc.c, cowstat_maps.c. */
struct seq_file;
struct task_struct;

/* What the opener of a file may see; fixed at open, as /proc does. */
struct cowstat_reader {
	struct pid_namespace *ns;
	kuid_t euid;
	bool sees_all;		/* CAP_SYS_ADMIN in the initial user namespace */
	struct pid *opener;	/* the opener's thread group: it always sees itself */
};

void cowstat_reader_init(struct cowstat_reader *r, struct inode *inode,
			 struct file *file);
void cowstat_reader_release(struct cowstat_reader *r);
struct task_struct *cowstat_find_task(const struct cowstat_reader *r,
				      pid_t *tgid);
struct mm_struct *cowstat_get_group_mm(const struct cowstat_reader *r,
				       struct task_struct *leader);
void cowstat_show_counts(struct seq_file *m, const struct cowstat_counts *c);

int cowstat_proc_init(void);
void cowstat_proc_exit(void);
int cowstat_maps_init(void);
void cowstat_maps_exit(void);

/* /sys/kernel/cowstat: cowstat_sysfs.c. */
int cowstat_sysfs_init(void);
void cowstat_sysfs_exit(void);

#endif /* COWSTAT_H */
