// SPDX-License-Identifier: GPL-2.0-only
/* pmd_special(): huge PFN mappings without a page to ask (6.12 has it; 6.1 not). */
#include <linux/mm.h>

bool cowstat_conftest(pmd_t pmd);

bool cowstat_conftest(pmd_t pmd)
{
	return pmd_special(pmd);
}
