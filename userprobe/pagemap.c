// SPDX-License-Identifier: GPL-2.0-only
/*
 * A picture of a region, one character a page, from /proc/PID/pagemap
 * (Documentation/admin-guide/mm/pagemap.rst) and, for root, the map count
 * of each frame from /proc/kpagecount, as page-types does.  Frame numbers
 * are only used here, never printed.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe.h"

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)	/* file page, or shared anonymous (shmem) */
#define PM_EXCLUSIVE	(1ULL << 56)	/* mapped exactly once */
#define PM_PFN_MASK	((1ULL << 55) - 1)

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

static char page_char(uint64_t pm, int kpagecount, unsigned long zero_pfn)
{
	unsigned long pfn = pm & PM_PFN_MASK;
	uint64_t count;

	if (!(pm & PM_PRESENT))
		return pm & PM_SWAP ? 's' : '.';
	if (zero_pfn && pfn == zero_pfn)
		return '0';
	if (pm & PM_FILE)
		return 'f';
	if (kpagecount >= 0 && pfn) {
		count = read_u64(kpagecount, pfn);
		if (count <= 1)
			return 'p';
		return count > 9 ? '+' : (char)('0' + count);
	}
	return pm & PM_EXCLUSIVE ? 'p' : 'S';
}

/* The map of @pages pages from @addr in process @pid (malloc'd), or NULL. */
char *page_map(struct probe *pr, int pid, unsigned long addr, unsigned long pages)
{
	long page = sysconf(_SC_PAGESIZE);
	char path[64], *map;
	unsigned long i;
	int fd, kpc;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	map = malloc(pages + 1);
	if (!map) {
		close(fd);
		return NULL;
	}
	kpc = pr->zero_pfn ? open("/proc/kpagecount", O_RDONLY | O_CLOEXEC) : -1;
	for (i = 0; i < pages; i++)
		map[i] = page_char(read_u64(fd, addr / page + i), kpc, pr->zero_pfn);
	map[pages] = '\0';
	if (kpc >= 0)
		close(kpc);
	close(fd);
	return map;
}
