// SPDX-License-Identifier: GPL-2.0
/*
 * Stress kselftests for /dev/gomem heaps: a million random allocations of
 * mixed sizes, and several threads allocating and freeing in one heap at
 * once. Every object gets a pattern that is checked before it is freed,
 * and a shadow map with one bit per heap byte proves that no two live
 * objects ever overlap.
 */
#include <pthread.h>
#include <time.h>
#include <sys/mman.h>

#include "gomem_test_util.h"

/* === the shadow map ===================================================== */

/* One bitmap per 64 MiB of address space, made on first use. */
#define SHADOW_SHIFT	26
#define SHADOW_CHUNKS	512

struct shadow {
	pthread_mutex_t lock;
	unsigned int n;
	unsigned long key[SHADOW_CHUNKS];
	uint64_t *bits[SHADOW_CHUNKS];
};

static uint64_t *shadow_chunk(struct shadow *s, unsigned long key)
{
	unsigned int i, n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
	uint64_t *bits = NULL;

	for (i = 0; i < n; i++)
		if (s->key[i] == key)
			return s->bits[i];
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++)
		if (s->key[i] == key)
			bits = s->bits[i];
	if (!bits && s->n < SHADOW_CHUNKS) {
		bits = mmap(NULL, (1UL << SHADOW_SHIFT) / 8, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (bits == MAP_FAILED) {
			bits = NULL;
		} else {
			s->key[s->n] = key;
			s->bits[s->n] = bits;
			__atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return bits;
}

/* Sets or clears the bits of [first, last] in @w; whether all were as expected. */
static int shadow_word(uint64_t *w, unsigned int first, unsigned int last, int set)
{
	uint64_t mask = (~0ULL >> (63 - last)) & (~0ULL << first);

	if (set)
		return !(__atomic_fetch_or(w, mask, __ATOMIC_RELAXED) & mask);
	return (__atomic_fetch_and(w, ~mask, __ATOMIC_RELAXED) & mask) == mask;
}

/*
 * Marks [p, p + len) live (@set) or free. Return: 0, or -1 if a byte was
 * live already (two objects overlap) or, when freeing, was not live.
 */
static int shadow_mark(struct shadow *s, uintptr_t p, size_t len, int set)
{
	int ok = 1;

	while (len) {
		size_t off = p & ((1UL << SHADOW_SHIFT) - 1);
		size_t n = (1UL << SHADOW_SHIFT) - off < len ? (1UL << SHADOW_SHIFT) - off : len;
		uint64_t *bits = shadow_chunk(s, p >> SHADOW_SHIFT);
		size_t b = off, end = off + n;

		if (!bits)
			return -1;
		while (b < end) {
			size_t last = (b | 63) < end - 1 ? (b | 63) : end - 1;

			ok &= shadow_word(&bits[b / 64], b % 64, last % 64, set);
			b = last + 1;
		}
		p += n;
		len -= n;
	}
	return ok ? 0 : -1;
}

static void shadow_init(struct shadow *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
}

static void shadow_destroy(struct shadow *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		munmap(s->bits[i], (1UL << SHADOW_SHIFT) / 8);
}

/* === objects ============================================================ */

/* Mostly small, as programs allocate: 8 B .. 32 KiB, and one in 1000 large. */
static size_t rnd_size(uint64_t *state)
{
	uint64_t r = gm_rnd(state);
	unsigned int pick = r % 1000;

	r >>= 10;
	if (pick < 550)
		return 1 + r % 128;
	if (pick < 900)
		return 129 + r % 1920;
	if (pick < 999)
		return 2049 + r % (GOMEM_MAX_SMALL - 2048);
	return GOMEM_MAX_SMALL + 1 + r % (512 * 1024);
}

/* Bytes between pattern words: every byte of small objects, samples of others. */
static size_t stride_of(size_t size)
{
	return size <= 256 ? 8 : 512;
}

/*
 * struct obj - a live object
 * @p: its address
 * @size: bytes asked for; the pattern covers them
 * @span: bytes it owns in the shadow map: its slot (usable size), or
 *	@size for a tiny object, which shares a 16-byte block with others
 * @seed: its pattern
 */
struct obj {
	char *p;
	size_t size, span;
	uint64_t seed;
	unsigned int cls;
	int tiny;
};

/*
 * What a test allocated and freed, per size class (0: large), and its
 * tiny objects. Tiny objects are not counted in their class: the class
 * counts their 16-byte blocks, which the kernel may reclaim later.
 */
struct counts {
	long allocs[GOMEM_NUM_SIZE_CLASSES], frees[GOMEM_NUM_SIZE_CLASSES];
	long tiny_allocs, tiny_frees;
};

static void counts_add(struct counts *sum, const struct counts *c)
{
	int i;

	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++) {
		sum->allocs[i] += c->allocs[i];
		sum->frees[i] += c->frees[i];
	}
	sum->tiny_allocs += c->tiny_allocs;
	sum->tiny_frees += c->tiny_frees;
}

/* Slot sizes of the classes, from GOMEM_IOC_CLASS_STATS. */
struct classes {
	unsigned int size[GOMEM_NUM_SIZE_CLASSES];
};

static int classes_init(struct gomem_heap *h, struct classes *c)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	int n = gomem_class_stats(h, tab), i;

	if (n != GOMEM_NUM_SIZE_CLASSES)
		return -1;
	for (i = 0; i < n; i++)
		c->size[i] = tab[i].size;
	return 0;
}

static unsigned int class_of(const struct classes *c, size_t size)
{
	unsigned int i;

	if (size > GOMEM_MAX_SMALL)
		return 0;
	for (i = 1; c->size[i] < size; i++)
		;
	return i;
}

static size_t usable_of(const struct classes *c, size_t size)
{
	if (size > GOMEM_MAX_SMALL)
		return (size + GOMEM_PAGE_SIZE - 1) & ~(GOMEM_PAGE_SIZE - 1);
	return c->size[class_of(c, size)];
}

/* The kernel's per-class counts agree with @cc (see struct counts). */
static void check_counts(struct __test_metadata *_metadata, struct gomem_heap *h,
			 const struct classes *c, const struct counts *cc)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	unsigned int tiny_class = class_of(c, 16), i;
	struct gomem_memstats st;

	ASSERT_EQ(0, gomem_stats(h, &st));
	ASSERT_EQ(GOMEM_NUM_SIZE_CLASSES, gomem_class_stats(h, tab));
	EXPECT_EQ(cc->tiny_allocs, st.tiny_allocs);
	EXPECT_EQ(cc->tiny_frees, st.tiny_frees);
	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++) {
		long allocs = tab[i].allocs, frees = tab[i].frees;

		if (i == tiny_class) {
			EXPECT_GE(allocs, cc->allocs[i]);
			EXPECT_GE(frees, cc->frees[i]);
			continue;
		}
		EXPECT_EQ(cc->allocs[i], allocs) TH_LOG("class %u", i);
		EXPECT_EQ(cc->frees[i], frees) TH_LOG("class %u", i);
	}
}

/* Takes a new object: shadow, pattern, counts. Return: 0, or a reason. */
static const char *obj_take(struct shadow *s, const struct classes *c, struct counts *cc,
			    struct obj *o, void *p, size_t size, unsigned int flags, uint64_t seed)
{
	o->p = p;
	o->size = size;
	o->seed = seed;
	o->tiny = size < 16 && (flags & GOMEM_ALLOC_NOSCAN);
	o->cls = class_of(c, size);
	o->span = o->tiny ? size : usable_of(c, size);
	if (o->tiny)
		cc->tiny_allocs++;
	else
		cc->allocs[o->cls]++;
	if ((uintptr_t)p >= 1ULL << 47)
		return "not a user address";
	if (shadow_mark(s, (uintptr_t)p, o->span, 1))
		return "overlaps a live object";
	if ((flags & GOMEM_ALLOC_ZERO) && !gm_is_zero(p, size))
		return "GOMEM_ALLOC_ZERO object not zeroed";
	gm_fill(p, size, seed, stride_of(size));
	return NULL;
}

/* Checks and frees an object. Return: 0, or a reason. */
static const char *obj_free(struct gomem_heap *h, struct shadow *s, struct counts *cc,
			    struct obj *o)
{
	if (gm_check(o->p, o->size, o->seed, stride_of(o->size)) >= 0)
		return "pattern overwritten";
	if (shadow_mark(s, (uintptr_t)o->p, o->span, 0))
		return "shadow map out of step";
	if (gomem_free(h, o->p))
		return "free refused";
	if (o->tiny)
		cc->tiny_frees++;
	else
		cc->frees[o->cls]++;
	return NULL;
}

/* === a million allocations ============================================== */

FIXTURE(heap) {
	struct gomem_heap *h;
	struct shadow shadow;
	struct classes classes;
};

FIXTURE_SETUP(heap)
{
	self->h = gm_open_heap(_metadata);
	shadow_init(&self->shadow);
	ASSERT_EQ(0, classes_init(self->h, &self->classes));
}

FIXTURE_TEARDOWN(heap)
{
	gomem_close(self->h);
	shadow_destroy(&self->shadow);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v ? strtol(v, NULL, 0) : def;
}

#define BATCH_MAX	64

/*
 * A million objects in batches of one size (GOMEM_IOC_ALLOC_BULK), one
 * in 64 by GOMEM_IOC_ALLOC with its usable size checked against
 * GOMEM_IOC_SIZE. Random live objects are freed along the way so that
 * about GOMEM_STRESS_LIVE stay live; the rest go with the heap.
 */
TEST_F_TIMEOUT(heap, million_random_allocations, 300)
{
	const long total = env_long("GOMEM_STRESS_ALLOCS", 1000000);
	const long live_max = env_long("GOMEM_STRESS_LIVE", 16384);
	struct obj *objs = calloc(live_max + BATCH_MAX, sizeof(*objs));
	struct counts *cc = calloc(1, sizeof(*cc));
	uint64_t rs = 0x9e3779b97f4a7c15ULL, seed = 1;
	void *batch[BATCH_MAX];
	long allocs = 0, frees = 0, live = 0, singles = 0, i, k;
	struct gomem_memstats st;
	const char *why = NULL;
	double t0 = now(), t, t_alloc = 0, t_free = 0;

	ASSERT_NE(NULL, objs);
	ASSERT_NE(NULL, cc);
	while (allocs < total && !why) {
		size_t size = rnd_size(&rs);
		unsigned int flags = gm_rnd(&rs) & (GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_ZERO);
		long n = size > GOMEM_MAX_SMALL ? 1 : 1 + gm_rnd(&rs) % BATCH_MAX;

		if (n > total - allocs)
			n = total - allocs;
		if (!(gm_rnd(&rs) % 64)) {
			struct gomem_alloc a = { .size = size, .flags = flags };

			n = 1;
			ASSERT_EQ(0, ioctl(gomem_fd(self->h), GOMEM_IOC_ALLOC, &a)) TH_LOG("%zu", size);
			batch[0] = (void *)(uintptr_t)a.addr;
			EXPECT_EQ(a.usable, gomem_usable_size(self->h, batch[0]));
			if (!(size < 16 && (flags & GOMEM_ALLOC_NOSCAN)))
				EXPECT_EQ(usable_of(&self->classes, size), a.usable) TH_LOG("%zu", size);
			singles++;
		} else {
			t = now();
			ASSERT_EQ(0, gomem_alloc_bulk(self->h, size, flags, batch, n))
				TH_LOG("%ld objects of %zu", n, size);
			t_alloc += now() - t;
		}
		for (i = 0; i < n && !why; i++)
			why = obj_take(&self->shadow, &self->classes, cc, &objs[live++], batch[i],
				       size, flags, seed++);
		allocs += n;
		while (live > live_max && !why) {
			k = gm_rnd(&rs) % live;
			t = now();
			why = obj_free(self->h, &self->shadow, cc, &objs[k]);
			t_free += now() - t;
			objs[k] = objs[--live];
			frees++;
		}
	}
	ASSERT_EQ(NULL, why) TH_LOG("after %ld allocations: %s", allocs, why);
	check_counts(_metadata, self->h, &self->classes, cc);
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	EXPECT_GE(st.mallocs, allocs);
	for (i = 0, k = 0; i < live; i++)
		k += gm_check(objs[i].p, objs[i].size, objs[i].seed, stride_of(objs[i].size)) >= 0;
	EXPECT_EQ(0, k) TH_LOG("%ld live objects overwritten", k);
	TH_LOG("%ld allocations (%ld single), %ld frees, %ld live, HeapSys %llu MiB",
	       allocs, singles, frees, live, st.heap_sys >> 20);
	TH_LOG("%.1f s: %.1f s in bulk allocations, %.1f s in frees", now() - t0, t_alloc, t_free);
	free(objs);
	free(cc);
}

/* === threads ============================================================ */

#define NTHREADS	4
#define HANDOFF_MAX	256

struct shared {
	struct gomem_heap *h;
	struct counts counts[NTHREADS];
	struct shadow *shadow;
	const struct classes *classes;
	long ops;
	/* Objects freed by another thread than the one that allocated them. */
	pthread_mutex_t lock;
	struct obj handoff[HANDOFF_MAX];
	int nhandoff;
};

struct worker {
	struct shared *sh;
	int id;
	long allocs, frees;
	const char *why;
	char *at;
	pthread_t thread;
};

#define WORKER_LIVE	512

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	struct counts *cc = &sh->counts[w->id];
	struct obj objs[WORKER_LIVE + BATCH_MAX], o;
	uint64_t rs = 0x1234567ULL * (w->id + 1), seed = (uint64_t)w->id << 40;
	void *batch[16];
	long op;
	int live = 0, n, i, k;

	for (op = 0; op < sh->ops && !w->why; op++) {
		size_t size = rnd_size(&rs);
		unsigned int flags = gm_rnd(&rs) & (GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_ZERO);
		unsigned int what = gm_rnd(&rs) % 8;

		if (what < 4 && live < WORKER_LIVE) {
			n = what ? 1 : 1 + gm_rnd(&rs) % ARRAY_SIZE(batch);
			if (n == 1)
				batch[0] = gomem_alloc(sh->h, size, flags);
			else if (gomem_alloc_bulk(sh->h, size, flags, batch, n))
				batch[0] = NULL;
			if (!batch[0]) {
				w->why = "allocation failed";
				break;
			}
			for (i = 0; i < n && !w->why; i++) {
				w->at = batch[i];
				w->why = obj_take(sh->shadow, sh->classes, cc, &objs[live++],
						  batch[i], size, flags, seed++);
			}
			w->allocs += n;
		} else if (what < 7 && live) {
			k = gm_rnd(&rs) % live;
			o = objs[k];
			objs[k] = objs[--live];
			/* One free in three is left to another thread. */
			pthread_mutex_lock(&sh->lock);
			if (what == 6 && sh->nhandoff < HANDOFF_MAX) {
				sh->handoff[sh->nhandoff++] = o;
				o.p = NULL;
			}
			pthread_mutex_unlock(&sh->lock);
			if (o.p) {
				w->at = o.p;
				w->why = obj_free(sh->h, sh->shadow, cc, &o);
				w->frees++;
			}
		} else {
			pthread_mutex_lock(&sh->lock);
			o.p = NULL;
			if (sh->nhandoff)
				o = sh->handoff[--sh->nhandoff];
			pthread_mutex_unlock(&sh->lock);
			if (o.p) {
				w->at = o.p;
				w->why = obj_free(sh->h, sh->shadow, cc, &o);
				w->frees++;
			}
		}
	}
	for (i = 0; i < live && !w->why; i++) {
		w->at = objs[i].p;
		w->why = obj_free(sh->h, sh->shadow, cc, &objs[i]);
		w->frees++;
	}
	return NULL;
}

TEST_F_TIMEOUT(heap, threads_alloc_free, 300)
{
	static struct shared sh;
	struct worker w[NTHREADS];
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	struct counts sum = { 0 };
	struct gomem_memstats st;
	long allocs = 0, frees = 0, inuse;
	double t0 = now();
	int i;

	sh.h = self->h;
	sh.shadow = &self->shadow;
	sh.classes = &self->classes;
	sh.ops = env_long("GOMEM_STRESS_THREAD_OPS", 8000);
	pthread_mutex_init(&sh.lock, NULL);
	memset(w, 0, sizeof(w));
	for (i = 0; i < NTHREADS; i++) {
		w[i].sh = &sh;
		w[i].id = i;
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, worker_main, &w[i]));
	}
	for (i = 0; i < NTHREADS; i++) {
		ASSERT_EQ(0, pthread_join(w[i].thread, NULL));
		EXPECT_EQ(NULL, w[i].why) TH_LOG("thread %d at %p: %s", i, w[i].at, w[i].why);
		allocs += w[i].allocs;
		frees += w[i].frees;
	}
	/* What was handed off and not taken yet. */
	while (sh.nhandoff) {
		const char *why = obj_free(self->h, &self->shadow, &sh.counts[0],
					   &sh.handoff[--sh.nhandoff]);

		EXPECT_EQ(NULL, why) TH_LOG("%s", why);
		frees++;
	}
	for (i = 0; i < NTHREADS; i++)
		counts_add(&sum, &sh.counts[i]);
	check_counts(_metadata, self->h, &self->classes, &sum);
	/* All freed; only emptied tiny blocks may wait to be reclaimed. */
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	ASSERT_EQ(GOMEM_NUM_SIZE_CLASSES, gomem_class_stats(self->h, tab));
	inuse = tab[class_of(&self->classes, 16)].inuse;
	EXPECT_EQ(inuse, st.heap_objects);
	EXPECT_EQ(16 * inuse, st.heap_alloc);
	TH_LOG("%d threads: %ld allocations, %ld frees, %.1f s", NTHREADS, allocs, frees,
	       now() - t0);
}

TEST_HARNESS_MAIN
