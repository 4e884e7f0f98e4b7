// SPDX-License-Identifier: GPL-2.0-only
/*
 * folio->_mm_ids: a large folio knows whether more than one mm maps it
 * (6.15), which lets do_wp_page() reuse a page of it in place.
 */
#include <linux/mm.h>

bool cowstat_conftest(struct folio *folio);

bool cowstat_conftest(struct folio *folio)
{
	return test_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
}
