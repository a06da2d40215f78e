// SPDX-License-Identifier: GPL-2.0
/*
 * The memory of a /dev/gomem heap, after Go's mem.go and mem_linux.go:
 * arenas are mappings of the device in the opener's address space, and
 * pages are backed by the fault handler on first touch.
 *
 * Go's four states are kept per 8 KiB heap page:
 *   None      not the heap's: the program unmapped it by hand;
 *   Reserved  in an arena mapping, not handed to the heap yet (sysReserve);
 *             touching it is a SIGBUS, as PROT_NONE is a SIGSEGV in Go;
 *   Prepared  the heap's, not backed: fresh, or scavenged (sysUnused);
 *   Ready     the heap's, in use or about to be (sysUsed).
 * Prepared and Ready pages fault in zeroed pages charged to the faulting
 * process's memory cgroup, which is the opener's (heap commands are only
 * taken from the opener's address space).
 *
 * Page offsets: all opens share the device's inode and so its
 * address_space. A heap's pages are at file offset
 * (heap id << GOMEM_MEM_ID_SHIFT) + (address >> PAGE_SHIFT), so that
 * unmap_mapping_pages() of one heap's range never touches another's, and
 * a mapping knows the heap address it was made for.
 *
 * Locks, outermost first: the heap lock (it calls alloc_block, unused and
 * free_block) -> mmap_lock (vm_mmap, and faults on the program's memory
 * when the collector reads its roots through read) -> @inval -> the page
 * xarray's lock -> @lock. The fault handler and the VMA close callback
 * run under mmap_lock and never take the heap lock.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/gomem.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/seq_file.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "gomem.h"
#include "compat.h"
#include "counters.h"
#include "devmem.h"
#include "heap.h"

#define GOMEM_MEM_HINT		0xc000000000UL
#define GOMEM_MEM_HINT_TRIES	1024
#define ARENA_BYTES		(1UL << GM_ARENA_SHIFT)
#define ARENA_CHUNKS		(1U << (GM_ARENA_SHIFT - GM_CHUNK_SHIFT))
#define KPAGES_PER_GM_PAGE	(GM_PAGE_SIZE >> PAGE_SHIFT)


static unsigned long home_pgoff(struct gomem_mem *mem, unsigned long addr)
{
	return mem->pgoff_base + (addr >> PAGE_SHIFT);
}

static unsigned long home_addr(struct gomem_mem *mem, unsigned long pgoff)
{
	return (pgoff - mem->pgoff_base) << PAGE_SHIFT;
}

/* None or Lost: the program unmapped the page; nothing brings it back. */
static bool page_gone(u8 st)
{
	return st == GOMEM_MEM_NONE || st == GOMEM_MEM_LOST;
}

static u8 *state_of(struct gomem_arena *a, unsigned long addr)
{
	return &a->state[(addr - a->start) >> GM_PAGE_SHIFT];
}

/* Count the pages of a state change, for the debugfs arena table. */
static void count_state(struct gomem_arena *a, u8 state, long n)
{
	switch (state) {
	case GOMEM_MEM_RESERVED:
		a->npages[0] += n;
		break;
	case GOMEM_MEM_PREPARED:
		a->npages[1] += n;
		break;
	case GOMEM_MEM_READY:
		a->npages[2] += n;
		break;
	}
}

/*
 * Move [addr, addr + len) of arena @a to @to. Pages the program unmapped
 * stay None: nothing brings them back.
 */
static void set_state(struct gomem_mem *mem, struct gomem_arena *a,
		      unsigned long addr, size_t len, u8 to)
{
	unsigned long end = addr + len;

	lockdep_assert_held(&mem->lock);
	for (; addr < end; addr += GM_PAGE_SIZE) {
		u8 *st = state_of(a, addr);

		if (page_gone(*st))
			continue;
		count_state(a, *st, -1);
		count_state(a, to, 1);
		WRITE_ONCE(*st, to);
	}
}

/*
 * Arenas are added and removed under RCU; only a free big arena is removed
 * before the heap (retire_arena()), with the heap lock held.
 */
static struct gomem_arena *arena_of(struct gomem_mem *mem, unsigned long addr)
{
	struct gomem_arena *a, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(a, &mem->arenas, node) {
		if (addr - a->start < a->len) {
			found = a;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * A span's pages may run across two arenas that happen to be adjacent:
 * change the state of each arena's part.
 */
static void set_range_state(struct gomem_mem *mem, unsigned long addr, size_t len, u8 to)
{
	unsigned long end = addr + len, stop;
	struct gomem_arena *a;

	while (addr < end) {
		a = arena_of(mem, addr);
		if (WARN_ON_ONCE(!a))
			return;
		stop = min(end, a->start + a->len);
		set_state(mem, a, addr, stop - addr, to);
		addr = stop;
	}
}

/* === backing pages ====================================================== */

/* Pages taken out of the xarray per hold of its lock, then freed at once. */
#define DROP_BATCH	64

/*
 * Pages of a batch, counted off their arena's resident count an arena at
 * a time: a batch lies in one arena or runs into the next.
 */
struct drop_count {
	struct gomem_arena *a;
	long n;
};

static void drop_count_page(struct gomem_mem *mem, struct drop_count *dc, unsigned long addr)
{
	if (dc->a && addr - dc->a->start < dc->a->len) {
		dc->n++;
		return;
	}
	if (dc->a)
		atomic_long_sub(dc->n, &dc->a->resident);
	dc->a = arena_of(mem, addr);
	dc->n = 1;
}

/*
 * Take up to DROP_BATCH pages of [@xas's index, @last] out of the xarray
 * under one hold of its lock. Return: how many were put in @pages.
 */
static int drop_batch(struct gomem_mem *mem, struct xa_state *xas, unsigned long last,
		      struct page **pages, struct drop_count *dc)
{
	unsigned long idx = 0;
	struct page *page;
	int n = 0;

	xas_lock(xas);
	xas_for_each(xas, page, last) {
		idx = xas->xa_index;
		xas_store(xas, NULL);
		pages[n++] = page;
		drop_count_page(mem, dc, idx << PAGE_SHIFT);
		if (n == DROP_BATCH)
			break;
	}
	xas_unlock(xas);
	/*
	 * The next batch starts after the last page taken. Not xas_pause():
	 * the store may have freed the leaf node, leaving @xas on its parent
	 * with an index the pause would round up past the next leaf's pages.
	 */
	if (n == DROP_BATCH)
		xas_set(xas, idx + 1);
	return n;
}

/*
 * Drop the pages backing [addr, addr + len): the caller has unmapped them
 * from the process, so the xarray holds the last reference. Batched, as
 * the kernel frees the pages of an unmapped range: one lock hold per
 * DROP_BATCH pages and one release_pages() for them (a single memcg
 * uncharge and one trip to the page allocator's per-CPU lists), and the
 * counters updated once per call.
 */
static void drop_pages(struct gomem_mem *mem, unsigned long addr, size_t len)
{
	unsigned long first = addr >> PAGE_SHIFT;
	unsigned long last = first + (len >> PAGE_SHIFT) - 1;
	XA_STATE(xas, &mem->pages, first);
	struct page *pages[DROP_BATCH];
	struct drop_count dc = { };
	long total = 0;
	int n;

	lockdep_assert_held_write(&mem->inval);
	do {
		n = drop_batch(mem, &xas, last, pages, &dc);
		if (n)
			release_pages(pages, n);
		total += n;
		/* A range may hold gigabytes of pages. */
		cond_resched();
	} while (n == DROP_BATCH);
	if (dc.a)
		atomic_long_sub(dc.n, &dc.a->resident);
	atomic_long_sub(total, &mem->resident);
	atomic64_sub(total, &gomem_counters[GOMEM_CTR_USER_PAGES]);
}

/* Go's sysUnused: unmap the range from the process and free its pages. */
static void release_range(struct gomem_mem *mem, unsigned long addr, size_t len)
{
	down_write(&mem->inval);
	unmap_mapping_pages(mem->file->f_mapping, home_pgoff(mem, addr),
			    len >> PAGE_SHIFT, false);
	drop_pages(mem, addr, len);
	up_write(&mem->inval);
}

static vm_fault_t insert_page(struct vm_fault *vmf, struct gomem_mem *mem,
			      struct gomem_arena *a, unsigned long haddr)
{
	unsigned long idx = haddr >> PAGE_SHIFT;
	struct page *page, *old;
	int err;

	page = xa_load(&mem->pages, idx);
	if (!page) {
		page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!page)
			return VM_FAULT_OOM;
		old = xa_cmpxchg(&mem->pages, idx, NULL, page, GFP_KERNEL_ACCOUNT);
		if (xa_is_err(old)) {
			__free_page(page);
			return VM_FAULT_OOM;
		}
		if (old) {
			__free_page(page);
			page = old;
		} else {
			atomic_long_inc(&a->resident);
			atomic_long_inc(&mem->resident);
			atomic64_inc(&gomem_counters[GOMEM_CTR_USER_PAGES]);
		}
	}
	/* -EBUSY: another thread mapped it first. */
	err = vm_insert_page(vmf->vma, vmf->address, page);
	if (err && err != -EBUSY)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	return VM_FAULT_NOPAGE;
}

/*
 * Whether @vma is one of the heap's own arena mappings: in the heap's
 * address space, at the address its page offset was made for. Anything
 * else (the copy a fork made after MADV_DOFORK, in another mm; a mapping
 * away from its home address) must never touch the heap.
 */
static bool vma_is_home(struct gomem_mem *mem, struct vm_area_struct *vma)
{
	return vma->vm_mm == mem->mm && home_addr(mem, vma->vm_pgoff) == vma->vm_start;
}

/*
 * The heap of any mapping of a heap's file: the file outlives its
 * mappings. Not from vm_private_data: a fork's copy loses its arena.
 */
static struct gomem_mem *vma_mem(struct vm_area_struct *vma)
{
	struct gomem_file *gf = vma->vm_file->private_data;

	return gf->mem;
}

/*
 * The page is inserted here, under @inval, and not returned in vmf->page:
 * a scavenge between our return and the core's PTE update would leave a
 * freed page's twin mapped.
 *
 * The page is charged to the memory cgroup of the heap's address space,
 * not to the faulting task's: a fault may come from another process
 * reading the heap through /proc/PID/mem or process_vm_readv(), and its
 * cgroup must not pay for, nor the owner escape with, the heap's pages.
 * That is what a fault on anonymous memory does too.
 */
static vm_fault_t gomem_vm_fault(struct vm_fault *vmf)
{
	struct gomem_arena *a = vmf->vma->vm_private_data;
	struct mem_cgroup *memcg, *old_memcg;
	struct gomem_mem *mem;
	unsigned long haddr;
	vm_fault_t ret;
	u8 st;

	/* A mapping in another mm has no arena (see gomem_vm_open()). */
	if (!a || !vma_is_home(a->mem, vmf->vma))
		return VM_FAULT_SIGBUS;
	mem = a->mem;
	haddr = home_addr(mem, vmf->pgoff);
	if (haddr - a->start >= a->len)
		return VM_FAULT_SIGBUS;
	st = READ_ONCE(*state_of(a, haddr));
	if (st != GOMEM_MEM_PREPARED && st != GOMEM_MEM_READY)
		return VM_FAULT_SIGBUS;
	memcg = get_mem_cgroup_from_mm(mem->mm);
	old_memcg = set_active_memcg(memcg);
	down_read(&mem->inval);
	ret = insert_page(vmf, mem, a, haddr);
	up_read(&mem->inval);
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);
	return ret;
}

/* === the arena mappings ================================================= */

/*
 * The program unmapped [vm_start, vm_end) (or exits): its pages are gone
 * for the heap. A mapping that is not the heap's own (in another mm, or
 * away from its home address) owns nothing, and an arena the heap is
 * giving back (retire_arena()) has nothing left to lose.
 */
static void gomem_vm_close(struct vm_area_struct *vma)
{
	struct gomem_arena *a = vma->vm_private_data;
	struct gomem_mem *mem = vma_mem(vma);
	unsigned long addr = vma->vm_start;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long p, first, end;

	atomic_dec(&mem->nvmas);
	if (!a || !vma_is_home(mem, vma))
		return;
	/* Whole heap pages only: a partly unmapped one is lost entirely. */
	first = round_down(addr, GM_PAGE_SIZE);
	end = round_up(addr + len, GM_PAGE_SIZE);
	down_write(&mem->inval);
	drop_pages(mem, first, end - first);
	if (a->retiring) {
		up_write(&mem->inval);
		return;
	}
	spin_lock(&mem->lock);
	for (p = first; p < end; p += GM_PAGE_SIZE) {
		u8 *st = state_of(a, p);

		if (page_gone(*st))
			continue;
		if (*st != GOMEM_MEM_RESERVED)
			mem->lost_bytes += GM_PAGE_SIZE;
		mem->reserved_bytes -= GM_PAGE_SIZE;
		count_state(a, *st, -1);
		WRITE_ONCE(*st, GOMEM_MEM_LOST);
		a->nlost++;
		mem->nlost++;
		/* A big arena is one block: one bit for all of it. */
		a->broken |= a->len == ARENA_BYTES ? 1U << ((p - a->start) >> GM_CHUNK_SHIFT) : 1;
	}
	spin_unlock(&mem->lock);
	up_write(&mem->inval);
	atomic_set(&mem->lost_pending, 1);
}

/*
 * A split, the copy mremap() would make (never made: see
 * gomem_mem_get_unmapped_area()), or the copy fork() makes of a mapping
 * the program cleared VM_DONTCOPY on with MADV_DOFORK.
 *
 * The fork copy is in another mm and must not reach the heap: no faults
 * into it, no unmapping of its pages when it closes, and no PTEs of the
 * parent's pages either. dup_mmap() calls ->open() after it has set
 * vm_mm to the child's mm and before copy_page_range(), and it skips
 * copy_page_range() for a VM_WIPEONFORK copy (without that, VM_MIXEDMAP
 * makes it copy every PTE): so the copy gets VM_WIPEONFORK here, and
 * loses its arena, so that nothing in it can outlive the arena.
 *
 * VM_IO would have refused MADV_DOFORK (and so the fork copy) outright,
 * but it also makes get_user_pages() refuse the heap: no O_DIRECT into
 * heap memory, no ptrace or process_vm_readv() of it, no mlock. Checking
 * the mm in ->open(), ->fault() and ->close() covers every way a mapping
 * can end up in another mm, and costs the owner nothing.
 */
static void gomem_vm_open(struct vm_area_struct *vma)
{
	struct gomem_mem *mem = vma_mem(vma);

	atomic_inc(&mem->nvmas);
	if (vma->vm_mm != mem->mm) {
		vm_flags_set(vma, VM_WIPEONFORK);
		vma->vm_private_data = NULL;
	}
}

/* Arenas stay where they were reserved: the heap's addresses are fixed. */
static int gomem_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct gomem_vm_ops = {
	.open	= gomem_vm_open,
	.fault	= gomem_vm_fault,
	.close	= gomem_vm_close,
	.mremap	= gomem_vm_mremap,
};

/**
 * gomem_mem_mmap() - set up an arena mapping (the device's mmap method)
 * @mem: the heap's memory
 * @vma: the new mapping
 *
 * Only the heap maps its arenas, from gomem_mem_alloc_block(); a
 * program's own mmap() of the device is refused.
 *
 * Return: 0, or -EPERM.
 */
int gomem_mem_mmap(struct gomem_mem *mem, struct vm_area_struct *vma)
{
	struct gomem_arena *a = mem->mapping_arena;

	if (READ_ONCE(mem->mapping_task) != current || !a ||
	    vma->vm_start != a->start || vma->vm_end - vma->vm_start != a->len ||
	    vma->vm_pgoff != home_pgoff(mem, a->start))
		return -EPERM;
	/* No fork, no mremap growth, no core dump of a 64 MiB reservation. */
	vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP | VM_MIXEDMAP);
	vma->vm_ops = &gomem_vm_ops;
	vma->vm_private_data = a;
	atomic_inc(&mem->nvmas);
	return 0;
}

/**
 * gomem_mem_get_unmapped_area() - where a mapping of the heap's file may go
 *	(the device's get_unmapped_area method)
 * @mem: the heap's memory
 * @addr: the address asked for
 * @len: the mapping's length
 * @pgoff: its page offset in the file
 * @flags: MAP_* flags
 *
 * Every new mapping of the file comes through here, the program's mmap()
 * and the copy mremap() makes to move a mapping, before anything is
 * mapped or copied; only the heap's own arenas, at their home addresses,
 * get through. Refusing the move here, and not only in the ->mremap()
 * callback, matters: after a refused ->mremap(), move_vma() unmaps the
 * copy it made, and when that unmap fails (-ENOMEM) the copy stays, a
 * second mapping of the heap's pages at the program's address.
 *
 * Called with the mmap_lock held for writing.
 *
 * Return: @addr; -EINVAL for a mapping at the offset of one the heap has
 * (the copy mremap() moves an arena mapping to), -EPERM for any other.
 */
unsigned long gomem_mem_get_unmapped_area(struct gomem_mem *mem, unsigned long addr,
					  unsigned long len, unsigned long pgoff,
					  unsigned long flags)
{
	struct gomem_arena *a = mem->mapping_arena;
	struct vm_area_struct *vma;

	if (READ_ONCE(mem->mapping_task) == current && a && (flags & MAP_FIXED) &&
	    addr == a->start && len == a->len && pgoff == home_pgoff(mem, a->start))
		return addr;
	/* mremap() asks with the offset of a mapping of this file that exists. */
	lockdep_assert_held(&current->mm->mmap_lock);
	vma = vma_lookup(current->mm, home_addr(mem, pgoff));
	if (vma && vma->vm_file == mem->file)
		return -EINVAL;
	return -EPERM;
}

/* The start and length of one mapping of @mem's file, if any is left. */
static bool find_mapping(struct gomem_mem *mem, unsigned long *start, size_t *len)
{
	VMA_ITERATOR(vmi, mem->mm, 0);
	struct vm_area_struct *vma;
	bool found = false;

	mmap_read_lock(mem->mm);
	for_each_vma(vmi, vma) {
		if (vma->vm_file == mem->file) {
			*start = vma->vm_start;
			*len = vma->vm_end - vma->vm_start;
			found = true;
			break;
		}
	}
	mmap_read_unlock(mem->mm);
	return found;
}

/**
 * gomem_mem_flush() - unmap the heap when its last descriptor is closed
 * @mem: the heap's memory
 *
 * The mappings hold the file, so without this a closed heap would live
 * on, pages and all, until the process exits. When only the mappings and
 * the descriptor being closed hold the file, and the owner closes it,
 * the arenas are unmapped: their pages are freed, and the file's release
 * frees the rest.
 */
void gomem_mem_flush(struct gomem_mem *mem)
{
	unsigned long start;
	int tries = 8;
	size_t len;

	if (current->mm != mem->mm ||
	    file_count(mem->file) - atomic_read(&mem->nvmas) != 1)
		return;
	/*
	 * Unmapping may need memory (nodes of the VMA tree) and close()
	 * cannot fail: a transient failure is tried again; if it persists,
	 * what is left lives until the process unmaps it or exits.
	 */
	while (find_mapping(mem, &start, &len)) {
		if (vm_munmap(start, len) && !--tries)
			break;
		cond_resched();
	}
}

/*
 * vm_mmap() allocates the VMA charged to the caller's memcg without
 * __GFP_RETRY_MAYFAIL: at the limit, that would call the memcg's OOM
 * killer from inside a heap command. Take some headroom first, the way a
 * heap command allocates, and give it back just before mapping, so that
 * the mapping's own allocations fit in it.
 */
#define HEADROOM_ORDER	4

static bool have_headroom(void)
{
	struct page *probe = alloc_pages(GOMEM_IOCTL_GFP, HEADROOM_ORDER);

	if (!probe)
		return false;
	__free_pages(probe, HEADROOM_ORDER);
	return true;
}

/* The first address from @addr where [addr, addr + len) meets none of our arenas. */
static unsigned long skip_arenas(struct gomem_mem *mem, unsigned long addr, unsigned long len)
{
	struct gomem_arena *a;
	bool moved;

	do {
		moved = false;
		list_for_each_entry(a, &mem->arenas, node) {
			if (addr < a->start + a->len && a->start < addr + len) {
				addr = ALIGN(a->start + a->len, ARENA_BYTES);
				moved = true;
			}
		}
	} while (moved && addr <= TASK_SIZE - len);
	return addr;
}

/*
 * Map @a at the first free hint address (Go's sysReserve with hints).
 * The hint goes back down when a big arena is given back, so the heap's
 * own arenas, even those the program unmapped, are stepped over here
 * without trying them; only other mappings in the way cost a try.
 */
static int reserve_arena(struct gomem_mem *mem, struct gomem_arena *a)
{
	unsigned long addr = ALIGN(mem->hint, ARENA_BYTES), r = -EEXIST;
	int i;

	for (i = 0; i < GOMEM_MEM_HINT_TRIES && r == -EEXIST; i++) {
		if (addr > TASK_SIZE - a->len)
			break;
		addr = skip_arenas(mem, addr, a->len);
		if (addr > TASK_SIZE - a->len)
			break;
		if (!have_headroom())
			return -ENOMEM;
		a->start = addr;
		mem->mapping_arena = a;
		WRITE_ONCE(mem->mapping_task, current);
		r = vm_mmap(mem->file, addr, a->len, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_FIXED_NOREPLACE,
			    home_pgoff(mem, addr) << PAGE_SHIFT);
		WRITE_ONCE(mem->mapping_task, NULL);
		mem->mapping_arena = NULL;
		addr += a->len;
	}
	if (IS_ERR_VALUE(r))
		return r == -EEXIST ? -ENOMEM : (int)r;
	if (r != a->start) {
		vm_munmap(r, a->len);
		return -ENOMEM;
	}
	mem->hint = addr;
	return 0;
}

static struct gomem_arena *new_arena(struct gomem_mem *mem, unsigned long len)
{
	struct gomem_arena *a;
	int err;

	if (current->mm != mem->mm)
		return NULL;
	a = kzalloc(sizeof(*a), GOMEM_IOCTL_GFP);
	if (!a)
		return NULL;
	a->mem = mem;
	a->len = len;
	a->state = kvzalloc(len >> GM_PAGE_SHIFT, GOMEM_IOCTL_GFP);
	if (!a->state)
		goto fail;
	memset(a->state, GOMEM_MEM_RESERVED, len >> GM_PAGE_SHIFT);
	a->npages[0] = len >> GM_PAGE_SHIFT;
	err = reserve_arena(mem, a);
	if (err)
		goto fail;
	spin_lock(&mem->lock);
	list_add_tail_rcu(&a->node, &mem->arenas);
	mem->reserved_bytes += len;
	spin_unlock(&mem->lock);
	return a;

fail:
	kvfree(a->state);
	kfree(a);
	return NULL;
}

/* === the page source ==================================================== */

/* Free chunks of an arena as a bitmask, broken ones excluded. */
static u32 free_chunks(struct gomem_arena *a)
{
	u32 all = a->len == ARENA_BYTES ? (1U << ARENA_CHUNKS) - 1 : 0;

	return all & ~a->given & ~a->broken;
}

/* The first run of @n free chunks in @a, or -1. */
static int find_chunks(struct gomem_arena *a, unsigned int n)
{
	u32 want = (1U << n) - 1, fc = free_chunks(a);
	unsigned int i;

	for (i = 0; i + n <= ARENA_CHUNKS; i++)
		if ((fc >> i & want) == want)
			return i;
	return -1;
}

/* The chunks of [addr, addr + len) of a 64 MiB arena, as a bitmask. */
static u32 chunk_mask(struct gomem_arena *a, unsigned long addr, unsigned long len)
{
	return ((1U << (len >> GM_CHUNK_SHIFT)) - 1) << ((addr - a->start) >> GM_CHUNK_SHIFT);
}

static uintptr_t give_block(struct gomem_mem *mem, struct gomem_arena *a,
			    unsigned long addr, unsigned long len)
{
	spin_lock(&mem->lock);
	a->given |= a->len == ARENA_BYTES ? chunk_mask(a, addr, len) : 1;
	set_state(mem, a, addr, len, GOMEM_MEM_PREPARED);
	mem->sys_bytes += len;
	spin_unlock(&mem->lock);
	return addr;
}

/* A big arena that holds no block and that the program left whole. */
static bool big_arena_free(struct gomem_arena *a)
{
	return a->len != ARENA_BYTES && !a->given && !a->broken && !a->nlost;
}

/*
 * Give a free big arena's address space back: unmap it and forget it.
 * Its pages went with its block (mem_free_block()); its close callbacks
 * see @retiring and mark nothing lost. The struct is freed after an RCU
 * grace period, for arena_of()'s lockless walks; nothing else can reach
 * it: the heap's mappings of it are gone, and mappings in other mms
 * never point at an arena (gomem_vm_open()). Called with the heap lock
 * held, from a command of the owner.
 */
static void retire_arena(struct gomem_mem *mem, struct gomem_arena *a)
{
	a->retiring = true;
	if (vm_munmap(a->start, a->len)) {
		a->retiring = false;
		return;
	}
	spin_lock(&mem->lock);
	list_del_rcu(&a->node);
	mem->reserved_bytes -= a->len;
	spin_unlock(&mem->lock);
	mem->hint = min(mem->hint, a->start);
	kvfree(a->state);
	kfree_rcu(a, rcu);
}

/*
 * A block larger than an arena gets an arena of its own, rounded up to
 * 64 MiB, as Go reserves arenas for a large object; the tail stays
 * Reserved. When the block is given back, the arena stays mapped and
 * empty, for the next big block it fits without wasting more than half
 * of it. When none fits, every free big arena is unmapped before a new
 * one is mapped, and the hint goes back down to reuse their addresses:
 * so a program that allocates and frees large objects over and over
 * keeps its reserved address space, and the heap's arena metadata,
 * within about twice its peak of live large objects, instead of walking
 * the hint up to the end of the address space.
 */
static uintptr_t big_block(struct gomem_mem *mem, size_t bytes)
{
	unsigned long len = ALIGN(bytes, ARENA_BYTES);
	struct gomem_arena *a, *next, *best = NULL;

	list_for_each_entry(a, &mem->arenas, node) {
		if (big_arena_free(a) && a->len >= len && a->len / 2 <= len &&
		    (!best || a->len < best->len))
			best = a;
	}
	if (best)
		return give_block(mem, best, best->start, bytes);
	if (current->mm != mem->mm)
		return 0;
	list_for_each_entry_safe(a, next, &mem->arenas, node) {
		if (big_arena_free(a))
			retire_arena(mem, a);
	}
	a = new_arena(mem, len);
	return a ? give_block(mem, a, a->start, bytes) : 0;
}

/*
 * Blocks of 4 MiB to 64 MiB are runs of chunks of 64 MiB arenas; bigger
 * ones get arenas of their own (big_block()). Smaller blocks are
 * refused: the heap then fails rather than grow by less than a chunk.
 */
static uintptr_t mem_alloc_block(void *ctx, unsigned int order, size_t bytes)
{
	struct gomem_mem *mem = ctx;
	struct gomem_arena *a;
	int i;

	if (bytes < GM_CHUNK_BYTES || bytes % GM_CHUNK_BYTES || bytes > GOMEM_ALLOC_MAX * 2)
		return 0;
	if (READ_ONCE(mem->cap_bytes) && mem->sys_bytes + bytes > READ_ONCE(mem->cap_bytes))
		return 0;
	if (bytes > ARENA_BYTES)
		return big_block(mem, bytes);
	list_for_each_entry(a, &mem->arenas, node) {
		i = find_chunks(a, bytes >> GM_CHUNK_SHIFT);
		if (i >= 0)
			return give_block(mem, a, a->start + ((unsigned long)i << GM_CHUNK_SHIFT),
					  bytes);
	}
	a = new_arena(mem, ARENA_BYTES);
	return a ? give_block(mem, a, a->start, bytes) : 0;
}

/* The block goes back to Reserved: unmapped, freed, address space kept. */
static void mem_free_block(void *ctx, uintptr_t addr, unsigned int order, size_t bytes)
{
	struct gomem_mem *mem = ctx;
	struct gomem_arena *a = arena_of(mem, addr);

	if (WARN_ON_ONCE(!a))
		return;
	release_range(mem, addr, bytes);
	spin_lock(&mem->lock);
	set_state(mem, a, addr, bytes, GOMEM_MEM_RESERVED);
	a->given &= a->len == ARENA_BYTES ? ~chunk_mask(a, addr, bytes) : 0;
	mem->sys_bytes -= bytes;
	spin_unlock(&mem->lock);
}

static void mem_unused(void *ctx, uintptr_t addr, size_t len)
{
	struct gomem_mem *mem = ctx;

	release_range(mem, addr, len);
	spin_lock(&mem->lock);
	set_range_state(mem, addr, len, GOMEM_MEM_PREPARED);
	spin_unlock(&mem->lock);
}

static void mem_used(void *ctx, uintptr_t addr, size_t len)
{
	struct gomem_mem *mem = ctx;

	spin_lock(&mem->lock);
	set_range_state(mem, addr, len, GOMEM_MEM_READY);
	spin_unlock(&mem->lock);
}

/* Zero the part of [addr, end) in the page at index @idx. */
static void zero_part(struct page *page, unsigned long idx, unsigned long addr,
		      unsigned long end)
{
	unsigned long from = max(addr, idx << PAGE_SHIFT);
	unsigned long to = min(end, (idx + 1) << PAGE_SHIFT);

	memzero_page(page, offset_in_page(from), to - from);
}

#define ZERO_BATCH	64	/* pages zeroed per hold of the xarray lock */

/*
 * Zero through the pages the heap owns: the process may have unmapped or
 * protected its view. Pages not faulted in read as zeros already, so only
 * present ones are visited. A tiny block is zeroed with the CPU pinned;
 * anything larger comes from sleepable context (see gm_pagesrc_ops), and
 * gets a chance to reschedule between batches.
 */
static void mem_zero(void *ctx, uintptr_t addr, size_t len)
{
	struct gomem_mem *mem = ctx;
	unsigned long end = addr + len, idx = addr >> PAGE_SHIFT;
	unsigned long last = (end - 1) >> PAGE_SHIFT, stop;
	struct page *page;

	if (len > GM_TINY_SIZE)
		might_sleep();
	while (idx <= last) {
		stop = min(last, idx + ZERO_BATCH - 1);
		xa_lock(&mem->pages);
		xa_for_each_range(&mem->pages, idx, page, idx, stop)
			zero_part(page, idx, addr, end);
		xa_unlock(&mem->pages);
		idx = stop + 1;
		if (len > GM_TINY_SIZE)
			cond_resched();
	}
}

/* Copy the part of the heap page at @addr: absent pages read as zeros. */
static void read_heap_page(struct gomem_mem *mem, unsigned long addr, void *buf, size_t len)
{
	struct page *page;

	/* Under the xarray lock no one can erase, and so free, the page. */
	xa_lock(&mem->pages);
	page = xa_load(&mem->pages, addr >> PAGE_SHIFT);
	if (page)
		memcpy_from_page(buf, page, offset_in_page(addr), len);
	else
		memset(buf, 0, len);
	xa_unlock(&mem->pages);
}

/*
 * Memory of the program that is not the heap's (its globals, a stack it
 * registered as a root): read through its own mapping. The collector
 * runs in a command of the heap's owner, so the current address space is
 * the heap's; anything else (a worker, another process) reads zeros, and
 * so does memory that cannot be read.
 */
static void read_user(struct gomem_mem *mem, unsigned long addr, void *buf, size_t len)
{
	if (current->mm != mem->mm || copy_from_user(buf, (const void __user *)addr, len))
		memset(buf, 0, len);
}

/*
 * The collector reads roots and objects through here, under the heap
 * lock; taking mmap_lock on a fault under it is the order vm_mmap() in
 * mem_alloc_block() already uses. Ranges are split per page: a range may
 * run from the program's memory into an arena.
 */
static void mem_read(void *ctx, uintptr_t addr, void *buf, size_t len)
{
	struct gomem_mem *mem = ctx;
	size_t n;

	might_sleep();
	while (len) {
		n = min_t(size_t, len, PAGE_SIZE - offset_in_page(addr));
		if (arena_of(mem, addr))
			read_heap_page(mem, addr, buf, n);
		else
			read_user(mem, addr, buf, n);
		addr += n;
		buf += n;
		len -= n;
	}
}

/*
 * The collector scans heap pages in place rather than copying each
 * object: a page is pinned by a reference, so that nothing can free it
 * while it is mapped, and mapped with kmap_local_page(). Pages never
 * touched read as the zero page. Memory that is not the heap's goes
 * through mem_read().
 */
static const void *mem_map_page(void *ctx, uintptr_t addr, size_t *len, void **cookie)
{
	struct gomem_mem *mem = ctx;
	struct page *page;

	*len = PAGE_SIZE - offset_in_page(addr);
	if (!arena_of(mem, addr))
		return NULL;
	xa_lock(&mem->pages);
	page = xa_load(&mem->pages, addr >> PAGE_SHIFT);
	if (page)
		get_page(page);
	xa_unlock(&mem->pages);
	*cookie = page;
	return kmap_local_page(page ?: ZERO_PAGE(0)) + offset_in_page(addr);
}

static void mem_unmap_page(void *ctx, const void *p, void *cookie)
{
	kunmap_local(p);
	if (cookie)
		put_page(cookie);
}

static const struct gm_pagesrc_ops mem_dev_pagesrc = {
	.alloc_block	= mem_alloc_block,
	.free_block	= mem_free_block,
	.zero		= mem_zero,
	.read		= mem_read,
	.map		= mem_map_page,
	.unmap		= mem_unmap_page,
	.unused		= mem_unused,
	.used		= mem_used,
	.kernel_memory	= false,
	.zeroed		= true,
	.lazy		= true,
};

/**
 * gomem_mem_init() - set up the memory of a new heap
 * @mem: to fill in
 * @file: the open file whose mappings hold the arenas
 * @id: the heap's slot (struct gomem_heap_entry), at most GOMEM_HEAP_ID_MAX
 *
 * The caller's address space becomes the heap's.
 */
void gomem_mem_init(struct gomem_mem *mem, struct file *file, u32 id)
{
	memset(mem, 0, sizeof(*mem));
	mem->file = file;
	mem->mm = current->mm;
	mmgrab(mem->mm);
	mem->pgoff_base = (unsigned long)id << GOMEM_MEM_ID_SHIFT;
	mem->hint = GOMEM_MEM_HINT;
	xa_init(&mem->pages);
	init_rwsem(&mem->inval);
	spin_lock_init(&mem->lock);
	INIT_LIST_HEAD(&mem->arenas);
}

/**
 * gomem_mem_pagesrc() - the page source of /dev/gomem heaps
 *
 * Return: the operations; the context is the heap's struct gomem_mem.
 */
const struct gm_pagesrc_ops *gomem_mem_pagesrc(void)
{
	return &mem_dev_pagesrc;
}

/**
 * gomem_mem_destroy() - free what is left of a heap's memory
 * @mem: the memory; no mapping of it is left (each held the file)
 *
 * Called after the core heap is destroyed, which gave its blocks back.
 */
void gomem_mem_destroy(struct gomem_mem *mem)
{
	struct gomem_arena *a, *next;
	struct page *page;
	unsigned long idx;
	long n = 0;

	xa_for_each(&mem->pages, idx, page) {
		put_page(page);
		if (!(++n % 1024))
			cond_resched();
	}
	xa_destroy(&mem->pages);
	atomic64_sub(n, &gomem_counters[GOMEM_CTR_USER_PAGES]);
	list_for_each_entry_safe(a, next, &mem->arenas, node) {
		kvfree(a->state);
		kfree(a);
	}
	mmdrop(mem->mm);
}

/**
 * gomem_mem_lost_pending() - whether the program unmapped something since
 *	gomem_mem_take_lost() last found nothing
 * @mem: the heap's memory
 *
 * Return: true if gomem_mem_take_lost() may find a run.
 */
bool gomem_mem_lost_pending(struct gomem_mem *mem)
{
	return atomic_read(&mem->lost_pending);
}

/**
 * gomem_mem_take_lost() - the next run of pages the program unmapped
 * @mem: the heap's memory
 * @addr: set to the run's first byte
 * @len: set to its length
 *
 * Each run is returned once, so that the heap can take it out of use.
 *
 * Return: true if a run was found.
 */
bool gomem_mem_take_lost(struct gomem_mem *mem, unsigned long *addr, size_t *len)
{
	struct gomem_arena *a;
	unsigned long p;
	bool found = false;

	if (!atomic_read(&mem->lost_pending))
		return false;
	spin_lock(&mem->lock);
	list_for_each_entry(a, &mem->arenas, node) {
		for (p = a->start; p < a->start + a->len; p += GM_PAGE_SIZE) {
			if (*state_of(a, p) != GOMEM_MEM_LOST) {
				if (found)
					goto out;
				continue;
			}
			WRITE_ONCE(*state_of(a, p), GOMEM_MEM_NONE);
			if (!found)
				*addr = p;
			found = true;
			*len = p + GM_PAGE_SIZE - *addr;
		}
		if (found)
			goto out;
	}
	atomic_set(&mem->lost_pending, 0);
out:
	spin_unlock(&mem->lock);
	return found;
}

/**
 * gomem_mem_range_lost() - whether part of a range was unmapped by hand
 * @mem: the heap's memory
 * @addr: first byte
 * @len: bytes
 *
 * Return: true if some page of the range is None (or about to be).
 */
bool gomem_mem_range_lost(struct gomem_mem *mem, unsigned long addr, size_t len)
{
	unsigned long p, stop, end = addr + len;
	struct gomem_arena *a;
	bool lost = false;

	/* The common case, nothing ever unmapped, costs one read. */
	if (!READ_ONCE(mem->nlost))
		return false;
	spin_lock(&mem->lock);
	for (p = round_down(addr, GM_PAGE_SIZE); p < end && !lost; p = stop) {
		a = arena_of(mem, p);
		if (!a) {
			lost = true;
			break;
		}
		stop = min(end, a->start + a->len);
		if (!a->nlost)
			continue;
		for (; p < stop && !lost; p += GM_PAGE_SIZE)
			lost = page_gone(*state_of(a, p));
	}
	spin_unlock(&mem->lock);
	return lost;
}

/**
 * gomem_mem_read_stats() - the memory counters of a heap
 * @mem: the heap's memory
 * @st: reserved_bytes, resident_bytes, cap_bytes and lost_bytes are set
 */
void gomem_mem_read_stats(struct gomem_mem *mem, struct gomem_memstats *st)
{
	spin_lock(&mem->lock);
	st->reserved_bytes = mem->reserved_bytes;
	st->cap_bytes = mem->cap_bytes;
	st->lost_bytes = mem->lost_bytes;
	spin_unlock(&mem->lock);
	st->resident_bytes = (u64)atomic_long_read(&mem->resident) << PAGE_SHIFT;
}

/**
 * gomem_mem_print_arenas() - one line per arena: its address range and
 *	how many 8 KiB pages are in each state, and how many 4 KiB pages
 *	are resident
 * @mem: the heap's memory
 * @seq: where the lines go
 */
void gomem_mem_print_arenas(struct gomem_mem *mem, struct seq_file *seq)
{
	struct gomem_arena *a;

	seq_puts(seq, "start         end           reserved  prepared  ready     none  resident\n");
	spin_lock(&mem->lock);
	list_for_each_entry(a, &mem->arenas, node) {
		long n = a->len >> GM_PAGE_SHIFT;

		seq_printf(seq, "0x%010lx  0x%010lx  %8ld  %8ld  %8ld  %4ld  %8ld\n",
			   a->start, a->start + a->len, a->npages[0], a->npages[1],
			   a->npages[2], n - a->npages[0] - a->npages[1] - a->npages[2],
			   atomic_long_read(&a->resident));
	}
	spin_unlock(&mem->lock);
}
