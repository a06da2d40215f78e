// SPDX-License-Identifier: GPL-2.0
/*
 * Heap profiles, after Go's mprof.go and the sampling of its malloc.go.
 *
 * Sampling: each cache slot counts down the bytes to its next sample
 * (gm_mprof_tick(), inline on the allocation paths); when it runs out the
 * allocation is sampled and a new interval is drawn from an exponential
 * distribution with the rate as its mean, as Go's nextSample does, so
 * that every byte allocated has the same chance 1/rate of being the one
 * sampled whatever the allocation pattern.
 *
 * Buckets: a sampled allocation's stack (from the platform,
 * gm_stack_save()) is hashed to a bucket that counts the allocations and
 * frees of its samples, unscaled. Frees are found through a table of the
 * live sampled objects (address -> bucket, size), where Go hangs a
 * "special" record on the span; a span counts its sampled objects
 * (@nsampled) so that frees of other spans' objects pay one load and a
 * branch. The sweeper reports its dead objects per span
 * (gm_mprof_free_span()).
 *
 * Go counts frees only once a GC cycle has ended, so that a profile is a
 * picture of the heap as of the last mark; gomem counts them at once,
 * explicit frees being its own addition.
 *
 * Memory: buckets and the object table are allocated only where the
 * caller may sleep, outside the lock; a sample that needs memory where
 * none can be allocated, or beyond the bounds of mprof.h, is dropped and
 * counted.
 */
#include "malloc.h"

/* === data =============================================================== */

/**
 * struct gm_mprof_bucket - one stack's counts
 * @next: the next bucket of its hash chain
 * @hash: the stack's hash
 * @depth: frames in @pcs
 * @allocs: sampled allocations
 * @frees: of those, freed
 * @alloc_bytes: their bytes
 * @free_bytes: bytes of the freed ones
 * @pcs: the stack
 */
struct gm_mprof_bucket {
	struct gm_mprof_bucket *next;
	u32 hash;
	u32 depth;
	u64 allocs, frees, alloc_bytes, free_bytes;
	uintptr_t pcs[];
};

/**
 * struct gm_mprof_obj - a live sampled object
 * @addr: its address; 0: the entry is free
 * @b: its bucket
 * @size: the bytes its allocation counted
 */
struct gm_mprof_obj {
	uintptr_t addr;
	struct gm_mprof_bucket *b;
	u64 size;
};

/* The object table's first size, and its fill limit (3/4). */
#define GM_MPROF_OBJS_MIN	64
#define objs_full(n, cap)	((u64)(n) * 4 >= (u64)(cap) * 3)

/* ln(2) in 16.16 fixed point. */
#define GM_LN2_Q16		45426

/* === sampling intervals ================================================= */

/* xorshift64*: cheap and good enough to draw intervals. */
static u64 mprof_rand(u64 *state)
{
	u64 x = *state;

	if (!x)
		x = 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/*
 * log2(@x) in 16.16 fixed point, for 1 <= @x < 2^31: the integer part
 * from the top bit, each fraction bit from squaring the mantissa (kernel
 * code has no floating point).
 */
static u32 log2_q16(u64 x)
{
	u32 n = 0, frac = 0, i;
	u64 y;

	while (x >> (n + 1))
		n++;
	y = x << (30 - n);		/* the mantissa in [1, 2), Q30 */
	for (i = 0; i < 16; i++) {
		y = (y * y) >> 30;
		frac <<= 1;
		if (y >= (2ULL << 30)) {
			y >>= 1;
			frac |= 1;
		}
	}
	return n << 16 | frac;
}

/*
 * Bytes to the next sample: -ln(U) * rate with U uniform in (0, 1], from
 * 26 random bits as Go's fastexprand takes them; rate 1 samples every
 * allocation, rate 0 never (but for the recheck).
 */
static s64 next_interval(u64 rate, u64 *state)
{
	u64 r, t;

	if (!rate)
		return GM_MPROF_OFF_RECHECK;
	if (rate == 1)
		return 0;
	r = (mprof_rand(state) >> 38) + 1;
	t = ((u64)((26U << 16) - log2_q16(r)) * GM_LN2_Q16) >> 16;
	return (s64)((rate * t) >> 16);
}

/**
 * gm_mprof_cache_init() - a cache slot's first sampling interval
 * @h: the heap
 * @pc: the slot's state
 * @slot: the slot's number, which seeds its random state
 */
void gm_mprof_cache_init(struct gm_heap *h, struct gm_mprof_cache *pc, unsigned int slot)
{
	pc->rand = gm_now_ns() ^ ((u64)(slot + 1) * 0x9e3779b97f4a7c15ULL);
	pc->next_sample = next_interval(READ_ONCE(h->prof.rate), &pc->rand);
}

/**
 * gm_mprof_rearm() - a slot's interval ran out: draw the next one
 * @h: the heap
 * @pc: the slot's state, CPU pinned
 *
 * The slow half of gm_mprof_tick().
 *
 * Return: true if the allocation that ran it out is to be sampled (the
 * rate is not 0).
 */
bool gm_mprof_rearm(struct gm_heap *h, struct gm_mprof_cache *pc)
{
	u64 rate = READ_ONCE(h->prof.rate);

	gm_cpu_assert_pinned();
	pc->next_sample = next_interval(rate, &pc->rand);
	return rate != 0;
}

/* === the object table =================================================== */

static u32 obj_slot(uintptr_t addr, u32 cap)
{
	return (u32)(((u64)addr * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

/* The entry of @addr, or of the free entry where it would go. */
static struct gm_mprof_obj *obj_find(struct gm_mprof_obj *tab, u32 cap, uintptr_t addr)
{
	u32 i = obj_slot(addr, cap);

	while (tab[i].addr && tab[i].addr != addr)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/*
 * Take @e out, moving later entries of its run back (backward-shift
 * deletion), so that lookups never need tombstones.
 */
static void obj_remove(struct gm_mprof *mp, struct gm_mprof_obj *e)
{
	u32 cap = mp->objs_cap, hole = e - mp->objs, i = hole, home;

	for (;;) {
		i = (i + 1) & (cap - 1);
		if (!mp->objs[i].addr)
			break;
		home = obj_slot(mp->objs[i].addr, cap);
		/* Entry i may fill the hole unless its home lies in (hole, i]. */
		if (((i - home) & (cap - 1)) >= ((i - hole) & (cap - 1))) {
			mp->objs[hole] = mp->objs[i];
			hole = i;
		}
	}
	mp->objs[hole].addr = 0;
	mp->nobjs--;
}

/* A bigger table, allocated where the caller may sleep; NULL if none is due. */
static struct gm_mprof_obj *objs_grow_alloc(struct gm_mprof *mp, u32 *cap)
{
	u32 n = READ_ONCE(mp->objs_cap);

	if (n && !objs_full(READ_ONCE(mp->nobjs) + 1, n))
		return NULL;
	*cap = n ? n * 2 : GM_MPROF_OBJS_MIN;
	if (*cap > GM_MPROF_MAX_OBJS)
		return NULL;
	return gm_zalloc(sizeof(struct gm_mprof_obj) * *cap);
}

/* Move to @tab if it is still bigger; return the table to free. */
static struct gm_mprof_obj *objs_install(struct gm_mprof *mp, struct gm_mprof_obj *tab,
					 u32 cap)
{
	struct gm_mprof_obj *old = mp->objs;
	u32 i;

	gm_spin_assert_held(&mp->lock);
	if (!tab || cap <= mp->objs_cap)
		return tab;
	for (i = 0; i < mp->objs_cap; i++)
		if (old[i].addr)
			*obj_find(tab, cap, old[i].addr) = old[i];
	mp->meta_bytes += (u64)(cap - mp->objs_cap) * sizeof(*tab);
	mp->objs = tab;
	mp->objs_cap = cap;
	return old;
}

/* The sampled object at @p is gone: count its free in its bucket. */
static void obj_died(struct gm_mprof *mp, struct gm_mspan *s, uintptr_t p)
{
	struct gm_mprof_obj *e;

	gm_spin_assert_held(&mp->lock);
	if (!mp->objs_cap)
		return;
	e = obj_find(mp->objs, mp->objs_cap, p);
	if (!e->addr)
		return;
	e->b->frees++;
	e->b->free_bytes += e->size;
	obj_remove(mp, e);
	WRITE_ONCE(s->nsampled, s->nsampled - 1);
}

/* === buckets ============================================================ */

static u32 stack_hash(const uintptr_t *pcs, u32 depth)
{
	u64 h = 0xcbf29ce484222325ULL;
	u32 i;

	for (i = 0; i < depth; i++)
		h = (h ^ pcs[i]) * 0x100000001b3ULL;
	return (u32)(h ^ (h >> 32));
}

static struct gm_mprof_bucket **bucket_head(struct gm_mprof *mp, u32 hash)
{
	return &mp->hash[hash >> (32 - GM_MPROF_HASH_BITS)];
}

static struct gm_mprof_bucket *bucket_find(struct gm_mprof *mp, u32 hash,
					   const uintptr_t *pcs, u32 depth)
{
	struct gm_mprof_bucket *b;

	gm_spin_assert_held(&mp->lock);
	if (!mp->hash)
		return NULL;
	for (b = *bucket_head(mp, hash); b; b = b->next)
		if (b->hash == hash && b->depth == depth &&
		    !memcmp(b->pcs, pcs, depth * sizeof(*pcs)))
			return b;
	return NULL;
}

/*
 * Insert @nb (and @heads, the hash heads, if there are none yet) unless
 * another caller inserted the same stack meanwhile. Returns the bucket of
 * the stack; *@nb and *@heads are NULL if they were used.
 */
static struct gm_mprof_bucket *bucket_insert(struct gm_mprof *mp, struct gm_mprof_bucket **nb,
					     struct gm_mprof_bucket ***heads)
{
	struct gm_mprof_bucket *b = *nb, **head;

	gm_spin_assert_held(&mp->lock);
	if (!mp->hash) {
		if (!*heads)
			return NULL;
		mp->hash = *heads;
		*heads = NULL;
		mp->meta_bytes += sizeof(*mp->hash) << GM_MPROF_HASH_BITS;
	}
	head = bucket_head(mp, b->hash);
	if (mp->nbuckets >= GM_MPROF_MAX_BUCKETS)
		return NULL;
	b->next = *head;
	*head = b;
	mp->nbuckets++;
	mp->meta_bytes += sizeof(*b) + b->depth * sizeof(b->pcs[0]);
	*nb = NULL;
	return b;
}

static struct gm_mprof_bucket *bucket_alloc(const uintptr_t *pcs, u32 depth, u32 hash)
{
	struct gm_mprof_bucket *b = gm_zalloc(sizeof(*b) + depth * sizeof(*pcs));

	if (b) {
		b->hash = hash;
		b->depth = depth;
		memcpy(b->pcs, pcs, depth * sizeof(*pcs));
	}
	return b;
}

/* === sampling =========================================================== */

/*
 * Record one sample, with what the caller may have allocated: a bigger
 * object table and a new bucket. Returns false if it was dropped.
 */
static bool record(struct gm_mprof *mp, struct gm_mspan *s, uintptr_t p, size_t size,
		   const uintptr_t *pcs, u32 depth, u32 hash,
		   struct gm_mprof_bucket **nb, struct gm_mprof_bucket ***heads)
{
	struct gm_mprof_bucket *b;
	struct gm_mprof_obj *e;

	gm_spin_assert_held(&mp->lock);
	b = bucket_find(mp, hash, pcs, depth);
	if (!b && *nb)
		b = bucket_insert(mp, nb, heads);
	if (!b || !mp->objs_cap)
		return false;
	e = obj_find(mp->objs, mp->objs_cap, p);
	if (e->addr) {
		/* The address died unseen (it cannot, but a profile must not lie twice). */
		e->b->frees++;
		e->b->free_bytes += e->size;
	} else {
		if (objs_full(mp->nobjs + 1, mp->objs_cap))
			return false;
		mp->nobjs++;
		WRITE_ONCE(s->nsampled, s->nsampled + 1);
	}
	e->addr = p;
	e->b = b;
	e->size = size;
	b->allocs++;
	b->alloc_bytes += size;
	return true;
}

/**
 * gm_mprof_sample() - record a sampled allocation (Go's mProf_Malloc)
 * @h: the heap
 * @s: the object's span
 * @p: the object
 * @size: its bytes, as the sampling counted them
 * @nosleep: the caller may not sleep: only memory already there is used
 *
 * Called without the CPU pinned, after the object is allocated and
 * before the caller can see it, so its free comes after.
 */
void gm_mprof_sample(struct gm_heap *h, struct gm_mspan *s, uintptr_t p, size_t size,
		     bool nosleep)
{
	struct gm_mprof *mp = &h->prof;
	struct gm_mprof_bucket *nb = NULL, **heads = NULL;
	struct gm_mprof_obj *tab = NULL;
	bool sleep = !nosleep && gm_can_sleep();
	uintptr_t pcs[GM_PROF_DEPTH];
	u32 depth, hash, cap = 0;
	bool done;

	depth = gm_stack_save(pcs, GM_PROF_DEPTH, 1, mp->user_stacks);
	hash = stack_hash(pcs, depth);
	if (sleep)
		tab = objs_grow_alloc(mp, &cap);
	gm_spin_lock(&mp->lock);
	tab = objs_install(mp, tab, cap);
	done = record(mp, s, p, size, pcs, depth, hash, &nb, &heads);
	gm_spin_unlock(&mp->lock);
	gm_free(tab);
	if (done || !sleep)
		goto out;
	/* A new stack: its bucket is allocated unlocked, then inserted if still new. */
	nb = bucket_alloc(pcs, depth, hash);
	if (!READ_ONCE(mp->hash))
		heads = gm_zalloc(sizeof(*heads) << GM_MPROF_HASH_BITS);
	gm_spin_lock(&mp->lock);
	done = record(mp, s, p, size, pcs, depth, hash, &nb, &heads);
	gm_spin_unlock(&mp->lock);
	gm_free(nb);
	gm_free(heads);
out:
	if (!done) {
		gm_spin_lock(&mp->lock);
		mp->dropped++;
		gm_spin_unlock(&mp->lock);
	}
}

/* === frees ============================================================== */

/**
 * gm_mprof_free() - a sampled object of @s may have been freed (mProf_Free)
 * @h: the heap
 * @s: the span of @p, which has sampled objects
 * @p: the object freed
 *
 * Any context.
 */
void gm_mprof_free(struct gm_heap *h, struct gm_mspan *s, uintptr_t p)
{
	gm_spin_lock(&h->prof.lock);
	obj_died(&h->prof, s, p);
	gm_spin_unlock(&h->prof.lock);
}

/**
 * gm_mprof_free_span() - the sampled objects of @s not in @keep are gone
 * @h: the heap
 * @s: a span with sampled objects, being swept or destroyed
 * @keep: slots that live on (the mark bits), or NULL
 *
 * Looks up each dying slot (each dying tiny object of a tiny block) until
 * all of the span's sampled objects are accounted for.
 */
void gm_mprof_free_span(struct gm_heap *h, struct gm_mspan *s, const u64 *keep)
{
	struct gm_mprof *mp = &h->prof;
	u32 i, off;

	gm_spin_lock(&mp->lock);
	for (i = 0; i < s->nelems && s->nsampled; i++) {
		uintptr_t base = s->start + (uintptr_t)i * s->elemsize;
		u32 live;

		if (!gm_span_slot_allocated(s, i) || (keep && gm_bit_test(keep, i)))
			continue;
		if (!s->tiny_alloc || !s->tiny_alloc[i]) {
			obj_died(mp, s, base);
			continue;
		}
		live = s->tiny_alloc[i] & ~s->tiny_freed[i];
		for (off = 0; off < GM_TINY_SIZE; off++)
			if (live & (1U << off))
				obj_died(mp, s, base + off);
	}
	gm_spin_unlock(&mp->lock);
}

/* === heaps ============================================================== */

/**
 * gm_mprof_init() - a new heap's profile: empty, the rate 0
 * @h: the heap, before its caches are set up
 */
void gm_mprof_init(struct gm_heap *h)
{
	gm_spin_init(&h->prof.lock);
	h->prof.rand = gm_now_ns();
}

/**
 * gm_mprof_destroy() - free a heap's profile
 * @h: the heap, which nothing uses any more
 */
void gm_mprof_destroy(struct gm_heap *h)
{
	struct gm_mprof *mp = &h->prof;
	struct gm_mprof_bucket *b, *next;
	u32 i;

	for (i = 0; mp->hash && i < (1U << GM_MPROF_HASH_BITS); i++) {
		for (b = mp->hash[i]; b; b = next) {
			next = b->next;
			gm_free(b);
		}
	}
	gm_free(mp->hash);
	gm_free(mp->objs);
}

/**
 * gm_heap_set_profile_rate() - set a heap's sampling rate (Go's MemProfileRate)
 * @h: the heap
 * @rate: bytes per sample on average; 0 turns sampling off, 1 samples
 *	every allocation; clamped to GM_PROF_MAX_RATE
 *
 * Every cache slot draws a new interval at once. A slot allocating on
 * its CPU meanwhile may lose that reset to its own update of the count;
 * it then keeps its old interval (at most GM_MPROF_OFF_RECHECK bytes if
 * sampling was off), after which the new rate holds. What was recorded
 * stays, as in Go.
 *
 * Return: the rate before.
 */
u64 gm_heap_set_profile_rate(struct gm_heap *h, u64 rate)
{
	struct gm_mprof *mp = &h->prof;
	unsigned int slot;
	u64 old;

	rate = min_t(u64, rate, GM_PROF_MAX_RATE);
	gm_spin_lock(&mp->lock);
	old = mp->rate;
	WRITE_ONCE(mp->rate, rate);
	for (slot = 0; slot < gm_nr_slots(); slot++) {
		struct gm_mcache *c = gm_percpu_ptr(h->caches, slot);

		WRITE_ONCE(c->prof.next_sample, next_interval(rate, &mp->rand));
	}
	gm_spin_unlock(&mp->lock);
	return old;
}

/**
 * gm_heap_set_profile_stacks() - whose stack a sample records
 * @h: the heap, before it samples
 * @user: the user stack of the allocating thread (a heap of a process),
 *	else the caller's own stack (the kernel's, for a kernel heap)
 */
void gm_heap_set_profile_stacks(struct gm_heap *h, bool user)
{
	h->prof.user_stacks = user;
}

/* Copy what fits of the buckets; returns how many there are. */
static size_t read_buckets(struct gm_mprof *mp, struct gm_prof_record *recs, size_t max)
{
	struct gm_mprof_bucket *b;
	size_t n = 0;
	u32 i;

	gm_spin_assert_held(&mp->lock);
	for (i = 0; mp->hash && i < (1U << GM_MPROF_HASH_BITS); i++) {
		for (b = mp->hash[i]; b; b = b->next, n++) {
			struct gm_prof_record *r = &recs[n];

			if (n >= max)
				continue;
			r->allocs = b->allocs;
			r->frees = b->frees;
			r->alloc_bytes = b->alloc_bytes;
			r->free_bytes = b->free_bytes;
			r->depth = b->depth;
			memcpy(r->pcs, b->pcs, b->depth * sizeof(b->pcs[0]));
		}
	}
	return n;
}

/**
 * gm_heap_profile_read() - a heap's profile (Go's MemProfile)
 * @h: the heap
 * @recs: where to copy the records, or NULL with @max 0
 * @max: room in @recs
 * @info: set to the profile's header
 *
 * Any context: the buckets are copied under the profile's lock. A caller
 * sizes @recs from @info->buckets of a first call (at most
 * GM_MPROF_MAX_BUCKETS) and copies with a second.
 *
 * Return: records copied, min(@max, @info->buckets).
 */
size_t gm_heap_profile_read(struct gm_heap *h, struct gm_prof_record *recs, size_t max,
			    struct gm_prof_info *info)
{
	struct gm_mprof *mp = &h->prof;
	size_t n;

	gm_spin_lock(&mp->lock);
	n = read_buckets(mp, recs, max);
	info->rate = mp->rate;
	info->user_stacks = mp->user_stacks;
	info->buckets = n;
	info->objects = mp->nobjs;
	info->dropped = mp->dropped;
	info->meta_bytes = mp->meta_bytes;
	gm_spin_unlock(&mp->lock);
	return min_t(size_t, n, max);
}
