// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/cowstat_pagemap: one byte a page (what the next write does, a
 * huge PMD, the map count), its visibility rule and its input checks; and
 * the watched range a pick sets, whose copies and reuses /proc/cowstat
 * counts apart (rcopies, rreuses), inherited at fork, dropped at exec.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../module/cowstat_uapi.h"
#include "cowtest.h"

#define PAGEMAP		"/proc/cowstat_pagemap"
#define N		16
#define K		5

/* The byte's fields (module/cowstat.h). */
enum { NONE, WRITABLE, REUSE, COPY, ANON, ZERO, FILE_PAGE, SWAP };
#define KIND(b)		((b) & 0x07)
#define HUGE(b)		(((b) >> 3) & 1)
#define MAPS(b)		((b) >> 4)

enum { PARENT, CHILD };

/* Pick @pid (and watch [@start, @end) unless empty) on @fd: 0 or -errno. */
static int pick(int fd, int pid, unsigned long start, unsigned long end)
{
	struct cowstat_pick p = { .pid = pid, .start = start, .end = end };

	return ioctl(fd, COWSTAT_PICK, &p) ? -errno : 0;
}

/* The bytes of @n pages from @addr of process @pid; false with a diagnostic. */
static bool page_bytes(pid_t pid, long addr, unsigned char *b, int n)
{
	bool ok;
	int fd;

	fd = open(PAGEMAP, O_RDONLY | O_CLOEXEC);
	if (!check(fd >= 0, "open %s: %s", PAGEMAP, strerror(errno)))
		return false;
	ok = check(pick(fd, pid, 0, 0) == 0, "pick %d: %s", (int)pid, strerror(errno)) &&
	     check(pread(fd, b, n, addr / 4096) == n, "pread %d bytes: %s", n, strerror(errno));
	close(fd);
	return ok;
}

/* Every byte of @b[first..first+n) is @kind with map count @maps. */
static void check_bytes(const char *who, const unsigned char *b, int first, int n, int kind,
			int maps)
{
	int i;

	for (i = first; i < first + n; i++)
		if (!check(KIND(b[i]) == kind && MAPS(b[i]) == maps && !HUGE(b[i]),
			   "%s: page %d is kind %d, %d maps (byte %#x), expected kind %d, %d maps",
			   who, i, KIND(b[i]), MAPS(b[i]), b[i], kind, maps))
			return;
}

static long region_addr(struct puppet *p)
{
	char err[256];
	long addr = puppet_cmd(p, err, sizeof(err), "addr");

	check(addr > 0, "addr: %s", err);
	return addr;
}

/*
 * Written pages are writable and mapped once; after fork every one is a
 * copy at map count 2 in both; the child's K writes make its pages
 * writable and the parent's originals reusable, mapped once; pages only
 * read map the zero page; pages never touched are not present.  If the
 * byte came from anything but the counts' own decisions, one would differ.
 */
static enum ktap_result bytes_follow_the_writes(const char **skip)
{
	unsigned char b[2][N];
	struct puppet p[2];
	long addr;

	(void)skip;
	if (!spawn(p, 2, "t-pagemap"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "pin") || !pcmd(&p[PARENT], "map anon %d", N) ||
	    !pcmd(&p[PARENT], "write 0 %d", N - 4) ||
	    !pcmd(&p[PARENT], "read %d 2", N - 4))
		goto out;
	addr = region_addr(&p[PARENT]);
	if (addr <= 0 || !page_bytes(p[PARENT].pid, addr, b[PARENT], N))
		goto out;
	check_bytes("parent", b[PARENT], 0, N - 4, WRITABLE, 1);
	check_bytes("parent", b[PARENT], N - 4, 2, ZERO, 0);
	check_bytes("parent", b[PARENT], N - 2, 2, NONE, 0);

	if (!pfork(p, PARENT, CHILD) || !page_bytes(p[PARENT].pid, addr, b[PARENT], N) ||
	    !page_bytes(p[CHILD].pid, addr, b[CHILD], N))
		goto out;
	check_bytes("parent", b[PARENT], 0, N - 4, COPY, 2);
	check_bytes("child", b[CHILD], 0, N - 4, COPY, 2);

	if (!pcmd(&p[CHILD], "write 0 %d", K) || !page_bytes(p[PARENT].pid, addr, b[PARENT], N) ||
	    !page_bytes(p[CHILD].pid, addr, b[CHILD], N))
		goto out;
	check_bytes("child", b[CHILD], 0, K, WRITABLE, 1);
	check_bytes("parent", b[PARENT], 0, K, REUSE, 1);
	check_bytes("parent", b[PARENT], K, N - 4 - K, COPY, 2);
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * A PMD-mapped THP: every byte says huge, writable, mapped once; after
 * fork, huge and shared (2).  Skipped when the kernel gives no THP.
 */
static enum ktap_result bytes_mark_huge_pmds(const char **skip)
{
	unsigned char b[1024];
	struct cowstat_row row[1];
	struct puppet p[2];
	long addr;
	int i, bad = 0;

	if (!thp_enabled()) {
		*skip = "THP is off";
		return KTAP_SKIP;
	}
	if (!spawn(p, 2, "t-pagemap-thp"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "map thp 1024") || !pcmd(&p[PARENT], "write 0 1024") ||
	    !snapshot(p, 1, row))
		goto out;
	if (col(&row[0], "thp") < 512) {
		*skip = "no huge page was given";
		finish(p, 2);
		return KTAP_SKIP;
	}
	addr = region_addr(&p[PARENT]);
	if (addr <= 0 || !pfork(p, PARENT, CHILD) || !page_bytes(p[CHILD].pid, addr, b, 1024))
		goto out;
	for (i = 0; i < 1024; i++)
		bad += HUGE(b[i]) && (KIND(b[i]) != COPY || MAPS(b[i]) != 2);
	check(!bad, "%d huge pages are not copies at map count 2", bad);
	for (i = 0, bad = 0; i < 1024; i++)
		bad += HUGE(b[i]);
	check(bad == col(&row[0], "thp"), "%d pages marked huge, 'thp' says %lld", bad,
	      col(&row[0], "thp"));
out:
	finish(p, 2);
	return KTAP_PASS;
}

/* Bad input is EINVAL, another ioctl ENOTTY, a pid nobody has ESRCH; the file is read-only. */
static enum ktap_result pick_rules(const char **skip)
{
	static const struct cowstat_pick bad[] = {
		{ .pid = 0 }, { .pid = -1 }, { .pid = 1, .reserved = 1 },
		{ .pid = 1, .start = 0x2000, .end = 0x1000 },
		{ .pid = 1, .start = 0x1000, .end = 0x1000 },
	};
	struct cowstat_pick p = { .pid = 4000000 };
	unsigned char byte;
	struct stat st;
	unsigned int i;
	int fd;

	(void)skip;
	check(stat(PAGEMAP, &st) == 0 && (st.st_mode & 0777) == 0444, "%s is not mode 0444",
	      PAGEMAP);
	/* Root may open it for writing (CAP_DAC_OVERRIDE), but nothing is written. */
	fd = open(PAGEMAP, O_WRONLY | O_CLOEXEC);
	check(fd < 0 || write(fd, "1", 1) < 0, "%s took a write", PAGEMAP);
	if (fd >= 0)
		close(fd);
	fd = open(PAGEMAP, O_RDONLY | O_CLOEXEC);
	if (!check(fd >= 0, "open: %s", strerror(errno)))
		return KTAP_FAIL;
	check(pread(fd, &byte, 1, 0) == -1 && errno == EINVAL,
	      "a read before any pick: %s", strerror(errno));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(ioctl(fd, COWSTAT_PICK, &bad[i]) == -1 && errno == EINVAL,
		      "pick %u was not refused with EINVAL: %s", i, strerror(errno));
	check(ioctl(fd, _IOW('c', 2, struct cowstat_pick), &p) == -1 && errno == ENOTTY,
	      "an unknown ioctl: %s", strerror(errno));
	check(ioctl(fd, COWSTAT_PICK, NULL) == -1 && errno == EFAULT, "a NULL pick: %s",
	      strerror(errno));
	check(ioctl(fd, COWSTAT_PICK, &p) == -1 && errno == ESRCH, "a pid nobody has: %s",
	      strerror(errno));
	check(pick(fd, 1, 0, 0) == 0, "init could not be picked");
	check(pread(fd, &byte, 1, 0) == 1 && byte == 0, "init's page 0 is not 'not present'");
	check(pread(fd, &byte, 1, (1ULL << 47) / 4096) == 0, "a read past the user address space");
	close(fd);
	return KTAP_PASS;
}

/* As uid 1000: init cannot be picked (ESRCH, as if absent), its own self can. */
static int student_picks(void *unused)
{
	int fd, bad = 0;

	(void)unused;
	if (!become_student())
		return 100;
	fd = open(PAGEMAP, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 101;
	bad |= !check(pick(fd, 1, 0, 0) == -ESRCH, "uid 1000 picked init");
	bad |= !check(pick(fd, 1, 0x1000, 0x2000) == -ESRCH, "uid 1000 watched init");
	bad |= !check(pick(fd, getpid(), 0, 0) == 0, "uid 1000 cannot pick itself");
	close(fd);
	return bad;
}

static enum ktap_result student_sees_its_own(const char **skip)
{
	int status = in_child(student_picks, NULL);

	(void)skip;
	check(status == 0, "as uid 1000: exit status %d", status);
	return KTAP_PASS;
}

/*
 * The watched range: the child inherits it at fork; its K writes there
 * are exactly K rcopies, its writes elsewhere (its stack) copies but not
 * rcopies; the parent's K writes to its originals are exactly K rreuses;
 * exec drops the range ("-").
 */
static enum ktap_result watched_range_counts_apart(const char **skip)
{
	struct cowstat_row r0[2], r1[2], r2[2], r3[2];
	struct puppet p[2];
	long addr;
	int fd;

	(void)skip;
	if (!spawn(p, 2, "t-watch"))
		return KTAP_FAIL;
	/*
	 * On one CPU, the child too: a page just written sits in that CPU's
	 * LRU batch, and a write fault on another CPU would copy it rather
	 * than reuse it (see the lessons' start()).
	 */
	if (!pcmd(&p[PARENT], "pin") || !pcmd(&p[PARENT], "map anon %d", N) ||
	    !pcmd(&p[PARENT], "write 0 %d", N))
		goto out;
	addr = region_addr(&p[PARENT]);
	fd = open(PAGEMAP, O_RDONLY | O_CLOEXEC);
	check(fd >= 0 && pick(fd, p[PARENT].pid, addr, addr + N * 4096L) == 0, "watch: %s",
	      strerror(errno));
	if (fd >= 0)
		close(fd);
	if (!snapshot(p, 1, r0))
		goto out;
	check(col(&r0[0], "rcopies") == 0 && col(&r0[0], "rreuses") == 0,
	      "a new range does not count from 0: rcopies %lld, rreuses %lld",
	      col(&r0[0], "rcopies"), col(&r0[0], "rreuses"));
	if (!pfork(p, PARENT, CHILD) || !snapshot(p, 2, r1))
		goto out;
	check(col(&r1[CHILD], "rcopies") == 0, "the child did not inherit the range: rcopies %lld",
	      col(&r1[CHILD], "rcopies"));
	if (!pcmd(&p[CHILD], "write 0 %d", K) || !snapshot(p, 2, r2))
		goto out;
	check_delta("child", &r1[CHILD], &r2[CHILD], "rcopies", K);
	check_delta("child", &r1[CHILD], &r2[CHILD], "rreuses", 0);
	if (!pcmd(&p[PARENT], "write 0 %d", K) || !snapshot(p, 2, r3))
		goto out;
	check_delta("parent", &r2[PARENT], &r3[PARENT], "rreuses", K);
	check_delta("parent", &r2[PARENT], &r3[PARENT], "rcopies", 0);
	if (!pcmd(&p[CHILD], "exec") || !snapshot(p, 2, r3))
		goto out;
	check(col(&r3[CHILD], "rcopies") == COWSTAT_NA, "exec kept the range: rcopies %lld",
	      col(&r3[CHILD], "rcopies"));
out:
	finish(p, 2);
	return KTAP_PASS;
}

/*
 * A huge PMD reused whole counts where the write was, not at the PMD's
 * start: a range of one page in the middle of the THP sees the reuse.
 */
static enum ktap_result huge_reuse_counts_at_the_write(const char **skip)
{
	struct cowstat_row before[1], after[1];
	enum ktap_result r = KTAP_PASS;
	struct puppet p[2];
	long addr;
	int fd;

	if (!thp_enabled()) {
		*skip = "THP is off";
		return KTAP_SKIP;
	}
	if (!spawn(p, 2, "t-hugewatch"))
		return KTAP_FAIL;
	if (!pcmd(&p[PARENT], "pin") || !pcmd(&p[PARENT], "map thp 512") ||
	    !pcmd(&p[PARENT], "write 0 512"))
		goto out;
	if (smaps_rollup_kb(p[PARENT].pid, "AnonHugePages") < 2048) {
		*skip = "no huge page was given";
		r = KTAP_SKIP;
		goto out;
	}
	addr = region_addr(&p[PARENT]);
	/* After the child is gone the parent's PMD is write-protected, and its own. */
	if (addr <= 0 || !pfork(p, PARENT, CHILD) || !pcmd(&p[CHILD], "exit 0") ||
	    !pcmd(&p[PARENT], "wait"))
		goto out;
	fd = open(PAGEMAP, O_RDONLY | O_CLOEXEC);
	check(fd >= 0 && pick(fd, p[PARENT].pid, addr + 300 * 4096L, addr + 301 * 4096L) == 0,
	      "watch: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	if (!snapshot(p, 1, before) || !pcmd(&p[PARENT], "write 300 1") || !snapshot(p, 1, after))
		goto out;
	check_delta("parent", before, after, "reuses", 1);
	check_delta("parent", before, after, "rreuses", 1);
	check_delta("parent", before, after, "thp", 0);
out:
	finish(p, 2);
	return r;
}

/*
 * A shmem THP mapped once by a PMD (tmpfs huge=always): 512 file bytes,
 * huge, each with map count 1.  (6.1 counts a file THP's PMD mappings in
 * every page's own count: read as an anonymous THP's, it gave 2.)
 */
static enum ktap_result file_thp_maps_once(const char **skip)
{
	const char *dir = "/tmp/hugetmpfs", *path = "/tmp/hugetmpfs/f";
	enum ktap_result r = KTAP_PASS;
	unsigned char b[512];
	int fd = -1, i, bad = 0;
	char *p = MAP_FAILED, *aligned;

	if (!thp_enabled()) {
		*skip = "THP is off";
		return KTAP_SKIP;
	}
	if (!check((mkdir(dir, 0755) == 0 || errno == EEXIST) &&
		   mount("tmpfs", dir, "tmpfs", 0, "huge=always") == 0, "mount tmpfs huge=always: %s",
		   strerror(errno)))
		return KTAP_FAIL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (!check(fd >= 0 && ftruncate(fd, 2 << 20) == 0, "%s: %s", path, strerror(errno)))
		goto out;
	/* A 2 MiB-aligned address, so that the fault may map the THP by a PMD. */
	p = mmap(NULL, 4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(p != MAP_FAILED, "mmap: %s", strerror(errno)))
		goto out;
	aligned = (char *)(((unsigned long)p + (2 << 20) - 1) & ~((2UL << 20) - 1));
	if (!check(mmap(aligned, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		   aligned, "mmap the file: %s", strerror(errno)))
		goto out;
	memset(aligned, 1, 2 << 20);
	if (!page_bytes(getpid(), (long)aligned, b, 512))
		goto out;
	if (!HUGE(b[0])) {
		*skip = "tmpfs gave no huge page";
		r = KTAP_SKIP;
		goto out;
	}
	for (i = 0; i < 512; i++)
		bad += KIND(b[i]) != FILE_PAGE || !HUGE(b[i]) || MAPS(b[i]) != 1;
	check(!bad, "%d of 512 pages are not file, huge, map count 1 (page 0: %#x)", bad, b[0]);
out:
	if (p != MAP_FAILED)
		munmap(p, 4 << 20);
	if (fd >= 0)
		close(fd);
	unlink(path);
	umount(dir);
	return r;
}

const struct test_case pagemap_cases[] = {
	{ "bytes_follow_the_writes", bytes_follow_the_writes },
	{ "bytes_mark_huge_pmds", bytes_mark_huge_pmds },
	{ "pick_rules", pick_rules },
	{ "student_sees_its_own", student_sees_its_own },
	{ "watched_range_counts_apart", watched_range_counts_apart },
	{ "huge_reuse_counts_at_the_write", huge_reuse_counts_at_the_write },
	{ "file_thp_maps_once", file_thp_maps_once },
};
const int nr_pagemap_cases = sizeof(pagemap_cases) / sizeof(pagemap_cases[0]);
