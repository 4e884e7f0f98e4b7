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
#include <linux/userfaultfd_k.h>

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
 * Does do_wp_page() refuse to reuse any page of a large folio that is not
 * exclusive?  Since 6.9 ("mm: prohibit the last subpage from reusing the
 * entire large folio") it does; 6.1 reused one when its reference count
 * said that nothing else mapped the folio.  No header says which: the
 * nearest mark is folio_large_mapcount() (6.10), so a 6.9 kernel is
 * predicted as 6.1 is.
 */
static inline bool cowstat_large_never_reused(struct folio *folio)
{
#ifdef COWSTAT_HAVE_LARGE_MAPCOUNT
	return folio_test_large(folio);
#else
	return false;
#endif
}

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
 * freed (RCU) under the mmap read lock, and the exported helper is gone:
 * this follows __pte_offset_map_lock() (mm/pgtable-generic.c) with what
 * is inline: read the PMD under RCU, lock, check that the PMD is the one
 * read.  NULL: no table there any more.
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
	    pmd_devmap(pmdval) || unlikely(pmd_bad(pmdval)))
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

	__cond_lock(RCU, __cond_lock(*ptlp, pte = __cowstat_pte_map_lock(mm, pmd, addr, ptlp)));
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
#else
#define COWSTAT_NEW_ANON_RMAP	"page_add_new_anon_rmap"
#endif

#endif /* COWSTAT_COMPAT_H */
