// SPDX-License-Identifier: GPL-2.0-only
/* linux/leafops.h: softleaf_t replaces swp_entry_t for non-present entries (6.19). */
/* Not self-contained in 7.2: the swap definitions first. */
#include <linux/mm.h>
#include <linux/swap.h>
#include <linux/leafops.h>

bool cowstat_conftest(pte_t pte);

bool cowstat_conftest(pte_t pte)
{
	return softleaf_is_swap(softleaf_from_pte(pte));
}
