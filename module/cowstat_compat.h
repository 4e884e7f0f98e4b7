/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the kernels cowstat builds for differ, one small helper each.  The
 * COWSTAT_HAVE_* flags come from compile tests against the kernel's
 * headers (module/Kbuild, module/conftest/), not from version numbers.
 */
#ifndef COWSTAT_COMPAT_H
#define COWSTAT_COMPAT_H

#include <linux/ftrace.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/userfaultfd_k.h>
#include <linux/swap.h>
#ifdef COWSTAT_HAVE_SOFTLEAF
#include <linux/leafops.h>
#else
#include <linux/swapops.h>
#endif
#ifdef COWSTAT_HAVE_TASK_EXEC_STATE
#include <linux/sched/exec_state.h>
#else
#include <linux/sched/coredump.h>
#endif

/*
 * The map count of a page of a file or shmem folio: 6.1 adds each PMD
 * mapping of a file THP to every page's _mapcount (page_add_file_rmap()),
 * so the page's own count is the whole; later kernels count a file folio
 * as an anonymous one.
 */
#ifdef COWSTAT_HAVE_DOUBLEMAP
#define COWSTAT_FILE_MAPS_PER_PAGE	true
#else
#define COWSTAT_FILE_MAPS_PER_PAGE	false
#endif

/*
 * The map count of a page of a large anonymous folio: its own PTE
 * mappings, plus the mappings of the whole folio by PMDs; 6.1 counts a
 * folio mapped both ways (PageDoubleMap) once less, as __page_mapcount()
 * does.  page_mapcount() itself is gone in 6.12.
 */
static inline int cowstat_folio_pmd_maps(struct folio *folio)
{
#ifdef COWSTAT_HAVE_DOUBLEMAP
	return folio_entire_mapcount(folio) - !!PageDoubleMap(&folio->page);
#else
	return folio_entire_mapcount(folio);
#endif
}

/*
 * The map count of a page of a large anonymous folio, as smaps reads it:
 * a base for the whole folio, cowstat_large_maps_base(), read once per
 * folio (a PMD-mapped THP asks it for 512 pages), plus the page's own.
 * Kernels built with CONFIG_NO_PAGE_MAPCOUNT (an option since 6.15; not
 * Debian's) keep no per-page count: there a page counts as mapped twice
 * when another mm may map its folio (folio_maybe_mapped_shared(), what
 * smaps uses there), which is not exact: the shared and private columns
 * say so (COWSTAT_EXACT_SHARING).
 */
#ifdef CONFIG_NO_PAGE_MAPCOUNT
#define COWSTAT_EXACT_SHARING	false

static inline int cowstat_large_maps_base(struct folio *folio)
{
	return folio_maybe_mapped_shared(folio) ? 2 : 1;
}

static inline int cowstat_large_page_maps(struct page *page, int base)
{
	return base;
}
#else
#define COWSTAT_EXACT_SHARING	true

static inline int cowstat_large_maps_base(struct folio *folio)
{
	return 1 + cowstat_folio_pmd_maps(folio);
}

static inline int cowstat_large_page_maps(struct page *page, int base)
{
	return atomic_read(&page->_mapcount) + base;
}
#endif

/*
 * Would do_wp_page() reuse a page of a large anonymous folio that is not
 * PageAnonExclusive()?  Three policies, and no header names them:
 *   - until 6.8, as a small page: when the reference count says that
 *     nothing else holds the folio (cowstat_anon_reusable() asks);
 *   - 6.9 ("mm: prohibit the last subpage from reusing the entire large
 *     folio") to 6.14, never; the nearest mark is folio_large_mapcount()
 *     (6.10), so a 6.9 kernel is predicted as 6.1 is;
 *   - since the folio tracks which mms map it (folio->_mm_ids, 6.15),
 *     when this mm alone maps it, by more than one page, and every
 *     reference is a mapping: __wp_can_reuse_large_anon_folio().  The
 *     kernel does not drain an LRU batch for a large folio: a reference
 *     from one makes a copy.  A folio in the swap cache is predicted a
 *     copy, as a small one is (see cowstat_anon_reusable()).
 * Returns -1 for "as a small page", else whether the write reuses it.
 */
static inline int cowstat_large_reusable(struct folio *folio)
{
#if defined(COWSTAT_HAVE_MM_IDS)
	return folio_large_mapcount(folio) > 1 &&
	       !test_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids) &&
	       !folio_test_swapcache(folio) &&
	       folio_large_mapcount(folio) == folio_ref_count(folio);
#elif defined(COWSTAT_HAVE_LARGE_MAPCOUNT)
	return 0;
#else
	return -1;
#endif
}

/*
 * DAX huge entries: marked devmap on 6.12 and before, ordinary huge
 * entries (pmd_trans_huge()) on 7.x, whose page is not anonymous.
 */
#ifdef COWSTAT_HAVE_PMD_DEVMAP
#define cowstat_pmd_devmap(pmd)	pmd_devmap(pmd)
#define cowstat_pud_devmap(pud)	pud_devmap(pud)
#else
#define cowstat_pmd_devmap(pmd)	false
#define cowstat_pud_devmap(pud)	false
#endif

/*
 * A huge PFN mapping (VM_PFNMAP, VM_MIXEDMAP: a driver's memory) is
 * marked special since 6.12, as a PTE is: its frame may have no struct
 * page.  (The huge zero PMD is special too, in an anonymous VMA.)
 */
#ifdef COWSTAT_HAVE_PMD_SPECIAL
#define cowstat_pmd_special(pmd)	pmd_special(pmd)
#else
#define cowstat_pmd_special(pmd)	false
#endif

/* sparse's lock contexts: __cond_lock() is gone since 7.0, with sparse's lock checking. */
#ifdef __cond_lock
#define cowstat_cond_lock(x, c)	__cond_lock(x, c)
#else
#define cowstat_cond_lock(x, c)	(c)
#endif

/*
 * Every kernel has one of the two ways to a PTE table: if neither compile
 * test passed, the tests themselves failed (see module/conftest/).
 */
#if !defined(COWSTAT_HAVE_PMD_READ_ATOMIC) && !defined(COWSTAT_HAVE_PTE_MAP_OUT_OF_LINE)
#error "cowstat: the compile tests found neither pmd_read_atomic() nor __pte_offset_map()"
#endif

/* A PMD read once, without its lock: pmd_read_atomic() became pmdp_get_lockless(). */
static inline pmd_t cowstat_pmd_read(pmd_t *pmd)
{
#ifdef COWSTAT_HAVE_PMD_READ_ATOMIC
	return pmd_read_atomic(pmd);
#else
	return pmdp_get_lockless(pmd);
#endif
}

/*
 * Map and lock the PTE table under @pmd.  6.1's pte_offset_map_lock()
 * cannot fail: the mmap lock keeps the table.  Since 6.5 a table can be
 * freed (RCU) under the mmap read lock, and the helper that maps it is not
 * exported (__pte_offset_map_lock() until 6.19, pte_offset_map_lock()
 * itself since 7.0): this follows pte_offset_map_lock() and
 * __pte_offset_map() (mm/pgtable-generic.c) with what is inline: read the
 * PMD under RCU, lock, check that the PMD is the one read.  NULL: no table
 * there any more (the caller retries, as pte_offset_map_lock() does).
 */
#ifndef COWSTAT_HAVE_PTE_MAP_OUT_OF_LINE
#define COWSTAT_PTE_MAP_CAN_FAIL	false

static inline pte_t *cowstat_pte_map_lock(struct mm_struct *mm, pmd_t *pmd,
					  unsigned long addr, spinlock_t **ptlp)
{
	return pte_offset_map_lock(mm, pmd, addr, ptlp);
}

static inline void cowstat_pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	pte_unmap_unlock(pte, ptl);
}
#else
#define COWSTAT_PTE_MAP_CAN_FAIL	true

static inline pte_t *__cowstat_pte_map_lock(struct mm_struct *mm, pmd_t *pmd,
					    unsigned long addr, spinlock_t **ptlp)
{
	pmd_t pmdval;

	rcu_read_lock();
	pmdval = pmdp_get_lockless(pmd);
	if (pmd_none(pmdval) || !pmd_present(pmdval) || pmd_trans_huge(pmdval) ||
	    cowstat_pmd_devmap(pmdval) || unlikely(pmd_bad(pmdval)))
		goto out_unlock;
	*ptlp = pte_lockptr(mm, &pmdval);
	spin_lock(*ptlp);
	if (likely(pmd_same(pmdval, pmdp_get_lockless(pmd)))) {
		/* For sparse, as if out of line: the caller's __cond_lock() says it. */
		__release(*ptlp);
		__release(RCU);
		return pte_offset_kernel(&pmdval, addr);
	}
	spin_unlock(*ptlp);
out_unlock:
	rcu_read_unlock();
	return NULL;
}

/* Both locks are held when a table is returned (pte_offset_map_lock()'s form). */
static inline pte_t *cowstat_pte_map_lock(struct mm_struct *mm, pmd_t *pmd,
					  unsigned long addr, spinlock_t **ptlp)
{
	pte_t *pte;

	pte = __cowstat_pte_map_lock(mm, pmd, addr, ptlp);
	(void)cowstat_cond_lock(RCU, cowstat_cond_lock(*ptlp, pte));
	return pte;
}

static inline void cowstat_pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	spin_unlock(ptl);
	rcu_read_unlock();
}
#endif

/*
 * Does a write fault on this write-protected PTE go to userfaultfd
 * instead of copying or reusing?  It does when the PTE is write-protected
 * by uffd, unless the context asked for UFFD_FEATURE_WP_ASYNC (6.7 on),
 * which clears the bit and goes on; its context is visible from 6.8 on.
 */
static inline bool cowstat_uffd_wp_to_user(struct vm_area_struct *vma, pte_t pte)
{
	if (!userfaultfd_pte_wp(vma, pte))
		return false;
#if defined(COWSTAT_HAVE_UFFD_CTX) && defined(UFFD_FEATURE_WP_ASYNC)
	return !(vma->vm_userfaultfd_ctx.ctx->features & UFFD_FEATURE_WP_ASYNC);
#else
	return true;
#endif
}

/*
 * Non-present PTEs and PMDs: a swap entry, or an entry that names a page
 * (migration, device memory, hwpoison), or a marker.  swp_entry_t and
 * non_swap_entry() until 6.18; the "softleaf" API since 6.19.  Only
 * called for an entry that is neither none nor present.
 */
#ifdef COWSTAT_HAVE_SOFTLEAF
#define cowstat_leaf_t	softleaf_t

static inline softleaf_t cowstat_pte_leaf(pte_t pte)
{
	return softleaf_from_pte(pte);
}

static inline softleaf_t cowstat_pmd_leaf(pmd_t pmd)
{
	return softleaf_from_pmd(pmd);
}

#define cowstat_leaf_is_swap(e)		softleaf_is_swap(e)
#define cowstat_leaf_has_page(e)	softleaf_has_pfn(e)
#define cowstat_leaf_page(e)		softleaf_to_page(e)
#define cowstat_leaf_is_migration(e)	softleaf_is_migration(e)
#else
#define cowstat_leaf_t	swp_entry_t

static inline swp_entry_t cowstat_pte_leaf(pte_t pte)
{
	return pte_to_swp_entry(pte);
}

static inline swp_entry_t cowstat_pmd_leaf(pmd_t pmd)
{
	return pmd_to_swp_entry(pmd);
}

#define cowstat_leaf_is_swap(e)		(!non_swap_entry(e))
#define cowstat_leaf_has_page(e)	is_pfn_swap_entry(e)
#define cowstat_leaf_page(e)		pfn_swap_entry_to_page(e)
#define cowstat_leaf_is_migration(e)	is_migration_entry(e)
#endif

/*
 * Is @t dumpable by its owner, as ptrace asks after the credentials, or
 * else in which user namespace must the reader have CAP_SYS_PTRACE?  Both
 * lived in the mm (get_dumpable(), mm->user_ns) on 6.12 and before; on
 * 7.2 they are the task's (task->exec_state), which __ptrace_may_access() reads in
 * task_still_dumpable() (its accessor is not exported).  Under
 * rcu_read_lock() and task_lock(@t).
 */
#ifdef COWSTAT_HAVE_TASK_EXEC_STATE
static inline bool cowstat_owner_dumpable(struct task_struct *t, struct mm_struct *mm,
					  struct user_namespace **ns)
{
	const struct task_exec_state *es = rcu_dereference(t->exec_state);

	*ns = es->user_ns;
	return READ_ONCE(es->dumpable) == TASK_DUMPABLE_OWNER;
}
#else
static inline bool cowstat_owner_dumpable(struct task_struct *t, struct mm_struct *mm,
					  struct user_namespace **ns)
{
	*ns = mm->user_ns;
	return get_dumpable(mm) == SUID_DUMP_USER;
}
#endif

/*
 * The sched_process_exit tracepoint's probe: (p) on 6.12 and before, (p,
 * group_dead) on 7.x.  The probe reads @p only.
 */
#ifdef COWSTAT_HAVE_EXIT_GROUP_DEAD
#define COWSTAT_EXIT_PROBE_ARGS	void *data, struct task_struct *tsk, bool group_dead
#else
#define COWSTAT_EXIT_PROBE_ARGS	void *data, struct task_struct *tsk
#endif

/*
 * Argument @n of a function hooked by an ftrace_ops, which (on x86-64 with
 * DYNAMIC_FTRACE_WITH_ARGS) saves the argument registers: in fregs->regs
 * on 6.1, behind ftrace_regs_get_argument() since 6.7.
 */
#ifdef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#define COWSTAT_FTRACE_ARGS	true

static inline unsigned long cowstat_ftrace_arg(struct ftrace_regs *fregs, unsigned int n)
{
#ifdef COWSTAT_HAVE_FTRACE_REGS_GET_ARGUMENT
	return ftrace_regs_get_argument(fregs, n);
#else
	return regs_get_kernel_argument(&fregs->regs, n);
#endif
}
#else
#define COWSTAT_FTRACE_ARGS	false

static inline unsigned long cowstat_ftrace_arg(struct ftrace_regs *fregs, unsigned int n)
{
	return 0;	/* never called: no hook attaches without the arguments */
}
#endif

/*
 * The function that installs a new anonymous page, where the copy of a
 * write fault becomes the page the process maps: page_add_new_anon_rmap()
 * on 6.1, folio_add_new_anon_rmap() since 6.3.  (vma, address) are its
 * second and third arguments in both.
 */
#ifdef COWSTAT_HAVE_FOLIO_ADD_NEW_ANON_RMAP
#define COWSTAT_NEW_ANON_RMAP	"folio_add_new_anon_rmap"

/* The pages its first argument installs. */
static inline unsigned long cowstat_new_anon_nr(unsigned long arg)
{
	return folio_nr_pages((struct folio *)arg);
}
#else
#define COWSTAT_NEW_ANON_RMAP	"page_add_new_anon_rmap"

static inline unsigned long cowstat_new_anon_nr(unsigned long arg)
{
	return folio_nr_pages(page_folio((struct page *)arg));
}
#endif

#endif /* COWSTAT_COMPAT_H */
