// SPDX-License-Identifier: GPL-2.0-only
/* struct userfaultfd_ctx in userfaultfd_k.h: its features are visible (6.8 on). */
#include <linux/userfaultfd_k.h>

unsigned int cowstat_conftest(struct userfaultfd_ctx *ctx);

unsigned int cowstat_conftest(struct userfaultfd_ctx *ctx)
{
	return ctx->features;
}
