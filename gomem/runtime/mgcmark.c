// SPDX-License-Identifier: GPL-2.0
/*
 * The mark phase, after Go's mgcmark.go: starting from root ranges, every
 * word that points into a live object of the heap (interior pointers
 * count, as they do in Go) marks that object in its span's gcmark bits,
 * and objects of scan span classes are scanned in turn. Noscan objects
 * are marked but never scanned: that is what the span class split is for.
 *
 * gomem has no pointer maps, so scanning is conservative: any word is a
 * candidate pointer, and only an allocated slot can be marked.
 *
 * What keeps a scanned word cheap (Go's scanobject and findObject,
 * inlined here):
 *  - a word outside [lowest arena, end of highest arena] is dropped with
 *    one compare, before any lookup: most non-pointers (NULLs, small
 *    integers, text) stop there;
 *  - the marker starts with every free slot's mark bit set (update_marks()),
 *    so "is it allocated and unmarked" is one bit test; the free slots'
 *    bits are cleared again when the mark ends;
 *  - a gray object is queued with its size class, so scanning it needs
 *    no second span lookup;
 *  - objects are read in place: heaps whose memory the kernel reads
 *    directly are scanned where they lie, and /dev/gomem heaps a page at
 *    a time through the page source's @map (kmap_local) rather than
 *    copied object by object;
 *  - objects popped from the queue pass through a short FIFO that
 *    prefetches them before they are scanned.
 *
 * Gray objects wait in a queue of 4 KiB chunks (Go's workbufs) that
 * grows as the graph widens. Its bound is one entry per slot of the
 * heap's scan spans, which the queue can never exceed (an object is
 * queued once, when it is marked), so a wide graph never forces a rescan.
 * The chunks are charged to the heap's owner like the rest of its
 * metadata. Only when a chunk cannot be allocated (or a caller asked for
 * a smaller bound) does the queue overflow: the objects that did not fit
 * are already marked, and the mark rescans every marked scan object of
 * the heap until a pass overflows no more.
 *
 * The caller stops the world: nothing allocates, frees or writes
 * pointers into the heap meanwhile, and the per-CPU caches are flushed.
 */
#include "malloc.h"

/* Large objects are scanned in pieces of this many bytes (Go's maxObletBytes). */
#define GM_OBLET_BYTES	(128 * 1024)

/* Bytes scanned between checks for a reschedule and a fatal signal. */
#define GM_SCAN_YIELD_BYTES	(256 * 1024)

/* Objects popped ahead of their scan, to hide the latency of loading them. */
#define GM_PREFETCH_DEPTH	8

/*
 * A gray queue entry: the object's address bits (below GM_ADDR_BITS)
 * shifted over its size class, 0 for a large object.
 */
#define GRAY_CLASS_BITS	8
static_assert(GM_ADDR_BITS + GRAY_CLASS_BITS <= 64);
static_assert(GM_NUM_SIZE_CLASSES <= (1 << GRAY_CLASS_BITS));

/* The gray entry of slot @idx of @s. */
static __always_inline uintptr_t gray_entry(const struct gm_mspan *s, u32 idx)
{
	uintptr_t p = s->start + (uintptr_t)idx * s->elemsize;

	return (p & GM_ADDR_MASK) << GRAY_CLASS_BITS | (s->spanclass >> 1);
}

/**
 * struct gm_workbuf - a chunk of the gray queue (Go's workbuf)
 * @next: the chunk under this one, or the next spare
 * @n: entries used
 * @obj: the entries
 */
struct gm_workbuf {
	struct gm_workbuf *next;
	size_t n;
	uintptr_t obj[(GM_WORKBUF_BYTES - 2 * sizeof(size_t)) / sizeof(uintptr_t)];
};
static_assert(sizeof(struct gm_workbuf) == GM_WORKBUF_BYTES);

struct gm_gcwork {
	struct gm_heap *h;
	/* Every heap address lies in [lo, lo + span]. */
	uintptr_t lo;
	uintptr_t span;
	uintptr_t base;
	/* The span grey() found last (Boehm's header cache): neighbours share it. */
	struct gm_mspan *last;
	uintptr_t last_start;
	size_t last_len;
	struct gm_workbuf *top;
	struct gm_workbuf *spare;
	size_t queued;
	size_t max_queued;
	size_t bufs;
	bool overflow;
	bool aborted;
	size_t since_yield;
	/* Counted here, not in *st: one pointer less on the hot path. */
	u64 marked;
	u64 marked_bytes;
	/* The FIFO of popped objects (entries) waiting for their prefetch. */
	uintptr_t ahead[GM_PREFETCH_DEPTH];
	unsigned int ahead_head;
	unsigned int ahead_n;
	/* What src->map mapped last, for heaps that have one. */
	const u8 *map_addr;
	uintptr_t map_start;
	size_t map_len;
	void *map_cookie;
	struct gm_mark_stats *st;
};

/* === the gray queue ===================================================== */

static bool queue_grow(struct gm_gcwork *w)
{
	struct gm_workbuf *b = w->spare;

	if (b) {
		w->spare = b->next;
	} else {
		b = gm_zalloc(sizeof(*b));
		if (!b)
			return false;
		gm_heap_meta_add(w->h, GM_META_GC, sizeof(*b));
		w->bufs++;
		w->st->queue_bufs = max_t(u64, w->st->queue_bufs, w->bufs);
	}
	b->n = 0;
	b->next = w->top;
	w->top = b;
	return true;
}

/* Queue a marked object; on failure it stays marked and the heap is rescanned. */
static __always_inline void queue_push(struct gm_gcwork *w, uintptr_t entry)
{
	struct gm_workbuf *b = w->top;

	if (w->queued == w->max_queued ||
	    (unlikely(!b || b->n == ARRAY_SIZE(b->obj)) && !queue_grow(w))) {
		w->overflow = true;
		return;
	}
	b = w->top;
	b->obj[b->n++] = entry;
	if (++w->queued > w->st->queue_peak)
		w->st->queue_peak = w->queued;
}

static bool queue_pop(struct gm_gcwork *w, uintptr_t *entry)
{
	struct gm_workbuf *b = w->top;

	if (b && !b->n) {
		/* Keep the empty chunk: the next push would want it back. */
		w->top = b->next;
		b->next = w->spare;
		w->spare = b;
		b = w->top;
	}
	if (!b || !b->n)
		return false;
	*entry = b->obj[--b->n];
	w->queued--;
	return true;
}

static void bufs_free(struct gm_workbuf *b)
{
	struct gm_workbuf *next;

	for (; b; b = next) {
		next = b->next;
		gm_free(b);
	}
}

static void queue_free(struct gm_gcwork *w)
{
	bufs_free(w->top);
	bufs_free(w->spare);
}

/* One entry per slot of a scan span: the queue can never need more. */
static size_t queue_bound(struct gm_heap *h)
{
	struct gm_mspan *s;
	size_t n = 0;

	for (s = h->spans_all; s; s = s->allnext)
		if (s->state == GM_SPAN_IN_USE && !(s->spanclass & 1))
			n += s->nelems;
	return n;
}

/* === scanning =========================================================== */

/*
 * Roots and objects can be gigabytes (a program may register 1024 ranges
 * of 1 GiB, or allocate a 64 GiB root): yield now and then, and give up
 * when the task the mark runs for is being killed, so that neither the
 * CPU nor the task is held for the length of the scan.
 */
static void scan_yield(struct gm_gcwork *w, size_t bytes)
{
	w->since_yield += bytes;
	if (w->since_yield < GM_SCAN_YIELD_BYTES)
		return;
	w->since_yield = 0;
	gm_cond_resched();
	if (gm_fatal_signal_pending())
		w->aborted = true;
}

/*
 * Go's greyobject behind an inlined findObject: mark the object holding
 * @p, if @p points into an allocated, unmarked slot, and queue it for
 * scanning if it may hold pointers. The caller has checked the range.
 */
static __always_inline void grey(struct gm_gcwork *w, uintptr_t p)
{
	struct gm_heap_arena *ha;
	struct gm_mspan *s = w->last;
	u64 *word, bit;
	u32 idx;

	if (p - w->last_start >= w->last_len) {
		ha = gm_arena_of(&w->h->arenas, p);
		if (!ha)
			return;
		s = ha->spans[(p - ha->base) >> GM_PAGE_SHIFT];
		/* Entries of free pages may be stale. */
		if (!s || s->state != GM_SPAN_IN_USE || p < s->start ||
		    p - s->start >= s->npages * GM_PAGE_SIZE)
			return;
		w->last = s;
		w->last_start = s->start;
		w->last_len = s->npages * GM_PAGE_SIZE;
	}
	idx = gm_span_obj_index(s, p);
	if (idx >= s->nelems)
		return;
	/* Free slots were set "marked" by update_marks(). */
	word = &s->gcmark_bits[idx / 64];
	bit = 1ULL << (idx % 64);
	if (*word & bit)
		return;
	*word |= bit;
	w->marked++;
	w->marked_bytes += s->elemsize;
	if (s->spanclass & 1)
		return;
	queue_push(w, gray_entry(s, idx));
}

static __always_inline void scan_words(struct gm_gcwork *w, const uintptr_t *p, size_t n)
{
	uintptr_t lo = w->lo, span = w->span;
	size_t i;

	for (i = 0; i < n; i++) {
		uintptr_t v = p[i];

		if (v - lo <= span)
			grey(w, v);
	}
}

/* Heaps with a @map: keep the last page mapped until another is needed. */
static void unmap_page(struct gm_gcwork *w)
{
	if (!w->map_addr)
		return;
	w->h->src->unmap(w->h->src_ctx, w->map_addr, w->map_cookie);
	w->map_addr = NULL;
}

/*
 * Where to read @addr in place, and how many bytes from there; NULL and
 * the bytes to copy instead if the page source does not map @addr.
 */
static const u8 *map_addr(struct gm_gcwork *w, uintptr_t addr, size_t *len)
{
	if (!w->map_addr || addr - w->map_start >= w->map_len) {
		unmap_page(w);
		w->map_addr = w->h->src->map(w->h->src_ctx, addr, &w->map_len, &w->map_cookie);
		if (!w->map_addr) {
			*len = w->map_len;
			return NULL;
		}
		w->map_start = addr;
	}
	*len = w->map_len - (addr - w->map_start);
	return w->map_addr + (addr - w->map_start);
}

/* Memory the page source does not map (a user heap's roots): copy it. */
static void scan_copied(struct gm_gcwork *w, uintptr_t addr, size_t n)
{
	uintptr_t word[16];
	size_t k;

	while (n) {
		k = min_t(size_t, n, ARRAY_SIZE(word));
		gm_mheap_read(w->h, addr, word, k * sizeof(uintptr_t));
		scan_words(w, word, k);
		addr += k * sizeof(uintptr_t);
		n -= k;
	}
}

/* [addr, addr + n words) through the page source's mappings, a page at a time. */
static void scan_mapped(struct gm_gcwork *w, uintptr_t addr, size_t n)
{
	const u8 *kaddr;
	size_t k, len;

	while (n) {
		kaddr = map_addr(w, addr, &len);
		k = min_t(size_t, n, len / sizeof(uintptr_t));
		if (kaddr)
			scan_words(w, (const uintptr_t *)kaddr, k);
		else
			scan_copied(w, addr, k);
		addr += k * sizeof(uintptr_t);
		n -= k;
	}
}

/* Go's scanblock: every aligned word of [addr, addr + len) is a candidate. */
static void scan_range(struct gm_gcwork *w, uintptr_t addr, size_t len)
{
	uintptr_t end = addr + len;
	size_t n;

	addr = ALIGN(addr, sizeof(uintptr_t));
	while (addr + sizeof(uintptr_t) <= end && !w->aborted) {
		n = min_t(size_t, GM_SCAN_YIELD_BYTES, end - addr) / sizeof(uintptr_t);
		if (w->h->src->map)
			scan_mapped(w, addr, n);
		else if (w->h->src->read)
			scan_copied(w, addr, n);
		else
			scan_words(w, (const uintptr_t *)addr, n);
		w->st->scanned_bytes += n * sizeof(uintptr_t);
		addr += n * sizeof(uintptr_t);
		if (w->since_yield + n * sizeof(uintptr_t) >= GM_SCAN_YIELD_BYTES)
			unmap_page(w);
		scan_yield(w, n * sizeof(uintptr_t));
	}
}

static __always_inline uintptr_t entry_addr(struct gm_gcwork *w, uintptr_t entry)
{
	return w->base | entry >> GRAY_CLASS_BITS;
}

/* Go's scanobject, with large objects in oblets. */
static void scan_object(struct gm_gcwork *w, uintptr_t entry)
{
	uintptr_t base = entry_addr(w, entry);
	u32 sizeclass = entry & ((1 << GRAY_CLASS_BITS) - 1);
	struct gm_mspan *s;
	size_t size, off;

	if (likely(sizeclass)) {
		size = gm_class_to_size[sizeclass];
		if (!w->h->src->map && !w->h->src->read) {
			scan_words(w, (const uintptr_t *)base, size / sizeof(uintptr_t));
			w->st->scanned_bytes += size;
			scan_yield(w, size);
			return;
		}
		scan_range(w, base, size);
		return;
	}
	/* Large objects are rare: look their size up. */
	s = gm_span_of(&w->h->arenas, base);
	if (!s)
		return;
	for (off = 0; off < s->elemsize; off += GM_OBLET_BYTES)
		scan_range(w, base + off, min_t(size_t, GM_OBLET_BYTES, s->elemsize - off));
}

/*
 * Go's gcDrain: pop, prefetch, and scan what was popped
 * GM_PREFETCH_DEPTH objects earlier, so that its memory has arrived.
 */
static void drain(struct gm_gcwork *w)
{
	uintptr_t e;
	unsigned int slot;

	while (!w->aborted) {
		if (queue_pop(w, &e)) {
			gm_prefetch((const void *)entry_addr(w, e));
			slot = (w->ahead_head + w->ahead_n) % GM_PREFETCH_DEPTH;
			w->ahead[slot] = e;
			if (++w->ahead_n < GM_PREFETCH_DEPTH)
				continue;
		} else if (!w->ahead_n) {
			break;
		}
		e = w->ahead[w->ahead_head];
		w->ahead_head = (w->ahead_head + 1) % GM_PREFETCH_DEPTH;
		w->ahead_n--;
		scan_object(w, e);
	}
}

/* === mark bits =========================================================== */

enum marks_step {
	MARKS_PREPARE,	/* free slots start out "marked": grey() needs one bit test */
	MARKS_FINISH,	/* marks stay on reachable allocated slots only */
	MARKS_CLEAR,	/* an aborted mark leaves none */
};

static void update_marks(struct gm_heap *h, enum marks_step step)
{
	struct gm_mspan *s;
	u64 alloc;
	u32 j;

	gm_mutex_assert_held(&h->lock);
	for (s = h->spans_all; s; s = s->allnext) {
		if (s->state != GM_SPAN_IN_USE)
			continue;
		for (j = 0; j < s->bitmap_words; j++) {
			alloc = step == MARKS_CLEAR ? 0 : gm_span_allocated_word(s, j);
			s->gcmark_bits[j] = step == MARKS_PREPARE ? ~alloc : s->gcmark_bits[j] & alloc;
		}
	}
}

/* After an overflow: scan every marked object of a scan span again. */
static void rescan_marked(struct gm_gcwork *w)
{
	struct gm_mspan *s;
	u64 bits;
	u32 j, idx;

	for (s = w->h->spans_all; s && !w->aborted; s = s->allnext) {
		if (s->state != GM_SPAN_IN_USE || (s->spanclass & 1))
			continue;
		for (j = 0; j < s->bitmap_words && !w->aborted; j++) {
			bits = s->gcmark_bits[j] & gm_span_allocated_word(s, j);
			while (bits && !w->aborted) {
				idx = j * 64 + gm_ctz64(bits);
				bits &= bits - 1;
				scan_object(w, gray_entry(s, idx));
				drain(w);
			}
		}
	}
}

/*
 * The registered roots: ranges (globals, stacks) are scanned; root
 * objects are marked, and scanned in turn unless they are noscan.
 */
static void mark_registered_roots(struct gm_gcwork *w)
{
	struct gm_heap *h = w->h;
	struct gm_mspan *s;
	size_t i;
	u32 j;

	gm_mutex_assert_held(&h->lock);
	for (i = 0; i < h->gc.nroots && !w->aborted; i++) {
		scan_range(w, h->gc.roots[i].addr, h->gc.roots[i].len);
		w->st->root_bytes += h->gc.roots[i].len;
		w->st->globals_bytes += h->gc.roots[i].len;
		drain(w);
	}
	for (s = h->spans_all; s && !w->aborted; s = s->allnext) {
		if (s->state != GM_SPAN_IN_USE)
			continue;
		for (j = 0; j < s->bitmap_words; j++) {
			u64 bits = s->root_bits[j];

			while (bits) {
				u32 idx = j * 64 + gm_ctz64(bits);

				bits &= bits - 1;
				grey(w, s->start + (uintptr_t)idx * s->elemsize);
				w->st->root_bytes += s->elemsize;
				drain(w);
			}
		}
	}
}

static void mark_all(struct gm_gcwork *w, const struct gm_root *roots, size_t nroots)
{
	size_t i;

	mark_registered_roots(w);
	for (i = 0; i < nroots && !w->aborted; i++) {
		scan_range(w, roots[i].addr, roots[i].len);
		drain(w);
	}
	while (w->overflow && !w->aborted) {
		w->overflow = false;
		w->st->overflows++;
		rescan_marked(w);
	}
	unmap_page(w);
}

/**
 * gm_mark_heap() - mark every object reachable from the roots (Go's gcMark)
 * @h: the heap; stopped: its caches flushed, nothing running in it
 * @roots: ranges of memory to scan, anywhere (not only in the heap)
 * @nroots: number of @roots
 * @queue_len: most entries the gray queue may hold; 0 for the heap's own
 *	bound, one per slot of its scan spans, which never overflows
 * @st: filled in with what the mark did
 *
 * The heap's registered roots (gm_heap_add_root(), root objects) are
 * scanned too. Afterwards an in-use span's gcmark bits say which of its
 * objects are reachable. Roots are read in place or through the page
 * source, so a root may lie in the heap's memory itself (an object the
 * program holds). The gray queue (the only memory the mark allocates)
 * grows in GM_WORKBUF_BYTES chunks and is freed before returning.
 *
 * Return: 0, or -EINTR if the calling task was killed meanwhile: then no
 * mark bit is set (the mark is not valid and must not be swept by).
 */
int gm_mark_heap(struct gm_heap *h, const struct gm_root *roots, size_t nroots,
		 size_t queue_len, struct gm_mark_stats *st)
{
	struct gm_gcwork w = { .h = h, .st = st };

	memset(st, 0, sizeof(*st));
	gm_mutex_lock(&h->lock);
	w.lo = h->arenas.lo;
	w.span = h->arenas.narenas ? h->arenas.hi - h->arenas.lo : 0;
	w.base = h->arenas.base;
	w.max_queued = queue_len ?: queue_bound(h);
	update_marks(h, MARKS_PREPARE);
	/* Without arenas lo = span = 0: only NULL passes the range check. */
	mark_all(&w, roots, nroots);
	st->marked = w.marked;
	st->marked_bytes = w.marked_bytes;
	update_marks(h, w.aborted ? MARKS_CLEAR : MARKS_FINISH);
	/*
	 * The queue is freed as soon as the lock is dropped: GCSys counts it
	 * only while the mark runs (Go keeps its workbufs a little longer).
	 */
	gm_heap_meta_add(h, GM_META_GC, -(s64)(w.bufs * sizeof(struct gm_workbuf)));
	gm_mutex_unlock(&h->lock);
	queue_free(&w);
	return w.aborted ? -EINTR : 0;
}

/**
 * gm_mark_object_marked() - whether the last mark found an object reachable
 * @h: the heap
 * @p: any address inside the object
 *
 * Return: true if @p is in a live object whose mark bit is set.
 */
bool gm_mark_object_marked(struct gm_heap *h, const void *p)
{
	struct gm_mspan *s;
	u32 idx;

	if (!gm_find_object(&h->arenas, (uintptr_t)p, &s, &idx))
		return false;
	return READ_ONCE(s->state) == GM_SPAN_IN_USE && gm_span_slot_allocated(s, idx) &&
	       gm_bit_test(s->gcmark_bits, idx);
}
