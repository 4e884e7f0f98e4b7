// SPDX-License-Identifier: GPL-2.0-only
/* folio_add_new_anon_rmap(): 6.3 on; 6.1 has page_add_new_anon_rmap(). */
#include <linux/rmap.h>

void *cowstat_conftest(void);

void *cowstat_conftest(void)
{
	return folio_add_new_anon_rmap;
}
