// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may see which process in /proc/cowstat and /proc/cowstat_maps.
 *
 * The rule is __ptrace_may_access() (kernel/ptrace.c) in the mode
 * /proc/PID/maps uses, PTRACE_MODE_READ_FSCREDS, asked for the opener of
 * the file with the credentials it had at open (file->f_cred), as
 * /proc/PID/maps asks it at open:
 *
 *  - the opener's own memory, as it was at open, is always visible (ptrace
 *    exempts the caller's own thread group; the mm is pinned at open, so
 *    a process that execs afterwards, or a child that inherited the file,
 *    is not exempt);
 *  - otherwise the target's real, effective and saved uids must all be the
 *    opener's fsuid, and its three gids the opener's fsgid, or the opener
 *    has CAP_SYS_PTRACE in the target's user namespace;
 *  - and the target's memory must be dumpable, or the opener has
 *    CAP_SYS_PTRACE in the user namespace that memory belongs to.
 *
 * What a module cannot do: call security_ptrace_access_check() (not
 * exported), so an LSM (Yama's ptrace_scope does not apply to reads;
 * SELinux, AppArmor) is not asked.  Kernel threads are never shown.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "cowstat.h"
#include "cowstat_compat.h"

void cowstat_reader_init(struct cowstat_reader *r, struct inode *inode,
			 struct file *file)
{
	r->ns = proc_pid_ns(inode->i_sb);
	r->file = file;
	/* Only the opener changes its own mm (exec), so it is safe to read. */
	r->self = current->flags & PF_KTHREAD ? NULL : current->mm;
	if (r->self)
		mmgrab(r->self);	/* its address stays unique while we compare it */
}

void cowstat_reader_release(struct cowstat_reader *r)
{
	if (r->self)
		mmdrop(r->self);
}

/* The credential half of the rule.  Under rcu_read_lock(). */
static bool cowstat_creds_allow(const struct cowstat_reader *r,
				struct task_struct *task)
{
	const struct cred *cred = r->file->f_cred, *tcred = __task_cred(task);

	if (uid_eq(cred->fsuid, tcred->euid) && uid_eq(cred->fsuid, tcred->suid) &&
	    uid_eq(cred->fsuid, tcred->uid) && gid_eq(cred->fsgid, tcred->egid) &&
	    gid_eq(cred->fsgid, tcred->sgid) && gid_eq(cred->fsgid, tcred->gid))
		return true;
	return file_ns_capable(r->file, tcred->user_ns, CAP_SYS_PTRACE);
}

/*
 * The whole rule, for a thread @t whose mm is @mm.  Under rcu_read_lock()
 * and task_lock(t), as ptrace_may_access() asks it.
 */
static bool cowstat_may_read(const struct cowstat_reader *r, struct task_struct *t,
			     struct mm_struct *mm)
{
	struct user_namespace *ns;

	if (mm == r->self)
		return true;
	if (!cowstat_creds_allow(r, t))
		return false;
	/* Dumpability after the credentials: pairs with commit_creds(). */
	smp_rmb();
	return cowstat_owner_dumpable(t, mm, &ns) || file_ns_capable(r->file, ns, CAP_SYS_PTRACE);
}

/*
 * A first sieve while looking for the next process, under RCU, without the
 * locks that make the answer final: cowstat_get_group_mm() asks again.
 */
static bool cowstat_may_see(const struct cowstat_reader *r, struct task_struct *task)
{
	if (task->flags & PF_KTHREAD)
		return false;
	return (r->self && READ_ONCE(task->mm) == r->self) || cowstat_creds_allow(r, task);
}

/*
 * Pin the first thread-group leader with tgid >= *tgid that the reader may
 * see.  An unprivileged reader may skip every thread of every other user:
 * RCU is dropped every COWSTAT_PIDS_PER_RCU pids, and the search goes on
 * from the pid number, which needs no reference.
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
		if (task && cowstat_may_see(r, task)) {
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
 * The mm of @leader's thread group, pinned (mmget), if the reader may see
 * it.  The leader may have exited while other threads run on, so look in
 * every thread, as find_lock_task_mm() (not exported) does.  Kernel
 * threads that borrow an mm are not processes.
 *
 * An execve() of a setuid program changes both the credentials and the mm
 * under exec_update_lock: deciding under it, on the thread whose mm is
 * taken, makes the two agree (as mm_access() does).  Returns NULL for no
 * mm (or not visible), an ERR_PTR when the reader was killed.
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
		if (t->flags & PF_KTHREAD)
			continue;
		task_lock(t);
		if (t->mm && cowstat_may_read(r, t, t->mm)) {
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
