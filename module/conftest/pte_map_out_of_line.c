// SPDX-License-Identifier: GPL-2.0-only
/*
 * __pte_offset_map(): since 6.5 a PTE table is mapped out of line, under
 * RCU, and mapping it may fail (6.1's pte_offset_map_lock() cannot).
 */
#include <linux/mm.h>

pte_t *cowstat_conftest(pmd_t *pmd, unsigned long addr);

pte_t *cowstat_conftest(pmd_t *pmd, unsigned long addr)
{
	return __pte_offset_map(pmd, addr, NULL);
}
