// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/cowstat_maps: the page counts of /proc/cowstat, one row per
 * mapping of every visible process, so that
 *
 *	grep '^ *1234 ' /proc/cowstat_maps
 *
 * shows where process 1234's shared pages are.  Columns: pid, start, end,
 * perms (as in /proc/PID/maps), the page columns, and the mapping's name
 * last: the file's path, [heap], [stack], [vdso]..., or nothing for
 * anonymous memory.
 *
 * As in fs/proc/task_mmu.c, start() pins the process and takes its mmap
 * lock, show() prints one VMA under it, and stop() lets go, so the lock is
 * never held across a copy to user space.  A reader must not stall the
 * process it reads either: when someone waits for the lock, it is let go
 * and taken again between two mappings (next()) and inside the walk of one
 * (cowstat_walk_range()).  So show() takes what it prints of the VMA before
 * walking it, and the cursor (tgid, and the end of the last row shown)
 * lives in the iterator, never in a VMA pointer that may be stale.  The
 * cursor moves on in next() only: a row that did not fit in the reader's
 * buffer is thrown away by seq_read(), and made again by the next start().
 */

#include <linux/err.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>

#include "cowstat.h"

struct cowstat_maps_iter {
	struct cowstat_reader reader;
	pid_t tgid;			/* the process at the cursor */
	unsigned long addr;		/* its next row is the VMA ending above this */
	unsigned long shown;		/* the end of the row show() last made */
	struct task_struct *task;	/* pinned from start() to stop() */
	struct mm_struct *mm;		/* pinned, likewise */
	bool locked;			/* mm's mmap lock is held for reading */
};

static void cowstat_maps_release(struct cowstat_maps_iter *it)
{
	if (it->mm) {
		if (it->locked)
			mmap_read_unlock(it->mm);
		mmput(it->mm);
		it->mm = NULL;
		it->locked = false;
	}
	if (it->task) {
		put_task_struct(it->task);
		it->task = NULL;
	}
}

/* The first VMA at or after the cursor, in this process or a later one. */
static void *cowstat_maps_seek(struct cowstat_maps_iter *it)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;

	for (;; it->tgid++, it->addr = 0) {
		struct task_struct *task = cowstat_find_task(&it->reader, &it->tgid);

		if (!task)
			return NULL;
		mm = cowstat_get_group_mm(&it->reader, task);
		if (IS_ERR_OR_NULL(mm)) {
			put_task_struct(task);
			if (IS_ERR(mm))
				return mm;
			continue;
		}
		if (mmap_read_lock_killable(mm)) {
			mmput(mm);
			put_task_struct(task);
			return ERR_PTR(-EINTR);
		}
		vma = find_vma(mm, it->addr);
		if (vma) {
			it->task = task;
			it->mm = mm;
			it->locked = true;
			return vma;
		}
		mmap_read_unlock(mm);
		mmput(mm);
		put_task_struct(task);
	}
}

static void *cowstat_maps_start(struct seq_file *m, loff_t *pos)
{
	struct cowstat_maps_iter *it = m->private;

	if (*pos == 0) {
		it->tgid = 0;
		it->addr = 0;
		return SEQ_START_TOKEN;
	}
	return cowstat_maps_seek(it);
}

static void *cowstat_maps_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct cowstat_maps_iter *it = m->private;
	struct vm_area_struct *vma;

	++*pos;
	if (v == SEQ_START_TOKEN)
		return cowstat_maps_seek(it);
	/* Past the row show() made (v may be stale: it let the lock go). */
	it->addr = it->shown;
	if (it->locked && cowstat_yield && mmap_lock_is_contended(it->mm)) {
		mmap_read_unlock(it->mm);
		it->locked = false;
		cond_resched();
		if (mmap_read_lock_killable(it->mm))
			return ERR_PTR(-EINTR);
		it->locked = true;
	}
	vma = it->locked ? find_vma(it->mm, it->addr) : NULL;
	if (vma)
		return vma;
	cowstat_maps_release(it);
	it->tgid++;
	it->addr = 0;
	return cowstat_maps_seek(it);
}

static void cowstat_maps_stop(struct seq_file *m, void *v)
{
	cowstat_maps_release(m->private);
}

/* What a row says of its VMA, taken before the walk may let the lock go. */
struct cowstat_vma_row {
	unsigned long start, end;
	vm_flags_t flags;
	struct file *file;	/* pinned (get_file()), or NULL */
	const char *name;	/* static: [heap], [stack], a special mapping's */
};

/* As show_map_vma() names them, but for named anonymous memory. */
static void cowstat_vma_row_init(struct cowstat_vma_row *row, struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;

	row->start = vma->vm_start;
	row->end = vma->vm_end;
	row->flags = vma->vm_flags;
	row->file = vma->vm_file ? get_file(vma->vm_file) : NULL;
	row->name = NULL;
	if (row->file)
		return;
	if (vma->vm_ops && vma->vm_ops->name)
		row->name = vma->vm_ops->name(vma);
	else if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk)
		row->name = "[heap]";
	else if (vma->vm_start <= mm->start_stack && vma->vm_end >= mm->start_stack)
		row->name = "[stack]";
}

static void cowstat_maps_show_header(struct seq_file *m)
{
	/* User addresses have up to 12 hex digits on x86-64: the columns stay aligned. */
	seq_printf(m, "%7s %12s %12s %5s ", "pid", "start", "end", "perms");
	cowstat_show_page_header(m);
	seq_puts(m, " name\n");
}

static int cowstat_maps_show(struct seq_file *m, void *v)
{
	struct cowstat_maps_iter *it = m->private;
	struct cowstat_counts c = {};
	struct cowstat_vma_row row;
	pid_t pid;
	int err;

	if (v == SEQ_START_TOKEN) {
		cowstat_maps_show_header(m);
		return 0;
	}

	cowstat_vma_row_init(&row, v);
	it->shown = row.end;
	pid = task_tgid_nr_ns(it->task, it->reader.ns);
	/* The address range of the VMA as found; the lock may be let go inside. */
	err = pid ? cowstat_walk_range(it->mm, row.start, row.end, &c) : 0;
	if (err)
		it->locked = false;	/* cowstat_walk_range() let it go */
	if (!pid || err)
		goto out;	/* reaped since cowstat_maps_seek(), or killed */

	seq_printf(m, "%7d %012lx %012lx  %c%c%c%c ", pid, row.start, row.end,
		   row.flags & VM_READ ? 'r' : '-', row.flags & VM_WRITE ? 'w' : '-',
		   row.flags & VM_EXEC ? 'x' : '-', row.flags & VM_MAYSHARE ? 's' : 'p');
	cowstat_show_counts(m, &c);
	seq_putc(m, ' ');
	if (row.file)
		seq_file_path(m, row.file, "\n");
	else if (row.name)
		seq_puts(m, row.name);
	seq_putc(m, '\n');
out:
	if (row.file)
		fput(row.file);
	return err;
}

static const struct seq_operations cowstat_maps_seq_ops = {
	.start	= cowstat_maps_start,
	.next	= cowstat_maps_next,
	.stop	= cowstat_maps_stop,
	.show	= cowstat_maps_show,
};

static int cowstat_maps_open(struct inode *inode, struct file *file)
{
	struct cowstat_maps_iter *it;

	it = __seq_open_private(file, &cowstat_maps_seq_ops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	cowstat_reader_init(&it->reader, inode, file);
	return 0;
}

static int cowstat_maps_file_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct cowstat_maps_iter *it = m->private;

	cowstat_reader_release(&it->reader);
	return seq_release_private(inode, file);
}

static const struct proc_ops cowstat_maps_proc_ops = {
	.proc_open	= cowstat_maps_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= cowstat_maps_file_release,
};

static struct proc_dir_entry *cowstat_maps_pde;

int cowstat_maps_init(void)
{
	cowstat_maps_pde = proc_create("cowstat_maps", 0444, NULL,
				       &cowstat_maps_proc_ops);
	return cowstat_maps_pde ? 0 : -ENOMEM;
}

void cowstat_maps_exit(void)
{
	proc_remove(cowstat_maps_pde);
}
