/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heaps.c: the one registry of gomem's heaps, both kinds: kernel heaps
 * (kheap.c) and the heaps of /dev/gomem opens (devheap.c). It keeps
 * their ids, the list of them, each one's debugfs directory, the gctrace
 * line of a cycle, and gives a dead CPU's caches back (CPU hotplug).
 */
#ifndef _GOMEM_HEAPS_H
#define _GOMEM_HEAPS_H

#include <linux/list.h>
#include <linux/types.h>

struct dentry;
struct gm_gc_cycle;
struct gm_heap;

/* The kinds of heap; each has its directory under /sys/kernel/debug/gomem/. */
enum gomem_heap_kind {
	GOMEM_HEAP_KERNEL,	/* kheaps/<name>/, include/linux/gomem.h */
	GOMEM_HEAP_DEV,		/* heaps/<id>/, an open of /dev/gomem */
	GOMEM_HEAP_NR_KINDS,
};

struct gomem_heap_entry;

/**
 * struct gomem_heap_file - one file of a heap's debugfs directory
 * @name: its name
 * @fops: its operations; the inode's data is the heap's registry entry
 * @mode: its permissions; 0 is 0400 (root reads)
 */
struct gomem_heap_file {
	const char *name;
	const struct file_operations *fops;
	umode_t mode;
};

/**
 * struct gomem_heap_type - what the registry knows of a kind of heap
 * @kind: which kind
 * @files: the files of each heap's debugfs directory
 * @nr_files: how many
 * @cpu_dead: gives back the cache of the dead CPU @cpu in a heap of the
 *	kind, keeping off whatever else may flush the caches meanwhile;
 *	NULL for a kind whose caches only the dead CPU could touch
 */
struct gomem_heap_type {
	enum gomem_heap_kind kind;
	const struct gomem_heap_file *files;
	unsigned int nr_files;
	void (*cpu_dead)(struct gomem_heap_entry *e, unsigned int cpu);
};

/**
 * struct gomem_heap_entry - a heap in the registry, inside the heap
 * @gm: the core heap
 * @type: its kind
 * @id: its public number, from 1, for /dev/gomem heaps; never reused while
 *	the module is loaded (a 64-bit counter), so gctrace lines and debugfs
 *	directories of heaps that came and went cannot be confused; 0 for
 *	kernel heaps
 * @slot: for /dev/gomem heaps, a number from 1 to GOMEM_HEAP_ID_MAX that
 *	no other live heap has, part of its file offsets (devmem.c); reused
 *	once the heap is gone, and never shown to userspace; 0 for kernel
 *	heaps
 * @name: its debugfs directory and its name in gctrace lines (@id)
 * @node: in the registry's list
 * @dir: its debugfs directory, or NULL
 */
struct gomem_heap_entry {
	struct gm_heap *gm;
	const struct gomem_heap_type *type;
	u64 id;
	u32 slot;
	char name[32];
	struct list_head node;
	struct dentry *dir;
};

/* The core's own tables of a heap, for a kind's @files. */
extern const struct file_operations gomem_heap_memstats_fops;
extern const struct file_operations gomem_heap_classes_fops;
extern const struct file_operations gomem_heap_arenas_fops;
extern const struct file_operations gomem_heap_gc_fops;

int gomem_heaps_init(void);
void gomem_heaps_exit(void);
struct dentry *gomem_heaps_debugfs_dir(enum gomem_heap_kind kind);

int gomem_heap_entry_init(struct gomem_heap_entry *e, const struct gomem_heap_type *type,
			  const char *name);
void gomem_heap_entry_release(struct gomem_heap_entry *e);
void gomem_heaps_add(struct gomem_heap_entry *e, struct gm_heap *gm);
void gomem_heaps_del(struct gomem_heap_entry *e);
void gomem_heaps_for_each(enum gomem_heap_kind kind,
			  void (*fn)(struct gomem_heap_entry *e, void *arg), void *arg);
void gomem_heaps_gctrace(struct gomem_heap_entry *e, const struct gm_gc_cycle *c);

#endif /* _GOMEM_HEAPS_H */
