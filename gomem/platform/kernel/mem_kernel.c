// SPDX-License-Identifier: GPL-2.0
/*
 * gomem's page source in the kernel: blocks of physically contiguous
 * pages from the buddy allocator, used through the direct map. A module
 * cannot reserve kernel address space on 6.1, so an arena chunk is such a
 * block, 4 MiB (order 10) at most; heap_grow() falls back to smaller
 * orders when high orders fail.
 */

#include <linux/gfp.h>
#include <linux/mm.h>

#include "compat.h"
#include "heap.h"

/* The buddy allocator deals in powers of two: @bytes is not used. */
static uintptr_t kernel_alloc_block(void *ctx, unsigned int order, size_t bytes)
{
	unsigned int page_order = order - PAGE_SHIFT;
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;
	struct page *page;

	if (order < PAGE_SHIFT || page_order > MAX_PAGE_ORDER)
		return 0;
	/* A failed high order is not worth reclaim: a smaller one is tried next. */
	if (page_order)
		gfp |= __GFP_NORETRY;
	page = alloc_pages(gfp, page_order);
	return page ? (uintptr_t)page_address(page) : 0;
}

static void kernel_free_block(void *ctx, uintptr_t addr, unsigned int order,
			      size_t bytes)
{
	__free_pages(virt_to_page((void *)addr), order - PAGE_SHIFT);
}

const struct gm_pagesrc_ops gm_os_pagesrc = {
	.alloc_block = kernel_alloc_block,
	.free_block = kernel_free_block,
	.kernel_memory = true,
	.zeroed = false,
};
