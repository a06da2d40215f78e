/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomem module internals shared by its kernel-side files: the character
 * device, debugfs and module set-up. The allocator core does not include it.
 */
#ifndef _GOMEM_GOMEM_H
#define _GOMEM_GOMEM_H

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "heap.h"

/*
 * Functions that only gomem's KUnit module needs are exported into a
 * namespace of their own, and only when KUnit can be loaded at all.
 */
#if IS_ENABLED(CONFIG_KUNIT)
#define GOMEM_EXPORT_FOR_KUNIT(sym)	EXPORT_SYMBOL_NS_GPL(sym, GOMEM_KUNIT)
#else
#define GOMEM_EXPORT_FOR_KUNIT(sym)
#endif

struct gomem_version;

struct gomem_dev_heap;

/**
 * struct gomem_file - what one open of /dev/gomem owns
 * @id: number of this open since the module was loaded, from 1
 * @heap: the heap of this open; NULL if the file is not open for writing
 */
struct gomem_file {
	u64 id;
	struct gomem_dev_heap *heap;
};

/**
 * struct gomem_ioctl_desc - one entry of the ioctl table
 * @cmd: the full command number, checked against the caller's
 * @func: handler; works on a kernel copy of the argument
 * @undo: if not NULL, takes back what a successful @func did when its
 *	answer cannot be copied back (the call then fails and must have
 *	changed nothing)
 * @name: the command's name, for diagnostics
 */
struct gomem_ioctl_desc {
	unsigned int cmd;
	long (*func)(struct gomem_file *gf, void *arg);
	void (*undo)(struct gomem_file *gf, void *arg);
	const char *name;
};

/*
 * What heap commands allocate for themselves: charged to the caller's
 * memcg, and failing with -ENOMEM rather than invoking the OOM killer,
 * which could pick a process that has nothing to do with this heap.
 */
#define GOMEM_IOCTL_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/* Largest ioctl argument structure; arguments are copied to the stack. */
#define GOMEM_IOCTL_MAX_ARG	128

/* Module-wide counters shown in debugfs. */
struct gomem_module_stats {
	atomic_long_t open_files;
	atomic64_t opens_total;
};

extern struct gomem_module_stats gomem_stats;

/* chardev.c */
int gomem_chardev_init(void);
void gomem_chardev_exit(void);
const struct gomem_ioctl_desc *gomem_ioctl_lookup(unsigned int cmd);
long gomem_version_get(struct gomem_version *v);

/* debugfs.c */

/**
 * struct gomem_seq_printer - lets the core's table printers write a seq_file
 * @p: what the core writes to
 * @seq: where the lines go
 */
struct gomem_seq_printer {
	struct gm_printer p;
	struct seq_file *seq;
};

void gomem_seq_line(struct gm_printer *p, const char *text);
#define GOMEM_SEQ_PRINTER(name, s) \
	struct gomem_seq_printer name = { .p.line = gomem_seq_line, .seq = (s) }

void gomem_debugfs_init(void);
void gomem_debugfs_exit(void);
bool gomem_debugfs_available(void);
struct dentry *gomem_debugfs_heaps_dir(void);

/* devheap.c */
struct file;
struct gomem_alloc;
struct gomem_alloc_bulk;
struct gomem_free;
struct gomem_stats;
struct gomem_class_stats;
struct gomem_scavenge;
struct gomem_cap;
struct gomem_root;
struct gomem_gc;
struct gomem_gc_params;
struct gomem_dev_heap *gomem_dev_heap_create(struct file *file);
void gomem_dev_heap_destroy(struct gomem_dev_heap *dh);
struct gomem_mem *gomem_dev_heap_mem(struct gomem_dev_heap *dh);
long gomem_dev_heap_alloc(struct gomem_file *gf, struct gomem_alloc *a);
long gomem_dev_heap_alloc_bulk(struct gomem_file *gf, struct gomem_alloc_bulk *b);
long gomem_dev_heap_free(struct gomem_file *gf, struct gomem_free *f, bool free);
long gomem_dev_heap_stats(struct gomem_file *gf, struct gomem_stats *s);
long gomem_dev_heap_class_stats(struct gomem_file *gf, struct gomem_class_stats *c);
long gomem_dev_heap_scavenge(struct gomem_file *gf, struct gomem_scavenge *s);
long gomem_dev_heap_set_cap(struct gomem_file *gf, struct gomem_cap *c);
long gomem_dev_heap_root(struct gomem_file *gf, struct gomem_root *r, bool add);
long gomem_dev_heap_gc(struct gomem_file *gf, struct gomem_gc *g);
long gomem_dev_heap_set_gc(struct gomem_file *gf, struct gomem_gc_params *p);
void gomem_dev_heaps_show(struct seq_file *seq);
struct dentry *gomem_debugfs_devheaps_dir(void);

/* kheap.c */
struct gomem_heap;
int gomem_kheap_init(void);
void gomem_kheap_exit(void);
unsigned int gomem_heap_cached_spans(struct gomem_heap *heap, unsigned int cpu);

u64 gomem_features(void);

/* module.c: parameters */
int gomem_param_gogc(void);
int gomem_param_gctrace(void);
int gomem_param_scavenge_percent(void);
int gomem_param_max_heaps_per_user(void);

/* devmem.c: the memory of /dev/gomem heaps */

/* Go's memory states (mem.go), per 8 KiB page of an arena. */
enum gomem_mem_state {
	GOMEM_MEM_NONE,		/* unmapped by the program, out of use */
	GOMEM_MEM_RESERVED,
	GOMEM_MEM_PREPARED,
	GOMEM_MEM_READY,
	GOMEM_MEM_LOST,		/* unmapped, not yet taken out of use */
};

/* Heap ids and addresses share a file's page offsets (see devmem.c). */
#define GOMEM_MEM_ID_BITS	15
#define GOMEM_MEM_ID_SHIFT	36

struct gomem_mem;

/**
 * struct gomem_arena - one reserved range of a heap's address space
 * @node: in gomem_mem.arenas, oldest first; only a free big arena is
 *	removed before the heap
 * @mem: the heap's memory
 * @start: first address; the mapping lives at this address
 * @len: 64 MiB, or the size of the one block it was reserved for
 * @state: a gomem_mem_state per 8 KiB page
 * @npages: pages Reserved, Prepared and Ready
 * @given: 4 MiB chunks handed to the heap as blocks
 * @broken: chunks of which the program unmapped a part
 * @nlost: pages None or Lost
 * @resident: 4 KiB pages backed now
 * @retiring: being unmapped by the heap itself, to be freed
 * @rcu: frees it after lockless walks of the list (a free big arena's
 *	address space is given back, see devmem.c)
 */
struct gomem_arena {
	struct list_head node;
	struct gomem_mem *mem;
	unsigned long start;
	unsigned long len;
	u8 *state;
	long npages[3];
	u32 given;
	u32 broken;
	long nlost;
	atomic_long_t resident;
	bool retiring;
	struct rcu_head rcu;
};

/**
 * struct gomem_mem - the memory of one /dev/gomem heap (its page source)
 * @file: the open file; its mappings are the arenas
 * @mm: the address space the heap belongs to
 * @pgoff_base: file page offset of address 0 of this heap
 * @hint: next address to try for an arena
 * @pages: the backing pages, by address >> PAGE_SHIFT; one reference each
 * @inval: taken for reading by the fault handler, for writing while pages
 *	are unmapped and freed, so that no fault maps a page being freed
 * @lock: the states, @arenas and the counters below
 * @arenas: every arena
 * @mapping_task: the task mapping @mapping_arena now, under the heap lock
 * @mapping_arena: the arena being mapped
 * @lost_pending: the program unmapped something the heap has not handled
 * @nvmas: mappings of the file (each holds a reference to it)
 * @resident: pages in @pages
 * @sys_bytes: bytes handed to the heap as blocks
 * @reserved_bytes: bytes of address space in arenas, less what was unmapped
 * @cap_bytes: the heap's cap on @sys_bytes, 0 for none
 * @lost_bytes: bytes of the heap the program unmapped
 * @nlost: pages None or Lost, over all arenas
 */
struct gomem_mem {
	struct file *file;
	struct mm_struct *mm;
	unsigned long pgoff_base;
	unsigned long hint;
	struct xarray pages;
	struct rw_semaphore inval;
	spinlock_t lock;
	struct list_head arenas;
	struct task_struct *mapping_task;
	struct gomem_arena *mapping_arena;
	atomic_t lost_pending;
	atomic_t nvmas;
	atomic_long_t resident;
	u64 sys_bytes;
	u64 reserved_bytes;
	u64 cap_bytes;
	u64 lost_bytes;
	long nlost;
};

struct gomem_memstats;
struct gm_pagesrc_ops;
struct seq_file;
struct vm_area_struct;

extern atomic_long_t gomem_user_pages;

void gomem_mem_init(struct gomem_mem *mem, struct file *file, u32 id);
void gomem_mem_destroy(struct gomem_mem *mem);
const struct gm_pagesrc_ops *gomem_mem_pagesrc(void);
int gomem_mem_mmap(struct gomem_mem *mem, struct vm_area_struct *vma);
void gomem_mem_flush(struct gomem_mem *mem);
unsigned long gomem_mem_get_unmapped_area(struct gomem_mem *mem, unsigned long addr,
					  unsigned long len, unsigned long pgoff,
					  unsigned long flags);
bool gomem_mem_lost_pending(struct gomem_mem *mem);
bool gomem_mem_take_lost(struct gomem_mem *mem, unsigned long *addr, size_t *len);
bool gomem_mem_range_lost(struct gomem_mem *mem, unsigned long addr, size_t len);
void gomem_mem_read_stats(struct gomem_mem *mem, struct gomem_memstats *st);
void gomem_mem_print_arenas(struct gomem_mem *mem, struct seq_file *seq);

#endif /* _GOMEM_GOMEM_H */
