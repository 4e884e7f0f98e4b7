// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/cowstat_pagemap: what the next write to each page of one process
 * would do, one byte a page, read the way /proc/PID/pagemap is read: the
 * byte of the page at address A is at offset A / PAGE_SIZE.
 *
 *	fd = open("/proc/cowstat_pagemap", O_RDWR);
 *	dprintf(fd, "%d", pid);			pick the process
 *	pread(fd, buf, npages, addr / 4096);	one byte a page
 *
 * The byte (cowstat.h): bits 0-2 the page's kind (not present, writable,
 * reused or copied by its next write, anonymous without COW, zero page,
 * file, swapped), bit 3 a huge PMD mapping, bits 4-7 its map count.
 *
 * Writing "PID START END" (addresses in hex, as in /proc/PID/maps) picks
 * the process and also makes [START, END) its watched range: its copies
 * and reuses there get columns of their own in /proc/cowstat (rcopies,
 * rreuses), counted from zero now, and its children forked later watch
 * the same range (cowstat_events_watch()).
 *
 * Who may pick which process is the rule of the other files
 * (cowstat_access.c), decided at the write with the credentials of the
 * file's opener; a process the reader may not see is ESRCH, as one that
 * does not exist.  As /proc/PID/pagemap, the file keeps the process's mm
 * (mmgrab()), not its memory: reads after the process exited are empty.
 * Each read walks at most a page's worth of bytes under the mmap lock and
 * copies them out after letting it go.
 */

#include <linux/err.h>
#include <linux/mm.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cowstat.h"

struct cowstat_pagemap {
	struct cowstat_reader reader;
	struct mutex lock;		/* mm, against a write during a read */
	struct mm_struct *mm;		/* the picked process's (mmgrab()), or NULL */
};

static int cowstat_pagemap_open(struct inode *inode, struct file *file)
{
	struct cowstat_pagemap *pm = kzalloc(sizeof(*pm), GFP_KERNEL);

	if (!pm)
		return -ENOMEM;
	cowstat_reader_init(&pm->reader, inode, file);
	mutex_init(&pm->lock);
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

/* The mm of process @nr (the reader's namespace), pinned (mmget()), if visible. */
static struct mm_struct *cowstat_pagemap_find(struct cowstat_pagemap *pm, pid_t nr,
					      pid_t *tgid)
{
	struct task_struct *task;
	struct mm_struct *mm;
	pid_t found = nr;

	task = cowstat_find_task(&pm->reader, &found);
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = found == nr ? cowstat_get_group_mm(&pm->reader, task) : NULL;
	*tgid = task->tgid;
	put_task_struct(task);
	return mm ?: ERR_PTR(-ESRCH);
}

/* "PID" or "PID START END", in one write of up to 63 bytes. */
static ssize_t cowstat_pagemap_write(struct file *file, const char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	struct cowstat_pagemap *pm = file->private_data;
	unsigned long start = 0, end = 0;
	struct mm_struct *mm;
	int n, err, len = 0;
	char buf[64];
	pid_t nr, tgid;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	n = sscanf(buf, "%d%n %lx %lx%n", &nr, &len, &start, &end, &len);
	if ((n != 1 && n != 3) || nr <= 0 || (n == 3 && start >= end) ||
	    strspn(buf + len, " \n") != strlen(buf + len))
		return -EINVAL;

	mm = cowstat_pagemap_find(pm, nr, &tgid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (n == 3) {
		err = cowstat_events_watch(tgid, start & PAGE_MASK, PAGE_ALIGN(end));
		if (err && cowstat_events_on()) {
			mmput(mm);
			return err;
		}
	}
	mmgrab(mm);
	mmput(mm);
	mutex_lock(&pm->lock);
	swap(pm->mm, mm);
	mutex_unlock(&pm->lock);
	if (mm)
		mmdrop(mm);
	return count;
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
	.proc_write	= cowstat_pagemap_write,
	.proc_lseek	= default_llseek,
	.proc_release	= cowstat_pagemap_release,
};

static struct proc_dir_entry *cowstat_pagemap_pde;

int cowstat_pagemap_init(void)
{
	/* Anyone may open it: what each reader sees is decided at the write. */
	cowstat_pagemap_pde = proc_create("cowstat_pagemap", 0666, NULL,
					  &cowstat_pagemap_proc_ops);
	return cowstat_pagemap_pde ? 0 : -ENOMEM;
}

void cowstat_pagemap_exit(void)
{
	proc_remove(cowstat_pagemap_pde);
}
