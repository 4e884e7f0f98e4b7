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
#include <linux/cred.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/string_helpers.h>
#include <linux/uaccess.h>

#include "cowstat.h"

void cowstat_reader_init(struct cowstat_reader *r, struct inode *inode,
			 struct file *file)
{
	r->ns = proc_pid_ns(inode->i_sb);
	r->euid = file->f_cred->euid;
	r->sees_all = file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
	r->opener = get_pid(task_tgid(current));
}

void cowstat_reader_release(struct cowstat_reader *r)
{
	put_pid(r->opener);
}

/*
 * Visibility: every process for CAP_SYS_ADMIN (in the initial user
 * namespace: root in a user namespace is not root here), the opener's own
 * process, otherwise the processes whose real, effective and saved uids
 * are all the reader's effective uid (the uid half of the ptrace access rule, so a setuid
 * program running for the user stays hidden).  Called under
 * rcu_read_lock(); cowstat_get_group_mm() adds the rule's other half.
 */
static bool cowstat_visible(const struct cowstat_reader *r,
			    struct task_struct *task)
{
	const struct cred *cred;

	if (task->flags & PF_KTHREAD)
		return false;
	if (r->sees_all || task_tgid(task) == r->opener)
		return true;
	cred = __task_cred(task);
	return uid_eq(cred->uid, r->euid) && uid_eq(cred->euid, r->euid) &&
	       uid_eq(cred->suid, r->euid);
}

/*
 * Pin the first visible thread-group leader with tgid >= *tgid.  An
 * unprivileged reader may skip every thread of every other user: RCU is
 * dropped every COWSTAT_PIDS_PER_RCU pids, and the search goes on from the
 * pid number, which needs no reference.
 */
#define COWSTAT_PIDS_PER_RCU	256

struct task_struct *cowstat_find_task(const struct cowstat_reader *r,
				      pid_t *tgid)
{
	struct task_struct *task = NULL;
	unsigned int skipped = 0;
	struct pid *pid;

	rcu_read_lock();
	while ((pid = find_ge_pid(*tgid, r->ns))) {
		*tgid = pid_nr_ns(pid, r->ns);
		task = pid_task(pid, PIDTYPE_TGID);
		if (task && cowstat_visible(r, task)) {
			get_task_struct(task);
			break;
		}
		task = NULL;
		(*tgid)++;
		if (++skipped % COWSTAT_PIDS_PER_RCU == 0) {
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
	}
	rcu_read_unlock();
	return task;
}

/*
 * The leader of a thread group may have exited while other threads run
 * on, so look for the mm in every thread, as find_lock_task_mm() (not
 * exported) does.  Kernel threads that borrow an mm are not processes.
 *
 * Visibility was checked when the leader was found, but an execve() of a
 * setuid program may have changed both the credentials and the mm since.
 * Exec holds exec_update_lock across both changes, so checking again under
 * it, on the thread whose mm is taken, makes the two agree (as mm_access()
 * does).  Returns NULL for no mm, an ERR_PTR when the reader was killed.
 */
struct mm_struct *cowstat_get_group_mm(const struct cowstat_reader *r,
				       struct task_struct *leader)
{
	struct rw_semaphore *exec_lock = &leader->signal->exec_update_lock;
	struct mm_struct *mm = NULL;
	struct task_struct *t;

	if (down_read_killable(exec_lock))
		return ERR_PTR(-EINTR);
	rcu_read_lock();
	for_each_thread(leader, t) {
		task_lock(t);
		/*
		 * As ptrace: a process that is not dumpable (it dropped
		 * privileges, or said so with PR_SET_DUMPABLE) only for root,
		 * and for itself.
		 */
		if (t->mm && cowstat_visible(r, t) &&
		    (r->sees_all || task_tgid(t) == r->opener ||
		     get_dumpable(t->mm) == SUID_DUMP_USER)) {
			mm = t->mm;
			mmget(mm);
		}
		task_unlock(t);
		if (mm)
			break;
	}
	rcu_read_unlock();
	up_read(exec_lock);
	return mm;
}

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

/* The page columns, shared with /proc/cowstat_maps. */
#define COWSTAT_PAGE_HEADER	"%8s %8s %8s %8s %8s %8s %8s %8s %8s", "rss", "anon", \
	"shared", "private", "cow", "zero", "file", "swap", "thp"

/*
 * A number right-aligned in @width columns, after a space if @space: what
 * " %8lu" prints, without vsnprintf(), which costs more than walking a
 * small process.  Every read prints a row for every process.
 */
static void cowstat_put_num(struct seq_file *m, unsigned long v, int width, bool space)
{
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	while ((int)sizeof(buf) - i < width)
		buf[--i] = ' ';
	if (space)
		buf[--i] = ' ';
	seq_write(m, buf + i, sizeof(buf) - i);
}

void cowstat_show_counts(struct seq_file *m, const struct cowstat_counts *c)
{
	const unsigned long v[] = {
		c->rss, c->anon, c->shared, c->private, c->cow, c->zero,
		c->file, c->swap, c->thp,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		cowstat_put_num(m, v[i], 8, i > 0);
}

static const char *const cowstat_event_names[COWSTAT_NR_EVENTS] = {
	[COWSTAT_COPIES] = "copies",
	[COWSTAT_REUSES] = "reuses",
	[COWSTAT_FORKS] = "forks",
};

static void cowstat_show_header(struct seq_file *m)
{
	int i;

	seq_printf(m, "%7s %7s ", "pid", "ppid");
	seq_printf(m, COWSTAT_PAGE_HEADER);
	for (i = 0; i < COWSTAT_NR_EVENTS; i++)
		seq_printf(m, " %8s", cowstat_event_names[i]);
	seq_puts(m, " comm\n");
}

/*
 * An event column is "-" when it is not counted (events=0, or no probe),
 * or not known in full for this process (its counters could not be made
 * in time): never a number that may be short.
 */
static void cowstat_show_events(struct seq_file *m, pid_t tgid)
{
	long count[COWSTAT_NR_EVENTS];
	bool complete;
	int i;

	complete = cowstat_events_of(tgid, count);
	for (i = 0; i < COWSTAT_NR_EVENTS; i++) {
		if (complete && cowstat_event_available(i))
			cowstat_put_num(m, count[i], 8, true);
		else
			seq_puts(m, "        -");
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

	cowstat_put_num(m, pid, 7, false);
	cowstat_put_num(m, ppid, 7, true);
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
