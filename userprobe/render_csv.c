// SPDX-License-Identifier: GPL-2.0-only
/*
 * A step as CSV: a row per area of each process, a header line first.
 * The region's events and the step's frames repeat on each row of it.
 */

#define _GNU_SOURCE
#include <stdio.h>

#include "probe.h"

static void csv_num(long long v)
{
	if (v == NA)
		printf(",");
	else
		printf(",%lld", v);
}

void render_csv(struct probe *pr)
{
	const struct step *st = &pr->cur;
	int k, a, i;

	if (!pr->csv_header_done) {
		printf("lesson,step,role,pid,area");
		for (i = 0; i < NR_RCOLS; i++)
			printf(",%s", rcol[i]);
		for (i = 0; i < NR_ECOLS; i++)
			printf(",%s", ecol[i]);
		printf(",region_copies,region_reuses,frames\n");
		pr->csv_header_done = true;
	}
	for (k = 0; k < st->n; k++) {
		const struct view *s = &pr->view[st->who[k]];

		for (a = 0; a < pr->nareas; a++) {
			printf("%s,%d,%s,%d,%s", pr->lesson, st->number, pr->role[st->who[k]],
			       s->pid, pr->area_name[a]);
			for (i = 0; i < NR_RCOLS; i++)
				csv_num(s->area[a][i]);
			for (i = 0; i < NR_ECOLS; i++)
				csv_num(s->event[i]);
			csv_num(s->region_event[E_COPIES]);
			csv_num(s->region_event[E_REUSES]);
			csv_num(st->frames);
			printf("\n");
		}
	}
}
