// SPDX-License-Identifier: GPL-2.0
/*
 * gomem_bench: a micro-benchmark of gomem's kernel heaps against kmalloc
 * and a kmem_cache of each size.
 *
 * Loading the module runs it and prints its tables to the kernel log; it
 * then stays loaded, holding nothing, until it is removed. For each size
 * it measures two patterns, on the current CPU and then on every online
 * CPU at once (a kthread bound to each CPU):
 *
 * - pair: allocate an object and free it at once, @iterations times;
 * - batch: allocate BENCH_BATCH objects, then free them all, repeated
 *   until @iterations objects have been through;
 * - atomic pair: the pair with GFP_ATOMIC, after a GFP_KERNEL warm-up
 *   (gomem serves such callers from its caches and the spans a class
 *   holds; objects over 32 KiB need GFP_KERNEL, so "n/a").
 *
 * Each cell is nanoseconds per object allocated and freed; with several
 * CPUs, the mean of the CPUs' own times. Each measurement is run @repeat
 * times, each run after a warm-up round, and the median is kept; the
 * allocators take turns run by run, so that a slow spell of the machine
 * does not fall on one of them only.
 */

#define pr_fmt(fmt) "gomem_bench: " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>
#include <linux/gomem.h>

#define BENCH_BATCH	1000
/* gomem's largest small object: larger ones need a caller that may sleep. */
#define BENCH_ATOMIC_MAX	32768
#define BENCH_MAX_REPEAT	15

static unsigned int iterations = 10000;
module_param(iterations, uint, 0444);
MODULE_PARM_DESC(iterations, "objects allocated and freed per run of a measurement (default 10000)");

static unsigned int repeat = 5;
module_param(repeat, uint, 0444);
MODULE_PARM_DESC(repeat, "runs of each measurement, the median is printed (default 5, at most 15)");

static const unsigned int bench_sizes[] = {
	8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 32768, 65536,
};

#define NR_SIZES	ARRAY_SIZE(bench_sizes)

enum bench_alloc { BENCH_GOMEM, BENCH_KMALLOC, BENCH_CACHE, NR_ALLOCS };
enum bench_pattern { BENCH_PAIR, BENCH_BATCHED, BENCH_PAIR_ATOMIC, NR_PATTERNS };
enum bench_cpus { BENCH_ONE_CPU, BENCH_ALL_CPUS, NR_CPU_MODES };

static const char *const pattern_names[NR_PATTERNS] = {
	[BENCH_PAIR] = "pair (alloc, free at once)",
	[BENCH_BATCHED] = "batch (1000 allocs, then 1000 frees)",
	[BENCH_PAIR_ATOMIC] = "pair with GFP_ATOMIC",
};

static const char *const pattern_labels[NR_PATTERNS] = {
	[BENCH_PAIR] = "pair",
	[BENCH_BATCHED] = "batch",
	[BENCH_PAIR_ATOMIC] = "atomic",
};

/* A cell that does not apply: gomem objects over 32 KiB with GFP_ATOMIC. */
#define BENCH_NA	U64_MAX

/**
 * struct bench_ptrs - the objects of one batch, one per CPU
 * @p: the objects
 */
struct bench_ptrs {
	void *p[BENCH_BATCH];
};

/**
 * struct bench_job - one measurement on one CPU
 * @alloc: which allocator
 * @pattern: which pattern
 * @size: object size in bytes
 * @gfp: the allocations' flags
 * @heap: the gomem heap
 * @cache: the kmem_cache of @size
 * @ptrs: room for BENCH_BATCH objects, for the batch pattern
 * @ns: the measured time
 * @objs: objects allocated and freed in @ns
 * @failed: an allocation failed or gomem refused a free
 */
struct bench_job {
	enum bench_alloc alloc;
	enum bench_pattern pattern;
	size_t size;
	gfp_t gfp;
	struct gomem_heap *heap;
	struct kmem_cache *cache;
	struct bench_ptrs *ptrs;
	u64 ns;
	u64 objs;
	bool failed;
};

/**
 * struct bench_sync - starts the kthreads of one measurement together
 * @pending: kthreads that have not reached the start line yet
 * @ready: completed by the last kthread to reach it
 * @go: completed by the module once all are there
 * @abort: set before @go when the measurement is called off
 */
struct bench_sync {
	atomic_t pending;
	struct completion ready;
	struct completion go;
	bool abort;
};

/**
 * struct bench_worker - a kthread of an all-CPU measurement
 * @job: its measurement
 * @sync: the start line it shares with the others
 * @task: the kthread, with a reference held
 */
struct bench_worker {
	struct bench_job job;
	struct bench_sync *sync;
	struct task_struct *task;
};

/* ps per object: [cpu mode][pattern][size][allocator] */
static u64 results[NR_CPU_MODES][NR_PATTERNS][NR_SIZES][NR_ALLOCS];

/* === the measured loops ================================================= */

/*
 * Always inlined with a constant @kind, so that every allocator gets a
 * loop of its own without indirect calls or a switch in it.
 */
static __always_inline void *bench_get(enum bench_alloc kind, struct bench_job *j)
{
	switch (kind) {
	case BENCH_GOMEM:
		return gomem_alloc(j->heap, j->size, GOMEM_NOSCAN, j->gfp);
	case BENCH_KMALLOC:
		return kmalloc(j->size, j->gfp);
	default:
		return kmem_cache_alloc(j->cache, j->gfp);
	}
}

static __always_inline bool bench_put(enum bench_alloc kind, struct bench_job *j, void *p)
{
	switch (kind) {
	case BENCH_GOMEM:
		return gomem_free(j->heap, p) == 0;
	case BENCH_KMALLOC:
		kfree(p);
		return true;
	default:
		kmem_cache_free(j->cache, p);
		return true;
	}
}

static __always_inline u64 bench_pair(enum bench_alloc kind, struct bench_job *j, u64 n)
{
	bool ok = true;
	u64 i;

	for (i = 0; i < n; i++) {
		void *p = bench_get(kind, j);

		if (unlikely(!p)) {
			j->failed = true;
			break;
		}
		ok &= bench_put(kind, j, p);
	}
	if (!ok)
		j->failed = true;
	return i;
}

static __always_inline u64 bench_batch(enum bench_alloc kind, struct bench_job *j, u64 rounds)
{
	u64 r, done = 0;
	bool ok = true;
	unsigned int i, n;

	for (r = 0; r < rounds && !j->failed; r++) {
		for (n = 0; n < BENCH_BATCH; n++) {
			j->ptrs->p[n] = bench_get(kind, j);
			if (unlikely(!j->ptrs->p[n])) {
				j->failed = true;
				break;
			}
		}
		for (i = 0; i < n; i++)
			ok &= bench_put(kind, j, j->ptrs->p[i]);
		done += n;
	}
	if (!ok)
		j->failed = true;
	return done;
}

/* A warm-up round, then @n objects; the kind is a constant after inlining. */
static __always_inline void bench_measure(enum bench_alloc kind, struct bench_job *j, u64 n)
{
	u64 start, objs;

	if (j->pattern != BENCH_BATCHED) {
		/* GFP_KERNEL: the classes hold spans before GFP_ATOMIC runs. */
		j->gfp = GFP_KERNEL;
		bench_pair(kind, j, BENCH_BATCH);
		j->gfp = j->pattern == BENCH_PAIR_ATOMIC ? GFP_ATOMIC : GFP_KERNEL;
		start = ktime_get_ns();
		objs = bench_pair(kind, j, n);
	} else {
		j->gfp = GFP_KERNEL;
		bench_batch(kind, j, 1);
		start = ktime_get_ns();
		objs = bench_batch(kind, j, max_t(u64, n / BENCH_BATCH, 1));
	}
	j->ns = ktime_get_ns() - start;
	j->objs = objs;
}

static noinline void bench_run_gomem(struct bench_job *j, u64 n)
{
	bench_measure(BENCH_GOMEM, j, n);
}

static noinline void bench_run_kmalloc(struct bench_job *j, u64 n)
{
	bench_measure(BENCH_KMALLOC, j, n);
}

static noinline void bench_run_cache(struct bench_job *j, u64 n)
{
	bench_measure(BENCH_CACHE, j, n);
}

static void bench_run(struct bench_job *j)
{
	u64 n = max(iterations, 1U);

	j->ns = 0;
	j->objs = 0;
	j->failed = false;
	switch (j->alloc) {
	case BENCH_GOMEM:
		bench_run_gomem(j, n);
		break;
	case BENCH_KMALLOC:
		bench_run_kmalloc(j, n);
		break;
	default:
		bench_run_cache(j, n);
		break;
	}
}

/* === one CPU and all CPUs =============================================== */

static int bench_worker_fn(void *data)
{
	struct bench_worker *w = data;
	struct bench_sync *sync = w->sync;

	if (atomic_dec_and_test(&sync->pending))
		complete(&sync->ready);
	wait_for_completion(&sync->go);
	if (!READ_ONCE(sync->abort))
		bench_run(&w->job);
	return 0;
}

/*
 * Runs @proto on every online CPU at once. Each kthread is stopped with
 * kthread_stop(), which returns only after it has left this module's code.
 * Return: ps per object, the mean over the CPUs, or 0 on failure.
 */
static u64 bench_all_cpus(const struct bench_job *proto, struct bench_ptrs *ptrs)
{
	unsigned int nr = num_online_cpus(), started = 0, cpu;
	struct bench_worker *workers;
	struct bench_sync sync;
	u64 ps = 0;
	bool failed = false;
	unsigned int i;

	workers = kcalloc(nr, sizeof(*workers), GFP_KERNEL);
	if (!workers)
		return 0;
	atomic_set(&sync.pending, nr);
	init_completion(&sync.ready);
	init_completion(&sync.go);
	sync.abort = false;

	for_each_online_cpu(cpu) {
		struct bench_worker *w = &workers[started];
		struct task_struct *t;

		if (started == nr)
			break;
		w->job = *proto;
		w->job.ptrs = &ptrs[started];
		w->sync = &sync;
		t = kthread_create_on_cpu(bench_worker_fn, w, cpu, "gomem_bench/%u");
		if (IS_ERR(t)) {
			failed = true;
			break;
		}
		get_task_struct(t);
		w->task = t;
		wake_up_process(t);
		started++;
	}
	if (started < nr)
		failed = true;

	if (failed)
		WRITE_ONCE(sync.abort, true);
	else
		wait_for_completion(&sync.ready);
	complete_all(&sync.go);

	for (i = 0; i < started; i++) {
		kthread_stop(workers[i].task);
		put_task_struct(workers[i].task);
		if (workers[i].job.failed || !workers[i].job.objs)
			failed = true;
		else
			ps += div64_u64(workers[i].job.ns * 1000, workers[i].job.objs);
	}
	kfree(workers);
	return failed ? 0 : div_u64(ps, nr);
}

static u64 bench_one_cpu(struct bench_job *j)
{
	bench_run(j);
	if (j->failed || !j->objs)
		return 0;
	return div64_u64(j->ns * 1000, j->objs);
}

/* === the tables ========================================================= */

/* "12.3" from picoseconds. */
static void fmt_ns(char *buf, size_t len, u64 ps)
{
	u64 tenths = div_u64(ps + 50, 100);

	if (ps == BENCH_NA)
		snprintf(buf, len, "%10s", "n/a");
	else if (!ps)
		snprintf(buf, len, "%10s", "fail");
	else
		snprintf(buf, len, "%8llu.%llu", div_u64(tenths, 10), tenths % 10);
}

/* "1.23" from two times. */
static void fmt_ratio(char *buf, size_t len, u64 a, u64 b)
{
	u64 hundredths;

	if (!a || !b || a == BENCH_NA || b == BENCH_NA) {
		snprintf(buf, len, "%9s", "-");
		return;
	}
	hundredths = div64_u64(a * 100 + b / 2, b);
	snprintf(buf, len, "%6llu.%02llu", div_u64(hundredths, 100), hundredths % 100);
}

static void bench_print(unsigned int runs)
{
	char g[24], k[24], c[24], rk[24], rc[24];
	unsigned int m, p, s;

	for (m = 0; m < NR_CPU_MODES; m++) {
		for (p = 0; p < NR_PATTERNS; p++) {
			pr_info("\n");
			if (m == BENCH_ONE_CPU)
				pr_info("%s, 1 CPU: ns per object (alloc + free), median of %u runs\n",
					pattern_names[p], runs);
			else
				pr_info("%s, %u CPUs at once: ns per object (alloc + free), mean of the CPUs, median of %u runs\n",
					pattern_names[p], num_online_cpus(), runs);
			pr_info("%8s %10s %10s %10s %9s %9s\n", "size", "gomem", "kmalloc",
				"kmem_cache", "g/kmalloc", "g/cache");
			for (s = 0; s < NR_SIZES; s++) {
				u64 *r = results[m][p][s];

				fmt_ns(g, sizeof(g), r[BENCH_GOMEM]);
				fmt_ns(k, sizeof(k), r[BENCH_KMALLOC]);
				fmt_ns(c, sizeof(c), r[BENCH_CACHE]);
				fmt_ratio(rk, sizeof(rk), r[BENCH_GOMEM], r[BENCH_KMALLOC]);
				fmt_ratio(rc, sizeof(rc), r[BENCH_GOMEM], r[BENCH_CACHE]);
				pr_info("%8u %10s %10s %10s %9s %9s\n", bench_sizes[s],
					g, k, c, rk, rc);
			}
		}
	}
}

/* The worst gomem/kmalloc ratio, in hundredths, over sizes [lo, hi]. */
static u64 worst_vs_kmalloc(unsigned int m, unsigned int p, unsigned int lo,
			    unsigned int hi, unsigned int *at)
{
	u64 worst = 0;
	unsigned int s;

	for (s = 0; s < NR_SIZES; s++) {
		u64 *r = results[m][p][s];
		u64 q;

		if (bench_sizes[s] < lo || bench_sizes[s] > hi)
			continue;
		if (!r[BENCH_GOMEM] || !r[BENCH_KMALLOC])
			return 0;
		if (r[BENCH_GOMEM] == BENCH_NA)
			continue;
		q = div64_u64(r[BENCH_GOMEM] * 100 + r[BENCH_KMALLOC] / 2, r[BENCH_KMALLOC]);
		if (q > worst) {
			worst = q;
			*at = bench_sizes[s];
		}
	}
	return worst;
}

/*
 * Issue 12's targets beside the figures: pairs and batches of 8 B to
 * 1 KiB within 1.0x kmalloc, 2 to 8 KiB within 1.3x, on one CPU and on
 * all CPUs at once; GFP_ATOMIC pairs against kmalloc's, by the same
 * measure.
 */
static void bench_print_targets(void)
{
	static const struct { unsigned int lo, hi, target; } t[] = {
		{ 8, 1024, 100 }, { 2048, 8192, 130 },
	};
	unsigned int m, p, i, at = 0;
	u64 w;

	pr_info("\n");
	pr_info("targets (worst size of each range, gomem / kmalloc)\n");
	for (m = 0; m < NR_CPU_MODES; m++)
		for (p = 0; p < NR_PATTERNS; p++)
			for (i = 0; i < ARRAY_SIZE(t); i++) {
				w = worst_vs_kmalloc(m, p, t[i].lo, t[i].hi, &at);
				pr_info("  %-6s %u CPU%s %5u-%-5u B: %llu.%02llux (at %u B), target <= %u.%02ux: %s\n",
					pattern_labels[p],
					m == BENCH_ONE_CPU ? 1 : num_online_cpus(),
					m == BENCH_ONE_CPU ? " " : "s", t[i].lo, t[i].hi,
					div_u64(w, 100), w % 100, at, t[i].target / 100,
					t[i].target % 100,
					!w ? "not measured" : w <= t[i].target ? "met" : "NOT met");
			}
}

/* === set-up ============================================================= */

static void sort_u64(u64 *v, unsigned int n)
{
	unsigned int i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--)
			swap(v[j - 1], v[j]);
}

/* The median of @n runs; 0 (failed) if any run failed. */
static u64 median(u64 *v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!v[i])
			return 0;
	if (v[0] == BENCH_NA)
		return BENCH_NA;
	sort_u64(v, n);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Every measurement of one size, with that size's kmem_cache. */
static int bench_size(struct gomem_heap *heap, unsigned int s, struct bench_ptrs *ptrs,
		      unsigned int runs)
{
	struct bench_job job = { .size = bench_sizes[s], .heap = heap };
	u64 ps[NR_ALLOCS][BENCH_MAX_REPEAT];
	unsigned int m, p, a, r;
	char name[32];
	int ret = 0;

	snprintf(name, sizeof(name), "gomem_bench_%u", bench_sizes[s]);
	job.cache = kmem_cache_create(name, bench_sizes[s], 0, 0, NULL);
	if (!job.cache)
		return -ENOMEM;

	for (m = 0; m < NR_CPU_MODES; m++) {
		for (p = 0; p < NR_PATTERNS; p++) {
			for (r = 0; r < runs; r++) {
				for (a = 0; a < NR_ALLOCS; a++) {
					job.alloc = a;
					job.pattern = p;
					job.ptrs = &ptrs[0];
					if (a == BENCH_GOMEM && p == BENCH_PAIR_ATOMIC &&
					    bench_sizes[s] > BENCH_ATOMIC_MAX)
						ps[a][r] = BENCH_NA;
					else if (m == BENCH_ONE_CPU)
						ps[a][r] = bench_one_cpu(&job);
					else
						ps[a][r] = bench_all_cpus(&job, ptrs);
					cond_resched();
				}
			}
			for (a = 0; a < NR_ALLOCS; a++) {
				results[m][p][s][a] = median(ps[a], runs);
				if (!results[m][p][s][a])
					ret = -ENOMEM;
			}
		}
	}
	kmem_cache_destroy(job.cache);
	return ret;
}

static int __init gomem_bench_init(void)
{
	unsigned int runs = clamp(repeat, 1U, (unsigned int)BENCH_MAX_REPEAT), s;
	struct bench_ptrs *ptrs;
	struct gomem_heap *heap;
	u64 start;
	int ret = 0;

	/* One per online CPU at most: indexed by the order kthreads start in. */
	ptrs = kvcalloc(num_possible_cpus(), sizeof(*ptrs), GFP_KERNEL);
	if (!ptrs)
		return -ENOMEM;
	heap = gomem_heap_create("bench");
	if (!heap) {
		kvfree(ptrs);
		return -ENOMEM;
	}

	pr_info("iterations=%u repeat=%u batch=%u online_cpus=%u init_on_alloc=%d init_on_free=%d\n",
		iterations, runs, BENCH_BATCH, num_online_cpus(),
		want_init_on_alloc(GFP_KERNEL), want_init_on_free());
	if (want_init_on_alloc(GFP_KERNEL))
		pr_info("init_on_alloc is on: kmalloc and kmem_cache zero every object, gomem does not (boot with init_on_alloc=0)\n");
	start = ktime_get_ns();
	for (s = 0; s < NR_SIZES; s++) {
		int err = bench_size(heap, s, ptrs, runs);

		if (err && !ret)
			ret = err;
	}
	bench_print(runs);
	bench_print_targets();
	pr_info("\n");
	pr_info("done in %llu ms%s\n", div_u64(ktime_get_ns() - start, NSEC_PER_MSEC),
		ret ? " (some measurements failed)" : "");

	gomem_heap_destroy(heap);
	kvfree(ptrs);
	return ret;
}

static void __exit gomem_bench_exit(void)
{
}

module_init(gomem_bench_init);
module_exit(gomem_bench_exit);

MODULE_DESCRIPTION("gomem benchmark: gomem heaps against kmalloc and kmem_cache");
MODULE_AUTHOR("gomem developers");
MODULE_LICENSE("GPL");
