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
 *
 * Garbage collection (modules with GOMEM_FEATURE_GC): an object stays
 * alive while the collector can reach it from a root: a registered range
 * (gomem_root_add), a root object (GOMEM_ALLOC_ROOT, gomem_root_add_object)
 * and, through them, the pointers in scanned (not NOSCAN) objects. A cycle
 * runs at an allocation that finds one due, or at gomem_gc(). The rules:
 *
 *  1. Write pointers into the heap only inside a mutator section
 *     (gomem_mutator_enter ... gomem_mutator_exit): no cycle runs while
 *     any thread is in a section, except one that a thread of a section
 *     starts itself, by allocating or by gomem_gc(), inside libgomem.
 *  2. Every object allocated in a section survives until the section ends
 *     (libgomem keeps them as roots through any cycle run meanwhile); store
 *     it somewhere reachable before the outermost gomem_mutator_exit().
 *     Outside a section, an object nothing points to may be collected at
 *     the next allocation of any thread.
 *  3. Sections nest, per thread and heap; allocating or calling gomem_gc()
 *     inside one does not deadlock. A thread in a section must not wait for
 *     another thread that is trying to enter one or to collect (it waits
 *     for all sections to end).
 */
#ifndef _LIBGOMEM_H
#define _LIBGOMEM_H

#include <limits.h>
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

/* gomem_features() - the module's GOMEM_FEATURE_* bits, as at the open. */
uint64_t gomem_features(const struct gomem_heap *h);

/*
 * gomem_alloc() - allocate an object (Go's mallocgc)
 * @size: bytes, at least 1
 * @flags: GOMEM_ALLOC_NOSCAN, GOMEM_ALLOC_ZERO, GOMEM_ALLOC_ROOT,
 *	GOMEM_ALLOC_NOGC
 *
 * With GOMEM_FEATURE_GC the call asks the kernel not to collect
 * (GOMEM_ALLOC_NOGC); if a cycle is due, it stops the heap's world (see
 * gomem_mutator_enter), runs the cycle and allocates then. Given
 * GOMEM_ALLOC_NOGC by the caller, it returns EAGAIN instead.
 *
 * Return: the object, or NULL with errno set (ENOMEM: cap, memory cgroup
 * or machine out of memory; EINVAL: bad size or flags; EAGAIN: see above).
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
 * A due cycle is run as gomem_alloc() runs it.
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
 * @st: filled in; fields the running module does not have read as 0.
 *	@st->size is the module's size: the collector's fields (num_gc on)
 *	are there when it is at least GOMEM_MEMSTATS_SIZE_VER1.
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

/*
 * gomem_mutator_enter() - start a mutator section on @h in this thread
 *
 * Waits while a cycle runs or is waiting to run. Nested calls only count.
 * See the rules at the top of this file.
 *
 * Return: 0, or -ENOMEM.
 */
int gomem_mutator_enter(struct gomem_heap *h);

/*
 * gomem_mutator_exit() - end the section (the outermost one: the objects
 * it allocated are no longer kept alive by libgomem)
 *
 * Return: 0, or -EPERM if this thread is in no section on @h.
 */
int gomem_mutator_exit(struct gomem_heap *h);

/* gomem_mutator_depth() - this thread's nesting of sections on @h (0: none). */
int gomem_mutator_depth(const struct gomem_heap *h);

/*
 * gomem_root_add() - scan @len bytes at @addr (globals, a region used as a
 * stack: any memory of the process) in every cycle, word by word
 * gomem_root_del() - stop; the range is known by its @addr
 *
 * Return: 0 or a negative errno (EEXIST: already a root; ENOENT: not one;
 * EINVAL: @len 0 or over GOMEM_ROOT_MAX_LEN; ENOSPC or E2BIG: too many).
 */
int gomem_root_add(struct gomem_heap *h, const void *addr, size_t len);
int gomem_root_del(struct gomem_heap *h, const void *addr);

/*
 * gomem_root_add_object() / gomem_root_del_object() - make the live object
 * @obj a root (marked, and scanned unless NOSCAN) / release it, as
 * GOMEM_ALLOC_ROOT does at allocation.
 */
int gomem_root_add_object(struct gomem_heap *h, const void *obj);
int gomem_root_del_object(struct gomem_heap *h, const void *obj);

/*
 * gomem_gc() - run a full cycle now and sweep the heap (Go's runtime.GC)
 * gomem_gc_if_due() - run the cycle an allocation would run, only if due
 * @st: if not NULL, receives the cycle's statistics (zero-filled first;
 *	@st->cycle is 0 when gomem_gc_if_due() found none due)
 *
 * Both stop the heap's world first: they wait until every other thread is
 * out of its mutator sections or parked in libgomem.
 *
 * Return: 0 or a negative errno (ENOTTY: the module has no collector).
 */
int gomem_gc(struct gomem_heap *h, struct gomem_gc_stats *st);
int gomem_gc_if_due(struct gomem_heap *h, struct gomem_gc_stats *st);

/* What gomem_set_gcpercent() returns on failure, errno set. */
#define GOMEM_GCPERCENT_ERROR	INT_MIN

/*
 * gomem_set_gcpercent() - set GOGC (Go's debug.SetGCPercent)
 * @percent: 0 and up, or negative to turn automatic collection off
 *
 * Return: the previous percent, GOMEM_GOGC_OFF (-1) if it was off, or
 * GOMEM_GCPERCENT_ERROR with errno set.
 */
int gomem_set_gcpercent(struct gomem_heap *h, int percent);

/*
 * gomem_set_memory_limit() - set the soft memory limit (Go's
 * debug.SetMemoryLimit) on HeapSys - HeapReleased
 * @limit: bytes; INT64_MAX for no limit; negative only reads it
 *
 * Return: the previous limit (INT64_MAX: none), or a negative errno.
 */
int64_t gomem_set_memory_limit(struct gomem_heap *h, int64_t limit);

/*
 * gomem_gc_params() - read GOGC (GOMEM_GOGC_OFF: off) and the memory
 * limit (GOMEM_NO_LIMIT: none); either pointer may be NULL
 *
 * Return: 0 or a negative errno.
 */
int gomem_gc_params(struct gomem_heap *h, int *gogc, uint64_t *memory_limit);

/*
 * gomem_set_profile_rate() - Go's runtime.MemProfileRate for this heap:
 * bytes per heap profile sample on average (0: off, 1: every allocation,
 * GOMEM_PROF_DEFAULT_RATE when the heap is opened); a negative @rate only
 * reads it
 *
 * Return: the previous rate, or a negative errno.
 */
int64_t gomem_set_profile_rate(struct gomem_heap *h, int64_t rate);

/*
 * gomem_read_heap_profile() - the heap's profile as the kernel's dump
 * (struct gomem_prof_header and its records), in a malloc()ed buffer
 * whose size is stored in *@len
 *
 * Return: the dump (free() it), or NULL with errno set.
 */
void *gomem_read_heap_profile(struct gomem_heap *h, size_t *len);

/*
 * gomem_write_heap_profile() - Go's pprof.WriteHeapProfile, recorded: the
 * dump, then the text of /proc/self/maps, written to @fd. `gomemctl pprof
 * -i FILE` turns it into a profile for `go tool pprof`, even after the
 * process is gone.
 *
 * Return: 0 or a negative errno.
 */
int gomem_write_heap_profile(struct gomem_heap *h, int fd);

#ifdef __cplusplus
}
#endif

#endif /* _LIBGOMEM_H */
