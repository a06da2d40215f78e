/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libgomem: a Go-style heap in your address space, served by /dev/gomem.
 *
 * Each gomem_open() opens /dev/gomem once: the kernel creates a heap of
 * its own, whose arenas are mapped into this process from 0xc000000000 up
 * and backed page by page on first touch. Objects are ordinary memory:
 * use the returned pointers directly.
 *
 * Every function that can fail returns 0 (or a pointer) on success and a
 * negative errno (or NULL with errno set) on failure; nothing here prints.
 * A struct gomem_heap may be used by several threads at once: the kernel
 * serialises what needs it.
 */
#ifndef _LIBGOMEM_H
#define _LIBGOMEM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/gomem.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gomem_heap;

/*
 * gomem_open() - open a heap
 * @path: the device, or NULL for "/dev/gomem"
 *
 * Return: the heap, or NULL with errno set (ENOENT: no module loaded;
 * EPROTO: the module speaks another GOMEM_ABI_VERSION; ENOTSUP: it has
 * no GOMEM_FEATURE_HEAP).
 */
struct gomem_heap *gomem_open(const char *path);

/*
 * gomem_close() - close a heap; every object in it is gone, and its
 * arenas are unmapped from this process.
 */
void gomem_close(struct gomem_heap *h);

/* gomem_fd() - the heap's file descriptor, for raw ioctls. */
int gomem_fd(const struct gomem_heap *h);

/*
 * gomem_alloc() - allocate an object (Go's mallocgc)
 * @size: bytes, at least 1
 * @flags: GOMEM_ALLOC_NOSCAN, GOMEM_ALLOC_ZERO
 *
 * Return: the object, or NULL with errno set (ENOMEM: cap, memory cgroup
 * or machine out of memory; EINVAL: bad size or flags).
 */
void *gomem_alloc(struct gomem_heap *h, size_t size, unsigned int flags);

/* gomem_malloc() / gomem_calloc(): the libc-style spellings. */
void *gomem_malloc(struct gomem_heap *h, size_t size);
void *gomem_calloc(struct gomem_heap *h, size_t n, size_t size);

/*
 * gomem_alloc_bulk() - allocate @count objects of @size bytes at once
 * @out: receives the @count pointers
 *
 * All or nothing. Counts above GOMEM_BULK_MAX are split into several
 * calls; if a later call fails, the objects of the earlier ones are freed.
 *
 * Return: 0 or a negative errno.
 */
int gomem_alloc_bulk(struct gomem_heap *h, size_t size, unsigned int flags,
		     void **out, size_t count);

/*
 * gomem_free() - free an object
 * @p: an object's base address, as gomem_alloc() returned it
 *
 * Return: 0, or -EINVAL if @p is not a live object of this heap.
 */
int gomem_free(struct gomem_heap *h, void *p);

/* gomem_usable_size() - @p's slot size, or 0 (errno set) if not an object. */
size_t gomem_usable_size(struct gomem_heap *h, const void *p);

/*
 * gomem_stats() - the heap's MemStats
 * @st: filled in; fields the running module does not have read as 0
 *
 * Return: 0 or a negative errno.
 */
int gomem_stats(struct gomem_heap *h, struct gomem_memstats *st);

/*
 * gomem_class_stats() - the per-size-class table
 * @tab: room for GOMEM_NUM_SIZE_CLASSES entries, class 0 (large) first
 *
 * Return: the number of entries written, or a negative errno.
 */
int gomem_class_stats(struct gomem_heap *h, struct gomem_class_stat *tab);

/*
 * gomem_scavenge() - give free pages back to the kernel now (Go's
 * debug.FreeOSMemory, without a GC)
 * @max_bytes: at most this much, 0 for all
 * @released: if not NULL, receives the bytes given back
 *
 * Return: 0 or a negative errno.
 */
int gomem_scavenge(struct gomem_heap *h, uint64_t max_bytes, uint64_t *released);

/*
 * gomem_set_cap() - cap the heap's mapped memory (HeapSys)
 * @cap_bytes: the cap, 0 for none
 * @old: if not NULL, receives the previous cap
 *
 * Return: 0 or a negative errno.
 */
int gomem_set_cap(struct gomem_heap *h, uint64_t cap_bytes, uint64_t *old);

/* gomem_get_cap() - the heap's cap (0: none), or a negative errno. */
int64_t gomem_get_cap(struct gomem_heap *h);

#ifdef __cplusplus
}
#endif

#endif /* _LIBGOMEM_H */
