// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copies and reuses: hooks on the fault paths that see a write fault copy
 * or reuse a page, and count it the moment it happens.
 *
 * A write fault on a write-protected page of a private mapping runs
 * do_wp_page() (do_huge_pmd_wp_page() for a huge PMD), which reuses the
 * page in place or copies it (mm/memory.c, mm/huge_memory.c).  What those
 * functions return does not say which: a copy that lost a race with
 * another thread writing the same page, a copy that failed, a first write
 * that needs an anon_vma under a contended mmap lock (VM_FAULT_RETRY from
 * the per-VMA-lock path, then the fault runs again) and a huge PMD that
 * changed under the fault all return like a copy or a reuse.  So the
 * module looks for the act itself:
 *
 *   copy   the fault installs a new anonymous page at its own address:
 *          COWSTAT_NEW_ANON_RMAP(page, vma, address), which wp_page_copy()
 *          calls only once the copy is in place (the zero page's too);
 *          since 6.14 a write to the huge zero PMD installs a fresh THP
 *          the same way, at the PMD's start (do_huge_zero_wp_pmd()): one
 *          fault, one copy, 512 new pages;
 *   reuse  wp_page_reuse(vmf), which makes the PTE writable with
 *          ptep_set_access_flags(vma, address, ptep, entry, 1); for a huge
 *          PMD, pmdp_set_access_flags(vma, haddr, pmdp, entry, 1), which
 *          do_huge_pmd_wp_page() calls only to reuse the whole THP.
 *
 * The first write to a private file page that is not mapped yet copies it
 * in do_cow_fault(), inlined into do_fault(), whose finish_fault() installs
 * the copy the same way (COWSTAT_NEW_ANON_RMAP) unless it lost a race.
 *
 * A new anonymous page is installed by every first touch too, and the
 * access flags of an entry are set by other faults (a spurious fault on
 * an entry already writable), so the entry of do_wp_page(),
 * do_huge_pmd_wp_page() and finish_fault() marks a slot of the faulting
 * task: which fault (vma, address) and when (the task's count of
 * completed faults, min_flt + maj_flt, which moves only when a fault
 * returns complete: a retried or failed fault leaves it).  An install, or
 * an entry made writable, counts only where the current task's slot names
 * that same vma and address and no fault has completed since.  No hook on
 * any return is needed, and each event counts once, when it happens.
 * Unsharing (FAULT_FLAG_UNSHARE, for GUP) is not a write, and writes to
 * MAP_SHARED mappings are not copy-on-write: they get no slot.
 *
 * A fault handed to userfaultfd, or retried under the mmap lock after the
 * per-VMA-lock attempt gave up (VM_FAULT_RETRY leaves min_flt alone), may
 * find its page changed when it runs again, and install a page by another
 * path (a first touch, a swap-in): handle_userfault() and, where faults
 * run under per-VMA locks, lock_mm_and_find_vma() free the task's slot.
 * (A fault that fails, VM_FAULT_ERROR, leaves its slot until the task's
 * next write fault or exit: a task that survives a SIGBUS there and then
 * installs a page at that very address by another path would count a copy.)
 *
 * Hooks attach signals first, slots last: a fault that began before has
 * no slot and is not counted.  Faults that found no free slot are counted
 * as missed (cowstat_faults_missed()).  The hooks are ftrace callbacks,
 * called directly, without ftrace's recursion guard (they recurse into
 * nothing they hook), so ftrace never drops one.  (wp_page_reuse() itself
 * is inline, hence notrace: a kprobe there cost two to four times what an
 * ftrace callback on the function it calls does.)  hugetlb pages are not
 * counted.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

#include "cowstat.h"
#include "cowstat_compat.h"

/* ---- a slot for each task's write fault ---- */

enum cowstat_fault_kind { COWSTAT_WP_FAULT, COWSTAT_HUGE_WP_FAULT, COWSTAT_COW_FAULT };

struct cowstat_fault {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	unsigned long addr;	/* the page, or the start of the PMD for a huge fault */
	unsigned long at;	/* the page written: where the event counts (watched range) */
	unsigned long faults;	/* the task's completed faults at the fault's entry */
	enum cowstat_fault_kind kind;
};

/*
 * Open addressing without locks, as the hooks run inside page faults,
 * some under a page-table lock: a task claims a free slot with
 * cmpxchg(), keeps it for its later faults, and frees it when an event
 * used it up or when the task exits; only the task itself reads or writes
 * its slot's fields.
 */
#define COWSTAT_FAULT_BITS	11
#define COWSTAT_FAULT_SLOTS	BIT(COWSTAT_FAULT_BITS)
#define COWSTAT_FAULT_TRIES	4	/* slots tried from the task's hash */

static struct task_struct *cowstat_fault_task[COWSTAT_FAULT_SLOTS];
static struct cowstat_fault cowstat_faults[COWSTAT_FAULT_SLOTS];
static atomic_long_t cowstat_no_slot;		/* faults that found none */
static struct task_struct *cowstat_selfcheck_task;
static atomic_t cowstat_selfcheck_seen;		/* copies the self-check made */

/* The slot of @tsk, or NULL.  Every first touch of a page asks: keep it short. */
static struct cowstat_fault *cowstat_fault_find(struct task_struct *tsk)
{
	unsigned int h = hash_ptr(tsk, COWSTAT_FAULT_BITS), i, s;

	for (i = 0; i < COWSTAT_FAULT_TRIES; i++) {
		s = (h + i) & (COWSTAT_FAULT_SLOTS - 1);
		if (READ_ONCE(cowstat_fault_task[s]) == tsk)
			return &cowstat_faults[s];
	}
	return NULL;
}

/* The current task's slot, claimed if it has none yet; NULL if all are taken. */
static struct cowstat_fault *cowstat_fault_get(void)
{
	struct cowstat_fault *f = cowstat_fault_find(current);
	unsigned int h = hash_ptr(current, COWSTAT_FAULT_BITS), i, s;

	for (i = 0; !f && i < COWSTAT_FAULT_TRIES; i++) {
		s = (h + i) & (COWSTAT_FAULT_SLOTS - 1);
		if (!READ_ONCE(cowstat_fault_task[s]) &&
		    !cmpxchg(&cowstat_fault_task[s], NULL, current))
			f = &cowstat_faults[s];
	}
	if (!f)
		atomic_long_inc(&cowstat_no_slot);
	return f;
}

static void cowstat_fault_put(struct cowstat_fault *f)
{
	/* The fields are read: only now may another task claim the slot. */
	smp_store_release(&cowstat_fault_task[f - cowstat_faults], NULL);
}

/* Faults the current task has completed: what changes when one returns complete. */
static unsigned long cowstat_completed_faults(void)
{
	/* Read afresh: a fault may have moved them since (see the self-check). */
	return READ_ONCE(current->min_flt) + READ_ONCE(current->maj_flt);
}

/* A fault of @kind begins at @addr of @vma, on the page at @at: mark the current task's slot. */
static void cowstat_fault_begin(enum cowstat_fault_kind kind, struct vm_area_struct *vma,
				unsigned long addr, unsigned long at)
{
	struct cowstat_fault *f;

	/*
	 * An exiting task has its slot freed by the exit tracepoint, which
	 * runs before exit_mm() on 7.x (after it on 6.1 and 6.12), and may
	 * fault after, as exit_mm() clears clear_child_tid or a robust futex:
	 * not counted, so that no slot outlives its task.
	 */
	if (current->flags & PF_EXITING)
		return;
	f = cowstat_fault_get();
	if (!f)
		return;
	f->mm = vma->vm_mm;
	f->vma = vma;
	f->addr = addr;
	f->at = at;
	f->kind = kind;
	f->faults = cowstat_completed_faults();
}

/*
 * The current task's slot if it is inside a fault of one of @kinds (a
 * bitmask) at @addr of @vma, and no fault has completed since; else NULL.
 */
static __always_inline struct cowstat_fault *
cowstat_fault_match(unsigned int kinds, struct vm_area_struct *vma, unsigned long addr)
{
	struct cowstat_fault *f = cowstat_fault_find(current);

	if (!f || !(kinds & BIT(f->kind)) || f->vma != vma || f->addr != addr ||
	    f->faults != cowstat_completed_faults())
		return NULL;
	return f;
}

/* The fault of slot @f made its @event: the slot is used up, the event counts now. */
static __always_inline void cowstat_fault_count(struct cowstat_fault *f,
						enum cowstat_event event)
{
	struct mm_struct *mm = f->mm;
	unsigned long at = f->at;

	cowstat_fault_put(f);
	if (unlikely(current == READ_ONCE(cowstat_selfcheck_task))) {
		atomic_add(event == COWSTAT_COPIES, &cowstat_selfcheck_seen);
		return;
	}
	cowstat_event_add(event, mm, at);
}

static void cowstat_fault_event(unsigned int kinds, struct vm_area_struct *vma,
				unsigned long addr, enum cowstat_event event)
{
	struct cowstat_fault *f = cowstat_fault_match(kinds, vma, addr);

	if (f)
		cowstat_fault_count(f, event);
}

/* A thread exits: free its slot, if it kept one (a fault that made no event). */
void cowstat_faults_task_exit(struct task_struct *tsk)
{
	struct cowstat_fault *f = cowstat_fault_find(tsk);

	if (f)
		cowstat_fault_put(f);
}

/* ---- the hooks ---- */

/* do_wp_page(vmf): a write fault on a write-protected PTE, which copies or reuses */
static void notrace cowstat_on_wp_fault(unsigned long ip, unsigned long parent_ip,
					struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = (struct vm_fault *)cowstat_ftrace_arg(fregs, 0);
	struct vm_area_struct *vma = vmf->vma;

	if (!(vmf->flags & FAULT_FLAG_UNSHARE) && !(vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		cowstat_fault_begin(COWSTAT_WP_FAULT, vma, vmf->address & PAGE_MASK,
				    vmf->address & PAGE_MASK);
}

/* do_huge_pmd_wp_page(vmf) */
static void notrace cowstat_on_huge_wp_fault(unsigned long ip, unsigned long parent_ip,
					     struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = (struct vm_fault *)cowstat_ftrace_arg(fregs, 0);

	if (!(vmf->flags & FAULT_FLAG_UNSHARE))
		cowstat_fault_begin(COWSTAT_HUGE_WP_FAULT, vmf->vma,
				    vmf->address & HPAGE_PMD_MASK, vmf->address & PAGE_MASK);
}

/* finish_fault(vmf): for a write to a private mapping, it installs vmf->cow_page. */
static void notrace cowstat_on_finish_fault(unsigned long ip, unsigned long parent_ip,
					    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = (struct vm_fault *)cowstat_ftrace_arg(fregs, 0);
	struct vm_area_struct *vma = vmf->vma;

	if ((vmf->flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED))
		cowstat_fault_begin(COWSTAT_COW_FAULT, vma, vmf->address & PAGE_MASK,
				    vmf->address & PAGE_MASK);
}

/*
 * COWSTAT_NEW_ANON_RMAP(page or folio, vma, address, ...): a new page is
 * in place.  At a huge fault's address only a whole THP counts (a huge
 * zero PMD replaced): a fault that fell back to PTEs may install a first
 * touch there, after a racing MADV_DONTNEED.
 */
static void notrace cowstat_on_new_anon(unsigned long ip, unsigned long parent_ip,
					struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct cowstat_fault *f;

	f = cowstat_fault_match(BIT(COWSTAT_WP_FAULT) | BIT(COWSTAT_COW_FAULT) |
				BIT(COWSTAT_HUGE_WP_FAULT),
				(struct vm_area_struct *)cowstat_ftrace_arg(fregs, 1),
				cowstat_ftrace_arg(fregs, 2));
	if (f && (f->kind != COWSTAT_HUGE_WP_FAULT ||
		  cowstat_new_anon_nr(cowstat_ftrace_arg(fregs, 0)) == HPAGE_PMD_NR))
		cowstat_fault_count(f, COWSTAT_COPIES);
}

/* pmdp_set_access_flags(vma, haddr, pmdp, entry, dirty) */
static void notrace cowstat_on_huge_reuse(unsigned long ip, unsigned long parent_ip,
					  struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	if ((int)cowstat_ftrace_arg(fregs, 4))
		cowstat_fault_event(BIT(COWSTAT_HUGE_WP_FAULT),
				    (struct vm_area_struct *)cowstat_ftrace_arg(fregs, 0),
				    cowstat_ftrace_arg(fregs, 1), COWSTAT_REUSES);
}

/* handle_userfault(), lock_mm_and_find_vma(): the fault starts afresh, or goes elsewhere. */
static void notrace cowstat_on_fault_restart(unsigned long ip, unsigned long parent_ip,
					     struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct cowstat_fault *f = cowstat_fault_find(current);

	if (f)
		cowstat_fault_put(f);
}

/* Entries made writable and dirty, private or shared: see cowstat_faults_reuses_seen(). */
static DEFINE_PER_CPU(unsigned long, cowstat_reuse_hits);

/*
 * ptep_set_access_flags(vma, address, ptep, entry, dirty): wp_page_reuse()
 * makes the entry writable with it (dirty), whether the mapping is shared
 * or private; so does a spurious write fault on an entry already
 * writable, which never went through do_wp_page() (and hugetlb's
 * huge_ptep_set_access_flags()): the old entry and the slot tell them
 * apart.
 */
static void notrace cowstat_on_reuse(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	/*
	 * Under the page-table lock: the entry is still the old one, which
	 * wp_page_reuse() finds write-protected and a spurious fault writable.
	 */
	if (!(int)cowstat_ftrace_arg(fregs, 4) ||
	    pte_write(ptep_get((pte_t *)cowstat_ftrace_arg(fregs, 2))))
		return;
	this_cpu_inc(cowstat_reuse_hits);
	cowstat_fault_event(BIT(COWSTAT_WP_FAULT),
			    (struct vm_area_struct *)cowstat_ftrace_arg(fregs, 0),
			    cowstat_ftrace_arg(fregs, 1) & PAGE_MASK, COWSTAT_REUSES);
}

/* ---- attaching ---- */

#define COWSTAT_BOTH	(BIT(COWSTAT_COPIES) | BIT(COWSTAT_REUSES))

/*
 * A hook: an ftrace_ops on @func.  The callbacks call nothing that is
 * hooked, so they cannot recurse: no FTRACE_OPS_FL_RECURSION (which would
 * route them through ftrace's guard, and could drop one).
 */
#define COWSTAT_OPS(fn)	{ .func = (fn) }

struct cowstat_hook {
	const char *func;
	struct ftrace_ops ops;
	unsigned long needed_by;	/* the events that need it */
	bool absent;			/* not in this kernel's configuration */
	bool attached;
};

/* Every hook, in the order they attach: what they see first, then the slots. */
static struct cowstat_hook cowstat_hooks[] = {
	{ .func = COWSTAT_NEW_ANON_RMAP, .ops = COWSTAT_OPS(cowstat_on_new_anon),
	  .needed_by = BIT(COWSTAT_COPIES) },
	{ .func = "ptep_set_access_flags", .ops = COWSTAT_OPS(cowstat_on_reuse),
	  .needed_by = BIT(COWSTAT_REUSES) },
	{ .func = "pmdp_set_access_flags", .ops = COWSTAT_OPS(cowstat_on_huge_reuse),
	  .needed_by = BIT(COWSTAT_REUSES), .absent = !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) },
	{ .func = "handle_userfault", .ops = COWSTAT_OPS(cowstat_on_fault_restart),
	  .needed_by = BIT(COWSTAT_COPIES), .absent = !IS_ENABLED(CONFIG_USERFAULTFD) },
	{ .func = "lock_mm_and_find_vma", .ops = COWSTAT_OPS(cowstat_on_fault_restart),
	  .needed_by = BIT(COWSTAT_COPIES), .absent = !IS_ENABLED(CONFIG_PER_VMA_LOCK) },
	{ .func = "finish_fault", .ops = COWSTAT_OPS(cowstat_on_finish_fault),
	  .needed_by = BIT(COWSTAT_COPIES) },
	{ .func = "do_huge_pmd_wp_page", .ops = COWSTAT_OPS(cowstat_on_huge_wp_fault),
	  .needed_by = COWSTAT_BOTH, .absent = !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) },
	{ .func = "do_wp_page", .ops = COWSTAT_OPS(cowstat_on_wp_fault),
	  .needed_by = COWSTAT_BOTH },
};

static int cowstat_hook_attach(struct cowstat_hook *h)
{
	int err;

	if (!COWSTAT_FTRACE_ARGS)
		return -EOPNOTSUPP;
	err = ftrace_set_filter(&h->ops, (unsigned char *)h->func, strlen(h->func), 1);
	if (!err)
		err = register_ftrace_function(&h->ops);
	if (err)
		ftrace_free_filter(&h->ops);
	return err;
}

static void cowstat_hook_detach(struct cowstat_hook *h)
{
	if (!h->attached)
		return;
	unregister_ftrace_function(&h->ops);	/* waits for running callbacks */
	ftrace_free_filter(&h->ops);
	h->attached = false;
}

/* /proc/vmstat's pgreuse: the kernel's count of wp_page_reuse() calls. */
static unsigned long cowstat_pgreuse(void)
{
	unsigned long sum = 0;
#ifdef CONFIG_VM_EVENT_COUNTERS
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(vm_event_states, cpu).event[PGREUSE];
#endif
	return sum;
}

static unsigned long cowstat_pgreuse_base;	/* pgreuse when the reuse probe attached */
static bool cowstat_reuses_watched;		/* reuses are counted: check the probe */

/*
 * Make one copy in the loading process (insmod) and see that the hooks
 * count it: a private anonymous page that is read (the zero page gets
 * mapped), then written (the zero page is copied), then unmapped.  The
 * copy counts apart from every counter.
 */
static int cowstat_selfcheck_copies(void)
{
	unsigned long addr, faults;
	char __user *p;
	int err = 0;
	char c;

	if (current->flags & PF_KTHREAD)
		return -EOPNOTSUPP;
	addr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	p = (char __user *)addr;
	WRITE_ONCE(cowstat_selfcheck_task, current);
	if (get_user(c, p)) {
		err = -EFAULT;
	} else {
		faults = cowstat_completed_faults();
		if (put_user(c + 1, p))
			err = -EFAULT;
		/* mlockall(MCL_FUTURE) in the loader maps a real page at once: no copy to make. */
		else if (cowstat_completed_faults() == faults)
			err = -EAGAIN;
	}
	WRITE_ONCE(cowstat_selfcheck_task, NULL);
	vm_munmap(addr, PAGE_SIZE);
	if (!err && atomic_read(&cowstat_selfcheck_seen) != 1)
		err = -ENODATA;
	return err;
}

static const char *cowstat_events_named(unsigned long events)
{
	if (events == COWSTAT_BOTH)
		return "copies and reuses";
	return events & BIT(COWSTAT_COPIES) ? "copies" : "reuses";
}

/**
 * cowstat_faults_attach - attach the hooks that count copies and reuses
 *
 * A hook point that is missing (or inlined away) only makes the events
 * that need it unavailable, with a word in dmesg.
 *
 * Return: the events counted, BIT(COWSTAT_COPIES) | BIT(COWSTAT_REUSES) or less.
 */
unsigned long cowstat_faults_attach(void)
{
	unsigned long ok = COWSTAT_BOTH;
	struct cowstat_hook *h;
	int err;

	for (h = cowstat_hooks; h < cowstat_hooks + ARRAY_SIZE(cowstat_hooks); h++) {
		if (!(h->needed_by & ok) || h->absent)
			continue;
		err = cowstat_hook_attach(h);
		if (err) {
			pr_warn("%s unavailable: cannot hook %s (%d)\n",
				cowstat_events_named(h->needed_by), h->func, err);
			ok &= ~h->needed_by;
			continue;
		}
		h->attached = true;
		if (h->ops.func == cowstat_on_reuse)
			cowstat_pgreuse_base = cowstat_pgreuse();
	}
	if (ok & BIT(COWSTAT_COPIES)) {
		err = cowstat_selfcheck_copies();
		if (err == -ENODATA) {
			pr_warn("copies unavailable: a copy made to check the hooks was not seen\n");
			ok &= ~BIT(COWSTAT_COPIES);
		} else if (err) {
			pr_info("copies not checked at load: no copy could be made (%d)\n", err);
		}
	}
	/* What no available event needs goes again. */
	for (h = cowstat_hooks; h < cowstat_hooks + ARRAY_SIZE(cowstat_hooks); h++)
		if (!(h->needed_by & ok))
			cowstat_hook_detach(h);
	cowstat_reuses_watched = IS_ENABLED(CONFIG_VM_EVENT_COUNTERS) && (ok & BIT(COWSTAT_REUSES));
	return ok;
}

/* Slots first, then what sees the faults: the reverse order. */
void cowstat_faults_detach(void)
{
	struct cowstat_hook *h = cowstat_hooks + ARRAY_SIZE(cowstat_hooks);

	cowstat_reuses_watched = false;
	while (h-- > cowstat_hooks)
		cowstat_hook_detach(h);
	/* No hook runs now: every slot is free again. */
	memset(cowstat_fault_task, 0, sizeof(cowstat_fault_task));
}

/* Faults that found no slot, since load. */
long cowstat_faults_missed(void)
{
	return atomic_long_read(&cowstat_no_slot);
}

/**
 * cowstat_faults_reuses_seen - does the reuse hook still see every reuse?
 *
 * The kernel counts each wp_page_reuse() call in /proc/vmstat's pgreuse,
 * at its end; the hook counts the ptep_set_access_flags() call inside it.
 * So the hook has seen at least as many since it attached, but for
 * reuses that were running then (at most one a CPU: wp_page_reuse() holds
 * the page-table lock).  Fewer means that the kernel reuses pages without
 * that call (a kernel that makes the entry writable another way), and
 * the reuse counts would be short.  (A load-time check cannot make a
 * reuse: that takes a fork.)
 *
 * Return: false when the probe missed reuses the kernel counted.
 */
bool cowstat_faults_reuses_seen(void)
{
	unsigned long kernel, seen = 0;
	int cpu;

	if (!cowstat_reuses_watched)
		return true;
	kernel = cowstat_pgreuse() - cowstat_pgreuse_base;	/* first: see above */
	for_each_possible_cpu(cpu)
		seen += per_cpu(cowstat_reuse_hits, cpu);
	return kernel <= seen + num_possible_cpus();
}
