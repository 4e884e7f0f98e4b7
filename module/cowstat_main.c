// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowstat: see fork() and copy-on-write at work.
 *
 * /proc/cowstat has one row of page-sharing counts per process: how many
 * anonymous pages it still shares with its relatives after fork, how many
 * are its own, how many a write would copy, and how many copies and reuses
 * its write faults caused.  /proc/cowstat_maps has the same page counts
 * per mapping, /proc/cowstat_pagemap what the next write to each page of a
 * process would do, and /sys/kernel/cowstat the system-wide event totals.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "cowstat.h"
#include "cowstat_compat.h"

static bool events = true;
module_param(events, bool, 0444);
MODULE_PARM_DESC(events, "Count COW copies, reuses and forks (default: on; off costs nothing)");

bool cowstat_yield = true;
module_param_named(yield, cowstat_yield, bool, 0444);
MODULE_PARM_DESC(yield, "Let a contended mmap lock go during a walk (default: on; off only to measure what it saves)");

static int __init cowstat_init(void)
{
	int ret;

	ret = cowstat_events_init(events);
	if (ret)
		return ret;
	ret = cowstat_sysfs_init();
	if (ret) {
		pr_err("cannot create /sys/kernel/cowstat: %d\n", ret);
		goto out_events;
	}
	ret = cowstat_proc_init();
	if (ret) {
		pr_err("cannot create /proc/cowstat: %d\n", ret);
		goto out_sysfs;
	}
	ret = cowstat_maps_init();
	if (ret) {
		pr_err("cannot create /proc/cowstat_maps: %d\n", ret);
		goto out_proc;
	}
	ret = cowstat_pagemap_init();
	if (ret) {
		pr_err("cannot create /proc/cowstat_pagemap: %d\n", ret);
		goto out_maps;
	}
	pr_info("/proc/cowstat ready, events %s\n", cowstat_events_on() ? "on" : "off");
	if (!COWSTAT_EXACT_SHARING)
		pr_notice("no per-page map counts (CONFIG_NO_PAGE_MAPCOUNT): shared~ and private~ count every page of a large folio another process may map as shared\n");
	return 0;

out_maps:
	cowstat_maps_exit();
out_proc:
	cowstat_proc_exit();
out_sysfs:
	cowstat_sysfs_exit();
out_events:
	cowstat_events_exit();
	return ret;
}

static void __exit cowstat_exit(void)
{
	cowstat_pagemap_exit();
	cowstat_maps_exit();
	cowstat_proc_exit();
	cowstat_sysfs_exit();
	cowstat_events_exit();
	pr_info("unloaded\n");
}

module_init(cowstat_init);
module_exit(cowstat_exit);
MODULE_DESCRIPTION("Per-process page-sharing and copy-on-write counts, in /proc/cowstat");
MODULE_AUTHOR("The cowstat developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(COWSTAT_VERSION);
