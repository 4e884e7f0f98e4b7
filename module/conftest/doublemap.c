// SPDX-License-Identifier: GPL-2.0-only
/* PageDoubleMap(): 6.1; gone in 6.2 with the folio entire map count. */
#include <linux/page-flags.h>

int cowstat_conftest(struct page *page);

int cowstat_conftest(struct page *page)
{
	return PageDoubleMap(page);
}
