// SPDX-License-Identifier: GPL-2.0-only
/* folio_large_mapcount(): 6.10; pages of large folios are no longer reused (6.9). */
#include <linux/mm.h>

int cowstat_conftest(struct folio *folio);

int cowstat_conftest(struct folio *folio)
{
	return folio_large_mapcount(folio);
}
