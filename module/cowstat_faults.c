// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copies and reuses: probes on the fault paths that see a write fault copy
 * or reuse a page, counted once the fault has returned.
 *
 * A write fault on a write-protected page of a private mapping runs
 * do_wp_page() (do_huge_pmd_wp_page() for a huge PMD), which reuses the
 * page in place or copies it (mm/memory.c, mm/huge_memory.c).  What those
 * functions return does not say which: a copy that lost a race with
 * another thread writing the same page, a copy that failed, a first write
 * that needs an anon_vma under a contended mmap lock (VM_FAULT_RETRY from
 * the per-VMA-lock path, then the fault runs again), and a huge PMD that
 * changed under the fault all return like a copy or a reuse.  So the
 * module looks for the act itself, while the fault runs:
 *
 *   copy   the fault installs a new anonymous page at its own address:
 *          COWSTAT_NEW_ANON_RMAP(page, vma, address), which wp_page_copy()
 *          calls only once the copy is in place (for the zero page too);
 *   reuse  wp_page_reuse(vmf), which makes the PTE writable; for a huge
 *          PMD, pmdp_set_access_flags(vma, haddr, pmdp, entry, 1), which
 *          do_huge_pmd_wp_page() calls only to reuse the whole THP.
 *
 * Each such fault has a slot from its entry (the return probe's entry
 * handler) to its return, keyed by the faulting task.  The probes above
 * mark the slot of the current task when vma and address match; the
 * return handler counts what the slot says.  Unsharing (FAULT_FLAG_UNSHARE,
 * for GUP) is not a write, and writes to MAP_SHARED mappings are not
 * copy-on-write: they get no slot.
 *
 * The first write to a private file page that is not mapped yet copies it
 * in do_cow_fault(), inlined into do_fault(): its finish_fault() call
 * returns 0 exactly when it installed the copy.
 *
 * Attaching goes signals first, slots last: a fault that began before has
 * no slot and is not counted, every fault with a slot is seen whole.  What
 * the kprobes layer could not deliver (a probe hit while another probe
 * ran on that CPU, no free return instance) and faults that found no free
 * slot are counted as missed (cowstat_faults_missed()).  hugetlb pages are
 * not counted.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/percpu.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

#include "cowstat.h"
#include "cowstat_compat.h"

/* ---- a slot for each write fault in flight ---- */

struct cowstat_fault {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	unsigned long addr;	/* the page, or the start of the PMD for a huge fault */
	bool huge;
	bool copied;
	bool reused;
};

/*
 * Open addressing without locks, as the probes may run where no lock may
 * be taken (a kprobe hit through int3 runs as an NMI on x86): a task
 * claims a free slot with cmpxchg() and only it ever reads or frees its
 * slot.  A task has one write fault at a time.
 */
#define COWSTAT_FAULT_BITS	10
#define COWSTAT_FAULT_SLOTS	BIT(COWSTAT_FAULT_BITS)
#define COWSTAT_FAULT_TRIES	16	/* slots tried from the task's hash */

static struct task_struct *cowstat_fault_task[COWSTAT_FAULT_SLOTS];
static struct cowstat_fault cowstat_faults[COWSTAT_FAULT_SLOTS];
static atomic_long_t cowstat_no_slot;		/* faults that found none */
static struct task_struct *cowstat_selfcheck_task;
static atomic_t cowstat_selfcheck_seen;	/* copies the self-check made */

static unsigned int cowstat_fault_slot(unsigned int i)
{
	return (hash_ptr(current, COWSTAT_FAULT_BITS) + i) & (COWSTAT_FAULT_SLOTS - 1);
}

static struct cowstat_fault *cowstat_fault_claim(struct vm_area_struct *vma,
						 unsigned long addr, bool huge)
{
	struct cowstat_fault *f;
	unsigned int i, s;

	for (i = 0; i < COWSTAT_FAULT_TRIES; i++) {
		s = cowstat_fault_slot(i);
		if (READ_ONCE(cowstat_fault_task[s]) ||
		    cmpxchg(&cowstat_fault_task[s], NULL, current))
			continue;
		f = &cowstat_faults[s];
		f->mm = vma->vm_mm;
		f->vma = vma;
		f->addr = addr;
		f->huge = huge;
		f->copied = false;
		f->reused = false;
		return f;
	}
	atomic_long_inc(&cowstat_no_slot);
	return NULL;
}

/* The slot of the current task's write fault, or NULL. */
static struct cowstat_fault *cowstat_fault_find(void)
{
	unsigned int i, s;

	for (i = 0; i < COWSTAT_FAULT_TRIES; i++) {
		s = cowstat_fault_slot(i);
		if (READ_ONCE(cowstat_fault_task[s]) == current)
			return &cowstat_faults[s];
	}
	return NULL;
}

NOKPROBE_SYMBOL(cowstat_fault_slot);
NOKPROBE_SYMBOL(cowstat_fault_claim);
NOKPROBE_SYMBOL(cowstat_fault_find);

/* ---- the faults: do_wp_page(), do_huge_pmd_wp_page() ---- */

static int cowstat_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs, bool huge)
{
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);
	struct cowstat_fault **fp = (struct cowstat_fault **)ri->data;
	struct vm_area_struct *vma = vmf->vma;

	if ((vmf->flags & FAULT_FLAG_UNSHARE) || (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return 1;	/* no slot, no return handler */
	*fp = cowstat_fault_claim(vma, vmf->address & (huge ? HPAGE_PMD_MASK : PAGE_MASK), huge);
	return *fp ? 0 : 1;
}

static int cowstat_wp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return cowstat_fault_entry(ri, regs, false);
}

static int cowstat_huge_wp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return cowstat_fault_entry(ri, regs, true);
}

/* Either fault's return: count what it did, and free its slot. */
static int cowstat_fault_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = *(struct cowstat_fault **)ri->data;
	bool copied = f->copied, reused = f->reused;
	struct mm_struct *mm = f->mm;

	/* The slot's fields are read: only now may another task claim it. */
	smp_store_release(&cowstat_fault_task[f - cowstat_faults], NULL);
	if (unlikely(current == READ_ONCE(cowstat_selfcheck_task))) {
		atomic_add(copied, &cowstat_selfcheck_seen);
		return 0;
	}
	if (copied)
		cowstat_event_add(COWSTAT_COPIES, mm);
	if (reused)
		cowstat_event_add(COWSTAT_REUSES, mm);
	return 0;
}

NOKPROBE_SYMBOL(cowstat_fault_entry);
NOKPROBE_SYMBOL(cowstat_wp_entry);
NOKPROBE_SYMBOL(cowstat_huge_wp_entry);
NOKPROBE_SYMBOL(cowstat_fault_ret);

/*
 * do_wp_page() and do_huge_pmd_wp_page() may sleep (allocation, the folio
 * lock), so many can be in flight; one that finds no free return instance
 * is not counted, and shows in nmissed.
 */
#define COWSTAT_MAXACTIVE	256

static struct kretprobe cowstat_wp_probe = {
	.kp.symbol_name	= "do_wp_page",
	.entry_handler	= cowstat_wp_entry,
	.handler	= cowstat_fault_ret,
	.data_size	= sizeof(struct cowstat_fault *),
	.maxactive	= COWSTAT_MAXACTIVE,
};

static struct kretprobe cowstat_huge_wp_probe = {
	.kp.symbol_name	= "do_huge_pmd_wp_page",
	.entry_handler	= cowstat_huge_wp_entry,
	.handler	= cowstat_fault_ret,
	.data_size	= sizeof(struct cowstat_fault *),
	.maxactive	= COWSTAT_MAXACTIVE,
};

/* ---- what the faults do ---- */

/* COWSTAT_NEW_ANON_RMAP(page or folio, vma, address, ...): a new page is in place. */
static int cowstat_on_new_anon(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)regs_get_kernel_argument(regs, 1);
	unsigned long addr = regs_get_kernel_argument(regs, 2);
	struct cowstat_fault *f = cowstat_fault_find();

	if (f && f->vma == vma && f->addr == addr)
		f->copied = true;
	return 0;
}

/* Calls of wp_page_reuse() the probe saw, private or shared: see cowstat_faults_reuses_seen(). */
static DEFINE_PER_CPU(unsigned long, cowstat_reuse_hits);

/* wp_page_reuse(vmf, ...) */
static int cowstat_on_reuse(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);
	struct cowstat_fault *f = cowstat_fault_find();

	this_cpu_inc(cowstat_reuse_hits);
	if (f && !f->huge && f->vma == vmf->vma && f->addr == (vmf->address & PAGE_MASK))
		f->reused = true;
	return 0;
}

/* pmdp_set_access_flags(vma, haddr, pmdp, entry, dirty) */
static int cowstat_on_huge_reuse(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)regs_get_kernel_argument(regs, 0);
	unsigned long haddr = regs_get_kernel_argument(regs, 1);
	int dirty = regs_get_kernel_argument(regs, 4);
	struct cowstat_fault *f = cowstat_fault_find();

	if (f && f->huge && dirty && f->vma == vma && f->addr == haddr)
		f->reused = true;
	return 0;
}

NOKPROBE_SYMBOL(cowstat_on_new_anon);
NOKPROBE_SYMBOL(cowstat_on_reuse);
NOKPROBE_SYMBOL(cowstat_on_huge_reuse);

static struct kprobe cowstat_new_anon_probe = {
	.symbol_name	= COWSTAT_NEW_ANON_RMAP,
	.pre_handler	= cowstat_on_new_anon,
};

/*
 * wp_page_reuse() is declared inline, and inline functions are notrace:
 * a kprobe (a jump once optimized), not an ftrace hook.
 */
static struct kprobe cowstat_reuse_probe = {
	.symbol_name	= "wp_page_reuse",
	.pre_handler	= cowstat_on_reuse,
};

static struct kprobe cowstat_huge_reuse_probe = {
	.symbol_name	= "pmdp_set_access_flags",
	.pre_handler	= cowstat_on_huge_reuse,
};

/* ---- do_cow_fault(): finish_fault() ---- */

static int cowstat_finish_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);
	struct vm_area_struct *vma = vmf->vma;

	/* A write to a private mapping: finish_fault() installs vmf->cow_page. */
	if (!(vmf->flags & FAULT_FLAG_WRITE) || (vma->vm_flags & VM_SHARED))
		return 1;
	*(struct mm_struct **)ri->data = vma->vm_mm;
	return 0;
}

static int cowstat_finish_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (!regs_return_value(regs))
		cowstat_event_add(COWSTAT_COPIES, *(struct mm_struct **)ri->data);
	return 0;
}

NOKPROBE_SYMBOL(cowstat_finish_entry);
NOKPROBE_SYMBOL(cowstat_finish_ret);

static struct kretprobe cowstat_finish_probe = {
	.kp.symbol_name	= "finish_fault",
	.entry_handler	= cowstat_finish_entry,
	.handler	= cowstat_finish_ret,
	.data_size	= sizeof(struct mm_struct *),
	.maxactive	= COWSTAT_MAXACTIVE,
};

/* ---- attaching ---- */

#define COWSTAT_BOTH	(BIT(COWSTAT_COPIES) | BIT(COWSTAT_REUSES))

/* Every probe, in the order they attach, with the events that need it. */
static struct cowstat_probe {
	struct kprobe *kp;
	struct kretprobe *rp;
	unsigned long needed_by;
	bool thp;		/* only where transparent huge pages exist */
	bool attached;
} cowstat_probes[] = {
	{ .kp = &cowstat_new_anon_probe, .needed_by = BIT(COWSTAT_COPIES) },
	{ .kp = &cowstat_reuse_probe, .needed_by = BIT(COWSTAT_REUSES) },
	{ .kp = &cowstat_huge_reuse_probe, .needed_by = BIT(COWSTAT_REUSES), .thp = true },
	{ .rp = &cowstat_finish_probe, .needed_by = BIT(COWSTAT_COPIES) },
	{ .rp = &cowstat_huge_wp_probe, .needed_by = BIT(COWSTAT_REUSES), .thp = true },
	{ .rp = &cowstat_wp_probe, .needed_by = COWSTAT_BOTH },
};

static const char *cowstat_probe_name(struct cowstat_probe *p)
{
	return p->kp ? p->kp->symbol_name : p->rp->kp.symbol_name;
}

static void cowstat_probe_detach(struct cowstat_probe *p)
{
	if (!p->attached)
		return;
	if (p->kp)
		unregister_kprobe(p->kp);
	else
		unregister_kretprobe(p->rp);
	p->attached = false;
}

/* Hits this probe could not deliver. */
static long cowstat_probe_missed(struct cowstat_probe *p)
{
	if (p->kp)
		return p->kp->nmissed;
	return p->rp->nmissed + p->rp->kp.nmissed;
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
 * Make one copy in the loading process (insmod) and see that the probes
 * catch it: a private anonymous page that is read (the zero page gets
 * mapped), then written (the zero page is copied), then unmapped.  The
 * copy counts apart from every counter.
 */
static int cowstat_selfcheck_copies(void)
{
	unsigned long addr;
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
	if (get_user(c, p) || put_user(c + 1, p))
		err = -EFAULT;
	WRITE_ONCE(cowstat_selfcheck_task, NULL);
	vm_munmap(addr, PAGE_SIZE);
	if (!err && atomic_read(&cowstat_selfcheck_seen) != 1)
		err = -ENODATA;
	return err;
}

/**
 * cowstat_faults_attach - attach the probes that count copies and reuses
 *
 * A probe point that is missing (or inlined away) only makes the events
 * that need it unavailable, with a word in dmesg.
 *
 * Return: the events counted, BIT(COWSTAT_COPIES) | BIT(COWSTAT_REUSES) or less.
 */
unsigned long cowstat_faults_attach(void)
{
	unsigned long ok = COWSTAT_BOTH;
	struct cowstat_probe *p;
	int err;

	for (p = cowstat_probes; p < cowstat_probes + ARRAY_SIZE(cowstat_probes); p++) {
		if (!(p->needed_by & ok) || (p->thp && !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE)))
			continue;
		err = p->kp ? register_kprobe(p->kp) : register_kretprobe(p->rp);
		if (err) {
			pr_warn("%s unavailable: cannot probe %s (%d)\n",
				p->needed_by == COWSTAT_BOTH ? "copies and reuses" :
				p->needed_by & BIT(COWSTAT_COPIES) ? "copies" : "reuses",
				cowstat_probe_name(p), err);
			ok &= ~p->needed_by;
			continue;
		}
		p->attached = true;
		if (p->kp == &cowstat_reuse_probe)
			cowstat_pgreuse_base = cowstat_pgreuse();
	}
	if (ok & BIT(COWSTAT_COPIES)) {
		err = cowstat_selfcheck_copies();
		if (err == -ENODATA) {
			pr_warn("copies unavailable: a copy made to check the probes was not seen\n");
			ok &= ~BIT(COWSTAT_COPIES);
		} else if (err) {
			pr_info("copies not checked at load: no test page (%d)\n", err);
		}
	}
	/* What no available event needs goes again. */
	for (p = cowstat_probes; p < cowstat_probes + ARRAY_SIZE(cowstat_probes); p++)
		if (!(p->needed_by & ok))
			cowstat_probe_detach(p);
	cowstat_reuses_watched = IS_ENABLED(CONFIG_VM_EVENT_COUNTERS) && (ok & BIT(COWSTAT_REUSES));
	return ok;
}

/* Slots last, signals after them: the reverse order. */
void cowstat_faults_detach(void)
{
	struct cowstat_probe *p = cowstat_probes + ARRAY_SIZE(cowstat_probes);

	cowstat_reuses_watched = false;
	while (p-- > cowstat_probes)
		cowstat_probe_detach(p);
	/* No handler runs now; slots of faults cut off by the detach are free again. */
	memset(cowstat_fault_task, 0, sizeof(cowstat_fault_task));
}

/* Probe hits that were lost, and faults that found no slot, since load. */
long cowstat_faults_missed(void)
{
	long missed = atomic_long_read(&cowstat_no_slot);
	struct cowstat_probe *p;

	for (p = cowstat_probes; p < cowstat_probes + ARRAY_SIZE(cowstat_probes); p++)
		if (p->attached)
			missed += cowstat_probe_missed(p);
	return missed;
}

/**
 * cowstat_faults_reuses_seen - does the reuse probe still see every reuse?
 *
 * The kernel counts each wp_page_reuse() call in /proc/vmstat's pgreuse,
 * at its end; the probe counts it at its start.  So the probe has seen at
 * least as many since it attached, but for reuses that were running then
 * (at most one a CPU: wp_page_reuse() holds the page-table lock).  Fewer
 * means that the kernel reuses pages where the probe cannot see it (a
 * caller that inlined wp_page_reuse()), and the reuse counts would be
 * short.  (A load-time check cannot make a reuse: that takes a fork.)
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
	seen += cowstat_reuse_probe.nmissed;
	return kernel <= seen + num_possible_cpus();
}
