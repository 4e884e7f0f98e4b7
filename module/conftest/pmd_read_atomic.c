// SPDX-License-Identifier: GPL-2.0-only
/* pmd_read_atomic(): 6.1; pmdp_get_lockless() replaced it in 6.5. */
#include <linux/pgtable.h>

pmd_t cowstat_conftest(pmd_t *pmd);

pmd_t cowstat_conftest(pmd_t *pmd)
{
	return pmd_read_atomic(pmd);
}
