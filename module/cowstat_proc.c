// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/cowstat: a header line, then one row per visible process (thread
 * group) with a user mm, in pid order, comm last.
 *
 * The seq_file position is the next tgid to look at, plus one (position 0
 * is the header), so a read that resumes after a full buffer starts at the
 * right process even when processes came and went in between.  As in
 * next_tgid() (fs/proc/base.c), RCU is held only to find and pin a task;
 * the page walk in show() runs with the task pinned and may sleep.
 */

#include <linux/capability.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/string_helpers.h>
#include <linux/uaccess.h>

#include "cowstat.h"
#include "cowstat_compat.h"

static void *cowstat_start(struct seq_file *m, loff_t *pos)
{
	struct task_struct *task;
	pid_t tgid;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	if (*pos > PID_MAX_LIMIT)
		return NULL;
	tgid = *pos - 1;
	task = cowstat_find_task(m->private, &tgid);
	if (task)
		*pos = (loff_t)tgid + 1;
	return task;
}

/* *pos is one past the tgid just shown: the search resumes right there. */
static void *cowstat_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct task_struct *task;
	pid_t tgid = *pos;

	if (v != SEQ_START_TOKEN)
		put_task_struct(v);
	task = cowstat_find_task(m->private, &tgid);
	*pos = (loff_t)tgid + 1;
	return task;
}

static void cowstat_stop(struct seq_file *m, void *v)
{
	if (v && v != SEQ_START_TOKEN)
		put_task_struct(v);
}

/*
 * @v right-aligned in @width columns, as "%*lu" prints it, without
 * vsnprintf(), which costs more than walking a small process: every read
 * prints a row for every process.  (seq_put_decimal_ull_width() is not
 * exported.)
 */
void cowstat_put_num(struct seq_file *m, unsigned long v, unsigned int width)
{
	static const char spaces[] = "                    ";
	unsigned int digits = 1;
	unsigned long t;

	for (t = v; t >= 10; t /= 10)
		digits++;
	if (width > digits)
		seq_write(m, spaces, min_t(unsigned int, width - digits, sizeof(spaces) - 1));
	seq_put_decimal_ull(m, "", v);
}

/* The page columns, in the order of struct cowstat_counts; shared with cowstat_maps.c. */
static const char *const cowstat_page_names[] = {
	"rss", "anon", "shared", "private", "cow", "reusable", "zero", "file", "swap", "thp",
};

/*
 * A column this kernel cannot count exactly is named with a '~' after it:
 * shared and private without per-page map counts (cowstat_compat.h).
 */
static bool cowstat_page_col_exact(const char *name)
{
	return COWSTAT_EXACT_SHARING || (strcmp(name, "shared") && strcmp(name, "private"));
}

void cowstat_show_page_header(struct seq_file *m)
{
	const char *name;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cowstat_page_names); i++) {
		name = cowstat_page_names[i];
		if (i)
			seq_putc(m, ' ');
		seq_printf(m, cowstat_page_col_exact(name) ? "%8s" : "%7s~", name);
	}
}

void cowstat_show_counts(struct seq_file *m, const struct cowstat_counts *c)
{
	const unsigned long v[] = {
		c->rss, c->anon, c->shared, c->private, c->cow, c->reusable, c->zero,
		c->file, c->swap, c->thp,
	};
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(v) != ARRAY_SIZE(cowstat_page_names));
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (i)
			seq_putc(m, ' ');
		cowstat_put_num(m, v[i], 8);
	}
}

static const char *const cowstat_event_names[COWSTAT_NR_EVENTS] = {
	[COWSTAT_COPIES] = "copies",
	[COWSTAT_REUSES] = "reuses",
	[COWSTAT_FORKS] = "forks",
};

/* The events also counted inside a watched range, and their columns. */
static const enum cowstat_event cowstat_range_events[] = { COWSTAT_COPIES, COWSTAT_REUSES };
static const char *const cowstat_range_names[] = { "rcopies", "rreuses" };

static void cowstat_show_header(struct seq_file *m)
{
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(cowstat_range_names) != ARRAY_SIZE(cowstat_range_events));
	cowstat_events_check();
	seq_printf(m, "%7s %7s ", "pid", "ppid");
	cowstat_show_page_header(m);
	for (i = 0; i < COWSTAT_NR_EVENTS; i++)
		seq_printf(m, " %8s", cowstat_event_names[i]);
	for (i = 0; i < ARRAY_SIZE(cowstat_range_events); i++)
		seq_printf(m, " %8s", cowstat_range_names[i]);
	seq_puts(m, " comm\n");
}

static void cowstat_put_event(struct seq_file *m, bool known, long v)
{
	seq_putc(m, ' ');
	if (known)
		cowstat_put_num(m, v, 8);
	else
		seq_puts(m, "       -");
}

/*
 * An event column is "-" when it is not counted (events=0, or no probe),
 * or not known in full for this process (its counters could not be made
 * in time): never a number that may be short.  The in-range columns are
 * "-" too when the process has no watched range (cowstat_pagemap.c).
 */
static void cowstat_show_events(struct seq_file *m, pid_t tgid)
{
	long count[COWSTAT_NR_EVENTS], in_range[COWSTAT_NR_EVENTS];
	enum cowstat_event e;
	bool complete;
	unsigned int i;

	complete = cowstat_events_of(tgid, count, in_range);
	for (e = 0; e < COWSTAT_NR_EVENTS; e++)
		cowstat_put_event(m, complete && cowstat_event_available(e), count[e]);
	for (i = 0; i < ARRAY_SIZE(cowstat_range_events); i++) {
		e = cowstat_range_events[i];
		cowstat_put_event(m, complete && cowstat_event_available(e) && in_range[e] >= 0,
				  in_range[e]);
	}
}

static int cowstat_show(struct seq_file *m, void *v)
{
	struct cowstat_reader *r = m->private;
	struct task_struct *task = v;
	struct cowstat_counts c = {};
	char comm[TASK_COMM_LEN];
	struct mm_struct *mm;
	pid_t pid, ppid;
	int err;

	if (v == SEQ_START_TOKEN) {
		cowstat_show_header(m);
		return 0;
	}

	mm = cowstat_get_group_mm(r, task);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (!mm)
		return 0;	/* exited, exiting, or no longer visible: no row */
	err = cowstat_walk_mm(mm, &c);
	mmput(mm);
	if (err)
		return err;

	rcu_read_lock();
	pid = task_tgid_nr_ns(task, r->ns);
	ppid = task_ppid_nr_ns(task, r->ns);
	rcu_read_unlock();
	if (!pid)
		return 0;	/* reaped during the walk */
	get_task_comm(comm, task);

	cowstat_put_num(m, pid, 7);
	seq_putc(m, ' ');
	cowstat_put_num(m, ppid, 7);
	seq_putc(m, ' ');
	cowstat_show_counts(m, &c);
	cowstat_show_events(m, task->tgid);
	seq_putc(m, ' ');
	/* comm is set by the process: escape what would break the table. */
	seq_escape_str(m, comm, ESCAPE_SPACE | ESCAPE_SPECIAL, "\n\\");
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations cowstat_seq_ops = {
	.start	= cowstat_start,
	.next	= cowstat_next,
	.stop	= cowstat_stop,
	.show	= cowstat_show,
};

static int cowstat_open(struct inode *inode, struct file *file)
{
	struct cowstat_reader *r;

	r = __seq_open_private(file, &cowstat_seq_ops, sizeof(*r));
	if (!r)
		return -ENOMEM;
	cowstat_reader_init(r, inode, file);
	return 0;
}

/*
 * "reset" (with or without a newline), in one write, zeroes every event
 * counter.  Anything else, including a command split across writes, is
 * -EINVAL; without CAP_SYS_ADMIN (of the opener: the file's credentials,
 * so a setuid program handed the descriptor cannot be abused) -EPERM.
 */
static ssize_t cowstat_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	static const char cmd[] = "reset";
	char buf[sizeof(cmd) + 1];

	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	/* One whole command per write, at the file's start: nothing is kept between writes. */
	if (*ppos || count < sizeof(cmd) - 1 || count > sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	if (count == sizeof(cmd) && buf[count - 1] != '\n')
		return -EINVAL;
	if (memcmp(buf, cmd, sizeof(cmd) - 1))
		return -EINVAL;
	cowstat_events_reset();
	return count;
}

static int cowstat_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;

	cowstat_reader_release(m->private);
	return seq_release_private(inode, file);
}

static const struct proc_ops cowstat_proc_ops = {
	.proc_open	= cowstat_open,
	.proc_read	= seq_read,
	.proc_write	= cowstat_write,
	.proc_lseek	= seq_lseek,
	.proc_release	= cowstat_release,
};

static struct proc_dir_entry *cowstat_pde;

int cowstat_proc_init(void)
{
	cowstat_pde = proc_create("cowstat", 0644, NULL, &cowstat_proc_ops);
	return cowstat_pde ? 0 : -ENOMEM;
}

/* Waits for readers inside read() and closes the files still open. */
void cowstat_proc_exit(void)
{
	proc_remove(cowstat_pde);
}
