// SPDX-License-Identifier: GPL-2.0
/*
 * Heaps for kernel code (include/linux/gomem.h): the core's gm_heap over
 * the buddy allocator, and the module's own kernel heap. The registry
 * (heaps.c) lists them, gives each its debugfs directory and gives a
 * dead CPU's caches back.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/cpu.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/gomem.h>

#include "gomem.h"
#include "heapprof.h"
#include "heaps.h"
#include "kheap.h"
#include "heap.h"

/**
 * struct gomem_heap - a kernel user's heap
 * @reg: its entry in the registry, which holds the core heap
 * @spares: runs gm_heap_fill_spares() when a caller that could not sleep
 *	left work for one that can (the core's GM_KICK_NOW)
 * @trim: runs gm_heap_trim_kept() about once a second while the classes
 *	keep more empty spans than they keep for good (GM_KICK_TRIM)
 */
struct gomem_heap {
	struct gomem_heap_entry reg;
	struct work_struct spares;
	struct delayed_work trim;
};

static void kheap_spares(struct work_struct *work)
{
	struct gomem_heap *heap = container_of(work, struct gomem_heap, spares);

	gm_heap_fill_spares(heap->reg.gm);
}

static void kheap_trim(struct work_struct *work)
{
	struct gomem_heap *heap = container_of(to_delayed_work(work), struct gomem_heap,
					       trim);

	if (gm_heap_trim_kept(heap->reg.gm))
		queue_delayed_work(system_unbound_wq, &heap->trim, HZ);
}

/* Called from any context: queueing work is safe in all of them but NMI. */
static void kheap_kick(void *arg, enum gm_kick why)
{
	struct gomem_heap *heap = arg;

	if (why == GM_KICK_NOW)
		queue_work(system_unbound_wq, &heap->spares);
	else
		queue_delayed_work(system_unbound_wq, &heap->trim, HZ);
}

/* kheaps/<name>/: the core's tables, the heap profile and its rate. */
static const struct gomem_heap_file kheap_files[] = {
	{ "memstats", &gomem_heap_memstats_fops },
	{ "classes", &gomem_heap_classes_fops },
	{ "arenas", &gomem_heap_arenas_fops },
	{ "gc", &gomem_heap_gc_fops },
	{ "heapprof", &gomem_heap_prof_fops },
	{ "heapprof_rate", &gomem_heap_prof_rate_fops, 0600 },
};

/*
 * A kernel heap's caches are only flushed by gomem_heap_gc(), which holds
 * the CPU hotplug lock: the registry's default release is safe.
 */
static const struct gomem_heap_type kheap_type = {
	.kind = GOMEM_HEAP_KERNEL,
	.files = kheap_files,
	.nr_files = ARRAY_SIZE(kheap_files),
};

static struct gomem_heap *gomem_kheap;

/* === the API ============================================================ */

/**
 * gomem_heap_create() - create a heap for kernel objects
 * @name: its debugfs directory under /sys/kernel/debug/gomem/kheaps/
 *
 * Context: process context; may sleep.
 * Return: the heap, or NULL if memory ran out.
 */
struct gomem_heap *gomem_heap_create(const char *name)
{
	struct gomem_heap *heap = kzalloc(sizeof(*heap), GFP_KERNEL);
	struct gm_heap *gm;

	if (!heap)
		return NULL;
	if (gomem_heap_entry_init(&heap->reg, &kheap_type, name))
		goto out_free;
	gm = gm_heap_create(&gm_os_pagesrc, NULL);
	if (!gm)
		goto out_free;
	INIT_WORK(&heap->spares, kheap_spares);
	INIT_DELAYED_WORK(&heap->trim, kheap_trim);
	gm_heap_set_kick(gm, kheap_kick, heap);
	gomem_heaps_add(&heap->reg, gm);
	return heap;

out_free:
	kfree(heap);
	return NULL;
}
EXPORT_SYMBOL_GPL(gomem_heap_create);

/**
 * gomem_heap_destroy() - destroy a heap and every object in it
 * @heap: the heap; no one may use it or its objects any more
 *
 * Context: process context; may sleep.
 */
void gomem_heap_destroy(struct gomem_heap *heap)
{
	if (!heap)
		return;
	gomem_heaps_del(&heap->reg);
	/* No one uses the heap any more: nothing can kick it again. */
	cancel_work_sync(&heap->spares);
	cancel_delayed_work_sync(&heap->trim);
	gm_heap_destroy(heap->reg.gm);
	gomem_heap_entry_release(&heap->reg);
	kfree(heap);
}
EXPORT_SYMBOL_GPL(gomem_heap_destroy);

/**
 * gomem_kernel_heap() - the heap gomem keeps for in-kernel use
 *
 * Context: any context.
 * Return: the heap, valid while the gomem module is loaded.
 */
struct gomem_heap *gomem_kernel_heap(void)
{
	return gomem_kheap;
}
EXPORT_SYMBOL_GPL(gomem_kernel_heap);

/* The core's flags for a kernel caller's. */
static unsigned int alloc_flags(unsigned int flags, gfp_t gfp)
{
	unsigned int gm = flags & (GOMEM_NOSCAN | GOMEM_ZERO);

	BUILD_BUG_ON(GOMEM_NOSCAN != GM_NOSCAN || GOMEM_ZERO != GM_ZERO);
	if (gfp & __GFP_ZERO)
		gm |= GM_ZERO;
	if (!gfpflags_allow_blocking(gfp))
		gm |= GM_NOSLEEP;
	return gm;
}

/**
 * gomem_alloc() - allocate an object from a heap
 * @heap: the heap
 * @size: bytes, > 0
 * @flags: GOMEM_NOSCAN, GOMEM_ZERO
 * @gfp: the caller's context, as for kmalloc(): GFP_KERNEL, GFP_NOFS,
 *	GFP_NOIO (may sleep), GFP_ATOMIC, GFP_NOWAIT (may not); __GFP_ZERO
 *	zeroes as GOMEM_ZERO does
 *
 * Objects up to 32 KiB come from this CPU's cache without a lock; larger
 * ones get pages of their own (at most 4 MiB: physically contiguous).
 * A caller that may sleep lets the heap take pages with reclaim limited
 * as @gfp says (memalloc_nofs_save(), memalloc_noio_save()). One that
 * may not is served from this CPU's cache and the spans its class holds;
 * when they have nothing, NULL comes back at once and a work item gets
 * the class a spare span for the next such call. Objects over 32 KiB
 * need a caller that may sleep. See Documentation/kernel-api.rst.
 *
 * Context: any context but NMI; may sleep if @gfp allows it.
 * Return: the object, or NULL if @size is 0 or memory ran out.
 */
void *gomem_alloc(struct gomem_heap *heap, size_t size, unsigned int flags, gfp_t gfp)
{
	unsigned int gm = alloc_flags(flags, gfp), nofs, noio;
	void *p;

	if (WARN_ON_ONCE(in_nmi()))
		return NULL;
	if (gm & GM_NOSLEEP)
		return gm_heap_alloc(heap->reg.gm, size, gm);
	nofs = gfp & __GFP_FS ? 0 : memalloc_nofs_save();
	noio = gfp & __GFP_IO ? 0 : memalloc_noio_save();
	p = gm_heap_alloc(heap->reg.gm, size, gm);
	if (!(gfp & __GFP_IO))
		memalloc_noio_restore(noio);
	if (!(gfp & __GFP_FS))
		memalloc_nofs_restore(nofs);
	return p;
}
EXPORT_SYMBOL_GPL(gomem_alloc);

/**
 * gomem_free() - free an object
 * @heap: the heap it came from
 * @ptr: the object's base address
 *
 * Never sleeps: what needs the heap's sleeping lock (a large object's
 * pages) is left to a work item when the caller may not sleep.
 *
 * Context: any context but NMI.
 * Return: 0, or -EINVAL if @ptr is not a live object's base in @heap
 * (nothing is changed then).
 */
int gomem_free(struct gomem_heap *heap, void *ptr)
{
	if (WARN_ON_ONCE(in_nmi()))
		return -EINVAL;
	return gm_heap_free(heap->reg.gm, ptr);
}
EXPORT_SYMBOL_GPL(gomem_free);

/**
 * gomem_size() - the usable size of the object holding an address
 * @heap: the heap
 * @ptr: any address inside a live object
 *
 * Context: any context; takes no lock.
 * Return: the object's size (its class size), or 0 if @ptr is not inside
 * a live object of @heap.
 */
size_t gomem_size(struct gomem_heap *heap, const void *ptr)
{
	return gm_heap_object_size(heap->reg.gm, ptr);
}
EXPORT_SYMBOL_GPL(gomem_size);

/* === the collector ====================================================== */

/**
 * gomem_heap_add_root() - register a range of memory the collector scans
 * @heap: the heap
 * @addr: the range's first byte: kernel memory that stays readable until
 *	gomem_heap_del_root() (a module's globals, a structure it owns)
 * @len: bytes, 1..GOMEM_ROOT_MAX_LEN
 *
 * Every aligned word of the range that points into a live object of
 * @heap keeps that object, and what it points to, alive across
 * gomem_heap_gc().
 *
 * Context: process context; may sleep.
 * Return: 0, -EINVAL for a bad range, -EEXIST if a range starts at @addr
 * already, -ENOSPC past GOMEM_ROOTS_MAX ranges, -ENOMEM.
 */
int gomem_heap_add_root(struct gomem_heap *heap, const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	if (!addr || !len || len > GOMEM_ROOT_MAX_LEN || a + len < a)
		return -EINVAL;
	return gm_heap_add_root(heap->reg.gm, a, len);
}
EXPORT_SYMBOL_GPL(gomem_heap_add_root);

/**
 * gomem_heap_del_root() - unregister a range added by gomem_heap_add_root()
 * @heap: the heap
 * @addr: the range's first byte
 *
 * Context: process context; may sleep.
 * Return: 0, or -ENOENT if no range starts at @addr.
 */
int gomem_heap_del_root(struct gomem_heap *heap, const void *addr)
{
	return gm_heap_del_root(heap->reg.gm, (uintptr_t)addr);
}
EXPORT_SYMBOL_GPL(gomem_heap_del_root);

/**
 * gomem_heap_set_root() - make an object a root of the collector, or not
 * @heap: the heap
 * @obj: the base of a live object of @heap, not a tiny one (a GOMEM_NOSCAN
 *	object under 16 bytes)
 * @root: true to make it a root, false to release it
 *
 * A root object lives, and keeps what it points to alive, until it is
 * released or freed with gomem_free().
 *
 * Context: process context; may sleep.
 * Return: 0, -EINVAL if @obj is not such an object, -EEXIST if it is a
 * root already, -ENOENT if it is not one.
 */
int gomem_heap_set_root(struct gomem_heap *heap, void *obj, bool root)
{
	return gm_heap_set_root_object(heap->reg.gm, obj, root);
}
EXPORT_SYMBOL_GPL(gomem_heap_set_root);

/**
 * gomem_heap_gc_due() - whether the pacer would start a cycle now
 * @heap: the heap
 * @size: bytes about to be allocated
 *
 * Kernel heaps never collect by themselves: a user that wants Go's pacing
 * checks this before allocating and calls gomem_heap_gc() when it can stop
 * its users of the heap.
 *
 * Context: any context; takes no lock.
 * Return: true if allocating @size bytes would pass the heap's trigger.
 */
bool gomem_heap_gc_due(struct gomem_heap *heap, size_t size)
{
	return gm_heap_gc_due(heap->reg.gm, size);
}
EXPORT_SYMBOL_GPL(gomem_heap_gc_due);

/**
 * gomem_heap_gc() - run a full garbage collection cycle (Go's runtime.GC)
 * @heap: the heap
 *
 * Marks every object reachable from the heap's roots (ranges and root
 * objects), interior pointers included, and frees every other object; the
 * heap is swept completely before the call returns.
 *
 * The caller stops the world: while the cycle runs, nothing else may
 * allocate from, free into, or write pointers into @heap, and an object
 * that only a pointer outside the roots (a local variable, another
 * structure) reaches is freed. The gctrace module parameter logs the
 * cycle.
 *
 * Context: process context; may sleep. CPU hotplug waits for the cycle.
 * Return: 0. (An int for compatibility: when the collector's work memory
 * cannot be allocated, the mark rescans the heap instead of failing.)
 */
int gomem_heap_gc(struct gomem_heap *heap)
{
	struct gm_gc_cycle c;
	int ret;

	/* An offline CPU's mcache is released by the registry's hotplug callback: not now. */
	cpus_read_lock();
	ret = gm_heap_gc(heap->reg.gm, true, &c);
	cpus_read_unlock();
	if (ret)
		return ret;
	gomem_heaps_gctrace(&heap->reg, &c);
	return 0;
}
EXPORT_SYMBOL_GPL(gomem_heap_gc);

/**
 * gomem_heap_set_gogc() - set a heap's GOGC (Go's debug.SetGCPercent)
 * @heap: the heap
 * @gogc: a percent, or GOMEM_GOGC_OFF
 *
 * The heap goal gomem_heap_gc_due() checks is the live heap after the last
 * cycle times 1 + @gogc / 100, at least 4 MiB.
 *
 * Context: process context; may sleep.
 * Return: the previous value, or -EINVAL (nothing changed) for @gogc
 * below GOMEM_GOGC_OFF.
 */
int gomem_heap_set_gogc(struct gomem_heap *heap, int gogc)
{
	if (gogc < GOMEM_GOGC_OFF)
		return -EINVAL;
	return gm_heap_set_gogc(heap->reg.gm, gogc);
}
EXPORT_SYMBOL_GPL(gomem_heap_set_gogc);

/**
 * gomem_heap_set_profile_rate() - sample a heap's allocations (Go's MemProfileRate)
 * @heap: the heap
 * @rate: bytes allocated per sample on average; 0 turns sampling off (a
 *	kernel heap's default), 1 samples every allocation; larger than
 *	GOMEM_PROF_MAX_RATE is that
 *
 * A sampled allocation records its kernel stack. Root reads the profile
 * in debugfs, kheaps/<name>/heapprof, and ``gomemctl pprof <name>`` turns
 * it into a pprof profile. kheaps/<name>/heapprof_rate sets the same rate.
 *
 * Context: process context. Allocations that cannot sleep record no new
 * stack (they are counted as dropped) until one that can has.
 * Return: the rate before.
 */
unsigned long gomem_heap_set_profile_rate(struct gomem_heap *heap, unsigned long rate)
{
	return gm_heap_set_profile_rate(heap->reg.gm, rate);
}
EXPORT_SYMBOL_GPL(gomem_heap_set_profile_rate);

/**
 * gomem_heap_cached_spans() - spans a CPU's mcache holds (for tests)
 * @heap: the heap
 * @cpu: the CPU
 *
 * Context: any context; a snapshot that may be stale.
 * Return: how many span classes of @cpu's caches (every context's) point
 * to a span.
 */
unsigned int gomem_heap_cached_spans(struct gomem_heap *heap, unsigned int cpu)
{
	return gm_heap_cached_spans(heap->reg.gm, cpu);
}
GOMEM_EXPORT_FOR_KUNIT(gomem_heap_cached_spans);

/**
 * gomem_heap_profile_dump() - a heap's profile, as debugfs gives it (for tests)
 * @heap: the heap
 * @size: set to the dump's bytes
 *
 * Context: process context; may sleep.
 * Return: a struct gomem_prof_header and its records (kvfree() it), or
 * NULL if memory ran out.
 */
void *gomem_heap_profile_dump(struct gomem_heap *heap, size_t *size)
{
	return gomem_heapprof_dump(heap->reg.gm, size);
}
GOMEM_EXPORT_FOR_KUNIT(gomem_heap_profile_dump);

/* === module set-up ====================================================== */

/**
 * gomem_kheap_init() - create the module's kernel heap
 *
 * Context: module init, after gomem_heaps_init().
 * Return: 0 or -ENOMEM.
 */
int gomem_kheap_init(void)
{
	gomem_kheap = gomem_heap_create("kernel");
	return gomem_kheap ? 0 : -ENOMEM;
}

/**
 * gomem_kheap_exit() - free the kernel heap
 *
 * Heaps other modules created must be gone: they hold a reference on
 * this module through the symbols they use.
 */
void gomem_kheap_exit(void)
{
	gomem_heap_destroy(gomem_kheap);
	gomem_kheap = NULL;
}
