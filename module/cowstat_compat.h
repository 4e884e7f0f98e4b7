/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the kernels cowstat builds for differ, one small helper each.  The
 * COWSTAT_HAVE_* flags come from feature tests on the headers in
 * module/Kbuild, not from version numbers.
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
#ifndef COWSTAT_PTE_MAP_OUT_OF_LINE
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

/* The first argument of a function hooked by an ftrace_ops (x86-64). */
static inline unsigned long cowstat_ftrace_arg0(struct ftrace_regs *fregs)
{
#ifdef COWSTAT_HAVE_ARCH_FTRACE_REGS
	return arch_ftrace_regs(fregs)->regs.di;
#else
	return fregs->regs.di;
#endif
}

/*
 * Did do_huge_pmd_wp_page() reuse the huge page for a write?  6.1 says so
 * with VM_FAULT_WRITE; later kernels return 0 (and VM_FAULT_FALLBACK when
 * they split instead).
 */
static inline bool cowstat_huge_reused(vm_fault_t ret, bool unshare)
{
#ifdef COWSTAT_HAVE_VM_FAULT_WRITE
	return ret & VM_FAULT_WRITE;
#else
	return !unshare && !(ret & (VM_FAULT_FALLBACK | VM_FAULT_ERROR));
#endif
}

/*
 * Does do_wp_page() hand this write fault to userfaultfd instead of
 * copying or reusing?  It does when the PTE is write-protected by uffd,
 * unless the context asked for UFFD_FEATURE_WP_ASYNC (6.7 on), which
 * clears the bit and goes on; its context is visible from 6.8 on.
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

#endif /* COWSTAT_COMPAT_H */
