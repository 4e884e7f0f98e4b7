// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event counts: the COW copies and reuses each process's write faults
 * caused (found by the hooks of cowstat_faults.c), and the processes it
 * forked, since the module was loaded or reset.
 *
 *  forks   the sched_process_fork tracepoint, for children that are new
 *          thread groups (not threads) of user processes.
 *
 * Counts belong to the thread group of the faulting task, kept in a hash
 * table keyed by tgid.  An entry is made for every process at load and
 * for every child at fork, kernel threads' children too (a user-mode
 * helper, before it execs), or at its first event if that failed; it is
 * freed by the sched_process_exit tracepoint when the group's last thread
 * exits, so the table holds live processes only.  Lookups run under RCU;
 * entries are freed with kfree_rcu().  Faults on another process's memory
 * (ptrace, process_vm_writev) count in the totals only.
 *
 * A process may also have a watched range of addresses (set through
 * /proc/cowstat_pagemap, cowstat_events_watch()): its copies and reuses at
 * addresses inside it are counted a second time, apart, so that a reader
 * can tell the events of one region from those of the rest of the
 * process.  A child forked later inherits the range, as it inherits the
 * mappings; exec drops it, as it drops them.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/pid_namespace.h>
#include <linux/seqlock.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>

#include "cowstat.h"
#include "cowstat_compat.h"

/*
 * The watched range, [start, end); end == 0: none.  It changes under the
 * hooks that read it: a seqlock keeps a reader from taking the start of
 * one range and the end of another.  An event at the moment of a change
 * counts by either range, maybe after the reset that came with it.
 */
struct cowstat_range {
	seqlock_t lock;
	unsigned long start, end;
};

struct cowstat_proc_events {
	struct hlist_node node;
	pid_t tgid;			/* in the initial pid namespace */
	bool late;			/* made at an event: earlier ones may be lost */
	atomic_long_t count[COWSTAT_NR_EVENTS];
	struct cowstat_range watch;
	atomic_long_t in_range[COWSTAT_NR_EVENTS];	/* events inside the watched range */
	struct rcu_head rcu;
};

#define COWSTAT_HASH_BITS	10
static DEFINE_HASHTABLE(cowstat_procs, COWSTAT_HASH_BITS);
static DEFINE_SPINLOCK(cowstat_procs_lock);	/* inserts and deletes */
static atomic_long_t cowstat_tracked;		/* entries in the table */
static atomic_long_t cowstat_lost;		/* events without an entry */

struct cowstat_totals {
	long count[COWSTAT_NR_EVENTS];
};

static DEFINE_PER_CPU(struct cowstat_totals, cowstat_totals);

static unsigned long cowstat_available;		/* BIT(event) when counted */

static void cowstat_range_read(struct cowstat_range *r, unsigned long *start,
			       unsigned long *end)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&r->lock);
		*start = r->start;
		*end = r->end;
	} while (read_seqretry(&r->lock, seq));
}

static void cowstat_range_set(struct cowstat_range *r, unsigned long start, unsigned long end)
{
	write_seqlock(&r->lock);
	r->start = start;
	r->end = end;
	write_sequnlock(&r->lock);
}

/* Every counted event asks: without a range (the common case) no seqlock is read. */
static bool cowstat_in_range(struct cowstat_range *r, unsigned long addr)
{
	unsigned long start, end;

	if (!READ_ONCE(r->end))
		return false;
	cowstat_range_read(r, &start, &end);
	return addr >= start && addr < end;
}

/* A new entry, not in the table yet: nobody else sees it. */
static struct cowstat_proc_events *cowstat_proc_alloc(gfp_t gfp)
{
	struct cowstat_proc_events *p = kzalloc(sizeof(*p), gfp);

	if (p)
		seqlock_init(&p->watch.lock);
	return p;
}

/* The entry of @tgid, or NULL; under rcu_read_lock(), in any context. */
static struct cowstat_proc_events *cowstat_proc_lookup(pid_t tgid)
{
	struct cowstat_proc_events *p;

	hash_for_each_possible_rcu(cowstat_procs, p, node, tgid)
		if (p->tgid == tgid)
			return p;
	return NULL;
}

/*
 * Give @tsk's thread group the entry @new (consumed) unless it has one, or
 * its last thread is exiting already.  The exit tracepoint deletes under
 * the same lock, and runs only after signal->live reached zero: an entry
 * inserted while live is above zero is always deleted later.
 */
static struct cowstat_proc_events *
cowstat_proc_insert(struct task_struct *tsk, struct cowstat_proc_events *new)
{
	struct cowstat_proc_events *p;

	spin_lock(&cowstat_procs_lock);
	p = cowstat_proc_lookup(tsk->tgid);
	if (!p && atomic_read(&tsk->signal->live)) {
		new->tgid = tsk->tgid;
		hash_add_rcu(cowstat_procs, &new->node, new->tgid);
		atomic_long_inc(&cowstat_tracked);
		p = new;
		new = NULL;
	}
	spin_unlock(&cowstat_procs_lock);
	kfree(new);
	return p;
}

/*
 * The entry of @tsk's group, created if need be; under rcu_read_lock().
 * The hooks run inside page faults, some under a page-table lock: the
 * allocation does not sleep.  Entries are made at fork and at load, so a
 * failed allocation is rarely a loss.
 */
static struct cowstat_proc_events *cowstat_proc_get(struct task_struct *tsk)
{
	struct cowstat_proc_events *p = cowstat_proc_lookup(tsk->tgid), *new;

	if (p)
		return p;
	new = cowstat_proc_alloc(GFP_NOWAIT | __GFP_NOWARN);	/* no sleeping here */
	if (!new)
		return NULL;
	new->late = true;
	return cowstat_proc_insert(tsk, new);
}

/* One @event for the current task, whose fault at @addr (or fork) was on @mm. */
void cowstat_event_add(enum cowstat_event event, struct mm_struct *mm, unsigned long addr)
{
	struct task_struct *tsk = current;
	struct cowstat_proc_events *p;

	this_cpu_inc(cowstat_totals.count[event]);
	if (mm != tsk->mm || (tsk->flags & PF_KTHREAD))
		return;

	rcu_read_lock();
	p = cowstat_proc_get(tsk);
	if (p) {
		atomic_long_inc(&p->count[event]);
		if (cowstat_in_range(&p->watch, addr))
			atomic_long_inc(&p->in_range[event]);
	} else {
		atomic_long_inc(&cowstat_lost);
	}
	rcu_read_unlock();
}

/* At load: an entry for every process there is, while they may come and go. */
static void cowstat_track_existing(void)
{
	struct cowstat_proc_events *new = NULL;
	struct task_struct *task;
	struct pid *pid;
	pid_t tgid = 1;

	for (;; tgid++) {
		if (!new)
			new = cowstat_proc_alloc(GFP_KERNEL);
		if (!new)
			return;
		rcu_read_lock();
		pid = find_ge_pid(tgid, &init_pid_ns);
		if (!pid) {
			rcu_read_unlock();
			break;
		}
		tgid = pid_nr(pid);
		task = pid_task(pid, PIDTYPE_TGID);
		if (task && !(task->flags & PF_KTHREAD)) {
			/* Consumed: inserted, or freed when a fork made the entry first. */
			cowstat_proc_insert(task, new);
			new = NULL;
		}
		rcu_read_unlock();
		cond_resched();
	}
	kfree(new);
}

/* ---- the tracepoints ---- */

static void cowstat_on_fork(void *data, struct task_struct *parent,
			    struct task_struct *child)
{
	struct cowstat_proc_events *new, *p;

	/* A thread is not a new process, nor is a kernel thread. */
	if (child->tgid == parent->tgid || (child->flags & PF_KTHREAD))
		return;
	/*
	 * The child's counters, made before it runs, so that none of its
	 * events finds none.  A kernel thread's child is a user-mode helper
	 * (a core dump pipe, modprobe), a process once it execs: it gets
	 * counters, but its parent is no process that forked.
	 */
	new = cowstat_proc_alloc(GFP_NOWAIT | __GFP_NOWARN);
	if (new) {
		rcu_read_lock();
		/* The child maps what the parent mapped: it watches the same range. */
		p = cowstat_proc_lookup(parent->tgid);
		if (p)
			cowstat_range_read(&p->watch, &new->watch.start, &new->watch.end);
		cowstat_proc_insert(child, new);
		rcu_read_unlock();
	}
	if (!(parent->flags & PF_KTHREAD))
		cowstat_event_add(COWSTAT_FORKS, parent->mm, 0);
}

/* exec replaces every mapping: the watched range means nothing any more. */
static void cowstat_on_exec(void *data, struct task_struct *tsk, pid_t old_pid,
			    struct linux_binprm *bprm)
{
	struct cowstat_proc_events *p;

	rcu_read_lock();
	p = cowstat_proc_lookup(tsk->tgid);
	if (p)
		cowstat_range_set(&p->watch, 0, 0);
	rcu_read_unlock();
}

static void cowstat_on_exit(COWSTAT_EXIT_PROBE_ARGS)
{
	struct cowstat_proc_events *p;

	cowstat_faults_task_exit(tsk);
	/* do_exit() has counted this thread out of signal->live already. */
	if (atomic_read(&tsk->signal->live))
		return;

	spin_lock(&cowstat_procs_lock);
	hash_for_each_possible(cowstat_procs, p, node, tsk->tgid) {
		if (p->tgid == tsk->tgid) {
			hash_del_rcu(&p->node);
			atomic_long_dec(&cowstat_tracked);
			kfree_rcu(p, rcu);
			break;
		}
	}
	spin_unlock(&cowstat_procs_lock);
}

struct cowstat_tracepoint {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

static struct cowstat_tracepoint cowstat_tracepoints[] = {
	{ .name = "sched_process_fork", .probe = cowstat_on_fork },
	{ .name = "sched_process_exit", .probe = cowstat_on_exit },
	{ .name = "sched_process_exec", .probe = cowstat_on_exec },
};

static void cowstat_find_tracepoint(struct tracepoint *tp, void *unused)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cowstat_tracepoints); i++)
		if (!strcmp(tp->name, cowstat_tracepoints[i].name))
			cowstat_tracepoints[i].tp = tp;
}

/* ---- registration ---- */

static void cowstat_report_missed(void);

/* Attach the fork, exit and exec tracepoints, all or none. */
static int cowstat_attach_tracepoints(void)
{
	unsigned int i;
	int ret = 0;

	for_each_kernel_tracepoint(cowstat_find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(cowstat_tracepoints); i++) {
		struct cowstat_tracepoint *t = &cowstat_tracepoints[i];

		ret = t->tp ? tracepoint_probe_register(t->tp, t->probe, NULL) : -ENOENT;
		if (ret) {
			pr_warn("events unavailable: no tracepoint %s (%d)\n", t->name, ret);
			goto out_detach;
		}
	}
	return 0;

out_detach:
	while (i--)
		tracepoint_probe_unregister(cowstat_tracepoints[i].tp,
					    cowstat_tracepoints[i].probe, NULL);
	tracepoint_synchronize_unregister();
	return ret;
}

static void cowstat_detach_tracepoints(void)
{
	unsigned int i = ARRAY_SIZE(cowstat_tracepoints);

	while (i--)
		tracepoint_probe_unregister(cowstat_tracepoints[i].tp,
					    cowstat_tracepoints[i].probe, NULL);
	tracepoint_synchronize_unregister();
}

int cowstat_events_init(bool enable)
{
	int ret;

	if (!enable) {
		pr_info("event counting off (events=0)\n");
		return 0;
	}
	/* Without the exit tracepoint no entry could ever be freed. */
	ret = cowstat_attach_tracepoints();
	if (ret)
		return 0;
	cowstat_available = BIT(COWSTAT_FORKS);
	cowstat_track_existing();
	cowstat_available |= cowstat_faults_attach();
	return 0;
}

void cowstat_events_exit(void)
{
	struct cowstat_proc_events *p;
	struct hlist_node *tmp;
	int bkt;

	if (!cowstat_available)
		return;
	cowstat_report_missed();
	cowstat_faults_detach();
	cowstat_detach_tracepoints();
	cowstat_available = 0;

	/* No handler runs any more: nobody else touches the table. */
	hash_for_each_safe(cowstat_procs, bkt, tmp, p, node) {
		hash_del(&p->node);
		kfree(p);
	}
	atomic_long_set(&cowstat_tracked, 0);
}

/* ---- what readers see ---- */

bool cowstat_event_available(enum cowstat_event event)
{
	return cowstat_available & BIT(event);
}

bool cowstat_events_on(void)
{
	return cowstat_available;
}

/*
 * The counts of @tgid; false when they are incomplete: it has no entry
 * (its allocation failed at fork), or one made late, at an event, after
 * earlier events may have found none.  @in_range gets the counts inside
 * its watched range, or -1 each when it has none.
 */
bool cowstat_events_of(pid_t tgid, long *count, long *in_range)
{
	struct cowstat_proc_events *p;
	bool complete, watched;
	int i;

	rcu_read_lock();
	p = cowstat_proc_lookup(tgid);
	complete = p && !p->late;
	watched = p && READ_ONCE(p->watch.end);	/* only whether there is one */
	for (i = 0; i < COWSTAT_NR_EVENTS; i++) {
		count[i] = p ? atomic_long_read(&p->count[i]) : 0;
		in_range[i] = watched ? atomic_long_read(&p->in_range[i]) : -1;
	}
	rcu_read_unlock();
	return complete;
}

/*
 * Watch [@start, @end) of process @tgid (initial namespace): its events
 * there are counted apart from now on, from zero.  -ENOMEM when it has no
 * counters (events off, its allocation failed at fork, or it exited).
 */
int cowstat_events_watch(pid_t tgid, unsigned long start, unsigned long end)
{
	struct cowstat_proc_events *p;
	int i;

	rcu_read_lock();
	p = cowstat_proc_lookup(tgid);
	if (p) {
		cowstat_range_set(&p->watch, 0, 0);
		for (i = 0; i < COWSTAT_NR_EVENTS; i++)
			atomic_long_set(&p->in_range[i], 0);
		cowstat_range_set(&p->watch, start, end);
	}
	rcu_read_unlock();
	return p ? 0 : -ENOMEM;
}

void cowstat_events_totals(long *count)
{
	int cpu, i;

	for (i = 0; i < COWSTAT_NR_EVENTS; i++)
		count[i] = 0;
	for_each_possible_cpu(cpu)
		for (i = 0; i < COWSTAT_NR_EVENTS; i++)
			count[i] += per_cpu(cowstat_totals.count[i], cpu);
}

long cowstat_events_tracked(void)
{
	return atomic_long_read(&cowstat_tracked);
}

long cowstat_events_lost(void)
{
	return atomic_long_read(&cowstat_lost);
}

static long cowstat_missed_base;	/* cowstat_faults_missed() at the last reset */
static long cowstat_missed_told;	/* the most dmesg has reported */
static DEFINE_SPINLOCK(cowstat_check_lock);

/* Probe hits lost since load or reset: the counts may be short by that much. */
long cowstat_events_missed(void)
{
	if (!(cowstat_available & (BIT(COWSTAT_COPIES) | BIT(COWSTAT_REUSES))))
		return 0;
	return cowstat_faults_missed() - cowstat_missed_base;
}

static void cowstat_report_missed(void)
{
	long missed = cowstat_events_missed();

	if (missed > cowstat_missed_told) {
		pr_warn("%ld probe hits missed since load or reset: copies and reuses may be short by as many (/sys/kernel/cowstat/missed)\n",
			missed);
		cowstat_missed_told = missed;
	}
}

/*
 * What every reader asks first (a read of /proc/cowstat, of the totals):
 * are the hooks still seeing what they count?  Reuses that the kernel
 * counted but the reuse hook did not see make reuses unavailable for
 * good; faults that found no slot are told in dmesg, once each time they
 * grow.
 */
void cowstat_events_check(void)
{
	if (!(cowstat_available & (BIT(COWSTAT_COPIES) | BIT(COWSTAT_REUSES))))
		return;
	spin_lock(&cowstat_check_lock);
	if ((cowstat_available & BIT(COWSTAT_REUSES)) && !cowstat_faults_reuses_seen()) {
		pr_warn("reuses unavailable: the kernel reused pages (pgreuse in /proc/vmstat) that the hook on ptep_set_access_flags did not see\n");
		cowstat_available &= ~BIT(COWSTAT_REUSES);
	}
	cowstat_report_missed();
	spin_unlock(&cowstat_check_lock);
}

/*
 * Zero every counter.  An event counts at the moment the fault copies or
 * reuses its page, before the reset or after it: once either way.
 */
void cowstat_events_reset(void)
{
	struct cowstat_proc_events *p;
	int bkt, cpu, i;

	rcu_read_lock();
	hash_for_each_rcu(cowstat_procs, bkt, p, node) {
		for (i = 0; i < COWSTAT_NR_EVENTS; i++) {
			atomic_long_set(&p->count[i], 0);
			atomic_long_set(&p->in_range[i], 0);
		}
	}
	rcu_read_unlock();
	for_each_possible_cpu(cpu)
		for (i = 0; i < COWSTAT_NR_EVENTS; i++)
			per_cpu(cowstat_totals.count[i], cpu) = 0;
	atomic_long_set(&cowstat_lost, 0);
	spin_lock(&cowstat_check_lock);
	cowstat_missed_base += cowstat_events_missed();
	cowstat_missed_told = 0;
	spin_unlock(&cowstat_check_lock);
}
