// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pages of a region, one struct page_info a page: from the module's
 * /proc/cowstat_pagemap (what the next write to each page does, its map
 * count, a huge PMD), or without the module from /proc/PID/pagemap
 * (Documentation/admin-guide/mm/pagemap.rst) and, for root, the map count
 * of each frame from /proc/kpagecount, as page-types does.  And the number
 * of distinct frames behind a region in several processes.  Frame numbers
 * are only counted here, never printed.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../module/cowstat_uapi.h"
#include "probe.h"

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)	/* file page, or shared anonymous (shmem) */
#define PM_EXCLUSIVE	(1ULL << 56)	/* mapped exactly once */
#define PM_PFN_MASK	((1ULL << 55) - 1)

/* The byte of /proc/cowstat_pagemap (module/cowstat.h). */
#define CP_KIND		0x07
#define CP_HUGE		0x08
#define CP_MAPS_SHIFT	4
enum { CP_NONE, CP_WRITABLE, CP_REUSE, CP_COPY, CP_ANON, CP_ZERO, CP_FILE, CP_SWAP };

/* One 64-bit entry at @index of an open pagemap-like file; 0 on error. */
static uint64_t read_u64(int fd, unsigned long index)
{
	uint64_t v;

	if (pread(fd, &v, sizeof(v), (off_t)(index * sizeof(v))) != sizeof(v))
		return 0;
	return v;
}

/* The zero page's frame: map a page, read it, look it up (root only). */
unsigned long find_zero_pfn(void)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p;
	unsigned long pfn = 0;
	int fd;

	p = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	(void)p[0];
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		pfn = read_u64(fd, (unsigned long)p / page) & PM_PFN_MASK;
		close(fd);
	}
	munmap((void *)p, page);
	return pfn;
}

/* Pick process @pid in /proc/cowstat_pagemap, and watch [@start, @end) unless empty. */
static int pick(struct probe *pr, int pid, unsigned long start, unsigned long end)
{
	struct cowstat_pick p = { .pid = pid, .start = start, .end = end };

	return ioctl(pr->pagemap_fd, COWSTAT_PICK, &p);
}

/*
 * Watch the region of process @pid: its copies and reuses there are
 * counted apart (rcopies, rreuses in /proc/cowstat), and so are those of
 * the children it forks from now on.  0, or -1 (no module).
 */
int page_watch(struct probe *pr, int pid, unsigned long addr, unsigned long pages)
{
	if (pr->pagemap_fd < 0)
		return -1;
	return pick(pr, pid, addr, addr + pages * sysconf(_SC_PAGESIZE));
}

static void from_module_byte(struct page_info *p, unsigned char b)
{
	static const unsigned char state[] = {
		[CP_NONE] = PS_ABSENT, [CP_WRITABLE] = PS_WRITABLE, [CP_REUSE] = PS_REUSE,
		[CP_COPY] = PS_SHARED, [CP_ANON] = PS_NOCOW, [CP_ZERO] = PS_ZERO,
		[CP_FILE] = PS_FILE, [CP_SWAP] = PS_SWAP,
	};

	p->maps = b >> CP_MAPS_SHIFT;
	p->huge = b & CP_HUGE;
	p->state = state[b & CP_KIND];
	if (p->state == PS_SHARED && p->maps < 2)
		p->state = PS_COPY_ONCE;
}

static int module_pages(struct probe *pr, int pid, unsigned long addr, unsigned long pages,
			struct page_info *out)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char buf[4096];
	unsigned long done = 0, i;

	if (pick(pr, pid, 0, 0))
		return -1;
	while (done < pages) {
		size_t want = pages - done < sizeof(buf) ? pages - done : sizeof(buf);
		ssize_t got = pread(pr->pagemap_fd, buf, want, (off_t)(addr / page + done));

		if (got <= 0)
			return -1;
		for (i = 0; i < (unsigned long)got; i++)
			from_module_byte(&out[done + i], buf[i]);
		done += got;
	}
	return 0;
}

/* Without the module: what /proc/PID/pagemap and /proc/kpagecount tell. */
static void from_pagemap(struct page_info *p, uint64_t pm, int kpagecount,
			 unsigned long zero_pfn)
{
	unsigned long pfn = pm & PM_PFN_MASK;
	uint64_t count;

	p->huge = false;
	p->maps = 0;
	if (!(pm & PM_PRESENT)) {
		p->state = (pm & PM_SWAP) ? PS_SWAP : PS_ABSENT;
		return;
	}
	if (zero_pfn && pfn == zero_pfn) {
		p->state = PS_ZERO;
		return;
	}
	if (pm & PM_FILE) {
		p->state = PS_FILE;
		return;
	}
	if (kpagecount >= 0 && pfn) {
		count = read_u64(kpagecount, pfn);
		p->maps = count > 15 ? 15 : (unsigned char)count;
		p->state = count <= 1 ? PS_PRIVATE : PS_SHARED;
		return;
	}
	p->state = (pm & PM_EXCLUSIVE) ? PS_PRIVATE : PS_SHARED_ANY;
}

static int pagemap_pages(struct probe *pr, int pid, unsigned long addr, unsigned long pages,
			 struct page_info *out)
{
	long page = sysconf(_SC_PAGESIZE);
	char path[64];
	unsigned long i;
	int fd, kpc;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	kpc = pr->zero_pfn ? open("/proc/kpagecount", O_RDONLY | O_CLOEXEC) : -1;
	for (i = 0; i < pages; i++)
		from_pagemap(&out[i], read_u64(fd, addr / page + i), kpc, pr->zero_pfn);
	if (kpc >= 0)
		close(kpc);
	close(fd);
	return 0;
}

/* The states of @pages pages from @addr in process @pid (malloc'd), or NULL. */
struct page_info *page_states(struct probe *pr, int pid, unsigned long addr,
			      unsigned long pages)
{
	struct page_info *out = calloc(pages, sizeof(*out));
	int err;

	if (!out)
		return NULL;
	if (pr->pagemap_fd >= 0)
		err = module_pages(pr, pid, addr, pages, out);
	else
		err = pagemap_pages(pr, pid, addr, pages, out);
	if (err) {
		free(out);
		return NULL;
	}
	return out;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Frame numbers (root): every distinct one, the zero page's aside. */
static long long frames_by_pfn(struct probe *pr, const int *who, int n)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long i, got = 0;
	long long frames = 0;
	uint64_t *pfn;
	char path[64];
	int k, fd;

	pfn = malloc(n * pr->region_pages * sizeof(*pfn));
	if (!pfn)
		return NA;
	for (k = 0; k < n; k++) {
		if (!pr->view[who[k]].pages)
			continue;	/* the region is not mapped there */
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pr->pup[who[k]].pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* no such process any more: no frames */
		for (i = 0; i < pr->region_pages; i++) {
			uint64_t pm = read_u64(fd, pr->area_addr[0] / page + i);

			if ((pm & PM_PRESENT) && (pm & PM_PFN_MASK) != pr->zero_pfn)
				pfn[got++] = pm & PM_PFN_MASK;
		}
		close(fd);
	}
	qsort(pfn, got, sizeof(*pfn), cmp_u64);
	for (i = 0; i < got; i++)
		frames += !i || pfn[i] != pfn[i - 1];
	free(pfn);
	return frames;
}

/*
 * Without frame numbers: a frame mapped m times, all of them by these
 * processes, is seen m times with map count m.  Exact when nothing else
 * maps the region's pages, as for a lesson's puppets; NA without counts.
 */
static long long frames_by_maps(struct probe *pr, const int *who, int n)
{
	unsigned long counted[16] = { 0 };
	double frames = 0;
	unsigned long i;
	int k, m;

	for (k = 0; k < n; k++) {
		const struct page_info *p = pr->view[who[k]].pages;

		for (i = 0; p && i < pr->region_pages; i++) {
			if (p[i].state == PS_ABSENT || p[i].state == PS_SWAP ||
			    p[i].state == PS_ZERO)
				continue;
			if (!p[i].maps)
				return NA;
			counted[p[i].maps]++;
		}
	}
	for (m = 1; m < 16; m++)
		frames += (double)counted[m] / m;
	return (long long)(frames + 0.5);
}

/* Distinct frames behind the region in the processes @who[0..n). */
long long region_frames(struct probe *pr, const int *who, int n)
{
	if (!pr->region_pages)
		return NA;
	if (pr->zero_pfn)
		return frames_by_pfn(pr, who, n);
	return frames_by_maps(pr, who, n);
}
