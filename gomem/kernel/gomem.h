/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every file of gomem's kernel face shares: no functions, only the
 * few definitions all of them agree on. Each file's own interface is in
 * its header (params.h, counters.h, debugfs.h, heaps.h, devmem.h,
 * devheap.h, kheap.h, chardev.h); Documentation/layers.rst says which
 * may call which. The allocator core does not include any of them.
 */
#ifndef _GOMEM_GOMEM_H
#define _GOMEM_GOMEM_H

#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/types.h>

/*
 * Functions that only gomem's KUnit module needs are exported into a
 * namespace of their own, and only when KUnit can be loaded at all.
 */
#if IS_ENABLED(CONFIG_KUNIT)
#define GOMEM_EXPORT_FOR_KUNIT(sym)	EXPORT_SYMBOL_NS_GPL(sym, GOMEM_KUNIT)
#else
#define GOMEM_EXPORT_FOR_KUNIT(sym)
#endif

/*
 * What heap commands allocate for themselves: charged to the caller's
 * memcg, and failing with -ENOMEM rather than invoking the OOM killer,
 * which could pick a process that has nothing to do with this heap.
 */
#define GOMEM_IOCTL_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/*
 * Heap slots are part of a file page offset (devmem.c), so they are this
 * many bits wide: the registry hands them out (heaps.c), the
 * max_heaps_per_user parameter is bounded by them (params.c). A heap's
 * public id is another number, 64 bits wide and never reused.
 */
#define GOMEM_HEAP_ID_BITS	15
#define GOMEM_HEAP_ID_MAX	((1U << GOMEM_HEAP_ID_BITS) - 1)

struct gomem_dev_heap;
struct gomem_mem;

/**
 * struct gomem_file - what one open of /dev/gomem owns
 * @id: number of this open since the module was loaded, from 1
 * @heap: the heap of this open; NULL if the file is not open for writing
 * @mem: @heap's memory, NULL without @heap: how a mapping of the file
 *	finds its heap's memory (devmem.c) without asking devheap.c
 */
struct gomem_file {
	u64 id;
	struct gomem_dev_heap *heap;
	struct gomem_mem *mem;
};

#endif /* _GOMEM_GOMEM_H */
