// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event counts: the COW copies and reuses each process's write faults
 * caused, and the processes it forked, since the module was loaded.
 *
 * Where the counts come from, on 6.1 (mm/memory.c, mm/huge_memory.c):
 *
 *  copies  do_wp_page() calls wp_page_copy() when a write fault must copy:
 *          a shared anonymous page, a private file page already mapped, or
 *          the zero page (whose "copy" is a fresh zeroed page).  Each call
 *          for a write (not FAULT_FLAG_UNSHARE, which GUP uses) allocates
 *          and copies one page: the count is the calls, as delay
 *          accounting's wpcopy_count counts them.  A first write to a file
 *          page not mapped yet copies it in do_cow_fault() instead, which is
 *          inlined; its finish_fault() call is counted.  A copy is counted
 *          and then dropped when two threads fault on one page at once, and
 *          counted twice when the fault failed for want of memory and was
 *          retried.  hugetlb pages are not counted.
 *          Where wp_page_copy() is inlined (Debian's 6.12), there is no
 *          function to hook that only a copy calls.  do_wp_page() is hooked
 *          instead: its write faults on a private mapping either reuse the
 *          page (wp_page_reuse(), counted below) or copy it, so each is
 *          counted as a copy and each reuse takes one back.  While such a
 *          fault is running, its copy may show for a moment before the
 *          reuse that undoes it; once it returned, the count is exact.  A
 *          page write-protected by userfaultfd that the fault hands to user
 *          space is neither.
 *  reuses  do_wp_page() calls wp_page_reuse() for a private mapping only
 *          once it decided that the anonymous page is exclusive (so no
 *          copy): counting its calls, less those for shared mappings,
 *          counts the 4 KiB reuses.  A huge PMD reused whole, when
 *          do_huge_pmd_wp_page() returns VM_FAULT_WRITE (it never copies a
 *          THP: it splits and falls back instead), is one more.  A write
 *          that swaps an exclusive page back in maps it writable at once
 *          (do_swap_page()): no fault on a write-protected page, no reuse.
 *  forks   the sched_process_fork tracepoint, for children that are new
 *          thread groups (not threads).
 *
 * Counts belong to the thread group of the faulting task, kept in a hash
 * table keyed by tgid.  An entry is made for every process at load and at
 * fork (or at its first event, if that failed), and freed by the
 * sched_process_exit tracepoint when the group's last thread exits, so the
 * table holds live processes only.  Lookups run under RCU;
 * entries are freed with kfree_rcu().  Faults on another process's memory
 * (ptrace, process_vm_writev) count in the totals only.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/hashtable.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>

#include "cowstat.h"
#include "cowstat_compat.h"

struct cowstat_proc_events {
	struct hlist_node node;
	pid_t tgid;			/* in the initial pid namespace */
	bool late;			/* made at an event: earlier ones may be lost */
	atomic_long_t count[COWSTAT_NR_EVENTS];
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
 * A kprobe hit through int3 runs as an NMI on x86, where neither the
 * allocator nor the lock may be used: there an entry is only looked up.
 * Entries are made at fork and at load, so that is rarely a loss.
 */
static struct cowstat_proc_events *cowstat_proc_get(struct task_struct *tsk)
{
	struct cowstat_proc_events *p = cowstat_proc_lookup(tsk->tgid), *new;

	if (p || in_nmi())
		return p;
	new = kzalloc(sizeof(*new), GFP_NOWAIT | __GFP_NOWARN);	/* no sleeping here */
	if (!new)
		return NULL;
	new->late = true;
	return cowstat_proc_insert(tsk, new);
}

/* Add @delta to @event for the current task, whose fault was on @mm. */
static void cowstat_add(enum cowstat_event event, struct mm_struct *mm, long delta)
{
	struct task_struct *tsk = current;
	struct cowstat_proc_events *p;

	this_cpu_add(cowstat_totals.count[event], delta);
	if (mm != tsk->mm || (tsk->flags & PF_KTHREAD))
		return;

	rcu_read_lock();
	p = cowstat_proc_get(tsk);
	if (p)
		atomic_long_add(delta, &p->count[event]);
	else
		atomic_long_inc(&cowstat_lost);
	rcu_read_unlock();
}

static void cowstat_count(enum cowstat_event event, struct mm_struct *mm)
{
	cowstat_add(event, mm, 1);
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
			new = kzalloc(sizeof(*new), GFP_KERNEL);
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

/* ---- the probes ---- */

/* What a return probe remembers of the fault from entry to return. */
struct cowstat_fault {
	struct mm_struct *mm;
	bool unshare;
};

static int cowstat_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;

	f->mm = vmf->vma->vm_mm;
	f->unshare = vmf->flags & FAULT_FLAG_UNSHARE;
	return 0;
}

NOKPROBE_SYMBOL(cowstat_fault_entry);

static vm_fault_t cowstat_fault_ret(struct pt_regs *regs)
{
	return (__force vm_fault_t)regs_return_value(regs);
}

static int cowstat_huge_reuse_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;

	if (cowstat_huge_reused(cowstat_fault_ret(regs), f->unshare))
		cowstat_count(COWSTAT_REUSES, f->mm);
	return 0;
}

NOKPROBE_SYMBOL(cowstat_huge_reuse_ret);

#if defined(CONFIG_X86_64) && defined(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS)
/* The first argument, saved by ftrace_caller with the other argument registers. */
static struct vm_fault *cowstat_ftrace_vmf(struct ftrace_regs *fregs)
{
	return (struct vm_fault *)cowstat_ftrace_arg0(fregs);
}

#define COWSTAT_FTRACE_ARGS	true
#else
static struct vm_fault *cowstat_ftrace_vmf(struct ftrace_regs *fregs)
{
	return NULL;
}

#define COWSTAT_FTRACE_ARGS	false
#endif

/* wp_page_copy(vmf) entry.  notrace: a hook must not trace itself. */
static void notrace cowstat_on_copy(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = cowstat_ftrace_vmf(fregs);

	if (!(vmf->flags & FAULT_FLAG_UNSHARE))
		cowstat_count(COWSTAT_COPIES, vmf->vma->vm_mm);
}

/*
 * do_wp_page(vmf) entry, where wp_page_copy() is inlined: a write fault on
 * a write-protected PTE of a private mapping, which copies unless
 * cowstat_reuse_pre() sees a reuse and takes the copy back.
 */
static void notrace cowstat_on_wp_fault(unsigned long ip, unsigned long parent_ip,
					struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = cowstat_ftrace_vmf(fregs);
	struct vm_area_struct *vma = vmf->vma;

	if ((vmf->flags & FAULT_FLAG_UNSHARE) || (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return;
	if (cowstat_uffd_wp_to_user(vma, vmf->orig_pte))
		return;
	cowstat_count(COWSTAT_COPIES, vma->vm_mm);
}

/*
 * finish_fault(vmf) entry.  It installs the page a file fault prepared;
 * for a write to a private mapping that is vmf->cow_page, the copy that
 * do_cow_fault() (inlined into do_fault()) or DAX made of the file page:
 * a first write to a file page that was not mapped yet.
 */
static void notrace cowstat_on_finish_fault(unsigned long ip, unsigned long parent_ip,
					    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = cowstat_ftrace_vmf(fregs);

	if ((vmf->flags & FAULT_FLAG_WRITE) && !(vmf->vma->vm_flags & VM_SHARED))
		cowstat_count(COWSTAT_COPIES, vmf->vma->vm_mm);
}

struct cowstat_hook {
	const char *func;
	struct ftrace_ops ops;
	bool registered;
};

static struct cowstat_hook cowstat_copy_hook = {
	.func = "wp_page_copy", .ops.func = cowstat_on_copy,
};

static struct cowstat_hook cowstat_wp_fault_hook = {
	.func = "do_wp_page", .ops.func = cowstat_on_wp_fault,
};

static struct cowstat_hook cowstat_cow_fault_hook = {
	.func = "finish_fault", .ops.func = cowstat_on_finish_fault,
};

/* Copies are do_wp_page() write faults less reuses (wp_page_copy() inlined). */
static bool cowstat_copies_by_difference;

/* Fails with -EINVAL when the function is not there (or was inlined). */
static int cowstat_hook_attach(struct cowstat_hook *h)
{
	int ret;

	if (!COWSTAT_FTRACE_ARGS)
		return -EOPNOTSUPP;
	ret = ftrace_set_filter(&h->ops, (unsigned char *)h->func, strlen(h->func), 1);
	if (!ret)
		ret = register_ftrace_function(&h->ops);
	if (ret)
		ftrace_free_filter(&h->ops);
	h->registered = !ret;
	return ret;
}

static void cowstat_hook_detach(struct cowstat_hook *h)
{
	if (!h->registered)
		return;
	unregister_ftrace_function(&h->ops);	/* waits for running callbacks */
	ftrace_free_filter(&h->ops);
	h->registered = false;
}

/*
 * wp_page_reuse() is declared inline, and inline functions are notrace:
 * no ftrace hook there, but a kprobe (a jump once optimized) works.
 */
static int cowstat_reuse_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);

	/* wp_page_shared() and wp_pfn_shared() reuse too: not COW. */
	if (vmf->vma->vm_flags & (VM_SHARED | VM_MAYSHARE))
		return 0;
	cowstat_count(COWSTAT_REUSES, vmf->vma->vm_mm);
	if (cowstat_copies_by_difference)
		cowstat_add(COWSTAT_COPIES, vmf->vma->vm_mm, -1);
	return 0;
}

NOKPROBE_SYMBOL(cowstat_reuse_pre);

static struct kprobe cowstat_reuse_probe = {
	.symbol_name	= "wp_page_reuse",
	.pre_handler	= cowstat_reuse_pre,
};

/*
 * do_huge_pmd_wp_page() may sleep, so many instances can be live at once;
 * one that finds no free slot is missed, and reported at unload.
 */
#define COWSTAT_MAXACTIVE	256

static struct kretprobe cowstat_huge_reuse_probe = {
	.kp.symbol_name	= "do_huge_pmd_wp_page",
	.entry_handler	= cowstat_fault_entry,
	.handler	= cowstat_huge_reuse_ret,
	.data_size	= sizeof(struct cowstat_fault),
	.maxactive	= COWSTAT_MAXACTIVE,
};

/* ---- the tracepoints ---- */

static void cowstat_on_fork(void *data, struct task_struct *parent,
			    struct task_struct *child)
{
	struct cowstat_proc_events *new;

	/* A thread is not a new process; kthreadd's children are not counted. */
	if (child->tgid == parent->tgid || (parent->flags & PF_KTHREAD))
		return;
	/* The child's counters, made before it runs, as every later event may be an NMI. */
	new = kzalloc(sizeof(*new), GFP_NOWAIT | __GFP_NOWARN);
	if (new) {
		rcu_read_lock();
		cowstat_proc_insert(child, new);
		rcu_read_unlock();
	}
	cowstat_count(COWSTAT_FORKS, parent->mm);
}

static void cowstat_on_exit(void *data, struct task_struct *tsk)
{
	struct cowstat_proc_events *p;

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
};

static void cowstat_find_tracepoint(struct tracepoint *tp, void *unused)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cowstat_tracepoints); i++)
		if (!strcmp(tp->name, cowstat_tracepoints[i].name))
			cowstat_tracepoints[i].tp = tp;
}

/* ---- registration ---- */

/* Attach the fork and exit tracepoints, both or neither. */
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

/* The reuse probes, both or neither. */
static int cowstat_attach_reuses(void)
{
	int ret = register_kprobe(&cowstat_reuse_probe);

	if (ret) {
		pr_warn("reuses unavailable: cannot probe wp_page_reuse (%d)\n", ret);
		return ret;
	}
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE)) {
		ret = register_kretprobe(&cowstat_huge_reuse_probe);
		if (ret) {
			pr_warn("reuses unavailable: cannot probe do_huge_pmd_wp_page (%d)\n",
				ret);
			unregister_kprobe(&cowstat_reuse_probe);
		}
	}
	return ret;
}

static void cowstat_detach_reuses(void)
{
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE)) {
		unregister_kretprobe(&cowstat_huge_reuse_probe);
		if (cowstat_huge_reuse_probe.nmissed)
			pr_warn("missed %d returns of do_huge_pmd_wp_page\n",
				cowstat_huge_reuse_probe.nmissed);
	}
	unregister_kprobe(&cowstat_reuse_probe);
}

/*
 * The copy hooks: wp_page_copy(), or where it is inlined do_wp_page() with
 * the reuses taken back (so only once those are counted); and finish_fault().
 */
static int cowstat_attach_copies(bool reuses)
{
	int ret = cowstat_hook_attach(&cowstat_copy_hook);

	if (ret == -EINVAL && reuses) {
		ret = cowstat_hook_attach(&cowstat_wp_fault_hook);
		if (!ret)
			pr_info("wp_page_copy is inlined: copies are do_wp_page write faults less reuses\n");
	}
	if (ret) {
		pr_warn("copies unavailable: cannot hook wp_page_copy (%d)\n", ret);
		return ret;
	}
	cowstat_copies_by_difference = cowstat_wp_fault_hook.registered;

	ret = cowstat_hook_attach(&cowstat_cow_fault_hook);
	if (ret) {
		pr_warn("copies unavailable: cannot hook finish_fault (%d)\n", ret);
		cowstat_hook_detach(&cowstat_wp_fault_hook);
		cowstat_hook_detach(&cowstat_copy_hook);
	}
	return ret;
}

static void cowstat_detach_copies(void)
{
	cowstat_hook_detach(&cowstat_cow_fault_hook);
	cowstat_hook_detach(&cowstat_wp_fault_hook);
	cowstat_hook_detach(&cowstat_copy_hook);
}

/* A probe point that is missing (or inlined away) only makes its column unavailable. */
static void cowstat_attach_probes(void)
{
	bool reuses = !cowstat_attach_reuses();

	if (reuses)
		cowstat_available |= BIT(COWSTAT_REUSES);
	if (!cowstat_attach_copies(reuses))
		cowstat_available |= BIT(COWSTAT_COPIES);
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
	cowstat_attach_probes();
	return 0;
}

void cowstat_events_exit(void)
{
	struct cowstat_proc_events *p;
	struct hlist_node *tmp;
	int bkt;

	if (!cowstat_available)
		return;
	/* Copies first: by difference they need the reuse probe until they are gone. */
	cowstat_detach_copies();
	if (cowstat_available & BIT(COWSTAT_REUSES))
		cowstat_detach_reuses();
	cowstat_detach_tracepoints();
	cowstat_copies_by_difference = false;
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
 * earlier events may have found none.
 */
bool cowstat_events_of(pid_t tgid, long *count)
{
	struct cowstat_proc_events *p;
	bool complete;
	int i;

	rcu_read_lock();
	p = cowstat_proc_lookup(tgid);
	complete = p && !p->late;
	for (i = 0; i < COWSTAT_NR_EVENTS; i++)
		count[i] = p ? max(0L, atomic_long_read(&p->count[i])) : 0;
	rcu_read_unlock();
	return complete;
}

void cowstat_events_totals(long *count)
{
	int cpu, i;

	for (i = 0; i < COWSTAT_NR_EVENTS; i++)
		count[i] = 0;
	for_each_possible_cpu(cpu)
		for (i = 0; i < COWSTAT_NR_EVENTS; i++)
			count[i] += per_cpu(cowstat_totals.count[i], cpu);
	/* A reuse that takes back a copy counted before a reset. */
	for (i = 0; i < COWSTAT_NR_EVENTS; i++)
		count[i] = max(0L, count[i]);
}

long cowstat_events_tracked(void)
{
	return atomic_long_read(&cowstat_tracked);
}

long cowstat_events_lost(void)
{
	return atomic_long_read(&cowstat_lost);
}

/*
 * Zero every counter; events racing with the reset may survive it (and
 * a copy counted by difference may show as 0 until the next one).
 */
void cowstat_events_reset(void)
{
	struct cowstat_proc_events *p;
	int bkt, cpu, i;

	rcu_read_lock();
	hash_for_each_rcu(cowstat_procs, bkt, p, node)
		for (i = 0; i < COWSTAT_NR_EVENTS; i++)
			atomic_long_set(&p->count[i], 0);
	rcu_read_unlock();
	for_each_possible_cpu(cpu)
		for (i = 0; i < COWSTAT_NR_EVENTS; i++)
			per_cpu(cowstat_totals.count[i], cpu) = 0;
	atomic_long_set(&cowstat_lost, 0);
}
