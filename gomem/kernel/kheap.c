// SPDX-License-Identifier: GPL-2.0
/*
 * Heaps for kernel code (include/linux/gomem.h): the core's gm_heap over
 * the buddy allocator, the module's own kernel heap, CPU hotplug (an
 * offline CPU's mcache goes back to the mcentrals) and each heap's debugfs
 * directory.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/gomem.h>

#include "gomem.h"
#include "heap.h"

/**
 * struct gomem_heap - a kernel user's heap
 * @gm: the core heap
 * @node: in gomem_heaps
 * @dir: its debugfs directory, or NULL
 * @name: its name, for gctrace lines
 */
struct gomem_heap {
	struct gm_heap *gm;
	struct list_head node;
	struct dentry *dir;
	char name[32];
};

/* Every heap, for the CPU hotplug callback. */
static LIST_HEAD(gomem_heaps);
static DEFINE_MUTEX(gomem_heaps_lock);
static enum cpuhp_state gomem_cpuhp_state;
static struct gomem_heap *gomem_kheap;

/* === debugfs ============================================================ */

#define GOMEM_HEAP_SHOW(name)						\
static int name##_show(struct seq_file *seq, void *v)			\
{									\
	GOMEM_SEQ_PRINTER(sp, seq);					\
	struct gomem_heap *heap = seq->private;				\
									\
	gm_heap_print_##name(heap->gm, &sp.p);				\
	return 0;							\
}									\
DEFINE_SHOW_ATTRIBUTE(name)

GOMEM_HEAP_SHOW(memstats);
GOMEM_HEAP_SHOW(classes);
GOMEM_HEAP_SHOW(arenas);
GOMEM_HEAP_SHOW(gc);

static void heap_debugfs_init(struct gomem_heap *heap, const char *name)
{
	struct dentry *parent = gomem_debugfs_heaps_dir();

	if (!parent)
		return;
	heap->dir = debugfs_create_dir(name, parent);
	if (IS_ERR(heap->dir)) {
		heap->dir = NULL;
		return;
	}
	debugfs_create_file("memstats", 0400, heap->dir, heap, &memstats_fops);
	debugfs_create_file("classes", 0400, heap->dir, heap, &classes_fops);
	debugfs_create_file("arenas", 0400, heap->dir, heap, &arenas_fops);
	debugfs_create_file("gc", 0400, heap->dir, heap, &gc_fops);
}

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

	if (!heap)
		return NULL;
	heap->gm = gm_heap_create(&gm_os_pagesrc, NULL);
	if (!heap->gm) {
		kfree(heap);
		return NULL;
	}
	strscpy(heap->name, name, sizeof(heap->name));
	gm_heap_set_gogc(heap->gm, gomem_param_gogc());
	mutex_lock(&gomem_heaps_lock);
	list_add(&heap->node, &gomem_heaps);
	mutex_unlock(&gomem_heaps_lock);
	heap_debugfs_init(heap, name);
	return heap;
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
	debugfs_remove(heap->dir);
	mutex_lock(&gomem_heaps_lock);
	list_del(&heap->node);
	mutex_unlock(&gomem_heaps_lock);
	gm_heap_destroy(heap->gm);
	kfree(heap);
}
EXPORT_SYMBOL_GPL(gomem_heap_destroy);

/**
 * gomem_kernel_heap() - the heap gomem keeps for in-kernel use
 *
 * Return: the heap, valid while the gomem module is loaded.
 */
struct gomem_heap *gomem_kernel_heap(void)
{
	return gomem_kheap;
}
EXPORT_SYMBOL_GPL(gomem_kernel_heap);

/**
 * gomem_alloc() - allocate an object from a heap
 * @heap: the heap
 * @size: bytes, > 0
 * @flags: GOMEM_NOSCAN, GOMEM_ZERO
 *
 * Objects up to 32 KiB come from this CPU's cache without a lock; larger
 * ones get pages of their own (at most 4 MiB: physically contiguous).
 *
 * Context: process context; may sleep.
 * Return: the object, or NULL if @size is 0 or memory ran out.
 */
void *gomem_alloc(struct gomem_heap *heap, size_t size, unsigned int flags)
{
	BUILD_BUG_ON(GOMEM_NOSCAN != GM_NOSCAN || GOMEM_ZERO != GM_ZERO);
	return gm_heap_alloc(heap->gm, size, flags & (GOMEM_NOSCAN | GOMEM_ZERO));
}
EXPORT_SYMBOL_GPL(gomem_alloc);

/**
 * gomem_free() - free an object
 * @heap: the heap it came from
 * @ptr: the object's base address
 *
 * Context: process context; may sleep.
 * Return: 0, or -EINVAL if @ptr is not a live object's base in @heap
 * (nothing is changed then).
 */
int gomem_free(struct gomem_heap *heap, void *ptr)
{
	return gm_heap_free(heap->gm, ptr);
}
EXPORT_SYMBOL_GPL(gomem_free);

/**
 * gomem_size() - the usable size of the object holding an address
 * @heap: the heap
 * @ptr: any address inside a live object
 *
 * Return: the object's size (its class size), or 0 if @ptr is not inside
 * a live object of @heap.
 */
size_t gomem_size(struct gomem_heap *heap, const void *ptr)
{
	return gm_heap_object_size(heap->gm, ptr);
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
	return gm_heap_add_root(heap->gm, a, len);
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
	return gm_heap_del_root(heap->gm, (uintptr_t)addr);
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
	return gm_heap_set_root_object(heap->gm, obj, root);
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
 * Return: true if allocating @size bytes would pass the heap's trigger.
 */
bool gomem_heap_gc_due(struct gomem_heap *heap, size_t size)
{
	return gm_heap_gc_due(heap->gm, size);
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
 * Return: 0, or -ENOMEM if the collector's work memory could not be
 * allocated (nothing was freed then).
 */
int gomem_heap_gc(struct gomem_heap *heap)
{
	struct gm_gc_cycle c;
	char line[200];
	int ret;

	/* An offline CPU's mcache is released by gomem_cpu_dead(): not now. */
	cpus_read_lock();
	ret = gm_heap_gc(heap->gm, true, &c);
	cpus_read_unlock();
	if (ret || gomem_param_gctrace() <= 0)
		return ret;
	gm_gc_trace_line(heap->gm, &c, line, sizeof(line));
	pr_info("kheap %s: %s\n", heap->name, line);
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
 * Return: the previous value, or -EINVAL (nothing changed) for @gogc
 * below GOMEM_GOGC_OFF.
 */
int gomem_heap_set_gogc(struct gomem_heap *heap, int gogc)
{
	if (gogc < GOMEM_GOGC_OFF)
		return -EINVAL;
	return gm_heap_set_gogc(heap->gm, gogc);
}
EXPORT_SYMBOL_GPL(gomem_heap_set_gogc);

/**
 * gomem_heap_cached_spans() - spans a CPU's mcache holds (for tests)
 * @heap: the heap
 * @cpu: the CPU
 *
 * Return: how many span classes of @cpu's cache point to a span.
 */
unsigned int gomem_heap_cached_spans(struct gomem_heap *heap, unsigned int cpu)
{
	return gm_heap_cached_spans(heap->gm, cpu);
}
GOMEM_EXPORT_FOR_KUNIT(gomem_heap_cached_spans);

/* === CPU hotplug and module set-up ====================================== */

/* Runs after @cpu is dead: nothing can be using its mcaches. */
static int gomem_cpu_dead(unsigned int cpu)
{
	struct gomem_heap *heap;

	mutex_lock(&gomem_heaps_lock);
	list_for_each_entry(heap, &gomem_heaps, node)
		gm_heap_flush_cpu(heap->gm, cpu);
	mutex_unlock(&gomem_heaps_lock);
	return 0;
}

/**
 * gomem_kheap_init() - hotplug callback and the module's kernel heap
 *
 * Return: 0 or -errno.
 */
int gomem_kheap_init(void)
{
	int ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "gomem:dead",
					    NULL, gomem_cpu_dead);

	if (ret < 0)
		return ret;
	gomem_cpuhp_state = ret;
	gomem_kheap = gomem_heap_create("kernel");
	if (!gomem_kheap) {
		cpuhp_remove_state_nocalls(gomem_cpuhp_state);
		return -ENOMEM;
	}
	return 0;
}

/**
 * gomem_kheap_exit() - free the kernel heap; drop the hotplug callback
 *
 * Heaps other modules created must be gone: they hold a reference on
 * this module through the symbols they use.
 */
void gomem_kheap_exit(void)
{
	gomem_heap_destroy(gomem_kheap);
	gomem_kheap = NULL;
	cpuhp_remove_state_nocalls(gomem_cpuhp_state);
}
