/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gomem: the Go runtime's allocator and garbage collector as a Linux
 * character device, /dev/gomem. This header is the ioctl ABI.
 *
 * Rules every command follows:
 *  - structures are made of __u32/__u64 fields, padded by hand to a
 *    multiple of 8 bytes; pointers travel as __u64;
 *  - fields marked "in" are read once, fields marked "out" are written only
 *    when the command succeeds;
 *  - flags the kernel does not know and non-zero reserved fields are
 *    refused with -EINVAL, so that they can be given a meaning later;
 *  - unknown commands fail with -ENOTTY;
 *  - a command that fails changes nothing.
 *
 * GOMEM_FEATURE_HEAP: each open file is a heap of its own whose memory is
 * mapped into the address space of the process that opened it, in 64 MiB
 * arenas from 0xc000000000 up (as Go places its heap). Heap commands made
 * from another address space (a forked child, a process the file was
 * passed to) fail with -EPERM; the heap's mappings are not inherited by
 * fork and cannot be moved or grown with mremap.
 */
#ifndef _UAPI_LINUX_GOMEM_H
#define _UAPI_LINUX_GOMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on any incompatible change of this header. */
#define GOMEM_ABI_VERSION	1

/* ioctl type byte; unused in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define GOMEM_IOC_MAGIC		0xB9

/*
 * Feature bits reported by GOMEM_IOC_VERSION. A bit is set only when the
 * loaded module provides the feature right now.
 *
 * GOMEM_FEATURE_DEBUGFS: statistics are published under
 * /sys/kernel/debug/gomem/ (debugfs may be absent or disabled).
 */
#define GOMEM_FEATURE_DEBUGFS	(1ULL << 0)
#define GOMEM_FEATURE_HEAP	(1ULL << 1)
/*
 * GOMEM_FEATURE_GC: heaps are garbage collected (GOMEM_IOC_ROOT_ADD,
 * GOMEM_IOC_ROOT_DEL, GOMEM_IOC_GC, GOMEM_IOC_SET_GC, GOMEM_ALLOC_ROOT).
 */
#define GOMEM_FEATURE_GC	(1ULL << 2)
#define GOMEM_FEATURES_ALL	(GOMEM_FEATURE_DEBUGFS | GOMEM_FEATURE_HEAP | \
				 GOMEM_FEATURE_GC)

/**
 * struct gomem_version - argument of GOMEM_IOC_VERSION
 * @abi_version: out: GOMEM_ABI_VERSION of the running module
 * @flags: in: must be 0
 * @features: out: GOMEM_FEATURE_* bits
 * @reserved: in: must be 0; out: 0
 */
struct gomem_version {
	__u32 abi_version;
	__u32 flags;
	__u64 features;
	__u64 reserved[2];
};

#define GOMEM_IOC_VERSION	_IOWR(GOMEM_IOC_MAGIC, 0x00, struct gomem_version)

/* Allocation flags (Go's span classes: noscan objects hold no pointers). */
#define GOMEM_ALLOC_NOSCAN	(1U << 0)
#define GOMEM_ALLOC_ZERO	(1U << 1)
/*
 * The object is a root of the collector until GOMEM_IOC_ROOT_DEL (with
 * GOMEM_ROOT_OBJECT) or GOMEM_IOC_FREE releases it. A root object never
 * shares a tiny block: it gets a slot of its own.
 */
#define GOMEM_ALLOC_ROOT	(1U << 2)
/*
 * Fail with -EAGAIN instead of running a GC cycle when the pacer says one
 * is due: for a program that must stop its own threads first. libgomem
 * does, then repeats the allocation without the flag, so that the kernel
 * runs the one cycle (GOMEM_IOC_GC with GOMEM_GC_IF_DUE is the other way).
 */
#define GOMEM_ALLOC_NOGC	(1U << 3)
#define GOMEM_ALLOC_FLAGS	(GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_ZERO | \
				 GOMEM_ALLOC_ROOT | GOMEM_ALLOC_NOGC)

/* Largest object: bigger requests fail with -EINVAL, not -ENOMEM. */
#define GOMEM_ALLOC_MAX		(1ULL << 36)

/**
 * struct gomem_alloc - argument of GOMEM_IOC_ALLOC
 * @size: in: bytes, 1..GOMEM_ALLOC_MAX
 * @flags: in: GOMEM_ALLOC_* bits
 * @reserved: in: must be 0
 * @addr: out: the object's address in the caller's address space
 * @usable: out: the object's slot size (>= @size), as GOMEM_IOC_SIZE says
 *
 * Fails with -ENOMEM when the heap's cap, the memory cgroup or the
 * machine cannot supply the memory.
 */
struct gomem_alloc {
	__u64 size;
	__u32 flags;
	__u32 reserved;
	__u64 addr;
	__u64 usable;
};

/* Most objects one GOMEM_IOC_ALLOC_BULK call allocates. */
#define GOMEM_BULK_MAX		4096

/**
 * struct gomem_alloc_bulk - argument of GOMEM_IOC_ALLOC_BULK
 * @size: in: bytes per object, as for GOMEM_IOC_ALLOC
 * @flags: in: GOMEM_ALLOC_* bits
 * @count: in: number of objects, 1..GOMEM_BULK_MAX
 * @addrs: in: user pointer to an array of @count __u64; filled with the
 *	objects' addresses on success
 * @reserved: in: must be 0
 *
 * All or nothing: on error no object stays allocated and the array is
 * left as it was.
 */
struct gomem_alloc_bulk {
	__u64 size;
	__u32 flags;
	__u32 count;
	__u64 addrs;
	__u64 reserved;
};

/**
 * struct gomem_free - argument of GOMEM_IOC_FREE and GOMEM_IOC_SIZE
 * @addr: in: the base address of a live object of this heap
 * @flags: in: must be 0
 * @reserved: in: must be 0
 * @size: out (GOMEM_IOC_SIZE only): the object's slot size
 *
 * An address that is not the base of a live object of this heap (inside
 * an object, already freed, another heap's) fails with -EINVAL.
 */
struct gomem_free {
	__u64 addr;
	__u32 flags;
	__u32 reserved;
	__u64 size;
};

/* Entries of the PauseNs and PauseEnd rings of struct gomem_memstats (Go's 256). */
#define GOMEM_PAUSE_RING	256
/* The unit of gomem_memstats.gc_cpu_fraction_ppm: 1.0 is GOMEM_PPM. */
#define GOMEM_PPM		1000000

/**
 * struct gomem_memstats - a heap's statistics, after Go's runtime.MemStats
 * @size: sizeof(struct gomem_memstats) of the running module
 * @heap_id: @heap_id64 if it fits in 32 bits, else 0 (never a heap's id:
 *	ids start at 1), so that a truncated id can never name another heap
 * @heap_alloc: bytes of live objects (slot sizes)
 * @heap_sys: bytes the heap has mapped for objects (Go's HeapSys)
 * @heap_idle: bytes in no span
 * @heap_inuse: bytes in in-use spans
 * @heap_released: idle bytes given back to the kernel (not resident)
 * @heap_objects: live objects (a tiny block counts once, as in Go)
 * @mallocs: objects allocated, tiny ones included
 * @frees: objects freed, tiny ones included
 * @tiny_allocs: tiny objects allocated
 * @tiny_frees: tiny objects freed
 * @reserved_bytes: address space reserved for arenas (in VSZ)
 * @resident_bytes: bytes of the heap's memory backed by pages now
 * @cap_bytes: the heap's cap, 0 if none (GOMEM_IOC_SET_CAP)
 * @lost_bytes: bytes the program unmapped by hand; never used again
 * @scavenged_bytes: bytes given back by scavenging, since the open
 * @num_gc: completed GC cycles (Go's NumGC)
 * @num_forced_gc: of those, cycles GOMEM_IOC_GC asked for (NumForcedGC)
 * @next_gc: the heap goal: the next cycle starts when the live heap
 *	(@heap_live) would pass it (NextGC)
 * @last_gc_ns: CLOCK_MONOTONIC time the last cycle ended, 0 if none
 * @pause_total_ns: time the world was stopped by cycles (PauseTotalNs)
 * @gc_cpu_ns: CPU time spent in cycles and in background sweeping
 * @heap_live: bytes of objects allocated since the last mark plus the
 *	bytes it found live, the number the pacer compares with @next_gc
 * @heap_marked: bytes the last mark found live
 * @gogc: the GOGC percent, GOMEM_GOGC_OFF if automatic GC is off
 * @reserved2: 0
 * @memory_limit: the soft limit, GOMEM_NO_LIMIT if none
 * @swept_pages: pages of spans swept since the open
 * @bg_scavenged_bytes: bytes the background scavenger gave back
 * @scavenge_goal: the retained memory (@heap_sys - @heap_released) the
 *	background scavenger works toward, GOMEM_NO_LIMIT if none: 10% over
 *	@next_gc, or 95% of @memory_limit if that is lower
 * @heap_id64: the heap's id, its directory under debugfs gomem/heaps/ and
 *	its name in gctrace lines; never reused while the module is loaded
 * @alloc: Go's Alloc: the same as @heap_alloc
 * @total_alloc: bytes ever allocated, freed ones included (TotalAlloc),
 *	counted as Go counts them: a small object by its slot size, a tiny
 *	block once, a large object by its pages
 * @sys: all the bytes below (Sys): @heap_sys + @stack_sys + @mspan_sys +
 *	@mcache_sys + @buckhash_sys + @gc_sys + @other_sys
 * @lookups: 0, as in Go since 1.11 (Lookups)
 * @stack_inuse: 0: gomem has no goroutine stacks (StackInuse)
 * @stack_sys: 0, likewise (StackSys)
 * @mspan_inuse: bytes of span structures in use (MSpanInuse)
 * @mspan_sys: bytes of span structures allocated, recycled ones included
 *	(MSpanSys)
 * @mcache_inuse: bytes of the per-CPU caches of online CPUs (MCacheInuse)
 * @mcache_sys: bytes of the per-CPU caches of every possible CPU (MCacheSys)
 * @buckhash_sys: bytes of the heap profile's buckets, hash table and
 *	sampled-object table (BuckHashSys)
 * @gc_sys: bytes of the collector's metadata (GCSys): span bitmaps, arena
 *	structures, the page allocator's bitmaps and summaries, root ranges,
 *	the gray queue while a mark runs
 * @other_sys: bytes of other metadata (OtherSys): the heap structure
 *	itself, with its per-class lists, and records of its memory blocks
 * @last_gc_unix_ns: when the last cycle ended, in ns since the Unix epoch
 *	(CLOCK_REALTIME), 0 if none: Go's LastGC (@last_gc_ns is the same
 *	moment by CLOCK_MONOTONIC)
 * @gc_cpu_fraction_ppm: Go's GCCPUFraction in parts per million
 *	(0..GOMEM_PPM): CPU time of the cycles over the time since the heap
 *	was created times the online CPUs, computed when each cycle ends
 * @enable_gc: 1, as Go's EnableGC, which is true even with GOGC=off
 *	(@gogc says whether automatic cycles are on)
 * @debug_gc: 0 (DebugGC, unused in Go)
 * @pause_ns: the last GOMEM_PAUSE_RING cycles' pauses in ns (PauseNs):
 *	cycle n's at (n - 1) % 256, the latest at (@num_gc + 255) % 256
 * @pause_end: when each of those pauses ended, in ns since the Unix epoch
 *	(PauseEnd); 0 where no cycle has been yet
 *
 * New fields are added at the end; the kernel copies as much as the
 * caller has room for (see struct gomem_stats).
 */
struct gomem_memstats {
	__u32 size;
	__u32 heap_id;
	__u64 heap_alloc;
	__u64 heap_sys;
	__u64 heap_idle;
	__u64 heap_inuse;
	__u64 heap_released;
	__u64 heap_objects;
	__u64 mallocs;
	__u64 frees;
	__u64 tiny_allocs;
	__u64 tiny_frees;
	__u64 reserved_bytes;
	__u64 resident_bytes;
	__u64 cap_bytes;
	__u64 lost_bytes;
	__u64 scavenged_bytes;
	/* GOMEM_FEATURE_GC, from GOMEM_MEMSTATS_SIZE_VER1 on */
	__u64 num_gc;
	__u64 num_forced_gc;
	__u64 next_gc;
	__u64 last_gc_ns;
	__u64 pause_total_ns;
	__u64 gc_cpu_ns;
	__u64 heap_live;
	__u64 heap_marked;
	__s32 gogc;
	__u32 reserved2;
	__u64 memory_limit;
	__u64 swept_pages;
	__u64 bg_scavenged_bytes;
	/* From GOMEM_MEMSTATS_SIZE_VER2 on */
	__u64 scavenge_goal;
	/* From GOMEM_MEMSTATS_SIZE_VER3 on: the rest of Go's MemStats */
	__u64 heap_id64;
	__u64 alloc;
	__u64 total_alloc;
	__u64 sys;
	__u64 lookups;
	__u64 stack_inuse;
	__u64 stack_sys;
	__u64 mspan_inuse;
	__u64 mspan_sys;
	__u64 mcache_inuse;
	__u64 mcache_sys;
	__u64 buckhash_sys;
	__u64 gc_sys;
	__u64 other_sys;
	__u64 last_gc_unix_ns;
	__u64 gc_cpu_fraction_ppm;
	__u32 enable_gc;
	__u32 debug_gc;
	__u64 pause_ns[GOMEM_PAUSE_RING];
	__u64 pause_end[GOMEM_PAUSE_RING];
};

/* The size of the first version of struct gomem_memstats. */
#define GOMEM_MEMSTATS_SIZE_VER0	128
/* ... and of the second, with the collector's fields. */
#define GOMEM_MEMSTATS_SIZE_VER1	224
/* ... and of the third, with the scavenger's goal. */
#define GOMEM_MEMSTATS_SIZE_VER2	232
/* ... and of the fourth, with the rest of Go's MemStats and 64-bit ids. */
#define GOMEM_MEMSTATS_SIZE_VER3	4464

/**
 * struct gomem_stats - argument of GOMEM_IOC_STATS
 * @buf: in: user pointer to a struct gomem_memstats
 * @size: in: bytes at @buf, at least GOMEM_MEMSTATS_SIZE_VER0;
 *	out: sizeof(struct gomem_memstats) of the running module
 * @flags: in: must be 0
 *
 * min(@size, the module's size) bytes are written.
 */
struct gomem_stats {
	__u64 buf;
	__u32 size;
	__u32 flags;
};

/* Entries of the per-size-class table: class 0 (large objects), 1..67. */
#define GOMEM_NUM_SIZE_CLASSES	68

/**
 * struct gomem_class_stat - one size class of one heap
 * @class: the size class; 0 for large objects
 * @size: bytes per object (0 for class 0)
 * @span_pages: 8 KiB pages per span (0 for class 0)
 * @objects_per_span: objects per span (0 for class 0)
 * @spans: spans in use
 * @inuse: live objects
 * @allocs: objects allocated
 * @frees: objects freed
 * @fast: allocations served from the mcache's allocCache
 * @slow: allocations that refilled or took the heap path
 */
struct gomem_class_stat {
	__u32 class;
	__u32 size;
	__u32 span_pages;
	__u32 objects_per_span;
	__u64 spans;
	__u64 inuse;
	__u64 allocs;
	__u64 frees;
	__u64 fast;
	__u64 slow;
};

/**
 * struct gomem_class_stats - argument of GOMEM_IOC_CLASS_STATS
 * @buf: in: user pointer to an array of struct gomem_class_stat
 * @count: in: entries at @buf, at least 1; out: entries written, at most
 *	GOMEM_NUM_SIZE_CLASSES, class 0 first
 * @entry_size: in: must be sizeof(struct gomem_class_stat)
 * @flags: in: must be 0
 * @reserved: in: must be 0
 */
struct gomem_class_stats {
	__u64 buf;
	__u32 count;
	__u32 entry_size;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct gomem_scavenge - argument of GOMEM_IOC_SCAVENGE
 * @max_bytes: in: give back at most this much; 0 means all (Go's
 *	debug.FreeOSMemory, without the GC)
 * @flags: in: must be 0
 * @reserved: in: must be 0
 * @released: out: bytes given back to the kernel by this call
 *
 * Free pages are unmapped from the process and their memory freed; the
 * address space stays reserved, and touching it again faults in zeroed
 * pages.
 */
struct gomem_scavenge {
	__u64 max_bytes;
	__u32 flags;
	__u32 reserved;
	__u64 released;
};

/* GOMEM_IOC_SET_CAP flags */
#define GOMEM_CAP_QUERY		(1U << 0)	/* only read the cap */

/**
 * struct gomem_cap - argument of GOMEM_IOC_SET_CAP
 * @cap_bytes: in: the largest HeapSys the heap may reach, 0 for no cap;
 *	ignored with GOMEM_CAP_QUERY
 * @flags: in: GOMEM_CAP_* bits
 * @reserved: in: must be 0
 * @old_cap: out: the cap before the call
 *
 * A cap below the current HeapSys is allowed: the heap then only stops
 * growing. Allocations that would take it over the cap fail with -ENOMEM.
 */
struct gomem_cap {
	__u64 cap_bytes;
	__u32 flags;
	__u32 reserved;
	__u64 old_cap;
};

/* GOMEM_IOC_ROOT_ADD and GOMEM_IOC_ROOT_DEL flags */
#define GOMEM_ROOT_OBJECT	(1U << 0)	/* @addr is an object of the heap */

/* Most root ranges a heap may have registered at once. */
#define GOMEM_ROOTS_MAX		1024
/* Longest root range. */
#define GOMEM_ROOT_MAX_LEN	(1ULL << 30)

/**
 * struct gomem_root - argument of GOMEM_IOC_ROOT_ADD and GOMEM_IOC_ROOT_DEL
 * @addr: in: a range's first byte (the program's globals, a region it uses
 *	as a stack: any memory of the process), or with GOMEM_ROOT_OBJECT the
 *	base of a live object of this heap
 * @len: in: a range's bytes, 1..GOMEM_ROOT_MAX_LEN; 0 with
 *	GOMEM_ROOT_OBJECT (the whole object is the root); ignored by
 *	GOMEM_IOC_ROOT_DEL
 * @flags: in: GOMEM_ROOT_* bits
 * @reserved: in: must be 0
 *
 * The collector scans every aligned word of each root range, and marks
 * each root object (scanning it too unless it is noscan). A range is
 * known by its @addr: adding one twice fails with -EEXIST, removing one
 * that is not there with -ENOENT. A range that cannot be read when a
 * cycle runs is scanned as zeros.
 */
struct gomem_root {
	__u64 addr;
	__u64 len;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct gomem_gc_stats - one GC cycle, as GOMEM_IOC_GC returns it
 * @size: sizeof(struct gomem_gc_stats) of the running module
 * @forced: 1 if GOMEM_IOC_GC ran the cycle, 0 if an allocation did
 * @cycle: the cycle's number (NumGC after it)
 * @start_ns: when it started, in ns since the heap was created
 * @sweep_term_ns: wall time of sweep termination (finishing the last
 *	cycle's sweep, flushing the per-CPU caches)
 * @mark_ns: wall time of the mark
 * @mark_term_ns: wall time of mark termination (the pacer, flipping
 *	sweepgen)
 * @sweep_ns: wall time of the sweep done before the call returned (all
 *	of it for GOMEM_IOC_GC; the rest is swept lazily and in background)
 * @pause_ns: time the world was stopped
 * @heap_before: heap_live when the cycle started
 * @heap_after: heap_live when the mark ended
 * @heap_marked: bytes of objects found live
 * @heap_goal: the next goal (next_gc)
 * @marked_objects: objects found live
 * @scanned_bytes: bytes scanned, roots included
 * @freed_objects: objects the cycle's sweep freed before the call returned
 * @freed_bytes: their bytes
 * @mark_overflows: times the gray queue overflowed and the mark rescanned
 * @root_bytes: bytes of root ranges and root objects scanned
 */
struct gomem_gc_stats {
	__u32 size;
	__u32 forced;
	__u64 cycle;
	__u64 start_ns;
	__u64 sweep_term_ns;
	__u64 mark_ns;
	__u64 mark_term_ns;
	__u64 sweep_ns;
	__u64 pause_ns;
	__u64 heap_before;
	__u64 heap_after;
	__u64 heap_marked;
	__u64 heap_goal;
	__u64 marked_objects;
	__u64 scanned_bytes;
	__u64 freed_objects;
	__u64 freed_bytes;
	__u64 mark_overflows;
	__u64 root_bytes;
};

/* GOMEM_IOC_GC flags */
#define GOMEM_GC_IF_DUE		(1U << 0)	/* only the cycle an allocation would run */

/**
 * struct gomem_gc - argument of GOMEM_IOC_GC (Go's runtime.GC)
 * @buf: in: user pointer to a struct gomem_gc_stats, or 0
 * @size: in: bytes at @buf (0 if @buf is 0, else at least 8); out:
 *	sizeof(struct gomem_gc_stats) of the running module
 * @flags: in: GOMEM_GC_* bits
 *
 * Runs a full cycle now, with the heap's world stopped, and sweeps the
 * whole heap before returning, as runtime.GC does. With GOMEM_GC_IF_DUE
 * it runs the cycle an allocation would have run (not forced, swept
 * lazily afterwards) and only if the pacer says one is due; when none
 * is, @cycle in the statistics is 0.
 */
struct gomem_gc {
	__u64 buf;
	__u32 size;
	__u32 flags;
};

/* GOGC value that turns automatic collection off (GOGC=off). */
#define GOMEM_GOGC_OFF		(-1)
/* Memory limit value meaning no limit (Go's math.MaxInt64). */
#define GOMEM_NO_LIMIT		(~0ULL)

/* GOMEM_IOC_SET_GC flags */
#define GOMEM_GC_SET_GOGC	(1U << 0)	/* set @gogc */
#define GOMEM_GC_SET_LIMIT	(1U << 1)	/* set @memory_limit */

/**
 * struct gomem_gc_params - argument of GOMEM_IOC_SET_GC
 * @gogc: in: with GOMEM_GC_SET_GOGC, the percent (0 and up), or
 *	GOMEM_GOGC_OFF (Go's debug.SetGCPercent)
 * @flags: in: GOMEM_GC_SET_* bits; 0 only reads the settings
 * @memory_limit: in: with GOMEM_GC_SET_LIMIT, the soft limit in bytes
 *	on the heap's memory that is mapped and not given back (HeapSys -
 *	HeapReleased), or GOMEM_NO_LIMIT (debug.SetMemoryLimit)
 * @old_gogc: out: the percent before the call
 * @reserved: in: must be 0
 * @old_limit: out: the limit before the call
 */
struct gomem_gc_params {
	__s32 gogc;
	__u32 flags;
	__u64 memory_limit;
	__s32 old_gogc;
	__u32 reserved;
	__u64 old_limit;
};

/*
 * Heap profiles (Documentation/profiling.rst): GOMEM_IOC_PROF_RATE sets
 * the heap's sampling rate (Go's runtime.MemProfileRate), and
 * GOMEM_IOC_PROF_READ copies its profile out as a dump: a struct
 * gomem_prof_header, then @nrecords records, each a struct
 * gomem_prof_record followed by its @depth frames (__u64 each). Root reads
 * the same dump of any heap in debugfs (heaps/<id>/heapprof,
 * kheaps/<name>/heapprof). Counts are of samples, unscaled.
 */
#define GOMEM_PROF_MAGIC	0x31666f72706d6f67ULL	/* "gomprof1", little-endian */
#define GOMEM_PROF_VERSION	1
/* The default rate of a /dev/gomem heap: Go's MemProfileRate. */
#define GOMEM_PROF_DEFAULT_RATE	(512 * 1024)
/* Larger rates are clamped to this. */
#define GOMEM_PROF_MAX_RATE	(1ULL << 31)
/* Frames per record at most. */
#define GOMEM_PROF_MAX_DEPTH	32

/* struct gomem_prof_header flags */
#define GOMEM_PROF_USER_STACKS	(1U << 0)	/* frames are the heap owner's user addresses */
#define GOMEM_PROF_KERNEL_STACKS (1U << 1)	/* frames are kernel addresses (debugfs only) */

/**
 * struct gomem_prof_header - the start of a heap profile dump
 * @magic: GOMEM_PROF_MAGIC
 * @version: GOMEM_PROF_VERSION
 * @flags: GOMEM_PROF_*_STACKS
 * @rate: the sampling rate in bytes (0: off, 1: every allocation)
 * @nrecords: records that follow
 * @objects: sampled objects live
 * @dropped: samples not recorded: the profile's memory bound was reached,
 *	or a new stack was sampled where no memory could be allocated
 * @meta_bytes: kernel memory the profile holds
 */
struct gomem_prof_header {
	__u64 magic;
	__u32 version;
	__u32 flags;
	__u64 rate;
	__u64 nrecords;
	__u64 objects;
	__u64 dropped;
	__u64 meta_bytes;
};

/**
 * struct gomem_prof_record - one stack of a heap profile
 * @allocs: sampled objects allocated with this stack
 * @frees: of those, freed (explicitly or by the collector)
 * @alloc_bytes: their bytes
 * @free_bytes: bytes of the freed ones
 * @depth: frames that follow, innermost first: the first is where the
 *	allocating thread entered the kernel (user stacks) or a return
 *	address (kernel stacks), the others return addresses
 * @reserved: 0
 */
struct gomem_prof_record {
	__u64 allocs;
	__u64 frees;
	__u64 alloc_bytes;
	__u64 free_bytes;
	__u32 depth;
	__u32 reserved;
};

/* GOMEM_IOC_PROF_RATE flags */
#define GOMEM_PROF_SET_RATE	(1U << 0)	/* set @rate; 0 only reads it */

/**
 * struct gomem_prof_rate - argument of GOMEM_IOC_PROF_RATE
 * @rate: in: with GOMEM_PROF_SET_RATE, bytes per sample on average; 0
 *	turns sampling off, 1 samples every allocation
 * @flags: in: GOMEM_PROF_SET_RATE or 0
 * @reserved: in: must be 0
 * @old_rate: out: the rate before the call
 */
struct gomem_prof_rate {
	__u64 rate;
	__u32 flags;
	__u32 reserved;
	__u64 old_rate;
};

/**
 * struct gomem_prof_read - argument of GOMEM_IOC_PROF_READ
 * @buf: in: where to write the dump
 * @len: in: bytes at @buf
 * @size: out: bytes of the whole dump; if more than @len, nothing was
 *	written: call again with a buffer that large (it may have grown)
 * @flags: in: must be 0
 * @reserved: in: must be 0
 */
struct gomem_prof_read {
	__u64 buf;
	__u64 len;
	__u64 size;
	__u32 flags;
	__u32 reserved;
};

#define GOMEM_IOC_ALLOC		_IOWR(GOMEM_IOC_MAGIC, 0x01, struct gomem_alloc)
#define GOMEM_IOC_ALLOC_BULK	_IOW(GOMEM_IOC_MAGIC, 0x02, struct gomem_alloc_bulk)
#define GOMEM_IOC_FREE		_IOW(GOMEM_IOC_MAGIC, 0x03, struct gomem_free)
#define GOMEM_IOC_SIZE		_IOWR(GOMEM_IOC_MAGIC, 0x04, struct gomem_free)
#define GOMEM_IOC_STATS		_IOWR(GOMEM_IOC_MAGIC, 0x05, struct gomem_stats)
#define GOMEM_IOC_CLASS_STATS	_IOWR(GOMEM_IOC_MAGIC, 0x06, struct gomem_class_stats)
#define GOMEM_IOC_SCAVENGE	_IOWR(GOMEM_IOC_MAGIC, 0x07, struct gomem_scavenge)
#define GOMEM_IOC_SET_CAP	_IOWR(GOMEM_IOC_MAGIC, 0x08, struct gomem_cap)
#define GOMEM_IOC_ROOT_ADD	_IOW(GOMEM_IOC_MAGIC, 0x09, struct gomem_root)
#define GOMEM_IOC_ROOT_DEL	_IOW(GOMEM_IOC_MAGIC, 0x0a, struct gomem_root)
#define GOMEM_IOC_GC		_IOWR(GOMEM_IOC_MAGIC, 0x0b, struct gomem_gc)
#define GOMEM_IOC_SET_GC	_IOWR(GOMEM_IOC_MAGIC, 0x0c, struct gomem_gc_params)
#define GOMEM_IOC_PROF_RATE	_IOWR(GOMEM_IOC_MAGIC, 0x0d, struct gomem_prof_rate)
#define GOMEM_IOC_PROF_READ	_IOWR(GOMEM_IOC_MAGIC, 0x0e, struct gomem_prof_read)

#endif /* _UAPI_LINUX_GOMEM_H */
