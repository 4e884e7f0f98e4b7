// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowstat: see fork() and copy-on-write at work.
 *
 * Publishes /proc/cowstat, one row of page-sharing counts per process:
 * how many anonymous pages it still shares with its relatives after fork,
 * how many are its own, and how many a write would copy.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "cowstat.h"

static int __init cowstat_init(void)
{
	int ret;

	ret = cowstat_proc_init();
	if (ret) {
		pr_err("cannot create /proc/cowstat: %d\n", ret);
		return ret;
	}
	pr_info("/proc/cowstat ready\n");
	return 0;
}

static void __exit cowstat_exit(void)
{
	cowstat_proc_exit();
	pr_info("unloaded\n");
}

module_init(cowstat_init);
module_exit(cowstat_exit);
MODULE_DESCRIPTION("Per-process page-sharing counts after fork, in /proc/cowstat");
MODULE_AUTHOR("The cowstat developers");
MODULE_LICENSE("GPL");
