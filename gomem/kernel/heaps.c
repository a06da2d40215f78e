// SPDX-License-Identifier: GPL-2.0
/*
 * The registry of gomem's heaps: kernel heaps (kheap.c) and /dev/gomem
 * heaps (devheap.c) are entered here the same way. The registry numbers
 * the heaps that need a number, lists them, gives each its debugfs
 * directory, logs the gctrace line of a cycle, and, when a CPU dies,
 * gives that CPU's caches of every heap back to the mcentrals.
 *
 * It calls only down: params.c, debugfs.c and the core. What differs
 * between the kinds comes in through struct gomem_heap_type.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/atomic.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/idr.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "gomem.h"
#include "debugfs.h"
#include "heaps.h"
#include "heap.h"
#include "params.h"

/**
 * struct gomem_heap_kind_info - what is fixed for a kind of heap
 * @dir: its directory under /sys/kernel/debug/gomem/
 * @trace: what its gctrace lines say before the heap's name
 * @numbered: its heaps get an id, which names them, and a slot
 */
struct gomem_heap_kind_info {
	const char *dir;
	const char *trace;
	bool numbered;
};

static const struct gomem_heap_kind_info gomem_heap_kinds[] = {
	[GOMEM_HEAP_KERNEL]	= { .dir = "kheaps", .trace = "kheap" },
	[GOMEM_HEAP_DEV]	= { .dir = "heaps", .trace = "heap", .numbered = true },
};
static_assert(ARRAY_SIZE(gomem_heap_kinds) == GOMEM_HEAP_NR_KINDS);

/* Every heap of every kind, oldest first. */
static LIST_HEAD(gomem_heaps);
/* The list; taken by every open of /dev/gomem, so never held while waiting for a heap. */
static DEFINE_MUTEX(gomem_heaps_lock);
/* Slots: small numbers, unique among live heaps, for file offsets (devmem.c). */
static DEFINE_IDA(gomem_heap_slots);
/*
 * The last public id handed out. Slots are reused as soon as a heap is
 * gone, so five short-lived processes would all be "heap 1" in their
 * gctrace lines; ids are not: 2^64 opens do not happen.
 */
static atomic64_t gomem_heap_last_id = ATOMIC64_INIT(0);
static struct dentry *gomem_heaps_dirs[GOMEM_HEAP_NR_KINDS];
static enum cpuhp_state gomem_cpuhp_state;

/* === debugfs ============================================================ */

/* The core's tables of a heap: what every kind's directory may show. */
#define GOMEM_HEAP_SHOW(name)						\
static int heap_##name##_show(struct seq_file *seq, void *v)		\
{									\
	GOMEM_SEQ_PRINTER(sp, seq);					\
	struct gomem_heap_entry *e = seq->private;			\
									\
	gm_heap_print_##name(e->gm, &sp.p);				\
	return 0;							\
}									\
									\
static int heap_##name##_open(struct inode *inode, struct file *file)	\
{									\
	return single_open(file, heap_##name##_show, inode->i_private);	\
}									\
									\
const struct file_operations gomem_heap_##name##_fops = {		\
	.owner		= THIS_MODULE,					\
	.open		= heap_##name##_open,				\
	.read		= seq_read,					\
	.llseek		= seq_lseek,					\
	.release	= single_release,				\
}

GOMEM_HEAP_SHOW(memstats);
GOMEM_HEAP_SHOW(classes);
GOMEM_HEAP_SHOW(arenas);
GOMEM_HEAP_SHOW(gc);

/**
 * gomem_heaps_debugfs_dir() - the directory of a kind's heaps
 * @kind: the kind
 *
 * Return: /sys/kernel/debug/gomem/kheaps/ or heaps/, or NULL without debugfs.
 */
struct dentry *gomem_heaps_debugfs_dir(enum gomem_heap_kind kind)
{
	return gomem_heaps_dirs[kind];
}

static void heap_debugfs_init(struct gomem_heap_entry *e)
{
	struct dentry *parent = gomem_heaps_dirs[e->type->kind];
	unsigned int i;

	if (!parent)
		return;
	e->dir = debugfs_create_dir(e->name, parent);
	if (IS_ERR(e->dir)) {
		e->dir = NULL;
		return;
	}
	for (i = 0; i < e->type->nr_files; i++) {
		const struct gomem_heap_file *f = &e->type->files[i];

		debugfs_create_file(f->name, f->mode ?: 0400, e->dir, e, f->fops);
	}
}

/* === entering and leaving =============================================== */

/**
 * gomem_heap_entry_init() - prepare a heap's entry, before its core heap
 * @e: the entry, inside the heap
 * @type: the heap's kind
 * @name: its name; ignored for a numbered kind, whose heaps are named by id
 *
 * A numbered heap gets its id and its slot here: its memory needs the
 * slot before the core heap is created (devmem.c).
 *
 * Context: process context; may sleep.
 * Return: 0, -ENOSPC when every slot is taken, -ENOMEM.
 */
int gomem_heap_entry_init(struct gomem_heap_entry *e, const struct gomem_heap_type *type,
			  const char *name)
{
	int slot;

	e->type = type;
	INIT_LIST_HEAD(&e->node);
	if (!gomem_heap_kinds[type->kind].numbered) {
		strscpy(e->name, name, sizeof(e->name));
		return 0;
	}
	slot = ida_alloc_range(&gomem_heap_slots, 1, GOMEM_HEAP_ID_MAX, GFP_KERNEL);
	if (slot < 0)
		return slot;
	e->slot = slot;
	e->id = atomic64_inc_return(&gomem_heap_last_id);
	snprintf(e->name, sizeof(e->name), "%llu", e->id);
	return 0;
}

/**
 * gomem_heap_entry_release() - give back what gomem_heap_entry_init() took
 * @e: the entry, no longer in the registry (gomem_heaps_del())
 */
void gomem_heap_entry_release(struct gomem_heap_entry *e)
{
	if (e->slot)
		ida_free(&gomem_heap_slots, e->slot);
	e->slot = 0;
}

/**
 * gomem_heaps_add() - enter a new heap: its settings, directory and place
 * @e: the entry, prepared by gomem_heap_entry_init()
 * @gm: the heap's core heap
 *
 * The heap starts with the gogc module parameter as its GOGC.
 *
 * Context: process context; may sleep.
 */
void gomem_heaps_add(struct gomem_heap_entry *e, struct gm_heap *gm)
{
	e->gm = gm;
	gm_heap_set_gogc(gm, gomem_param_gogc());
	heap_debugfs_init(e);
	mutex_lock(&gomem_heaps_lock);
	list_add_tail(&e->node, &gomem_heaps);
	mutex_unlock(&gomem_heaps_lock);
}

/**
 * gomem_heaps_del() - take a heap out, before its core heap is destroyed
 * @e: the entry
 *
 * When this returns, no CPU hotplug callback and no walk of the registry
 * uses the heap any more, and its debugfs files are closed.
 *
 * Context: process context; may sleep.
 */
void gomem_heaps_del(struct gomem_heap_entry *e)
{
	mutex_lock(&gomem_heaps_lock);
	list_del_init(&e->node);
	mutex_unlock(&gomem_heaps_lock);
	debugfs_remove(e->dir);
	e->dir = NULL;
}

/**
 * gomem_heaps_for_each() - call a function on every heap of a kind
 * @kind: the kind
 * @fn: the function; it must not wait for the heap's locks, since every
 *	open of /dev/gomem waits for the registry's meanwhile
 * @arg: passed to @fn
 *
 * Context: process context; may sleep.
 */
void gomem_heaps_for_each(enum gomem_heap_kind kind,
			  void (*fn)(struct gomem_heap_entry *e, void *arg), void *arg)
{
	struct gomem_heap_entry *e;

	mutex_lock(&gomem_heaps_lock);
	list_for_each_entry(e, &gomem_heaps, node) {
		if (e->type->kind == kind)
			fn(e, arg);
	}
	mutex_unlock(&gomem_heaps_lock);
}

/* === gctrace ============================================================ */

/**
 * gomem_heaps_gctrace() - log a cycle as Go's GODEBUG=gctrace=1 does
 * @e: the heap that ran it
 * @c: the cycle
 *
 * Only with the gctrace module parameter at 1; the line starts with the
 * heap's kind and name ("kheap kernel: ", "heap 3: ").
 */
void gomem_heaps_gctrace(struct gomem_heap_entry *e, const struct gm_gc_cycle *c)
{
	char line[200];

	if (gomem_param_gctrace() <= 0)
		return;
	gm_gc_trace_line(e->gm, c, line, sizeof(line));
	pr_info("%s %s: %s\n", gomem_heap_kinds[e->type->kind].trace, e->name, line);
}

/* === CPU hotplug and set-up ============================================= */

/*
 * Runs after @cpu is dead: no allocation can be using its caches. A kind
 * whose heaps flush every CPU's caches on their own (a cycle, a scavenge)
 * keeps those off in its cpu_dead.
 */
static int gomem_cpu_dead(unsigned int cpu)
{
	struct gomem_heap_entry *e;

	mutex_lock(&gomem_heaps_lock);
	list_for_each_entry(e, &gomem_heaps, node) {
		if (e->type->cpu_dead)
			e->type->cpu_dead(e, cpu);
		else
			gm_heap_flush_cpu(e->gm, cpu);
	}
	mutex_unlock(&gomem_heaps_lock);
	return 0;
}

static void heaps_debugfs_init(void)
{
	struct dentry *root = gomem_debugfs_root();
	unsigned int k;

	if (!root)
		return;
	for (k = 0; k < GOMEM_HEAP_NR_KINDS; k++) {
		gomem_heaps_dirs[k] = debugfs_create_dir(gomem_heap_kinds[k].dir, root);
		if (IS_ERR(gomem_heaps_dirs[k]))
			gomem_heaps_dirs[k] = NULL;
	}
}

static void heaps_debugfs_exit(void)
{
	unsigned int k;

	for (k = 0; k < GOMEM_HEAP_NR_KINDS; k++) {
		debugfs_remove(gomem_heaps_dirs[k]);
		gomem_heaps_dirs[k] = NULL;
	}
}

/**
 * gomem_heaps_init() - the kinds' debugfs directories and the hotplug callback
 *
 * Context: module init, after gomem_debugfs_init().
 * Return: 0 or the -errno of cpuhp_setup_state_nocalls().
 */
int gomem_heaps_init(void)
{
	int ret;

	heaps_debugfs_init();
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "gomem:dead", NULL,
					gomem_cpu_dead);
	if (ret < 0) {
		heaps_debugfs_exit();
		return ret;
	}
	gomem_cpuhp_state = ret;
	return 0;
}

/**
 * gomem_heaps_exit() - drop the hotplug callback and the directories
 *
 * Context: module exit; every heap is gone.
 */
void gomem_heaps_exit(void)
{
	cpuhp_remove_state_nocalls(gomem_cpuhp_state);
	heaps_debugfs_exit();
}
