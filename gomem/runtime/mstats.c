// SPDX-License-Identifier: GPL-2.0
/*
 * Heap statistics, after Go's mstats.go: runtime.MemStats fields that
 * apply, a per-size-class table (all 67 classes, not Go's 61), and the
 * heap's arenas and blocks.
 */
#include "malloc.h"

static void sum_caches(struct gm_heap *h, struct gm_memstats *st)
{
	unsigned int cpu;
	size_t i;

	for (cpu = 0; cpu < gm_nr_slots(); cpu++) {
		struct gm_mcache *c = gm_percpu_ptr(h->caches, cpu);

		for (i = 1; i < GM_NUM_SIZE_CLASSES; i++) {
			st->by_class[i].allocs += READ_ONCE(c->allocs[i]);
			st->by_class[i].fast += READ_ONCE(c->fast[i]);
			st->by_class[i].frees += READ_ONCE(c->frees[i]);
		}
		st->tiny_allocs += READ_ONCE(c->tiny_allocs);
		st->tiny_frees += READ_ONCE(c->tiny_frees);
	}
	for (i = 0; i < GM_NUM_SPAN_CLASSES; i++) {
		st->by_class[i >> 1].frees += READ_ONCE(h->central[i].nfrees);
		st->by_class[i >> 1].empty += READ_ONCE(h->central[i].nempty);
	}
	st->tiny_frees += READ_ONCE(h->central[GM_TINY_SPANCLASS].tiny_frees);
}

/*
 * The metadata by Go's categories, read with READ_ONCE(): the writers
 * hold the heap lock, which gm_heap_read_sizes() does not take. Sys is
 * their sum, as Go's Sys is the sum of the *Sys fields.
 */
static void sum_meta(struct gm_heap *h, struct gm_memstats *st)
{
	size_t mcache = sizeof(struct gm_mcache);
	unsigned int online = min(gm_num_cpus(), gm_nr_cpu_ids());

	st->mspan_sys = READ_ONCE(h->meta_bytes[GM_META_MSPAN]);
	st->mspan_inuse = st->mspan_sys -
			  min_t(u64, st->mspan_sys, READ_ONCE(h->spans_nfree) * sizeof(struct gm_mspan));
	/* Every possible CPU has its caches; Go's mcaches are per P, so "in use" is per online CPU. */
	st->mcache_sys = (u64)gm_nr_slots() * mcache;
	st->mcache_inuse = (u64)online * GM_CPU_SLOTS * mcache;
	st->gc_sys = READ_ONCE(h->meta_bytes[GM_META_GC]) + READ_ONCE(h->arenas.meta_bytes) +
		     READ_ONCE(h->pages.meta_bytes);
	st->other_sys = READ_ONCE(h->meta_bytes[GM_META_OTHER]);
	/* The heap profile's buckets, hash and sampled objects (under its own lock). */
	st->buckhash_sys = READ_ONCE(h->prof.meta_bytes);
	st->sys = st->heap_sys + st->stack_sys + st->mspan_sys + st->mcache_sys +
		  st->buckhash_sys + st->gc_sys + st->other_sys;
}

/* The per-class counts and the MemStats fields derived from them. */
static void sum_classes(struct gm_memstats *st, u64 large_bytes, u64 inuse_pages)
{
	size_t i;

	for (i = 0; i < GM_NUM_SIZE_CLASSES; i++) {
		struct gm_class_stats *cs = &st->by_class[i];

		cs->inuse = cs->allocs > cs->frees ? cs->allocs - cs->frees : 0;
		cs->slow = i ? cs->allocs - cs->fast : cs->allocs;
		if (i) {
			st->heap_alloc += cs->inuse * gm_class_size(i);
			st->total_alloc += cs->allocs * gm_class_size(i);
		}
		st->heap_objects += cs->inuse;
		st->mallocs += cs->allocs;
		st->frees += cs->frees;
	}
	/* As in Go: Mallocs and Frees count tiny objects, HeapObjects their blocks. */
	st->mallocs += st->tiny_allocs;
	st->frees += st->tiny_frees;
	st->heap_alloc += large_bytes;
	st->heap_inuse = inuse_pages * GM_PAGE_SIZE;
	st->heap_idle = st->heap_sys - st->heap_inuse;
}

/**
 * gm_heap_read_stats() - a snapshot of a heap's statistics
 * @h: the heap
 * @st: filled in
 *
 * The per-CPU counters are read without stopping their CPUs, so counts
 * of allocations in flight may lag by a few; the page counts are exact.
 */
void gm_heap_read_stats(struct gm_heap *h, struct gm_memstats *st)
{
	u64 large_bytes, inuse_pages, scav_pages;
	unsigned int cpu;
	size_t i;

	memset(st, 0, sizeof(*st));
	sum_caches(h, st);
	gm_mutex_lock(&h->lock);
	for (i = 0; i < GM_NUM_SIZE_CLASSES; i++)
		st->by_class[i].spans = h->class_spans[i];
	st->by_class[0].allocs = h->large_allocs;
	st->by_class[0].frees = h->large_frees;
	st->heap_sys = h->sys_bytes;
	/* Released pages in the CPUs' page caches are idle and released too, as in Go. */
	scav_pages = gm_pagealloc_scav_pages(&h->pages);
	for (cpu = 0; cpu < gm_nr_slots(); cpu++) {
		struct gm_mcache *c = gm_percpu_ptr(h->caches, cpu);

		scav_pages += gm_popcount64(READ_ONCE(c->pcache.scav));
	}
	st->heap_released = scav_pages * GM_PAGE_SIZE;
	large_bytes = h->large_bytes;
	inuse_pages = h->inuse_pages;
	st->total_alloc = h->large_alloc_bytes;
	sum_meta(h, st);
	gm_mutex_unlock(&h->lock);
	sum_classes(st, large_bytes, inuse_pages);
}

/**
 * gm_heap_read_sizes() - HeapAlloc, HeapSys and the counts, without the heap lock
 * @h: the heap
 * @st: filled in as gm_heap_read_stats() does, but for HeapReleased and
 *	the spans per class (left zero)
 *
 * For views over every heap (debugfs heaps/total), which must not wait
 * behind one heap's GC cycle: the mark holds the heap lock throughout.
 * The numbers are read racily: they may be off by what is in flight.
 */
void gm_heap_read_sizes(struct gm_heap *h, struct gm_memstats *st)
{
	memset(st, 0, sizeof(*st));
	sum_caches(h, st);
	st->by_class[0].allocs = READ_ONCE(h->large_allocs);
	st->by_class[0].frees = READ_ONCE(h->large_frees);
	st->heap_sys = READ_ONCE(h->sys_bytes);
	st->total_alloc = READ_ONCE(h->large_alloc_bytes);
	sum_meta(h, st);
	sum_classes(st, READ_ONCE(h->large_bytes), READ_ONCE(h->inuse_pages));
}

static void print_kv(struct gm_printer *p, const char *name, u64 v)
{
	char line[64];

	snprintf(line, sizeof(line), "%-13s %llu", name, (unsigned long long)v);
	p->line(p, line);
}

/* Longest ring line: a name and GM_PAUSE_RING numbers of up to 20 digits. */
#define RING_LINE	(16 + GM_PAUSE_RING * 21)

/*
 * "PauseNs" and "PauseEnd": the pauses held, oldest first, the latest
 * last (not Go's ring order, which starts anywhere).
 */
static void print_rings(struct gm_heap *h, struct gm_printer *p)
{
	u64 *ns = gm_zalloc(2 * GM_PAUSE_RING * sizeof(u64) + 2 * RING_LINE);
	u64 *end = ns + GM_PAUSE_RING;
	char *line = (char *)(end + GM_PAUSE_RING), *line2 = line + RING_LINE;
	u64 n, i, first;
	int len, len2;

	if (!ns)
		return;
	n = gm_heap_read_pauses(h, ns, end);
	first = n > GM_PAUSE_RING ? n - GM_PAUSE_RING : 0;
	len = snprintf(line, RING_LINE, "%-13s", "PauseNs");
	len2 = snprintf(line2, RING_LINE, "%-13s", "PauseEnd");
	for (i = first; i < n; i++) {
		len += snprintf(line + len, RING_LINE - len, " %llu",
				(unsigned long long)ns[i % GM_PAUSE_RING]);
		len2 += snprintf(line2 + len2, RING_LINE - len2, " %llu",
				 (unsigned long long)end[i % GM_PAUSE_RING]);
	}
	p->line(p, line);
	p->line(p, line2);
	gm_free(ns);
}

/* A fraction in parts per million as a decimal: "0.001234". */
static void print_ppm(struct gm_printer *p, const char *name, u64 ppm)
{
	char line[64];

	snprintf(line, sizeof(line), "%-13s %llu.%06llu", name, (unsigned long long)(ppm / GM_PPM),
		 (unsigned long long)(ppm % GM_PPM));
	p->line(p, line);
}

/**
 * gm_heap_print_memstats() - print the MemStats view, one "Name value" a line
 * @h: the heap
 * @p: where the lines go
 *
 * Every field of Go's runtime.MemStats but BySize (the classes table), by
 * Go's names and in Go's order. LastGC and PauseEnd are ns since the Unix
 * epoch, as in Go; GCCPUFraction a decimal fraction. PauseNs and
 * PauseEnd list the pauses held, oldest first.
 */
void gm_heap_print_memstats(struct gm_heap *h, struct gm_printer *p)
{
	struct gm_memstats *st = gm_zalloc(sizeof(*st));
	struct gm_gc_info gi;

	if (!st)
		return;
	gm_heap_read_stats(h, st);
	gm_heap_read_gc_info(h, &gi);
	print_kv(p, "Alloc", st->heap_alloc);
	print_kv(p, "TotalAlloc", st->total_alloc);
	print_kv(p, "Sys", st->sys);
	print_kv(p, "Lookups", 0);
	print_kv(p, "Mallocs", st->mallocs);
	print_kv(p, "Frees", st->frees);
	print_kv(p, "HeapAlloc", st->heap_alloc);
	print_kv(p, "HeapSys", st->heap_sys);
	print_kv(p, "HeapIdle", st->heap_idle);
	print_kv(p, "HeapInuse", st->heap_inuse);
	print_kv(p, "HeapReleased", st->heap_released);
	print_kv(p, "HeapObjects", st->heap_objects);
	print_kv(p, "StackInuse", st->stack_inuse);
	print_kv(p, "StackSys", st->stack_sys);
	print_kv(p, "MSpanInuse", st->mspan_inuse);
	print_kv(p, "MSpanSys", st->mspan_sys);
	print_kv(p, "MCacheInuse", st->mcache_inuse);
	print_kv(p, "MCacheSys", st->mcache_sys);
	print_kv(p, "BuckHashSys", st->buckhash_sys);
	print_kv(p, "GCSys", st->gc_sys);
	print_kv(p, "OtherSys", st->other_sys);
	print_kv(p, "NextGC", gi.next_gc);
	print_kv(p, "LastGC", gi.last_gc_unix_ns);
	print_kv(p, "PauseTotalNs", gi.pause_total_ns);
	print_rings(h, p);
	print_kv(p, "NumGC", gi.numgc);
	print_kv(p, "NumForcedGC", gi.numforced);
	print_ppm(p, "GCCPUFraction", gi.gc_cpu_ppm);
	/* Go's EnableGC is always true, even with GOGC=off (see uapi.rst). */
	print_kv(p, "EnableGC", 1);
	print_kv(p, "DebugGC", 0);
	gm_free(st);
}

/**
 * gm_heap_print_classes() - print the per-size-class table
 * @h: the heap
 * @p: where the lines go
 *
 * Every class 1..67, then class 0, the large objects.
 */
void gm_heap_print_classes(struct gm_heap *h, struct gm_printer *p)
{
	struct gm_memstats *st = gm_zalloc(sizeof(*st));
	char line[128];
	size_t i;

	if (!st)
		return;
	gm_heap_read_stats(h, st);
	p->line(p, "class  bytes/obj  spans  inuse  allocs  frees  fast  slow  empty");
	for (i = 1; i <= GM_NUM_SIZE_CLASSES; i++) {
		size_t cls = i % GM_NUM_SIZE_CLASSES;
		struct gm_class_stats *cs = &st->by_class[cls];
		char size[16];

		if (cls)
			snprintf(size, sizeof(size), "%u", gm_class_size(cls));
		else
			strcpy(size, "large");
		snprintf(line, sizeof(line), "%5zu  %9s  %5llu  %5llu  %6llu  %5llu  %4llu  %4llu  %5llu",
			 cls, size, (unsigned long long)cs->spans,
			 (unsigned long long)cs->inuse, (unsigned long long)cs->allocs,
			 (unsigned long long)cs->frees, (unsigned long long)cs->fast,
			 (unsigned long long)cs->slow, (unsigned long long)cs->empty);
		p->line(p, line);
	}
	gm_free(st);
}

/**
 * gm_heap_print_arenas() - print the heap's arenas and its blocks
 * @h: the heap
 * @p: where the lines go
 *
 * Blocks are what the page source gave (chunks of up to 4 MiB in the
 * kernel), with how many of their pages are free.
 */
void gm_heap_print_arenas(struct gm_heap *h, struct gm_printer *p)
{
	struct gm_block *b;
	char line[128];

	gm_mutex_lock(&h->lock);
	snprintf(line, sizeof(line), "arenas %zu", h->arenas.narenas);
	p->line(p, line);
	for (b = h->blocks; b; b = b->next) {
		size_t npages = b->size >> GM_PAGE_SHIFT;
		struct gm_heap_arena *ha = gm_arena_of(&h->arenas, b->addr);
		size_t i, nfree = 0;

		for (i = 0; i < npages; i++)
			nfree += gm_pagealloc_range_free(&h->pages, b->addr + i * GM_PAGE_SIZE, 1);
		snprintf(line, sizeof(line), "block 0x%lx arena 0x%lx bytes %lu pages %zu free %zu",
			 (unsigned long)b->addr, (unsigned long)ha->base, (unsigned long)b->size,
			 npages, nfree);
		p->line(p, line);
	}
	gm_mutex_unlock(&h->lock);
}
