// SPDX-License-Identifier: GPL-2.0
/*
 * A GC cycle, after Go's mgc.go, and the roots it starts from.
 *
 * Go's phases, run here with the heap's world stopped by the caller (no
 * allocation, free, sweep or scavenge on the heap meanwhile):
 *  - sweep termination: the mcaches are flushed and whatever the last
 *    cycle left unswept is swept, so that alloc bits are exact;
 *  - mark (mgcmark.c), from the registered roots;
 *  - mark termination: the pacer takes the marked bytes as the live heap
 *    and sets the next goal, and sweepgen advances by 2, which makes every
 *    span unswept at once;
 *  - sweep (mgcsweep.c): lazily by allocations and by the background
 *    sweeper, or entirely before returning for a forced cycle, as Go's
 *    runtime.GC does.
 *
 * Roots are what the program registers: ranges of memory anywhere (its
 * globals, a region it uses as a stack), and objects of the heap whose
 * root bit is set.
 */
#include "malloc.h"

/* === roots ============================================================== */

/* Index of the first root at or above @addr. */
static size_t root_search(struct gm_heap *h, uintptr_t addr)
{
	size_t lo = 0, hi = h->gc.nroots;

	gm_mutex_assert_held(&h->lock);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->gc.roots[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int roots_grow(struct gm_heap *h)
{
	size_t cap = h->gc.roots_cap ? 2 * h->gc.roots_cap : 16;
	struct gm_root *r;

	gm_mutex_assert_held(&h->lock);
	r = gm_zalloc(cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (h->gc.nroots)
		memcpy(r, h->gc.roots, h->gc.nroots * sizeof(*r));
	gm_heap_meta_add(h, GM_META_GC, (s64)((cap - h->gc.roots_cap) * sizeof(*r)));
	gm_free(h->gc.roots);
	h->gc.roots = r;
	h->gc.roots_cap = cap;
	return 0;
}

/**
 * gm_heap_add_root() - register a range of memory as a root
 * @h: the heap
 * @addr: first byte; memory the collector can read through gm_mheap_read()
 * @len: bytes, > 0
 *
 * Return: 0, -EINVAL for an empty or wrapping range, -EEXIST if a range
 * starting at @addr is registered, -ENOSPC beyond GM_MAX_ROOTS ranges,
 * or -ENOMEM.
 */
int gm_heap_add_root(struct gm_heap *h, uintptr_t addr, size_t len)
{
	size_t i;
	int ret = 0;

	if (!len || addr + len < addr)
		return -EINVAL;
	gm_mutex_lock(&h->lock);
	i = root_search(h, addr);
	if (i < h->gc.nroots && h->gc.roots[i].addr == addr)
		ret = -EEXIST;
	else if (h->gc.nroots >= GM_MAX_ROOTS)
		ret = -ENOSPC;
	else if (h->gc.nroots == h->gc.roots_cap)
		ret = roots_grow(h);
	if (!ret) {
		memmove(&h->gc.roots[i + 1], &h->gc.roots[i],
			(h->gc.nroots - i) * sizeof(*h->gc.roots));
		h->gc.roots[i].addr = addr;
		h->gc.roots[i].len = len;
		h->gc.nroots++;
	}
	gm_mutex_unlock(&h->lock);
	return ret;
}

/**
 * gm_heap_del_root() - unregister a root range
 * @h: the heap
 * @addr: its first byte, as registered
 *
 * Return: 0, or -ENOENT if no range starts at @addr.
 */
int gm_heap_del_root(struct gm_heap *h, uintptr_t addr)
{
	size_t i;
	int ret = -ENOENT;

	gm_mutex_lock(&h->lock);
	i = root_search(h, addr);
	if (i < h->gc.nroots && h->gc.roots[i].addr == addr) {
		h->gc.nroots--;
		memmove(&h->gc.roots[i], &h->gc.roots[i + 1],
			(h->gc.nroots - i) * sizeof(*h->gc.roots));
		ret = 0;
	}
	gm_mutex_unlock(&h->lock);
	return ret;
}

/**
 * gm_heap_set_root_object() - make an object a root, or release it
 * @h: the heap
 * @p: the object's base address
 * @root: true to make it a root, false to release it
 *
 * A root object is marked by every cycle, and scanned unless it is
 * noscan. gm_heap_free() releases it too.
 *
 * Return: 0, -EINVAL if @p is not the base of a live object or is a tiny
 * object, -EEXIST or -ENOENT if it already is or is not a root.
 */
int gm_heap_set_root_object(struct gm_heap *h, const void *p, bool root)
{
	struct gm_mspan *s = gm_span_of(&h->arenas, (uintptr_t)p);

	if (!s)
		return -EINVAL;
	return gm_mcentral_set_root(h, s, (uintptr_t)p, root);
}

/* === a cycle ============================================================ */

/**
 * gm_gc_cpu_ppm() - Go's GCCPUFraction, in parts per million
 * @cpu_ns: CPU time the collector used
 * @elapsed_ns: time since the heap was created
 * @ncpu: CPUs that could have run in that time
 *
 * Both times are halved together until the products fit in 64 bits: the
 * ratio is what counts, and its error stays below one part in 2^40.
 *
 * Return: @cpu_ns / (@elapsed_ns * @ncpu) * GM_PPM, at most GM_PPM; 0
 * before any time has passed.
 */
u64 gm_gc_cpu_ppm(u64 cpu_ns, u64 elapsed_ns, unsigned int ncpu)
{
	u64 denom;

	ncpu = max(ncpu, 1U);
	/* GM_PPM < 2^20 and ncpu < 2^14: 2^43 * 2^20 and 2^49 * 2^14 fit. */
	while (cpu_ns >= 1ULL << 43 || elapsed_ns >= 1ULL << 49) {
		cpu_ns >>= 1;
		elapsed_ns >>= 1;
	}
	denom = elapsed_ns * min(ncpu, 1U << 14);
	if (!denom)
		return 0;
	return min_t(u64, cpu_ns * GM_PPM / denom, GM_PPM);
}

/*
 * The cycle's pause goes into Go's rings at (NumGC - 1) % 256, with its
 * end in real time; GCCPUFraction is recomputed as Go does at the end
 * of each cycle (gcMarkTermination), from the work it counts: sweep
 * termination, mark and mark termination, not the sweep.
 */
static void record_cycle(struct gm_heap *h, const struct gm_gc_cycle *c, u64 end)
{
	unsigned int slot = (c->num - 1) % GM_PAUSE_RING;
	u64 real = gm_real_ns();

	gm_mutex_lock(&h->lock);
	h->gc.ring[c->num % GM_GC_RING] = *c;
	h->gc.last_gc_ns = end;
	h->gc.last_gc_unix_ns = real;
	h->gc.pause_total_ns += c->pause_ns;
	h->gc.pause_ns[slot] = c->pause_ns;
	h->gc.pause_end[slot] = real;
	h->gc.cycle_cpu_ns += c->phase_ns[GM_PHASE_SWEEP_TERM] + c->phase_ns[GM_PHASE_MARK] +
			      c->phase_ns[GM_PHASE_MARK_TERM];
	h->gc.cpu_ppm = gm_gc_cpu_ppm(h->gc.cycle_cpu_ns, end - h->gc.created_ns,
				      gm_num_cpus());
	gm_mutex_unlock(&h->lock);
	gm_atomic64_add(&h->gc.cpu_ns, c->pause_ns);
}

/* Mark termination: the pacer, then sweepgen += 2 (Go's gcMarkTermination). */
static void mark_termination(struct gm_heap *h, struct gm_gc_cycle *c)
{
	gm_mutex_lock(&h->lock);
	gm_pacer_end_mark(h, c->mark.marked_bytes);
	WRITE_ONCE(h->sweepgen, h->sweepgen + 2);
	c->num = ++h->gc.numgc;
	if (c->forced)
		h->gc.numforced++;
	c->heap_goal = h->gc.heap_goal;
	gm_mutex_unlock(&h->lock);
}

/**
 * gm_heap_gc() - run one GC cycle (Go's gcStart ... gcSweep)
 * @h: the heap; the caller has stopped its world (see the file comment)
 * @forced: runtime.GC: sweep the whole heap before returning; otherwise
 *	the sweep is left to allocations and the background sweeper
 * @out: filled in with the cycle's statistics
 *
 * May sleep.
 *
 * Return: 0, or -EINTR if the calling task was killed during the mark
 * (the heap is then swept and unchanged otherwise: no cycle happened).
 * Memory the mark cannot get makes it slower (it rescans), never fail.
 */
int gm_heap_gc(struct gm_heap *h, bool forced, struct gm_gc_cycle *out)
{
	struct gm_gc_cycle c = { .forced = forced };
	u64 t[GM_NUM_PHASES + 1], freed_objs, freed_bytes;
	int i, ret;

	gm_might_sleep();
	t[0] = gm_now_ns();
	c.start_ns = t[0] - h->gc.created_ns;
	c.heap_before = gm_heap_live_exact(h);
	/* Kept spans go too: they must not live through a mark. */
	gm_heap_flush_caches(h);
	gm_sweep_finish(h);
	t[1] = gm_now_ns();
	ret = gm_mark_heap(h, NULL, 0, 0, &c.mark);
	if (ret)
		return ret;
	c.root_bytes = c.mark.root_bytes;
	t[2] = gm_now_ns();
	c.heap_after = gm_pacer_live(h);
	c.heap_marked = c.mark.marked_bytes;
	mark_termination(h, &c);
	t[3] = gm_now_ns();
	freed_objs = gm_gc_counter_read(&h->gc, GM_GC_FREED_OBJECTS);
	freed_bytes = gm_gc_counter_read(&h->gc, GM_GC_FREED_BYTES);
	if (forced)
		gm_sweep_finish(h);
	c.freed_objects = gm_gc_counter_read(&h->gc, GM_GC_FREED_OBJECTS) - freed_objs;
	c.freed_bytes = gm_gc_counter_read(&h->gc, GM_GC_FREED_BYTES) - freed_bytes;
	t[4] = gm_now_ns();
	for (i = 0; i < GM_NUM_PHASES; i++)
		c.phase_ns[i] = t[i + 1] - t[i];
	c.pause_ns = t[4] - t[0];
	record_cycle(h, &c, t[4]);
	*out = c;
	return 0;
}

/* === statistics ========================================================= */

/**
 * gm_heap_read_gc_info() - the collector's numbers
 * @h: the heap
 * @gi: filled in
 */
void gm_heap_read_gc_info(struct gm_heap *h, struct gm_gc_info *gi)
{
	gm_mutex_lock(&h->lock);
	gi->numgc = h->gc.numgc;
	gi->numforced = h->gc.numforced;
	gi->next_gc = h->gc.heap_goal;
	gi->last_gc_ns = h->gc.last_gc_ns;
	gi->last_gc_unix_ns = h->gc.last_gc_unix_ns;
	gi->pause_total_ns = h->gc.pause_total_ns;
	gi->gc_cpu_ppm = h->gc.cpu_ppm;
	gi->heap_marked = h->gc.heap_marked;
	gi->gogc = h->gc.gogc;
	gi->memory_limit = h->gc.memory_limit;
	gm_mutex_unlock(&h->lock);
	gi->cpu_ns = gm_atomic64_read(&h->gc.cpu_ns);
	gi->heap_live = gm_heap_live_exact(h);
	gi->swept_pages = gm_gc_counter_read(&h->gc, GM_GC_SWEPT_PAGES);
	gi->bg_scavenged = gm_gc_counter_read(&h->gc, GM_GC_SCAVENGED_BG_BYTES);
}

/**
 * gm_heap_read_pauses() - Go's PauseNs and PauseEnd rings
 * @h: the heap
 * @pause_ns: GM_PAUSE_RING entries, filled in: cycle n's pause is at
 *	(n - 1) % GM_PAUSE_RING, the latest at (NumGC + 255) % 256
 * @pause_end: GM_PAUSE_RING entries: when each pause ended, in ns since
 *	the Unix epoch; 0 for cycles that have not happened
 *
 * Both rings and the count are read together, under the heap lock.
 *
 * Return: the number of cycles recorded (NumGC as of the rings).
 */
u64 gm_heap_read_pauses(struct gm_heap *h, u64 *pause_ns, u64 *pause_end)
{
	u64 n;

	gm_mutex_lock(&h->lock);
	memcpy(pause_ns, h->gc.pause_ns, sizeof(h->gc.pause_ns));
	memcpy(pause_end, h->gc.pause_end, sizeof(h->gc.pause_end));
	n = h->gc.numgc;
	gm_mutex_unlock(&h->lock);
	return n;
}

/**
 * gm_heap_last_cycle() - the statistics of the last cycle
 * @h: the heap
 * @c: filled in
 *
 * Return: false if no cycle ran yet.
 */
bool gm_heap_last_cycle(struct gm_heap *h, struct gm_gc_cycle *c)
{
	bool any;

	gm_mutex_lock(&h->lock);
	any = h->gc.numgc;
	if (any)
		*c = h->gc.ring[h->gc.numgc % GM_GC_RING];
	gm_mutex_unlock(&h->lock);
	return any;
}

/* === gctrace ============================================================ */

/*
 * Milliseconds as gctrace prints them: whole above 10 ms, else two
 * significant digits with at most three decimals (0.011, 0.32, 3.2).
 */
static void fmt_ms(char *buf, size_t len, u64 ns)
{
	u64 x = ns / 1000, pow = 1000;
	int dec = 3;

	if (ns >= 10000000) {
		snprintf(buf, len, "%llu", (unsigned long long)(ns / 1000000));
		return;
	}
	while (x >= 100) {
		x /= 10;
		pow /= 10;
		dec--;
	}
	if (!x)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%llu.%0*llu", (unsigned long long)(x / pow), dec,
			 (unsigned long long)(x % pow));
}

#define MB(x)	((unsigned long long)((x) >> 20))

/**
 * gm_gc_trace_line() - a cycle in the format of Go's GODEBUG=gctrace=1
 * @h: the heap
 * @c: the cycle
 * @buf: where the line goes, without a newline
 * @len: bytes at @buf
 *
 * "gc N @T s P%: clock phases, cpu phases, before->after->live MB, goal,
 * stacks, globals, CPUs". The mark runs on one CPU with the world
 * stopped, so its CPU time is its wall time, counted as background mark
 * work (no assists, no idle marking); globals are the bytes of the root
 * ranges scanned (root objects are heap objects, counted in the heap).
 *
 * Return: the length of the line.
 */
int gm_gc_trace_line(struct gm_heap *h, const struct gm_gc_cycle *c, char *buf, size_t len)
{
	char st[16], mk[16], mt[16];
	u64 elapsed = gm_now_ns() - h->gc.created_ns;
	u64 cpu = gm_atomic64_read(&h->gc.cpu_ns);
	unsigned int ncpu = gm_num_cpus();
	u64 pct = elapsed ? cpu * 100 / elapsed / ncpu : 0;
	u64 at = c->start_ns;

	fmt_ms(st, sizeof(st), c->phase_ns[GM_PHASE_SWEEP_TERM]);
	fmt_ms(mk, sizeof(mk), c->phase_ns[GM_PHASE_MARK]);
	fmt_ms(mt, sizeof(mt), c->phase_ns[GM_PHASE_MARK_TERM]);
	return snprintf(buf, len,
			"gc %llu @%llu.%03llus %llu%%: %s+%s+%s ms clock, %s+0/%s/0+%s ms cpu, %llu->%llu->%llu MB, %llu MB goal, 0 MB stacks, %llu MB globals, %u P%s",
			(unsigned long long)c->num, (unsigned long long)(at / 1000000000),
			(unsigned long long)(at / 1000000 % 1000), (unsigned long long)pct,
			st, mk, mt, st, mk, mt, MB(c->heap_before), MB(c->heap_after),
			MB(c->heap_marked), MB(c->heap_goal), MB(c->mark.globals_bytes), ncpu,
			c->forced ? " (forced)" : "");
}

/* === debugfs ============================================================ */

static void print_u64(struct gm_printer *p, const char *name, u64 v)
{
	char line[80];

	if (v == GM_NO_LIMIT)
		snprintf(line, sizeof(line), "%-18s none", name);
	else
		snprintf(line, sizeof(line), "%-18s %llu", name, (unsigned long long)v);
	p->line(p, line);
}

/* debugfs names of enum gm_gc_counter, as Go's MemStats would spell them. */
static const char *const gm_gc_counter_names[] = {
	[GM_GC_SWEPT_PAGES]		= "SweptPages",
	[GM_GC_SWEPT_BG_PAGES]		= "SweptBgPages",
	[GM_GC_SWEPT_LAZY_PAGES]	= "SweptLazyPages",
	[GM_GC_FREED_OBJECTS]		= "SweepFreedObjects",
	[GM_GC_FREED_BYTES]		= "SweepFreedBytes",
	[GM_GC_FREED_SPANS]		= "SweepFreedSpans",
	[GM_GC_SCAVENGED_BG_BYTES]	= "ScavengedBgBytes",
	[GM_GC_SCAVENGED_LIMIT_BYTES]	= "ScavengedLimitBytes",
	[GM_GC_SCAVENGE_CALLS]		= "ScavengeCalls",
	[GM_GC_SCAVENGE_PAGES]		= "ScavengePages",
	[GM_GC_KEPT_RELEASED_SPANS]	= "KeptSpansReleased",
	[GM_GC_NOSLEEP_MISSES]		= "NosleepMisses",
	[GM_GC_SPARE_SPANS]		= "SpareSpans",
	[GM_GC_DEFERRED_SPANS]		= "DeferredSpans",
	[GM_GC_FREE_BATCHES]		= "FreeBatches",
};
static_assert(ARRAY_SIZE(gm_gc_counter_names) == GM_GC_NUM_COUNTERS,
	      "a name for every counter");

/* Every counter, one "Name value" a line, in the enum's order. */
static void print_counters(struct gm_heap *h, struct gm_printer *p)
{
	int i;

	for (i = 0; i < GM_GC_NUM_COUNTERS; i++)
		print_u64(p, gm_gc_counter_names[i], gm_gc_counter_read(&h->gc, i));
}

static void print_ring(struct gm_heap *h, struct gm_printer *p)
{
	struct gm_gc_cycle *ring = gm_zalloc(sizeof(h->gc.ring));
	char line[320];
	u64 n, i;

	if (!ring)
		return;
	gm_mutex_lock(&h->lock);
	memcpy(ring, h->gc.ring, sizeof(h->gc.ring));
	n = h->gc.numgc;
	gm_mutex_unlock(&h->lock);
	p->line(p, "cycle forced start_ns sweepterm_ns mark_ns markterm_ns sweep_ns pause_ns heap_before heap_after heap_marked heap_goal freed_objects marked_objects queue_peak overflows");
	for (i = n > GM_GC_RING ? n - GM_GC_RING + 1 : 1; i <= n; i++) {
		const struct gm_gc_cycle *c = &ring[i % GM_GC_RING];

		snprintf(line, sizeof(line),
			 "%llu %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			 (unsigned long long)c->num, c->forced,
			 (unsigned long long)c->start_ns,
			 (unsigned long long)c->phase_ns[GM_PHASE_SWEEP_TERM],
			 (unsigned long long)c->phase_ns[GM_PHASE_MARK],
			 (unsigned long long)c->phase_ns[GM_PHASE_MARK_TERM],
			 (unsigned long long)c->phase_ns[GM_PHASE_SWEEP],
			 (unsigned long long)c->pause_ns,
			 (unsigned long long)c->heap_before, (unsigned long long)c->heap_after,
			 (unsigned long long)c->heap_marked, (unsigned long long)c->heap_goal,
			 (unsigned long long)c->freed_objects,
			 (unsigned long long)c->mark.marked,
			 (unsigned long long)c->mark.queue_peak,
			 (unsigned long long)c->mark.overflows);
		p->line(p, line);
	}
	gm_free(ring);
}

/**
 * gm_heap_print_gc() - print the collector's state, one "Name value" a line
 * @h: the heap
 * @p: where the lines go
 *
 * The settings and counters, the spans by sweep state, then the last
 * GM_GC_RING cycles with their phase times.
 */
void gm_heap_print_gc(struct gm_heap *h, struct gm_printer *p)
{
	struct gm_sweep_census sc;
	struct gm_gc_cycle last;
	struct gm_gc_info gi;
	char line[120];

	gm_heap_read_gc_info(h, &gi);
	print_u64(p, "NumGC", gi.numgc);
	print_u64(p, "NumForcedGC", gi.numforced);
	print_u64(p, "NextGC", gi.next_gc);
	snprintf(line, sizeof(line), "%-18s %s%d", "GOGC", gi.gogc < 0 ? "off " : "", gi.gogc);
	p->line(p, line);
	print_u64(p, "MemoryLimit", gi.memory_limit);
	print_u64(p, "HeapLive", gi.heap_live);
	print_u64(p, "HeapMarked", gi.heap_marked);
	/* Not MemStats' LastGC, which is real time: this one is monotonic. */
	print_u64(p, "LastGCMonotonic", gi.last_gc_ns);
	print_u64(p, "LastPauseNs", gm_heap_last_cycle(h, &last) ? last.pause_ns : 0);
	print_u64(p, "PauseTotalNs", gi.pause_total_ns);
	print_u64(p, "GCCPUNs", gi.cpu_ns);
	print_u64(p, "Roots", READ_ONCE(h->gc.nroots));
	print_counters(h, p);
	gm_sweep_take_census(h, &sc);
	snprintf(line, sizeof(line), "spans unswept %llu sweeping %llu swept %llu cached %llu bad %llu",
		 (unsigned long long)sc.unswept, (unsigned long long)sc.sweeping,
		 (unsigned long long)sc.swept, (unsigned long long)sc.cached,
		 (unsigned long long)sc.bad);
	p->line(p, line);
	print_ring(h, p);
}
