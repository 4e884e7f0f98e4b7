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

int cowstat_proc_init(void);
void cowstat_proc_exit(void);

#endif /* COWSTAT_H */
