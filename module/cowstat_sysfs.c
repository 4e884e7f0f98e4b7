// SPDX-License-Identifier: GPL-2.0-only
/*
 * /sys/kernel/cowstat: system-wide event totals since load (or since the
 * last reset), one value a file:
 *
 *   copies, reuses, forks  totals over every process, "-" when not counted
 *   tracked                processes that have event counters now
 *   lost                   events of processes that had no counters (they
 *                          could not be allocated): in the totals only
 *   missed                 probe hits lost (see cowstat_faults.c): copies
 *                          and reuses may be short by as many
 *   events                 "on", "partial" (a probe point is missing: see
 *                          dmesg) or "off" (events=0, or no tracepoints)
 */

#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "cowstat.h"

static ssize_t cowstat_total_show(enum cowstat_event event, char *buf)
{
	long count[COWSTAT_NR_EVENTS];

	cowstat_events_check();
	if (!cowstat_event_available(event))
		return sysfs_emit(buf, "-\n");
	cowstat_events_totals(count);
	return sysfs_emit(buf, "%ld\n", count[event]);
}

static ssize_t copies_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return cowstat_total_show(COWSTAT_COPIES, buf);
}

static ssize_t reuses_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return cowstat_total_show(COWSTAT_REUSES, buf);
}

static ssize_t forks_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return cowstat_total_show(COWSTAT_FORKS, buf);
}

static ssize_t tracked_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", cowstat_events_tracked());
}

static ssize_t lost_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", cowstat_events_lost());
}

static ssize_t missed_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	cowstat_events_check();
	return sysfs_emit(buf, "%ld\n", cowstat_events_missed());
}

static ssize_t events_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	int i, on = 0;

	cowstat_events_check();
	for (i = 0; i < COWSTAT_NR_EVENTS; i++)
		on += cowstat_event_available(i);
	return sysfs_emit(buf, "%s\n", !on ? "off" : on == COWSTAT_NR_EVENTS ? "on" : "partial");
}

static struct kobj_attribute copies_attr = __ATTR_RO(copies);
static struct kobj_attribute reuses_attr = __ATTR_RO(reuses);
static struct kobj_attribute forks_attr = __ATTR_RO(forks);
static struct kobj_attribute tracked_attr = __ATTR_RO(tracked);
static struct kobj_attribute lost_attr = __ATTR_RO(lost);
static struct kobj_attribute missed_attr = __ATTR_RO(missed);
static struct kobj_attribute events_attr = __ATTR_RO(events);

static struct attribute *cowstat_attrs[] = {
	&copies_attr.attr,
	&reuses_attr.attr,
	&forks_attr.attr,
	&tracked_attr.attr,
	&lost_attr.attr,
	&missed_attr.attr,
	&events_attr.attr,
	NULL,
};

static const struct attribute_group cowstat_attr_group = {
	.attrs = cowstat_attrs,
};

static struct kobject *cowstat_kobj;

int cowstat_sysfs_init(void)
{
	int ret;

	cowstat_kobj = kobject_create_and_add("cowstat", kernel_kobj);
	if (!cowstat_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(cowstat_kobj, &cowstat_attr_group);
	if (ret)
		kobject_put(cowstat_kobj);
	return ret;
}

void cowstat_sysfs_exit(void)
{
	kobject_put(cowstat_kobj);	/* removes the group with the directory */
}
