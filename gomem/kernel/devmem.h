/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devmem.c: the memory of a /dev/gomem heap (its page source), arenas in
 * the opener's address space. It calls no other file of the face but
 * counters.c.
 */
#ifndef _GOMEM_DEVMEM_H
#define _GOMEM_DEVMEM_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct file;
struct mm_struct;
struct task_struct;

/* Go's memory states (mem.go), per 8 KiB page of an arena. */
enum gomem_mem_state {
	GOMEM_MEM_NONE,		/* unmapped by the program, out of use */
	GOMEM_MEM_RESERVED,
	GOMEM_MEM_PREPARED,
	GOMEM_MEM_READY,
	GOMEM_MEM_LOST,		/* unmapped, not yet taken out of use */
};

/* Heap ids and addresses share a file's page offsets (see devmem.c). */
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

#endif /* _GOMEM_DEVMEM_H */
