// SPDX-License-Identifier: GPL-2.0-only
/*
 * The page-table walk behind /proc/cowstat and /proc/cowstat_maps.
 *
 * The structure follows fs/proc/task_mmu.c (smaps): a walk over the VMAs
 * under the mmap read lock, huge PMDs accounted under the PMD lock, PTE
 * tables under the PTE lock, and two functions that decide for a page:
 * cowstat_page_shared(), is it mapped more than once, and
 * cowstat_write_fault(), what would its next write do.  The PTE loop, which
 * runs once per mapped page, keeps its counts in registers.
 * walk_page_vma() and vm_normal_page() are not exported to modules, so
 * the levels are walked by hand and a present PTE is decoded the way
 * vm_normal_page() decodes it on an architecture with pte_special().
 */

#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pgtable.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>

#include "cowstat.h"
#include "cowstat_compat.h"

/* Per-VMA facts that hold for every page of the walk. */
struct cowstat_walk {
	struct vm_area_struct *vma;
	struct cowstat_counts *c;
	bool cow_vma;		/* private and writable: a write may fault to copy or reuse */
	bool uffd_wp;		/* userfaultfd write-protects pages of it */
	bool may_yield;		/* the caller can drop the mmap lock and resume */
	unsigned long resume;	/* where to go on after -EAGAIN */
	u8 *pages;		/* one byte a page instead of counts (cowstat_walk_pages()) */
	unsigned long pages_start;	/* the address of pages[0] */
};

/*
 * The shared-or-private question: is this 4 KiB page mapped more than
 * once?  That is page_mapcount() > 1, as smaps_account() asks it, taken
 * here without a function call for the common cases: a small page's map
 * count is its _mapcount + 1; a page of a large anonymous folio adds the
 * folio's PMD mappings (cowstat_large_page_maps(), kernel-dependent).
 */
static inline bool cowstat_page_shared(struct page *page, struct folio *folio)
{
	if (likely(!folio_test_large(folio)))
		return atomic_read(&page->_mapcount) > 0;
	return cowstat_large_page_maps(page, cowstat_large_maps_base(folio)) > 1;
}

/*
 * Would a write fault on this write-protected page of an anonymous folio
 * reuse it in place rather than copy it?  do_wp_page() reuses a page that
 * is PageAnonExclusive(), and otherwise one that nothing else holds
 * (wp_can_reuse_anon_folio() since 6.6): not KSM, a page of a large
 * folio as this kernel decides it (cowstat_large_reusable()), and a
 * reference count of one.  Like the fault, a folio that is not on the LRU is counted
 * without the reference of the LRU batch it is taken to be in: the fault
 * drains its own CPU's batch first.  (Only that CPU's: a page whose batch
 * sits on another CPU, or that migration or reclaim holds, is copied,
 * which no reader can foresee.)
 */
static noinline bool cowstat_anon_reusable(struct page *page, struct folio *folio)
{
	int refs;

	if (PageAnonExclusive(page))
		return true;
	if (folio_test_ksm(folio))
		return false;
	if (folio_test_large(folio)) {
		refs = cowstat_large_reusable(folio);
		if (refs >= 0)
			return refs;
	}
	/*
	 * In the swap cache, the fault reuses only if it can free the swap
	 * entry, which another process's swap PTE may still hold (after a
	 * fork): the swap count is not exported, so it is predicted a copy.
	 */
	if (folio_test_swapcache(folio))
		return false;
	refs = folio_ref_count(folio);
	if (!folio_test_lru(folio))
		refs--;
	return refs <= 1;
}

/*
 * The other question: what does the next write to a mapped page of a
 * private writable VMA do?  A writable entry is written without a fault;
 * a write-protected one faults into do_wp_page(), which reuses an
 * anonymous page it may (cowstat_anon_reusable()) and copies everything
 * else: shared or KSM anonymous pages, the zero page, page-cache pages.
 * A page that userfaultfd write-protects for user space is neither: the
 * fault goes to the monitor.  @folio is NULL for the zero page; @shared
 * is cowstat_page_shared(): a page mapped twice is neither exclusive nor
 * held once, so its write copies it.  (Huge PMDs: cowstat_huge_write_fault().)
 */
enum cowstat_wf { COWSTAT_WF_NONE, COWSTAT_WF_REUSE, COWSTAT_WF_COPY };

static noinline bool cowstat_uffd_wp_pte(struct cowstat_walk *w, pte_t pte)
{
	return cowstat_uffd_wp_to_user(w->vma, pte);
}

static __always_inline enum cowstat_wf
cowstat_write_fault(struct cowstat_walk *w, pte_t pte, struct page *page,
		    struct folio *folio, bool shared)
{
	if (!w->cow_vma || pte_write(pte) || (unlikely(w->uffd_wp) && cowstat_uffd_wp_pte(w, pte)))
		return COWSTAT_WF_NONE;
	/* NUMA hinting: the write first restores the entry (do_numa_page()); not foreseen. */
	if (unlikely(pte_protnone(pte)))
		return COWSTAT_WF_NONE;
	if (!folio || !folio_test_anon(folio) || shared)
		return COWSTAT_WF_COPY;
	return cowstat_anon_reusable(page, folio) ? COWSTAT_WF_REUSE : COWSTAT_WF_COPY;
}

static void cowstat_count_wf(struct cowstat_counts *c, enum cowstat_wf wf, unsigned long nr)
{
	if (wf == COWSTAT_WF_COPY)
		c->cow += nr;
	else if (wf == COWSTAT_WF_REUSE)
		c->reusable += nr;
}

/* Add @nr pages at @page, @shared of them mapped more than once. */
static void cowstat_add_pages(struct cowstat_walk *w, struct page *page,
			      unsigned long nr, unsigned long shared)
{
	struct cowstat_counts *c = w->c;

	c->rss += nr;
	if (!PageAnon(page)) {
		c->file += nr;
		return;
	}
	c->anon += nr;
	c->shared += shared;
	c->private += nr - shared;
}

/*
 * A PTE that is not present: swap, or migration and device-private
 * entries.  What a write to it would do is not predicted: it first waits
 * for the page (swap-in, migration), which decides afresh.
 */
static noinline void cowstat_swap_pte(struct cowstat_walk *w, pte_t pte)
{
	cowstat_leaf_t entry = cowstat_pte_leaf(pte);
	struct page *page;

	if (cowstat_leaf_is_swap(entry)) {
		w->c->swap++;
		return;
	}
	if (!cowstat_leaf_has_page(entry))
		return;
	page = cowstat_leaf_page(entry);
	/*
	 * A page under migration is not safe to ask for its map count: it
	 * counts as private, as 6.1's smaps counts it (6.12's counts it as
	 * shared, "maybe mapped more than once").
	 */
	cowstat_add_pages(w, page, 1, !cowstat_leaf_is_migration(entry) && PageAnon(page) &&
			  cowstat_page_shared(page, page_folio(page)));
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/*
 * What a write to a page of a huge PMD mapping does.  do_huge_pmd_wp_page()
 * reuses the whole THP when its head is exclusive or nothing else holds it
 * (one fault for 512 pages), and otherwise splits the PMD: each page's
 * write then copies it (the folio is large, and not exclusive).  The huge
 * zero page is split too, and each page's write copies the zero page; so
 * is a file THP mapped privately, each page copied from the page cache.
 */
static enum cowstat_wf cowstat_huge_write_fault(struct cowstat_walk *w, pmd_t pmd,
						struct folio *folio)
{
	if (!w->cow_vma || pmd_write(pmd))
		return COWSTAT_WF_NONE;
	if (userfaultfd_huge_pmd_wp(w->vma, pmd) || pmd_protnone(pmd))
		return COWSTAT_WF_NONE;
	if (folio && folio_test_anon(folio) &&
	    (PageAnonExclusive(&folio->page) ||
	     (!folio_test_swapcache(folio) && folio_ref_count(folio) == 1)))
		return COWSTAT_WF_REUSE;
	return COWSTAT_WF_COPY;
}

/*
 * A huge PMD, read under its lock: an anonymous THP, the huge zero page, a
 * file or shmem THP, a DAX mapping, or a THP migration entry.
 */
static void cowstat_pmd_entry(struct cowstat_walk *w, pmd_t pmd)
{
	struct cowstat_counts *c = w->c;
	struct folio *folio;
	struct page *page;
	bool migration = false;

	if (pmd_present(pmd)) {
		/* DAX: resident in 6.1's smaps (6.12's leaves it out), never anonymous. */
		if (cowstat_pmd_devmap(pmd)) {
			c->rss += HPAGE_PMD_NR;
			c->file += HPAGE_PMD_NR;
			return;
		}
		/* What vm_normal_page_pmd() does not return: no page to ask. */
		if (unlikely(cowstat_pmd_special(pmd)) && !vma_is_anonymous(w->vma))
			return;
		page = pmd_page(pmd);
	} else {
		/* Only when present: a swap PMD's offset bits overlap devmap's. */
		cowstat_leaf_t entry = cowstat_pmd_leaf(pmd);

		if (!cowstat_leaf_is_migration(entry))
			return;
		migration = true;
		page = cowstat_leaf_page(entry);
	}
	folio = page_folio(page);

	/*
	 * huge_zero_page is not exported, but it is the only page that is not
	 * anonymous and yet PMD-mapped in an anonymous VMA.
	 */
	if (!PageAnon(page) && vma_is_anonymous(w->vma)) {
		c->zero += HPAGE_PMD_NR;
		cowstat_count_wf(c, cowstat_huge_write_fault(w, pmd, NULL), HPAGE_PMD_NR);
		return;
	}
	if (PageAnon(page)) {
		unsigned long i, shared = 0;
		int base;

		c->thp += HPAGE_PMD_NR;
		/* page_count() == 1: mapped once, by this PMD (smaps_account()). */
		if (!migration && page_count(page) != 1) {
			base = cowstat_large_maps_base(folio);
			for (i = 0; i < HPAGE_PMD_NR; i++)
				shared += cowstat_large_page_maps(&page[i], base) > 1;
		}
		cowstat_add_pages(w, page, HPAGE_PMD_NR, shared);
	} else {
		cowstat_add_pages(w, page, HPAGE_PMD_NR, 0);
	}
	if (!migration)
		cowstat_count_wf(c, cowstat_huge_write_fault(w, pmd, folio), HPAGE_PMD_NR);
}
#else
static void cowstat_pmd_entry(struct cowstat_walk *w, pmd_t pmd)
{
}
#endif /* CONFIG_TRANSPARENT_HUGEPAGE */

/*
 * ---- one byte a page: /proc/cowstat_pagemap ----
 *
 * The same decisions as the counts, kept per page (cowstat.h has the
 * byte's layout): a page's map count, and what its next write does.
 */

static u8 cowstat_page_byte(enum cowstat_page_kind kind, int maps)
{
	return kind | clamp(maps, 0, COWSTAT_PAGE_MAPS_MAX) << COWSTAT_PAGE_MAPS_SHIFT;
}

static u8 *cowstat_page_slot(struct cowstat_walk *w, unsigned long addr)
{
	return w->pages + ((addr - w->pages_start) >> PAGE_SHIFT);
}

/* The map count of one page of @folio, as page_mapcount() gives it. */
static int cowstat_page_maps(struct page *page, struct folio *folio)
{
	if (!folio_test_large(folio) || (COWSTAT_FILE_MAPS_PER_PAGE && !folio_test_anon(folio)))
		return atomic_read(&page->_mapcount) + 1;
	return cowstat_large_page_maps(page, cowstat_large_maps_base(folio));
}

/* An anonymous page's kind: its write fault, or none for a writable entry. */
static enum cowstat_page_kind cowstat_anon_kind(struct cowstat_walk *w, enum cowstat_wf wf,
						bool writable)
{
	if (wf == COWSTAT_WF_COPY)
		return COWSTAT_PAGE_COPY;
	if (wf == COWSTAT_WF_REUSE)
		return COWSTAT_PAGE_REUSE;
	return w->cow_vma && writable ? COWSTAT_PAGE_WRITABLE : COWSTAT_PAGE_ANON;
}

static u8 cowstat_pte_byte(struct cowstat_walk *w, pte_t pte)
{
	struct folio *folio;
	struct page *page;
	unsigned long pfn;
	int maps;

	if (pte_none(pte))
		return COWSTAT_PAGE_NONE;
	if (!pte_present(pte)) {
		cowstat_leaf_t entry = cowstat_pte_leaf(pte);

		if (cowstat_leaf_is_swap(entry) || cowstat_leaf_is_migration(entry))
			return COWSTAT_PAGE_SWAP;
		return COWSTAT_PAGE_NONE;
	}
	pfn = pte_pfn(pte);
	if (is_zero_pfn(pfn))
		return COWSTAT_PAGE_ZERO;
	/* No struct page: see cowstat_pte_table(). */
	if (pte_special(pte) || ((w->vma->vm_flags & VM_MIXEDMAP) && !pfn_valid(pfn)))
		return COWSTAT_PAGE_NONE;
	page = pfn_to_page(pfn);
	folio = page_folio(page);
	maps = cowstat_page_maps(page, folio);
	if (!folio_test_anon(folio))
		return cowstat_page_byte(COWSTAT_PAGE_FILE, maps);
	return cowstat_page_byte(cowstat_anon_kind(w, cowstat_write_fault(w, pte, page, folio,
									  maps > 1),
						   pte_write(pte)), maps);
}

/* The pages of one PTE table, [@addr, @end), under its lock. */
static bool cowstat_pte_table_bytes(struct cowstat_walk *w, pmd_t *pmd,
				    unsigned long addr, unsigned long end)
{
	u8 *out = cowstat_page_slot(w, addr);
	spinlock_t *ptl;	/* the PTE table's lock */
	pte_t *pte, *start;

	start = cowstat_pte_map_lock(w->vma->vm_mm, pmd, addr, &ptl);
	if (COWSTAT_PTE_MAP_CAN_FAIL && !start)
		return false;
	for (pte = start; addr != end; pte++, addr += PAGE_SIZE)
		*out++ = cowstat_pte_byte(w, ptep_get(pte));
	cowstat_pte_unmap_unlock(start, ptl);
	return true;
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/* [@addr, @end) of a huge PMD, read under its lock: as cowstat_pmd_entry(). */
static void cowstat_pmd_bytes(struct cowstat_walk *w, pmd_t pmd, unsigned long addr,
			      unsigned long end)
{
	unsigned long i, nr = (end - addr) >> PAGE_SHIFT;
	u8 *out = cowstat_page_slot(w, addr);
	enum cowstat_page_kind kind;
	struct folio *folio;
	struct page *page;
	int base;

	if (!pmd_present(pmd)) {
		bool migration = cowstat_leaf_is_migration(cowstat_pmd_leaf(pmd));

		memset(out, migration ? COWSTAT_PAGE_SWAP | COWSTAT_PAGE_HUGE : COWSTAT_PAGE_NONE,
		       nr);
		return;
	}
	if (cowstat_pmd_devmap(pmd)) {
		memset(out, COWSTAT_PAGE_FILE | COWSTAT_PAGE_HUGE, nr);
		return;
	}
	if (unlikely(cowstat_pmd_special(pmd)) && !vma_is_anonymous(w->vma)) {
		memset(out, COWSTAT_PAGE_NONE, nr);
		return;
	}
	page = pmd_page(pmd) + ((addr & ~HPAGE_PMD_MASK) >> PAGE_SHIFT);
	folio = page_folio(page);
	/* The huge zero page: see cowstat_pmd_entry(). */
	if (!PageAnon(page) && vma_is_anonymous(w->vma)) {
		memset(out, COWSTAT_PAGE_ZERO | COWSTAT_PAGE_HUGE, nr);
		return;
	}
	if (!PageAnon(page)) {
		for (i = 0; i < nr; i++)
			out[i] = cowstat_page_byte(COWSTAT_PAGE_FILE,
						   cowstat_page_maps(&page[i], folio)) |
				 COWSTAT_PAGE_HUGE;
		return;
	}
	kind = cowstat_anon_kind(w, cowstat_huge_write_fault(w, pmd, folio), pmd_write(pmd));
	base = cowstat_large_maps_base(folio);
	for (i = 0; i < nr; i++)
		out[i] = cowstat_page_byte(kind, cowstat_large_page_maps(&page[i], base)) |
			 COWSTAT_PAGE_HUGE;
}
#else
static void cowstat_pmd_bytes(struct cowstat_walk *w, pmd_t pmd, unsigned long addr,
			      unsigned long end)
{
}
#endif /* CONFIG_TRANSPARENT_HUGEPAGE */

static inline bool cowstat_pmd_is_leaf(pmd_t pmd)
{
	/* A huge entry, or one not present: a THP's migration entry. */
	return pmd_trans_huge(pmd) || cowstat_pmd_devmap(pmd) ||
	       (!pmd_none(pmd) && !pmd_present(pmd));
}

/*
 * Returns true when *pmd was a huge PMD and has been accounted.  Under the
 * mmap read lock a huge PMD can still be split or zapped (MADV_DONTNEED)
 * until we hold its lock, so the check is repeated there.
 */
static bool cowstat_huge_pmd(struct cowstat_walk *w, pmd_t *pmd,
			     unsigned long addr, unsigned long end)
{
	spinlock_t *ptl;	/* the PMD's split page-table lock */
	pmd_t pmdval;
	bool leaf;

	ptl = pmd_lock(w->vma->vm_mm, pmd);
	pmdval = *pmd;
	leaf = cowstat_pmd_is_leaf(pmdval);
	if (leaf && w->pages)
		cowstat_pmd_bytes(w, pmdval, addr, end);
	else if (leaf)
		cowstat_pmd_entry(w, pmdval);
	spin_unlock(ptl);
	return leaf;
}

/*
 * The pages of one PTE table, [@addr, @end) under @pmd.  False when there
 * is no table to map any more: see cowstat_pte_range().
 */
static bool cowstat_pte_table(struct cowstat_walk *w, pmd_t *pmd,
			      unsigned long addr, unsigned long end)
{
	unsigned long anon = 0, file = 0, shared = 0, zero = 0;
	bool mixed = w->vma->vm_flags & VM_MIXEDMAP, cow_vma = w->cow_vma;
	struct cowstat_counts *c = w->c;
	spinlock_t *ptl;	/* the PTE table's lock */
	pte_t *pte, *start;

	start = cowstat_pte_map_lock(w->vma->vm_mm, pmd, addr, &ptl);
	if (COWSTAT_PTE_MAP_CAN_FAIL && !start)
		return false;
	for (pte = start; addr != end; pte++, addr += PAGE_SIZE) {
		pte_t ptent = ptep_get(pte);
		struct folio *folio;
		unsigned long pfn;
		struct page *page;
		bool sh;

		if (pte_none(ptent))
			continue;
		if (unlikely(!pte_present(ptent))) {
			cowstat_swap_pte(w, ptent);
			continue;
		}
		pfn = pte_pfn(ptent);
		if (unlikely(is_zero_pfn(pfn))) {
			zero++;
			if (cow_vma)
				cowstat_count_wf(c, cowstat_write_fault(w, ptent, NULL,
									NULL, false), 1);
			continue;
		}
		/*
		 * What vm_normal_page() does not return: special entries
		 * (PFN maps, DAX).  Only VM_MIXEDMAP may hold a frame
		 * without a struct page in an entry that is not special.
		 */
		if (unlikely(pte_special(ptent)) || (mixed && !pfn_valid(pfn)))
			continue;
		page = pfn_to_page(pfn);
		folio = page_folio(page);	/* one load: the head, for every test */
		sh = false;
		if (folio_test_anon(folio)) {
			anon++;
			sh = cowstat_page_shared(page, folio);
			shared += sh;
		} else {
			file++;
		}
		/* A writable entry is written without a fault: the common case. */
		if (cow_vma && !pte_write(ptent))
			cowstat_count_wf(c, cowstat_write_fault(w, ptent, page, folio, sh), 1);
	}
	cowstat_pte_unmap_unlock(start, ptl);

	/*
	 * Counted in registers above: the loop runs once per mapped page.
	 * (cow and reusable, for write-protected pages only, go to memory.)
	 */
	c->rss += anon + file;
	c->anon += anon;
	c->file += file;
	c->shared += shared;
	c->private += anon - shared;
	c->zero += zero;
	return true;
}

static void cowstat_pte_range(struct cowstat_walk *w, pmd_t *pmd,
			      unsigned long addr, unsigned long end)
{
	pmd_t pmdval;

again:
	pmdval = cowstat_pmd_read(pmd);
	barrier();
	if (pmd_none(pmdval))
		return;
	if (cowstat_pmd_is_leaf(pmdval)) {
		if (cowstat_huge_pmd(w, pmd, addr, end))
			return;
		goto again;	/* split under us: a PTE table now, or none */
	}
	/* pmd_clear_bad() is not exported: leave a bad entry to the kernel. */
	if (unlikely(pmd_bad(pmdval)))
		return;
	/*
	 * The PMD points to a PTE table.  On 6.1 the mmap lock keeps it
	 * there: khugepaged collapses under the mmap write lock, and munmap
	 * frees tables only of VMAs it has taken out of the tree first.
	 * Since 6.5 khugepaged may retract a table of a file mapping under
	 * the mmap read lock (RCU-freed), and mapping it then fails: read
	 * the PMD again, as walk_pmd_range() does on ACTION_AGAIN.
	 */
	if (w->pages ? !cowstat_pte_table_bytes(w, pmd, addr, end) :
	    !cowstat_pte_table(w, pmd, addr, end))
		goto again;
}

/* Upper levels: a leaf PUD (DAX) or a bad entry is skipped, never cleared. */
static int cowstat_pmd_range(struct cowstat_walk *w, pud_t *pud,
			     unsigned long addr, unsigned long end)
{
	unsigned long next;
	pmd_t *pmd;

	pmd = pmd_offset(pud, addr);
	do {
		next = pmd_addr_end(addr, end);
		cowstat_pte_range(w, pmd, addr, next);
		/* A walk of a large process must not hog the CPU... */
		if (fatal_signal_pending(current))
			return -EINTR;
		/* ...nor stall the process it reads: see cowstat_walk_range(). */
		if (w->may_yield && mmap_lock_is_contended(w->vma->vm_mm)) {
			w->resume = next;
			return -EAGAIN;
		}
		cond_resched();
	} while (pmd++, addr = next, addr != end);
	return 0;
}

static int cowstat_pud_range(struct cowstat_walk *w, p4d_t *p4d,
			     unsigned long addr, unsigned long end)
{
	unsigned long next;
	pud_t *pud;
	int err;

	pud = pud_offset(p4d, addr);
	do {
		pud_t pudval = READ_ONCE(*pud);

		next = pud_addr_end(addr, end);
		if (pud_none(pudval) || pud_bad(pudval) ||
		    pud_trans_huge(pudval) || cowstat_pud_devmap(pudval))
			continue;
		err = cowstat_pmd_range(w, pud, addr, next);
		if (err)
			return err;
	} while (pud++, addr = next, addr != end);
	return 0;
}

static int cowstat_p4d_range(struct cowstat_walk *w, pgd_t *pgd,
			     unsigned long addr, unsigned long end)
{
	unsigned long next;
	p4d_t *p4d;
	int err;

	p4d = p4d_offset(pgd, addr);
	do {
		p4d_t p4dval = READ_ONCE(*p4d);

		next = p4d_addr_end(addr, end);
		if (p4d_none(p4dval) || unlikely(p4d_bad(p4dval)))
			continue;
		err = cowstat_pud_range(w, p4d, addr, next);
		if (err)
			return err;
	} while (p4d++, addr = next, addr != end);
	return 0;
}

/* Walk [@addr, @end) of one VMA. */
static int cowstat_pgd_range(struct cowstat_walk *w, unsigned long addr, unsigned long end)
{
	unsigned long next;
	pgd_t *pgd;
	int err;

	pgd = pgd_offset(w->vma->vm_mm, addr);
	do {
		pgd_t pgdval = READ_ONCE(*pgd);

		next = pgd_addr_end(addr, end);
		if (pgd_none(pgdval) || unlikely(pgd_bad(pgdval)))
			continue;
		err = cowstat_p4d_range(w, pgd, addr, next);
		if (err)
			return err;
	} while (pgd++, addr = next, addr != end);
	return 0;
}

/* No struct pages behind these, or not in PMD/PTE form. */
static bool cowstat_skip_vma(struct vm_area_struct *vma)
{
	return vma->vm_flags & (VM_PFNMAP | VM_IO) || is_vm_hugetlb_page(vma);
}

static void cowstat_walk_init(struct cowstat_walk *w, struct vm_area_struct *vma)
{
	w->vma = vma;
	w->cow_vma = (vma->vm_flags & (VM_WRITE | VM_SHARED | VM_MAYSHARE)) == VM_WRITE;
	w->uffd_wp = userfaultfd_wp(vma);
}

/**
 * cowstat_walk_range - add up the page counts of [@start, @end) of @mm
 * @mm: a user mm, pinned by the caller (mmget), its mmap lock held for reading
 * @start: first address
 * @end: end address, exclusive
 * @c: counts to add to
 *
 * A reader must never stall the process it reads.  When someone waits for
 * the mmap lock (mmap_lock_is_contended(), checked after each page table),
 * the walk drops it, lets the waiter in, takes it again and goes on from
 * the first address it has not counted yet, as show_smaps_rollup() does
 * between VMAs:
 *
 *	counted      | resume here
 *	[VMA A .......|....]   [VMA B ....]
 *
 *  - A is still there:               walk A from resume on;
 *  - A was unmapped, B is the next:  walk B from its start;
 *  - A grew or merged past resume:   walk it from resume on.
 *
 * Looking the VMAs up again from resume gives the first VMA ending above
 * resume in every case.  Pages that changed while the lock was dropped may
 * be counted as they were or as they are: exactness holds for processes
 * whose memory is not changing, which nothing then contends for.
 *
 * Return: 0 with the lock held, or -EINTR with the lock released when the
 * reader got a fatal signal.
 */
int cowstat_walk_range(struct mm_struct *mm, unsigned long start, unsigned long end,
		       struct cowstat_counts *c)
{
	struct cowstat_walk w = { .c = c, .may_yield = cowstat_yield };
	unsigned long addr = start;	/* counted below this */
	struct vm_area_struct *vma;
	int err;

	VMA_ITERATOR(vmi, mm, start);

	while ((vma = vma_next(&vmi)) && vma->vm_start < end) {
		if (cowstat_skip_vma(vma))
			continue;
		cowstat_walk_init(&w, vma);
		err = cowstat_pgd_range(&w, max(addr, vma->vm_start), min(vma->vm_end, end));
		if (!err)
			continue;
		if (err != -EAGAIN) {
			mmap_read_unlock(mm);
			return err;
		}
		addr = w.resume;
		mmap_read_unlock(mm);
		cond_resched();
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		/* The tree may have changed: the next VMA is the one ending above addr. */
		mas_set(&vmi.mas, addr);
	}
	return 0;
}

/**
 * cowstat_walk_mm - add up the page counts of every VMA of @mm
 * @mm: a user mm, pinned by the caller (mmget)
 * @c: zeroed counts to fill
 *
 * Return: 0, or -EINTR when the reader got a fatal signal.
 */
int cowstat_walk_mm(struct mm_struct *mm, struct cowstat_counts *c)
{
	int err;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	err = cowstat_walk_range(mm, 0, ULONG_MAX, c);
	if (!err)
		mmap_read_unlock(mm);
	return err;
}

/**
 * cowstat_walk_pages - one byte a page for [@start, @end) of @mm
 * @mm: a user mm, pinned by the caller (mmget)
 * @start: first address, page-aligned
 * @end: end address, page-aligned, above @start
 * @pages: (@end - @start) >> PAGE_SHIFT bytes to fill (see cowstat.h)
 *
 * The caller keeps the range small (a page of bytes): the mmap lock is
 * held for the whole walk, which is not resumed after a contended lock.
 *
 * Return: 0, or -EINTR when the reader got a fatal signal.
 */
int cowstat_walk_pages(struct mm_struct *mm, unsigned long start, unsigned long end,
		       u8 *pages)
{
	struct cowstat_walk w = { .pages = pages, .pages_start = start };
	struct vm_area_struct *vma;
	int err = 0;

	VMA_ITERATOR(vmi, mm, start);

	memset(pages, COWSTAT_PAGE_NONE, (end - start) >> PAGE_SHIFT);
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	while (!err && (vma = vma_next(&vmi)) && vma->vm_start < end) {
		if (cowstat_skip_vma(vma))
			continue;
		cowstat_walk_init(&w, vma);
		err = cowstat_pgd_range(&w, max(start, vma->vm_start), min(vma->vm_end, end));
	}
	mmap_read_unlock(mm);
	return err;
}
