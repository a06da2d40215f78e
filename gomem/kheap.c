// SPDX-License-Identifier: GPL-2.0
/*
 * Heaps for kernel code (include/linux/gomem.h): the core's gm_heap over
 * the buddy allocator, the module's own kernel heap, CPU hotplug (an
 * offline CPU's mcache goes back to the mcentrals) and each heap's debugfs
 * directory.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/gomem.h>

#include "gomem.h"
#include "malloc.h"

/**
 * struct gomem_heap - a kernel user's heap
 * @gm: the core heap
 * @node: in gomem_heaps
 * @dir: its debugfs directory, or NULL
 */
struct gomem_heap {
	struct gm_heap *gm;
	struct list_head node;
	struct dentry *dir;
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

/**
 * gomem_heap_cached_spans() - spans a CPU's mcache holds (for tests)
 * @heap: the heap
 * @cpu: the CPU
 *
 * Return: how many span classes of @cpu's cache point to a span.
 */
unsigned int gomem_heap_cached_spans(struct gomem_heap *heap, unsigned int cpu)
{
	struct gm_mcache *c = per_cpu_ptr(heap->gm->caches, cpu);
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(c->alloc); i++)
		n += READ_ONCE(c->alloc[i]) != &heap->gm->emptyspan;
	return n;
}
GOMEM_EXPORT_FOR_KUNIT(gomem_heap_cached_spans);

/* === CPU hotplug and module set-up ====================================== */

/* Runs after @cpu is dead: nothing can be using its mcaches. */
static int gomem_cpu_dead(unsigned int cpu)
{
	struct gomem_heap *heap;

	mutex_lock(&gomem_heaps_lock);
	list_for_each_entry(heap, &gomem_heaps, node)
		gm_mcache_release_all(heap->gm, cpu);
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
