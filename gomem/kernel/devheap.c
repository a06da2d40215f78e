// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/gomem heaps: each open file is a heap of its own, the core's
 * gm_heap over the memory of devmem.c, in the address space of the
 * process that opened it. The ioctl handlers here work on kernel copies
 * of their arguments (chardev.c); the only user memory they touch is an
 * output array named in the argument.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/debugfs.h>
#include <linux/sched/signal.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/gomem.h>

#include "gomem.h"
#include "counters.h"
#include "debugfs.h"
#include "devheap.h"
#include "devmem.h"
#include "heapprof.h"
#include "heaps.h"
#include "heap.h"
#include "params.h"

/* A heap's counters; the Bg ones end its debugfs "gc" file. */
enum gomem_dev_heap_counter {
	DH_BG_RUNS,		/* times the background worker ran */
	DH_BG_SWEEP_BATCHES,	/* batches of spans it swept */
	DH_BG_SCAVENGE_BATCHES,	/* batches of pages it scavenged */
	DH_BG_SCAVENGE_COST_NS,	/* their modelled cost, what the budget charges */
	DH_BG_SLEEP_NS,		/* time it waited to keep to its CPU budget */
	DH_BG_END,
	/*
	 * Objects left allocated because the program unmapped their memory
	 * before the heap handed them out. Not in debugfs (yet).
	 */
	DH_LOST_OBJECTS = DH_BG_END,
	DH_COUNT,
};

static const char *const dev_heap_counter_names[] = {
	[DH_BG_RUNS]		= "BgRuns",
	[DH_BG_SWEEP_BATCHES]	= "BgSweepBatches",
	[DH_BG_SCAVENGE_BATCHES] = "BgScavengeBatches",
	[DH_BG_SCAVENGE_COST_NS] = "BgScavengeCostNs",
	[DH_BG_SLEEP_NS]	= "BgSleepNs",
	[DH_LOST_OBJECTS]	= "LostObjects",
};
static_assert(ARRAY_SIZE(dev_heap_counter_names) == DH_COUNT);

/**
 * struct gomem_dev_heap - the heap of one open of /dev/gomem
 * @reg: its entry in the registry: the core heap, its id (from 1), its
 *	debugfs directory
 * @mem: its memory
 * @world: taken for reading by every heap command, by the background
 *	worker and by the CPU hotplug callback, for writing by those that
 *	need the heap to stand still: a GC cycle (Go's stop-the-world),
 *	scavenging (both flush the per-CPU caches)
 * @pid: the opener's thread group id, in the initial pid namespace
 * @comm: the opener's name
 * @bg: the background worker (Go's bgsweep and bgscavenge), queued after
 *	each cycle and when the GC settings change
 * @dying: the heap is being destroyed: the worker stops at once
 * @gc_wanted: an allocation was refused with -EAGAIN (GOMEM_ALLOC_NOGC)
 *	since the last cycle: GOMEM_GC_IF_DUE runs the cycle it would have run
 * @counters: see enum gomem_dev_heap_counter
 * @uid: the opener's user, whose heap count this heap is in
 */
struct gomem_dev_heap {
	struct gomem_heap_entry reg;
	struct gomem_mem mem;
	struct rw_semaphore world;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	struct delayed_work bg;
	bool dying;
	atomic_t gc_wanted;
	atomic64_t counters[DH_COUNT];
	kuid_t uid;
};

/* Open heaps per user (uid in the initial namespace -> count). */
static DEFINE_XARRAY(gomem_user_heaps);
static DEFINE_MUTEX(gomem_user_heaps_lock);
static struct dentry *gomem_devheaps_total;

static void dev_heap_count(struct gomem_dev_heap *dh, enum gomem_dev_heap_counter i, s64 n)
{
	atomic64_add(n, &dh->counters[i]);
}

static struct gomem_dev_heap *dev_heap_of(struct gomem_heap_entry *e)
{
	return container_of(e, struct gomem_dev_heap, reg);
}

/* === statistics ========================================================= */

/* The collector's fields of MemStats (GOMEM_MEMSTATS_SIZE_VER1 to VER3). */
static void read_gc_info(struct gomem_dev_heap *dh, struct gomem_memstats *out)
{
	struct gm_gc_info gi;

	BUILD_BUG_ON(GOMEM_PAUSE_RING != GM_PAUSE_RING || GOMEM_PPM != GM_PPM);
	gm_heap_read_gc_info(dh->reg.gm, &gi);
	out->num_gc = gi.numgc;
	out->num_forced_gc = gi.numforced;
	out->next_gc = gi.next_gc;
	/* gm_now_ns() is ktime_get_ns(): CLOCK_MONOTONIC, as the ABI says. */
	out->last_gc_ns = gi.last_gc_ns;
	out->pause_total_ns = gi.pause_total_ns;
	out->gc_cpu_ns = gi.cpu_ns;
	out->heap_live = gi.heap_live;
	out->heap_marked = gi.heap_marked;
	out->gogc = gi.gogc;
	out->memory_limit = gi.memory_limit;
	out->swept_pages = gi.swept_pages;
	out->bg_scavenged_bytes = gi.bg_scavenged;
	out->scavenge_goal = gm_heap_scavenge_goal(dh->reg.gm);
	out->last_gc_unix_ns = gi.last_gc_unix_ns;
	out->gc_cpu_fraction_ppm = gi.gc_cpu_ppm;
	gm_heap_read_pauses(dh->reg.gm, out->pause_ns, out->pause_end);
}

/* Go's MemStats fields of the core's numbers that VER3 added. */
static void copy_go_fields(const struct gm_memstats *st, struct gomem_memstats *out)
{
	out->alloc = st->heap_alloc;
	out->total_alloc = st->total_alloc;
	out->sys = st->sys;
	out->lookups = 0;	/* Go has not counted them since 1.11 */
	out->stack_inuse = st->stack_inuse;
	out->stack_sys = st->stack_sys;
	out->mspan_inuse = st->mspan_inuse;
	out->mspan_sys = st->mspan_sys;
	out->mcache_inuse = st->mcache_inuse;
	out->mcache_sys = st->mcache_sys;
	out->buckhash_sys = st->buckhash_sys;
	out->gc_sys = st->gc_sys;
	out->other_sys = st->other_sys;
	/* Go's EnableGC is true even with GOGC=off; gogc tells that. */
	out->enable_gc = 1;
	out->debug_gc = 0;
}

/*
 * With @nowait, the core's numbers are read without its lock (see
 * gm_heap_read_sizes()), for views that hold the registry's lock; the
 * collector's fields are left 0. @out is over 4 KiB with the pause
 * rings: callers allocate it, never on the stack.
 */
static int read_memstats(struct gomem_dev_heap *dh, struct gomem_memstats *out, bool nowait)
{
	struct gm_memstats *st = kzalloc(sizeof(*st), GFP_KERNEL);

	memset(out, 0, sizeof(*out));
	/* Numbers that are not the heap's must never pass for them. */
	if (!st)
		return -ENOMEM;
	out->size = sizeof(*out);
	out->heap_id64 = dh->reg.id;
	/* 0 rather than a truncated id that could be another heap's. */
	out->heap_id = dh->reg.id <= U32_MAX ? dh->reg.id : 0;
	if (nowait)
		gm_heap_read_sizes(dh->reg.gm, st);
	else
		gm_heap_read_stats(dh->reg.gm, st);
	out->heap_alloc = st->heap_alloc;
	out->heap_sys = st->heap_sys;
	out->heap_idle = st->heap_idle;
	out->heap_inuse = st->heap_inuse;
	out->heap_released = st->heap_released;
	out->heap_objects = st->heap_objects;
	out->mallocs = st->mallocs;
	out->frees = st->frees;
	out->tiny_allocs = st->tiny_allocs;
	out->tiny_frees = st->tiny_frees;
	copy_go_fields(st, out);
	kfree(st);
	gomem_mem_read_stats(&dh->mem, out);
	out->scavenged_bytes = gm_heap_scavenged_bytes(dh->reg.gm);
	if (!nowait)
		read_gc_info(dh, out);
	return 0;
}

static int owner_show(struct seq_file *seq, void *v)
{
	struct gomem_dev_heap *dh = dev_heap_of(seq->private);

	/*
	 * The slot is the top of the heap's file offsets, which
	 * /proc/PID/maps shows anyway: tests match mappings to heaps by it.
	 */
	seq_printf(seq, "pid %d\ncomm %s\nslot %u\n", dh->pid, dh->comm, dh->reg.slot);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(owner);

static int memstats_show(struct seq_file *seq, void *v)
{
	GOMEM_SEQ_PRINTER(sp, seq);
	struct gomem_dev_heap *dh = dev_heap_of(seq->private);
	struct gomem_memstats *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st || read_memstats(dh, st, false)) {
		kfree(st);
		return -ENOMEM;
	}
	gm_heap_print_memstats(dh->reg.gm, &sp.p);
	seq_printf(seq, "%-13s %llu\n", "Reserved", st->reserved_bytes);
	seq_printf(seq, "%-13s %llu\n", "Resident", st->resident_bytes);
	seq_printf(seq, "%-13s %llu\n", "Cap", st->cap_bytes);
	seq_printf(seq, "%-13s %llu\n", "Lost", st->lost_bytes);
	seq_printf(seq, "%-13s %llu\n", "Scavenged", st->scavenged_bytes);
	kfree(st);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memstats);

static int arenas_show(struct seq_file *seq, void *v)
{
	struct gomem_dev_heap *dh = dev_heap_of(seq->private);

	gomem_mem_print_arenas(&dh->mem, seq);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(arenas);

/* The sums of "heaps/total", and how many heaps they are of. */
struct heaps_total {
	struct seq_file *seq;
	struct gomem_memstats *st;	/* one heap's: too big for the stack */
	u64 heap_alloc, heap_sys, resident, reserved;
	unsigned int n;
};

static void total_line(struct gomem_heap_entry *e, void *arg)
{
	struct gomem_dev_heap *dh = dev_heap_of(e);
	struct heaps_total *t = arg;
	struct gomem_memstats *st = t->st;

	/* Never wait for a heap's lock here: every open waits for the registry's. */
	if (read_memstats(dh, st, true)) {
		seq_printf(t->seq, "%-6llu %-7d %-16s out of memory\n", dh->reg.id, dh->pid,
			   dh->comm);
		return;
	}
	seq_printf(t->seq, "%-6llu %-7d %-16s %12llu %12llu %12llu %12llu\n", dh->reg.id,
		   dh->pid, dh->comm, st->heap_alloc, st->heap_sys,
		   st->resident_bytes, st->reserved_bytes);
	t->heap_alloc += st->heap_alloc;
	t->heap_sys += st->heap_sys;
	t->resident += st->resident_bytes;
	t->reserved += st->reserved_bytes;
	t->n++;
}

/* "heaps/total": every /dev/gomem heap, one line each, and the sums. */
static int total_show(struct seq_file *seq, void *v)
{
	struct heaps_total t = { .seq = seq };

	t.st = kzalloc(sizeof(*t.st), GFP_KERNEL);
	if (!t.st)
		return -ENOMEM;
	seq_printf(seq, "%-6s %-7s %-16s %12s %12s %12s %12s\n", "heap", "pid", "comm",
		   "HeapAlloc", "HeapSys", "Resident", "Reserved");
	gomem_heaps_for_each(GOMEM_HEAP_DEV, total_line, &t);
	seq_printf(seq, "%-6s %-7u %-16s %12llu %12llu %12llu %12llu\n", "total", t.n, "",
		   t.heap_alloc, t.heap_sys, t.resident, t.reserved);
	kfree(t.st);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(total);

/* "gc": the collector's state, then the background worker's counters. */
static int gc_show(struct seq_file *seq, void *v)
{
	GOMEM_SEQ_PRINTER(sp, seq);
	struct gomem_dev_heap *dh = dev_heap_of(seq->private);

	/* Not in the middle of a cycle: the census walks every span. */
	if (down_read_killable(&dh->world))
		return -EINTR;
	gm_heap_print_gc(dh->reg.gm, &sp.p);
	up_read(&dh->world);
	gomem_counters_show(seq, dh->counters, dev_heap_counter_names, DH_BG_RUNS, DH_BG_END,
			    19);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gc);

/* heaps/<id>/ */
static const struct gomem_heap_file dev_heap_files[] = {
	{ "owner", &owner_fops },
	{ "memstats", &memstats_fops },
	{ "classes", &gomem_heap_classes_fops },
	{ "arenas", &arenas_fops },
	{ "gc", &gc_fops },
	{ "heapprof", &gomem_heap_prof_fops },
};

/*
 * A dead CPU's cache, given back while the heap's world is held for
 * reading: the cycles and scavenges that flush every CPU's caches hold
 * it for writing, and commands only use their own CPU's cache.
 */
static void dev_heap_cpu_dead(struct gomem_heap_entry *e, unsigned int cpu)
{
	struct gomem_dev_heap *dh = dev_heap_of(e);

	down_read(&dh->world);
	gm_heap_flush_cpu(e->gm, cpu);
	up_read(&dh->world);
}

static const struct gomem_heap_type dev_heap_type = {
	.kind = GOMEM_HEAP_DEV,
	.files = dev_heap_files,
	.nr_files = ARRAY_SIZE(dev_heap_files),
	.cpu_dead = dev_heap_cpu_dead,
};

/**
 * gomem_devheap_init() - create debugfs "heaps/total"
 *
 * Context: module init, after gomem_heaps_init().
 */
void gomem_devheap_init(void)
{
	struct dentry *dir = gomem_heaps_debugfs_dir(GOMEM_HEAP_DEV);

	if (dir)
		gomem_devheaps_total = debugfs_create_file("total", 0400, dir, NULL,
							   &total_fops);
}

/**
 * gomem_devheap_exit() - remove debugfs "heaps/total"
 *
 * Context: module exit; no heap is left (each open holds the module).
 */
void gomem_devheap_exit(void)
{
	debugfs_remove(gomem_devheaps_total);
	gomem_devheaps_total = NULL;
}

/* === the background worker ============================================== */

/* Pages of spans swept per hold of the world. */
#define BG_SWEEP_PAGES		64
/*
 * Bytes scavenged per step: a chunk, which the page source releases in
 * one call when it is free. Go's scavenger works in 64 KiB units to keep
 * its latency low; here a step holds the world for reading and the heap
 * lock, for a few hundred microseconds natively.
 */
#define BG_SCAVENGE_BYTES	GM_CHUNK_BYTES
/* Modelled work done before the worker sleeps to keep to its budget (Go's minScavWorkTime). */
#define BG_SLICE_NS		NSEC_PER_MSEC

static void bg_kick(struct gomem_dev_heap *dh)
{
	mod_delayed_work(system_unbound_wq, &dh->bg, 0);
}

/* Go's bgsweep: finish the last cycle's sweep, a batch at a time. */
static void bg_sweep(struct gomem_dev_heap *dh)
{
	bool more = true;

	while (more && !READ_ONCE(dh->dying)) {
		down_read(&dh->world);
		more = gm_heap_sweep_some(dh->reg.gm, BG_SWEEP_PAGES);
		up_read(&dh->world);
		dev_heap_count(dh, DH_BG_SWEEP_BATCHES, 1);
		cond_resched();
	}
}

/*
 * Go's bgscavenge: give free pages back toward the scavenger's goal until
 * the work done is worth BG_SLICE_NS, then sleep long enough that the
 * work is scavenge_percent of the time. The work is charged by its
 * modelled cost (gm_scavenge_cost_ns()), not by the time it took: under
 * emulation the same work takes some 30 times longer, and a budget of
 * wall time would make the scavenger that much slower than Go's.
 * Return: the delay before the next slice, or -1 when the heap is at its
 * goal.
 */
static long bg_scavenge(struct gomem_dev_heap *dh)
{
	int pct = gomem_param_scavenge_percent();
	struct gm_scavenge_work w;
	u64 cost = 0, released;

	while (cost < BG_SLICE_NS && !READ_ONCE(dh->dying)) {
		down_read(&dh->world);
		released = gm_heap_scavenge_background(dh->reg.gm, BG_SCAVENGE_BYTES, &w);
		up_read(&dh->world);
		if (!released)
			return -1;
		cost += gm_scavenge_cost_ns(&w);
		dev_heap_count(dh, DH_BG_SCAVENGE_BATCHES, 1);
		cond_resched();
	}
	dev_heap_count(dh, DH_BG_SCAVENGE_COST_NS, cost);
	cost = gm_scavenge_sleep_ns(cost, pct);
	dev_heap_count(dh, DH_BG_SLEEP_NS, cost);
	return nsecs_to_jiffies(cost);
}

/*
 * The worker holds the world for reading one batch at a time, so a cycle
 * (which takes it for writing) never runs beside it, and a heap being
 * destroyed cancels it (gomem_dev_heap_destroy()) before anything goes.
 */
static void bg_work(struct work_struct *work)
{
	struct gomem_dev_heap *dh = container_of(to_delayed_work(work),
						 struct gomem_dev_heap, bg);
	long delay;

	dev_heap_count(dh, DH_BG_RUNS, 1);
	bg_sweep(dh);
	if (READ_ONCE(dh->dying))
		return;
	delay = bg_scavenge(dh);
	if (delay >= 0 && !READ_ONCE(dh->dying))
		queue_delayed_work(system_unbound_wq, &dh->bg, delay);
}

/* === life cycle ========================================================= */

/*
 * Heap ids are a space of 32767 for all users (they are file offsets):
 * without a per-user limit one user could take them all, and every other
 * open would fail.
 */
static int user_heaps_add(kuid_t uid, int delta)
{
	unsigned long key = from_kuid(&init_user_ns, uid);
	long n = xa_to_value(xa_load(&gomem_user_heaps, key) ?: xa_mk_value(0));

	lockdep_assert_held(&gomem_user_heaps_lock);
	if (delta > 0 && n >= gomem_param_max_heaps_per_user())
		return -EMFILE;
	n += delta;
	if (!n) {
		xa_erase(&gomem_user_heaps, key);
		return 0;
	}
	return xa_err(xa_store(&gomem_user_heaps, key, xa_mk_value(n), GFP_KERNEL_ACCOUNT));
}

/* A heap of @uid is gone. Lowering a count only replaces an entry: it cannot fail. */
static void user_heaps_put(kuid_t uid)
{
	mutex_lock(&gomem_user_heaps_lock);
	user_heaps_add(uid, -1);
	mutex_unlock(&gomem_user_heaps_lock);
}

/* A heap counted in its user's heaps, with an id: all but its memory. */
static struct gomem_dev_heap *dev_heap_alloc(void)
{
	struct gomem_dev_heap *dh;
	int ret;

	dh = kzalloc(sizeof(*dh), GFP_KERNEL_ACCOUNT);
	if (!dh)
		return ERR_PTR(-ENOMEM);
	dh->uid = current_uid();
	mutex_lock(&gomem_user_heaps_lock);
	ret = user_heaps_add(dh->uid, 1);
	mutex_unlock(&gomem_user_heaps_lock);
	if (ret)
		goto out_free;
	ret = gomem_heap_entry_init(&dh->reg, &dev_heap_type, NULL);
	if (ret)
		goto out_user;
	return dh;

out_user:
	user_heaps_put(dh->uid);
out_free:
	kfree(dh);
	return ERR_PTR(ret);
}

/* Undoes dev_heap_alloc(). */
static void dev_heap_free(struct gomem_dev_heap *dh)
{
	gomem_heap_entry_release(&dh->reg);
	user_heaps_put(dh->uid);
	kfree(dh);
}

/**
 * gomem_dev_heap_create() - the heap of a new open of /dev/gomem
 * @file: the file; its mappings will hold the heap's arenas
 *
 * The caller's address space becomes the heap's.
 *
 * Return: the heap, or an ERR_PTR: -ENOMEM, -EMFILE when the caller's
 * user has max_heaps_per_user heaps open, or -ENOSPC when all heap ids
 * are taken.
 */
struct gomem_dev_heap *gomem_dev_heap_create(struct file *file)
{
	struct gomem_dev_heap *dh = dev_heap_alloc();
	struct gm_heap *gm;

	if (IS_ERR(dh))
		return dh;
	dh->pid = task_tgid_nr(current);
	get_task_comm(dh->comm, current);
	init_rwsem(&dh->world);
	INIT_DELAYED_WORK(&dh->bg, bg_work);
	gomem_mem_init(&dh->mem, file, dh->reg.slot);
	gm = gm_heap_create(gomem_mem_pagesrc(), &dh->mem);
	if (!gm) {
		gomem_mem_destroy(&dh->mem);
		dev_heap_free(dh);
		return ERR_PTR(-ENOMEM);
	}
	/* As in Go, a process's heap is profiled from the start. */
	gm_heap_set_profile_stacks(gm, true);
	gm_heap_set_profile_rate(gm, GM_PROF_DEFAULT_RATE);
	gomem_heaps_add(&dh->reg, gm);
	return dh;
}

/**
 * gomem_dev_heap_destroy() - free a heap and all its memory
 * @dh: the heap; its file is being released, so no mapping is left
 */
void gomem_dev_heap_destroy(struct gomem_dev_heap *dh)
{
	gomem_heaps_del(&dh->reg);
	/*
	 * No command can run any more (the file is being released), so
	 * nothing queues the worker again but the worker itself, which
	 * cancel_delayed_work_sync() handles; @dying only makes it stop early.
	 */
	WRITE_ONCE(dh->dying, true);
	cancel_delayed_work_sync(&dh->bg);
	gm_heap_destroy(dh->reg.gm);
	gomem_mem_destroy(&dh->mem);
	dev_heap_free(dh);
}

/**
 * gomem_dev_heap_mem() - a heap's memory, for the device's mmap method
 * @dh: the heap
 *
 * Return: its struct gomem_mem.
 */
struct gomem_mem *gomem_dev_heap_mem(struct gomem_dev_heap *dh)
{
	return &dh->mem;
}

/* === commands =========================================================== */

/* The heap, if the caller may use it: it belongs to one address space. */
static struct gomem_dev_heap *heap_of(struct gomem_file *gf, long *err)
{
	if (!gf->heap) {
		*err = -EBADF;
		return NULL;
	}
	if (current->mm != gf->heap->mem.mm) {
		*err = -EPERM;
		return NULL;
	}
	return gf->heap;
}

/*
 * Take the ranges the program unmapped out of the page allocator, with
 * the heap standing still, so that the per-CPU page caches give back
 * their pages first and the ranges' free pages are all found.
 */
static void forget_lost(struct gomem_dev_heap *dh)
{
	unsigned long addr;
	size_t len;

	lockdep_assert_held_write(&dh->world);
	if (!gomem_mem_lost_pending(&dh->mem))
		return;
	gm_heap_flush_caches(dh->reg.gm);
	while (gomem_mem_take_lost(&dh->mem, &addr, &len))
		gm_heap_forget_range(dh->reg.gm, addr, len);
}

/*
 * One GC cycle, with the world stopped: no other command runs, the
 * background worker waits. Then the worker finishes the sweep and
 * scavenges toward the new goal.
 */
static int run_gc(struct gomem_dev_heap *dh, bool forced, struct gm_gc_cycle *c)
{
	int ret;

	lockdep_assert_held_write(&dh->world);
	forget_lost(dh);
	ret = gm_heap_gc(dh->reg.gm, forced, c);
	if (ret)
		return ret;
	atomic_set(&dh->gc_wanted, 0);
	gomem_heaps_gctrace(&dh->reg, c);
	bg_kick(dh);
	return 0;
}

/*
 * Enter the heap to allocate @bytes: for reading, after handling what the
 * program unmapped since the last command and after the GC cycle the
 * pacer asks for (Go's mallocgc starts one when the heap passes its
 * trigger). With GOMEM_ALLOC_NOGC a due cycle is -EAGAIN instead. A
 * cycle that fails for lack of memory is not the allocation's failure:
 * the allocation is still tried.
 */
static int enter_for_alloc(struct gomem_dev_heap *dh, u64 bytes, u32 flags)
{
	struct gm_gc_cycle c;
	bool due;

	if (down_read_killable(&dh->world))
		return -EINTR;
	due = gm_heap_gc_due(dh->reg.gm, bytes);
	if (!due && !gomem_mem_lost_pending(&dh->mem))
		return 0;
	up_read(&dh->world);
	if (due && (flags & GOMEM_ALLOC_NOGC)) {
		atomic_set(&dh->gc_wanted, 1);
		return -EAGAIN;
	}
	if (down_write_killable(&dh->world))
		return -EINTR;
	forget_lost(dh);
	if (gm_heap_gc_due(dh->reg.gm, bytes)) {
		if (flags & GOMEM_ALLOC_NOGC) {
			atomic_set(&dh->gc_wanted, 1);
			up_write(&dh->world);
			return -EAGAIN;
		}
		run_gc(dh, false, &c);
	}
	downgrade_write(&dh->world);
	return 0;
}

static long check_alloc_args(u64 size, u32 flags)
{
	if (!size || size > GOMEM_ALLOC_MAX || (flags & ~GOMEM_ALLOC_FLAGS))
		return -EINVAL;
	return 0;
}

/*
 * One object. Memory the program unmapped may still be free inside spans
 * that were in use when it went: an object there is left allocated (its
 * memory is gone anyway) and another is taken, so each such slot costs
 * one retry, once.
 */
static long alloc_one(struct gomem_dev_heap *dh, u64 size, u32 flags, u64 *addr)
{
	unsigned int gmflags = 0;
	void *p;
	int ret;

	if (flags & GOMEM_ALLOC_NOSCAN)
		gmflags |= GM_NOSCAN;
	if (flags & GOMEM_ALLOC_ZERO)
		gmflags |= GM_ZERO;
	/* A root is an object of its own, never part of a tiny block. */
	if ((flags & GOMEM_ALLOC_ROOT) && (flags & GOMEM_ALLOC_NOSCAN) && size < GM_TINY_SIZE)
		size = GM_TINY_SIZE;
	for (;;) {
		p = gm_heap_alloc(dh->reg.gm, size, gmflags);
		if (!p)
			return -ENOMEM;
		if (!gomem_mem_range_lost(&dh->mem, (unsigned long)p, size))
			break;
		dev_heap_count(dh, DH_LOST_OBJECTS, 1);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	if (flags & GOMEM_ALLOC_ROOT) {
		ret = gm_heap_set_root_object(dh->reg.gm, p, true);
		if (ret) {
			gm_heap_free(dh->reg.gm, p);
			return ret;
		}
	}
	*addr = (unsigned long)p;
	return 0;
}

/**
 * gomem_dev_heap_alloc() - GOMEM_IOC_ALLOC
 * @gf: the open file
 * @a: the argument; @a->addr and @a->usable are set on success
 *
 * With GOMEM_ALLOC_ROOT the object is a root of the collector; when the
 * pacer says a cycle is due, the cycle runs first, or with
 * GOMEM_ALLOC_NOGC the call fails with -EAGAIN.
 *
 * Return: 0, -EINVAL for a bad argument, -ENOMEM, -EAGAIN, -EPERM from
 * another address space, -EBADF if the file has no heap, -EINTR.
 */
long gomem_dev_heap_alloc(struct gomem_file *gf, struct gomem_alloc *a)
{
	struct gomem_dev_heap *dh;
	long ret;
	u64 addr;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (a->reserved || check_alloc_args(a->size, a->flags))
		return -EINVAL;
	ret = enter_for_alloc(dh, a->size, a->flags);
	if (ret)
		return ret;
	ret = alloc_one(dh, a->size, a->flags, &addr);
	if (!ret) {
		a->addr = addr;
		a->usable = gm_heap_usable_size(dh->reg.gm, (void *)(unsigned long)addr);
	}
	up_read(&dh->world);
	return ret;
}

static void free_all(struct gomem_dev_heap *dh, const u64 *addrs, u32 n)
{
	while (n--)
		gm_heap_free(dh->reg.gm, (void *)(unsigned long)addrs[n]);
}

static long alloc_bulk(struct gomem_dev_heap *dh, struct gomem_alloc_bulk *b, u64 *addrs)
{
	u32 i;
	long ret;

	for (i = 0; i < b->count; i++) {
		ret = alloc_one(dh, b->size, b->flags, &addrs[i]);
		if (ret) {
			free_all(dh, addrs, i);
			return ret;
		}
	}
	if (copy_to_user(u64_to_user_ptr(b->addrs), addrs, b->count * sizeof(u64))) {
		free_all(dh, addrs, b->count);
		return -EFAULT;
	}
	return 0;
}

/**
 * gomem_dev_heap_alloc_bulk() - GOMEM_IOC_ALLOC_BULK: all objects or none
 * @gf: the open file
 * @b: the argument
 *
 * Return: 0, or as gomem_dev_heap_alloc(), or -EFAULT for a bad array.
 */
long gomem_dev_heap_alloc_bulk(struct gomem_file *gf, struct gomem_alloc_bulk *b)
{
	struct gomem_dev_heap *dh;
	u64 *addrs;
	long ret;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (b->reserved || !b->count || b->count > GOMEM_BULK_MAX ||
	    check_alloc_args(b->size, b->flags))
		return -EINVAL;
	/*
	 * Fault the array in for writing without writing it, so that an
	 * array that cannot take the answer fails before anything is
	 * allocated, and is left as it was.
	 */
	if (!access_ok(u64_to_user_ptr(b->addrs), b->count * sizeof(u64)) ||
	    fault_in_safe_writeable(u64_to_user_ptr(b->addrs), b->count * sizeof(u64)))
		return -EFAULT;
	addrs = kvmalloc_array(b->count, sizeof(u64), GOMEM_IOCTL_GFP);
	if (!addrs)
		return -ENOMEM;
	/*
	 * A cycle is only run before the first object: one in the middle
	 * would free the objects this call holds, which no root reaches.
	 */
	ret = enter_for_alloc(dh, b->size * b->count, b->flags);
	if (ret) {
		kvfree(addrs);
		return ret;
	}
	ret = alloc_bulk(dh, b, addrs);
	up_read(&dh->world);
	kvfree(addrs);
	return ret;
}

/**
 * gomem_dev_heap_free() - GOMEM_IOC_FREE, and GOMEM_IOC_SIZE if !@free
 * @gf: the open file
 * @f: the argument; @f->size is set by GOMEM_IOC_SIZE
 * @free: free the object, rather than only say its size
 *
 * Return: 0, or -EINVAL if @f->addr is not the base of a live object of
 * this heap, -EPERM, -EBADF, -EINTR.
 */
long gomem_dev_heap_free(struct gomem_file *gf, struct gomem_free *f, bool free)
{
	struct gomem_dev_heap *dh;
	void *p = (void *)(unsigned long)f->addr;
	long ret;
	size_t n;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (f->flags || f->reserved || f->addr != (unsigned long)f->addr)
		return -EINVAL;
	if (down_read_killable(&dh->world))
		return -EINTR;
	if (free) {
		ret = gm_heap_free(dh->reg.gm, p);
	} else {
		n = gm_heap_usable_size(dh->reg.gm, p);
		ret = n ? 0 : -EINVAL;
		f->size = n;
	}
	up_read(&dh->world);
	return ret;
}

/**
 * gomem_dev_heap_stats() - GOMEM_IOC_STATS
 * @gf: the open file
 * @s: the argument; @s->size is set to the module's structure size
 *
 * Return: 0, -EINVAL, -EFAULT, -ENOMEM, -EPERM, -EBADF.
 */
long gomem_dev_heap_stats(struct gomem_file *gf, struct gomem_stats *s)
{
	struct gomem_memstats *st;
	struct gomem_dev_heap *dh;
	long ret;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (s->flags || s->size < GOMEM_MEMSTATS_SIZE_VER0)
		return -EINVAL;
	/* Over 4 KiB with the pause rings: not on the stack. */
	st = kzalloc(sizeof(*st), GOMEM_IOCTL_GFP);
	if (!st)
		return -ENOMEM;
	ret = read_memstats(dh, st, false);
	if (ret)
		goto out;
	if (copy_to_user(u64_to_user_ptr(s->buf), st, min_t(size_t, s->size, sizeof(*st)))) {
		ret = -EFAULT;
		goto out;
	}
	s->size = sizeof(*st);
out:
	kfree(st);
	return ret;
}

static int fill_classes(struct gomem_dev_heap *dh, struct gomem_class_stat *tab)
{
	struct gm_memstats *st = kzalloc(sizeof(*st), GFP_KERNEL);
	struct gm_size_class sc;
	unsigned int i;

	if (!st)
		return -ENOMEM;
	gm_heap_read_stats(dh->reg.gm, st);
	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++) {
		struct gomem_class_stat *e = &tab[i];

		memset(e, 0, sizeof(*e));
		e->class = i;
		if (i) {
			gm_size_class_get(i, &sc);
			e->size = sc.size;
			e->span_pages = sc.npages;
			e->objects_per_span = sc.objects;
		}
		e->spans = st->by_class[i].spans;
		e->inuse = st->by_class[i].inuse;
		e->allocs = st->by_class[i].allocs;
		e->frees = st->by_class[i].frees;
		e->fast = st->by_class[i].fast;
		e->slow = st->by_class[i].slow;
	}
	kfree(st);
	return 0;
}

/**
 * gomem_dev_heap_class_stats() - GOMEM_IOC_CLASS_STATS
 * @gf: the open file
 * @c: the argument; @c->count is set to the entries written
 *
 * Return: 0, -EINVAL, -EFAULT, -ENOMEM, -EPERM, -EBADF.
 */
long gomem_dev_heap_class_stats(struct gomem_file *gf, struct gomem_class_stats *c)
{
	struct gomem_class_stat *tab;
	struct gomem_dev_heap *dh;
	u32 n;
	long ret;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (c->flags || c->reserved || !c->count ||
	    c->entry_size != sizeof(struct gomem_class_stat))
		return -EINVAL;
	BUILD_BUG_ON(GOMEM_NUM_SIZE_CLASSES != GM_NUM_SIZE_CLASSES);
	tab = kcalloc(GOMEM_NUM_SIZE_CLASSES, sizeof(*tab), GFP_KERNEL);
	if (!tab)
		return -ENOMEM;
	n = min_t(u32, c->count, GOMEM_NUM_SIZE_CLASSES);
	ret = fill_classes(dh, tab);
	if (!ret && copy_to_user(u64_to_user_ptr(c->buf), tab, n * sizeof(*tab)))
		ret = -EFAULT;
	kfree(tab);
	if (!ret)
		c->count = n;
	return ret;
}

/**
 * gomem_dev_heap_scavenge() - GOMEM_IOC_SCAVENGE: debug.FreeOSMemory
 * @gf: the open file
 * @s: the argument; @s->released is set
 *
 * The heap stands still meanwhile: the per-CPU caches are flushed first,
 * so that the pages they hold are given back too.
 *
 * Return: 0, -EINVAL, -EPERM, -EBADF, -EINTR.
 */
long gomem_dev_heap_scavenge(struct gomem_file *gf, struct gomem_scavenge *s)
{
	struct gomem_dev_heap *dh;
	long ret;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (s->flags || s->reserved)
		return -EINVAL;
	if (down_write_killable(&dh->world))
		return -EINTR;
	forget_lost(dh);
	gm_heap_flush_caches(dh->reg.gm);
	s->released = gm_heap_scavenge(dh->reg.gm, s->max_bytes);
	up_write(&dh->world);
	return 0;
}

/**
 * gomem_dev_heap_set_cap() - GOMEM_IOC_SET_CAP
 * @gf: the open file
 * @c: the argument; @c->old_cap is set
 *
 * Return: 0, -EINVAL, -EPERM, -EBADF.
 */
long gomem_dev_heap_set_cap(struct gomem_file *gf, struct gomem_cap *c)
{
	struct gomem_dev_heap *dh;
	long ret;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (c->reserved || (c->flags & ~GOMEM_CAP_QUERY))
		return -EINVAL;
	spin_lock(&dh->mem.lock);
	c->old_cap = dh->mem.cap_bytes;
	if (!(c->flags & GOMEM_CAP_QUERY))
		WRITE_ONCE(dh->mem.cap_bytes, c->cap_bytes);
	spin_unlock(&dh->mem.lock);
	return 0;
}

/* === the collector ====================================================== */

/**
 * gomem_dev_heap_root() - GOMEM_IOC_ROOT_ADD (@add) and GOMEM_IOC_ROOT_DEL
 * @gf: the open file
 * @r: the argument
 * @add: register the root, rather than remove it
 *
 * A range must lie in user memory (the collector reads it through the
 * owner's address space) and not wrap; its pages need not be mapped.
 * An object root is named by its base address.
 *
 * Return: 0, -EINVAL for a bad argument or an address that is not the
 * base of a live (non-tiny) object, -EEXIST for a root already there,
 * -ENOENT for one that is not, -ENOSPC past GOMEM_ROOTS_MAX ranges,
 * -ENOMEM, -EPERM, -EBADF, -EINTR.
 */
long gomem_dev_heap_root(struct gomem_file *gf, struct gomem_root *r, bool add)
{
	void *p = (void *)(unsigned long)r->addr;
	struct gomem_dev_heap *dh;
	long ret;

	BUILD_BUG_ON(GOMEM_ROOTS_MAX != GM_MAX_ROOTS);
	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (r->reserved || (r->flags & ~GOMEM_ROOT_OBJECT) || r->addr != (unsigned long)r->addr)
		return -EINVAL;
	if (r->flags & GOMEM_ROOT_OBJECT) {
		if (add && r->len)
			return -EINVAL;
	} else if (add) {
		if (!r->len || r->len > GOMEM_ROOT_MAX_LEN || r->addr + r->len < r->addr ||
		    !access_ok(u64_to_user_ptr(r->addr), r->len))
			return -EINVAL;
	}
	if (down_read_killable(&dh->world))
		return -EINTR;
	if (r->flags & GOMEM_ROOT_OBJECT)
		ret = gm_heap_set_root_object(dh->reg.gm, p, add);
	else if (add)
		ret = gm_heap_add_root(dh->reg.gm, r->addr, r->len);
	else
		ret = gm_heap_del_root(dh->reg.gm, r->addr);
	up_read(&dh->world);
	return ret;
}

static void fill_gc_stats(struct gomem_gc_stats *st, const struct gm_gc_cycle *c)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	if (!c->num)
		return;
	st->forced = c->forced;
	st->cycle = c->num;
	st->start_ns = c->start_ns;
	st->sweep_term_ns = c->phase_ns[GM_PHASE_SWEEP_TERM];
	st->mark_ns = c->phase_ns[GM_PHASE_MARK];
	st->mark_term_ns = c->phase_ns[GM_PHASE_MARK_TERM];
	st->sweep_ns = c->phase_ns[GM_PHASE_SWEEP];
	st->pause_ns = c->pause_ns;
	st->heap_before = c->heap_before;
	st->heap_after = c->heap_after;
	st->heap_marked = c->heap_marked;
	st->heap_goal = c->heap_goal;
	st->marked_objects = c->mark.marked;
	st->scanned_bytes = c->mark.scanned_bytes;
	st->freed_objects = c->freed_objects;
	st->freed_bytes = c->freed_bytes;
	st->mark_overflows = c->mark.overflows;
	st->root_bytes = c->root_bytes;
}

/**
 * gomem_dev_heap_gc() - GOMEM_IOC_GC: runtime.GC
 * @gf: the open file
 * @g: the argument; @g->size is set to the module's statistics size
 *
 * Runs a forced cycle, swept completely before the call returns; with
 * GOMEM_GC_IF_DUE only the cycle an allocation would run now, if any,
 * swept lazily: one is due when the pacer says so, or when an allocation
 * was refused with -EAGAIN since the last cycle (it asked for more than
 * the heap has room for before its goal). The world is stopped meanwhile: every other command of
 * the heap, and its background worker, waits. The statistics buffer is
 * faulted in before the cycle, so that a bad one fails before anything
 * happens.
 *
 * Return: 0, -EINVAL, -EFAULT, -ENOMEM, -EPERM, -EBADF, -EINTR.
 */
long gomem_dev_heap_gc(struct gomem_file *gf, struct gomem_gc *g)
{
	void __user *ubuf = u64_to_user_ptr(g->buf);
	bool forced = !(g->flags & GOMEM_GC_IF_DUE);
	struct gomem_dev_heap *dh;
	struct gomem_gc_stats st;
	struct gm_gc_cycle c;
	size_t n;
	long ret = 0;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if ((g->flags & ~GOMEM_GC_IF_DUE) || (g->buf ? g->size < 8 : g->size))
		return -EINVAL;
	n = min_t(size_t, g->size, sizeof(st));
	if (n && (!access_ok(ubuf, n) || fault_in_safe_writeable(ubuf, n)))
		return -EFAULT;
	memset(&c, 0, sizeof(c));
	if (down_write_killable(&dh->world))
		return -EINTR;
	if (forced || gm_heap_gc_due(dh->reg.gm, 0) || atomic_read(&dh->gc_wanted))
		ret = run_gc(dh, forced, &c);
	up_write(&dh->world);
	if (ret)
		return ret;
	fill_gc_stats(&st, &c);
	if (n && copy_to_user(ubuf, &st, n))
		return -EFAULT;
	g->size = sizeof(st);
	return 0;
}

/**
 * gomem_dev_heap_set_gc() - GOMEM_IOC_SET_GC: SetGCPercent, SetMemoryLimit
 * @gf: the open file
 * @p: the argument; @p->old_gogc and @p->old_limit are set
 *
 * Return: 0, -EINVAL (a GOGC below GOMEM_GOGC_OFF, an unknown flag, a
 * reserved field), -EPERM, -EBADF, -EINTR.
 */
long gomem_dev_heap_set_gc(struct gomem_file *gf, struct gomem_gc_params *p)
{
	struct gomem_dev_heap *dh;
	struct gm_gc_info gi;
	s32 old_gogc;
	u64 old_limit;
	long ret;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (p->reserved || (p->flags & ~(GOMEM_GC_SET_GOGC | GOMEM_GC_SET_LIMIT)) ||
	    ((p->flags & GOMEM_GC_SET_GOGC) && p->gogc < GOMEM_GOGC_OFF))
		return -EINVAL;
	BUILD_BUG_ON(GOMEM_GOGC_OFF != GM_GOGC_OFF || GOMEM_NO_LIMIT != GM_NO_LIMIT);
	if (down_read_killable(&dh->world))
		return -EINTR;
	gm_heap_read_gc_info(dh->reg.gm, &gi);
	old_gogc = gi.gogc;
	old_limit = gi.memory_limit;
	if (p->flags & GOMEM_GC_SET_GOGC)
		old_gogc = gm_heap_set_gogc(dh->reg.gm, p->gogc);
	if (p->flags & GOMEM_GC_SET_LIMIT)
		old_limit = gm_heap_set_memory_limit(dh->reg.gm, p->memory_limit);
	up_read(&dh->world);
	/* A new goal may leave more to give back. */
	if (p->flags)
		bg_kick(dh);
	p->old_gogc = old_gogc;
	p->old_limit = old_limit;
	return 0;
}

/**
 * gomem_dev_heap_prof_rate() - GOMEM_IOC_PROF_RATE: the heap's sampling rate
 * @gf: the file
 * @r: the argument; @old_rate is set
 *
 * Return: 0, -EINVAL for an unknown flag or a reserved field, -EPERM from
 * another address space, -EBADF if the file has no heap.
 */
long gomem_dev_heap_prof_rate(struct gomem_file *gf, struct gomem_prof_rate *r)
{
	struct gomem_dev_heap *dh;
	struct gm_prof_info info;
	long ret;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (r->reserved || (r->flags & ~GOMEM_PROF_SET_RATE))
		return -EINVAL;
	if (r->flags & GOMEM_PROF_SET_RATE) {
		r->old_rate = gm_heap_set_profile_rate(dh->reg.gm, r->rate);
	} else {
		gm_heap_profile_read(dh->reg.gm, NULL, 0, &info);
		r->old_rate = info.rate;
	}
	return 0;
}

/**
 * gomem_dev_heap_prof_read() - GOMEM_IOC_PROF_READ: the heap's profile
 * @gf: the file
 * @r: the argument; @size is set, and the dump written to @buf if it fits
 *
 * The heap of a process records its user stacks only: nothing in the
 * dump is a kernel address.
 *
 * Return: 0, -EINVAL for a flag or a reserved field, -EFAULT, -ENOMEM,
 * -EPERM from another address space, -EBADF if the file has no heap.
 */
long gomem_dev_heap_prof_read(struct gomem_file *gf, struct gomem_prof_read *r)
{
	struct gomem_dev_heap *dh;
	size_t size;
	void *dump;
	long ret;

	dh = heap_of(gf, &ret);
	if (!dh)
		return ret;
	if (r->flags || r->reserved)
		return -EINVAL;
	dump = gomem_heapprof_dump(dh->reg.gm, &size);
	if (!dump)
		return -ENOMEM;
	r->size = size;
	ret = 0;
	if (size <= r->len && copy_to_user(u64_to_user_ptr(r->buf), dump, size))
		ret = -EFAULT;
	kvfree(dump);
	return ret;
}
