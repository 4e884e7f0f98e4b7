// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/cowstat_pagemap: what the next write to each page of one process
 * would do, one byte a page, read the way /proc/PID/pagemap is read: the
 * byte of the page at address A is at offset A / PAGE_SIZE.
 *
 *	struct cowstat_pick pick = { .pid = pid };
 *
 *	fd = open("/proc/cowstat_pagemap", O_RDONLY);
 *	ioctl(fd, COWSTAT_PICK, &pick);		pick the process
 *	pread(fd, buf, npages, addr / 4096);	one byte a page
 *
 * The byte (cowstat.h): bits 0-2 the page's kind (not present, writable,
 * reused or copied by its next write, anonymous without COW, zero page,
 * file, swapped), bit 3 a huge PMD mapping, bits 4-7 its map count.  A
 * reader without CAP_SYS_ADMIN sees the map count of a file page as 2 at
 * most: shared or not, not by how many (/proc/kpagecount is root's).
 *
 * A pick with a range (cowstat_uapi.h) also makes [start, end) the
 * process's watched range: its copies and reuses there get columns of
 * their own in /proc/cowstat (rcopies, rreuses), counted from zero now,
 * and its children forked later watch the same range
 * (cowstat_events_watch()); an exec drops it.  The range is set under
 * the process's exec_update_lock, for the mm the reader was allowed to
 * see, never for the image of an exec that came after.  An ioctl on a file
 * opened for reading, as PAGEMAP_SCAN is on /proc/PID/pagemap: the file
 * is read-only.
 *
 * Who may pick which process is the rule of the other files
 * (cowstat_access.c), decided at the pick with the credentials of the
 * file's opener; a process the reader may not see is ESRCH, as one that
 * does not exist.  As /proc/PID/pagemap, the file keeps the process's mm
 * (mmgrab()), not its memory: reads after the process exited are empty.
 * Each read walks at most a page's worth of bytes under the mmap lock and
 * copies them out after letting it go.
 */

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cowstat.h"
#include "cowstat_uapi.h"

struct cowstat_pagemap {
	struct cowstat_reader reader;
	struct mutex lock;		/* mm, against a pick during a read */
	struct mm_struct *mm;		/* the picked process's (mmgrab()), or NULL */
	bool all_maps;			/* the opener may see file pages' map counts */
};

static int cowstat_pagemap_open(struct inode *inode, struct file *file)
{
	struct cowstat_pagemap *pm = kzalloc(sizeof(*pm), GFP_KERNEL);

	if (!pm)
		return -ENOMEM;
	cowstat_reader_init(&pm->reader, inode, file);
	mutex_init(&pm->lock);
	pm->all_maps = file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
	file->private_data = pm;
	return 0;
}

static int cowstat_pagemap_release(struct inode *inode, struct file *file)
{
	struct cowstat_pagemap *pm = file->private_data;

	if (pm->mm)
		mmdrop(pm->mm);
	cowstat_reader_release(&pm->reader);
	kfree(pm);
	return 0;
}

/* The thread-group leader of process @nr (the reader's namespace), pinned, if visible. */
static struct task_struct *cowstat_pagemap_task(struct cowstat_pagemap *pm, pid_t nr)
{
	struct task_struct *task;
	pid_t found = nr;

	task = cowstat_find_task(&pm->reader, &found);
	if (task && found != nr) {
		put_task_struct(task);
		task = NULL;
	}
	return task;
}

/* Watch [@start, @end) of @task while @mm is still its own: not across an exec. */
static int cowstat_pagemap_watch(struct task_struct *task, struct mm_struct *mm,
				 unsigned long start, unsigned long end)
{
	int err;

	if (down_read_killable(&task->signal->exec_update_lock))
		return -EINTR;
	task_lock(task);
	err = task->mm == mm ? 0 : -ESRCH;
	task_unlock(task);
	if (!err)
		err = cowstat_events_watch(task->tgid, start, end);
	up_read(&task->signal->exec_update_lock);
	/* Events off: there is nothing to count apart, and nothing to refuse. */
	return err == -ENOMEM && !cowstat_events_on() ? 0 : err;
}

/* COWSTAT_PICK: a process to read, and maybe a range to watch. */
static long cowstat_pagemap_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct cowstat_pagemap *pm = file->private_data;
	struct cowstat_pick pick;
	struct task_struct *task;
	struct mm_struct *mm;
	int err = 0;

	if (cmd != COWSTAT_PICK)
		return -ENOTTY;
	if (copy_from_user(&pick, (void __user *)arg, sizeof(pick)))
		return -EFAULT;
	if (pick.pid <= 0 || pick.reserved || pick.start > pick.end ||
	    (pick.end && pick.start == pick.end) || pick.end > TASK_SIZE_MAX)
		return -EINVAL;

	task = cowstat_pagemap_task(pm, pick.pid);
	if (!task)
		return -ESRCH;
	mm = cowstat_get_group_mm(&pm->reader, task);
	if (IS_ERR_OR_NULL(mm)) {
		put_task_struct(task);
		return mm ? PTR_ERR(mm) : -ESRCH;
	}
	if (pick.end)
		err = cowstat_pagemap_watch(task, mm, pick.start & PAGE_MASK, PAGE_ALIGN(pick.end));
	put_task_struct(task);
	if (err) {
		mmput(mm);
		return err;
	}
	mmgrab(mm);
	mmput(mm);
	mutex_lock(&pm->lock);
	swap(pm->mm, mm);
	mutex_unlock(&pm->lock);
	if (mm)
		mmdrop(mm);
	return 0;
}

/* Without CAP_SYS_ADMIN: a file page's map count says shared or not, no more. */
static void cowstat_pagemap_hide_maps(u8 *pages, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if ((pages[i] & COWSTAT_PAGE_KIND) == COWSTAT_PAGE_FILE &&
		    pages[i] >> COWSTAT_PAGE_MAPS_SHIFT > 2)
			pages[i] = (pages[i] & (COWSTAT_PAGE_KIND | COWSTAT_PAGE_HUGE)) |
				   2 << COWSTAT_PAGE_MAPS_SHIFT;
}

/* @count bytes from page number *@ppos: one walk of at most a page of them. */
static ssize_t cowstat_pagemap_read(struct file *file, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct cowstat_pagemap *pm = file->private_data;
	unsigned long addr, end, limit;
	struct mm_struct *mm = NULL;
	ssize_t ret;
	u8 *pages;

	mutex_lock(&pm->lock);
	if (pm->mm && mmget_not_zero(pm->mm))
		mm = pm->mm;
	ret = pm->mm ? 0 : -EINVAL;	/* no process picked yet */
	mutex_unlock(&pm->lock);
	if (!mm)
		return ret;

	limit = mm->task_size >> PAGE_SHIFT;
	if (*ppos < 0 || *ppos >= limit || !count)
		goto out;
	count = min3(count, (size_t)PAGE_SIZE, (size_t)(limit - *ppos));
	pages = kmalloc(count, GFP_KERNEL);
	ret = -ENOMEM;
	if (!pages)
		goto out;
	addr = (unsigned long)*ppos << PAGE_SHIFT;
	end = addr + (count << PAGE_SHIFT);
	ret = cowstat_walk_pages(mm, addr, end, pages);
	if (!ret && !pm->all_maps)
		cowstat_pagemap_hide_maps(pages, count);
	if (!ret)
		ret = copy_to_user(ubuf, pages, count) ? -EFAULT : count;
	if (ret > 0)
		*ppos += ret;
	kfree(pages);
out:
	mmput(mm);
	return ret;
}

static const struct proc_ops cowstat_pagemap_proc_ops = {
	.proc_open	= cowstat_pagemap_open,
	.proc_read	= cowstat_pagemap_read,
	.proc_ioctl	= cowstat_pagemap_ioctl,
#ifdef CONFIG_COMPAT
	.proc_compat_ioctl = compat_ptr_ioctl,
#endif
	.proc_lseek	= default_llseek,
	.proc_release	= cowstat_pagemap_release,
};

static struct proc_dir_entry *cowstat_pagemap_pde;

int cowstat_pagemap_init(void)
{
	/* What each reader sees is decided at the pick. */
	cowstat_pagemap_pde = proc_create("cowstat_pagemap", 0444, NULL,
					  &cowstat_pagemap_proc_ops);
	return cowstat_pagemap_pde ? 0 : -ENOMEM;
}

void cowstat_pagemap_exit(void)
{
	proc_remove(cowstat_pagemap_pde);
}
