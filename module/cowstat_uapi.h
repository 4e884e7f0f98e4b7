/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * /proc/cowstat_pagemap, for user space: pick a process (and maybe a
 * watched range) with one ioctl, then pread() one byte a page at offset
 * address / page size.  The byte's layout is in module/cowstat.h.
 */
#ifndef COWSTAT_UAPI_H
#define COWSTAT_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * @pid: the process, in the reader's pid namespace
 * @start, @end: a range to watch, [start, end) page-aligned outward; both
 *	0 to only pick the process
 */
struct cowstat_pick {
	__s32 pid;
	__u32 reserved;		/* 0 */
	__u64 start;
	__u64 end;
};

#define COWSTAT_PICK	_IOW('c', 1, struct cowstat_pick)

#endif /* COWSTAT_UAPI_H */
