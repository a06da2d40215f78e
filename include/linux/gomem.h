/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomem for kernel code: Go-style heaps (size classes, per-CPU caches,
 * spans, arenas) that a module can create and allocate from.
 */
#ifndef _LINUX_GOMEM_H
#define _LINUX_GOMEM_H

#include <linux/gfp.h>
#include <linux/types.h>
#include <uapi/linux/gomem.h>

struct gomem_heap;

/* gomem_alloc() flags. */
#define GOMEM_NOSCAN	0x1	/* the object holds no pointers */
#define GOMEM_ZERO	0x2	/* return zeroed memory */

struct gomem_heap *gomem_heap_create(const char *name);
void gomem_heap_destroy(struct gomem_heap *heap);
struct gomem_heap *gomem_kernel_heap(void);
void *gomem_alloc(struct gomem_heap *heap, size_t size, unsigned int flags, gfp_t gfp);
int gomem_free(struct gomem_heap *heap, void *ptr);
size_t gomem_size(struct gomem_heap *heap, const void *ptr);

/*
 * gomem_alloc() in any context but NMI (GFP_ATOMIC / GFP_NOWAIT never
 * sleep), gomem_free() and gomem_size() in any context: see
 * Documentation/kernel-api.rst.
 *
 * The collector (kernel-doc in gomem/kernel/kheap.c): objects that no root
 * reaches are freed by gomem_heap_gc(), which the caller runs with its
 * own users of the heap stopped.
 */
int gomem_heap_add_root(struct gomem_heap *heap, const void *addr, size_t len);
int gomem_heap_del_root(struct gomem_heap *heap, const void *addr);
int gomem_heap_set_root(struct gomem_heap *heap, void *obj, bool root);
bool gomem_heap_gc_due(struct gomem_heap *heap, size_t size);
int gomem_heap_gc(struct gomem_heap *heap);
int gomem_heap_set_gogc(struct gomem_heap *heap, int gogc);

/* Heap profiles: Documentation/profiling.rst. */
unsigned long gomem_heap_set_profile_rate(struct gomem_heap *heap, unsigned long rate);

#endif /* _LINUX_GOMEM_H */
