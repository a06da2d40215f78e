// SPDX-License-Identifier: GPL-2.0
/*
 * gomem_native_bench: gomem's allocator core, built for userspace, against
 * glibc malloc, jemalloc, tcmalloc and mimalloc, all in one process.
 *
 * The process's malloc stays glibc's: the other allocators are loaded with
 * dlopen(RTLD_LOCAL), so that none of them replaces malloc for the whole
 * process, and are called through the functions looked up in their own
 * handle (jemalloc's unprefixed malloc/free, tcmalloc's tc_malloc/tc_free,
 * mimalloc's mi_malloc/mi_free). An allocator whose library is missing is
 * left out of the tables. Debian's jemalloc uses initial-exec TLS, more
 * than glibc keeps spare for libraries loaded later: the program re-runs
 * itself once with glibc.rtld.optional_static_tls raised.
 *
 * For each size, the two patterns of the kernel benchmark:
 * - pair: allocate an object and free it at once;
 * - batch: allocate BATCH objects, then free them all;
 * on one thread, then on NTHREADS threads at once (each measures its own
 * time; the mean is printed). Each cell is ns per object allocated and
 * freed, the median of REPS runs, each after a warm-up round.
 *
 *   gomem_native_bench [-n objects per run] [-r runs] [-t threads]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"

#define BATCH		1000
#define MAX_THREADS	64
#define MAX_REPS	31

static const size_t sizes[] = {
	8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 32768, 65536,
};

#define NR_SIZES	ARRAY_SIZE(sizes)

enum { PAIR, BATCHED, NR_PATTERNS };

static const char *const pattern_names[NR_PATTERNS] = {
	"pair (alloc, free at once)",
	"batch (1000 allocs, then 1000 frees)",
};

/* === the allocators ===================================================== */

typedef void *(*alloc_fn)(size_t size);
typedef void (*free_fn)(void *p);

struct allocator {
	const char *name;
	const char *lib;	/* NULL: linked in */
	const char *alloc_sym;
	const char *free_sym;
	alloc_fn alloc;
	free_fn free;
	void *handle;
};

static struct gm_heap *gomem_heap;
static bool gomem_free_failed;

static void *gomem_alloc_one(size_t size)
{
	return gm_heap_alloc(gomem_heap, size, GM_NOSCAN);
}

static void gomem_free_one(void *p)
{
	if (gm_heap_free(gomem_heap, p))
		gomem_free_failed = true;
}

enum { A_GOMEM, A_GLIBC, A_JEMALLOC, A_TCMALLOC, A_MIMALLOC, NR_ALLOCATORS };

static struct allocator allocators[NR_ALLOCATORS] = {
	[A_GOMEM] = { "gomem", NULL, NULL, NULL, gomem_alloc_one, gomem_free_one, NULL },
	[A_GLIBC] = { "glibc", "libc.so.6", "malloc", "free", NULL, NULL, NULL },
	[A_JEMALLOC] = { "jemalloc", "libjemalloc.so.2", "malloc", "free", NULL, NULL, NULL },
	[A_TCMALLOC] = { "tcmalloc", "libtcmalloc_minimal.so.4", "tc_malloc", "tc_free",
			 NULL, NULL, NULL },
	[A_MIMALLOC] = { "mimalloc", "libmimalloc.so.2", "mi_malloc", "mi_free",
			 NULL, NULL, NULL },
};

static void load_allocators(void)
{
	void *libc_malloc;
	int i;

	gomem_heap = gm_heap_create(&gm_os_pagesrc, NULL);
	if (!gomem_heap) {
		fprintf(stderr, "cannot create a gomem heap\n");
		exit(1);
	}
	/* The heap profile's rate (Documentation/profiling.rst); 0, off, by default. */
	if (getenv("GOMEM_PROFILE_RATE"))
		gm_heap_set_profile_rate(gomem_heap, strtoull(getenv("GOMEM_PROFILE_RATE"), NULL, 0));
	for (i = 0; i < NR_ALLOCATORS; i++) {
		struct allocator *a = &allocators[i];
		int mode = RTLD_NOW | RTLD_LOCAL;

		if (!a->lib)
			continue;
		if (i == A_GLIBC)
			mode |= RTLD_NOLOAD;	/* already there */
		a->handle = dlopen(a->lib, mode);
		if (!a->handle) {
			fprintf(stderr, "note: %s left out: %s\n", a->name, dlerror());
			continue;
		}
		*(void **)&a->alloc = dlsym(a->handle, a->alloc_sym);
		*(void **)&a->free = dlsym(a->handle, a->free_sym);
		if (!a->alloc || !a->free) {
			fprintf(stderr, "note: %s left out: no %s/%s in %s\n", a->name,
				a->alloc_sym, a->free_sym, a->lib);
			a->alloc = NULL;
			a->free = NULL;
		}
	}
	/* The process's malloc must be glibc's, not one loaded above. */
	libc_malloc = dlsym(RTLD_DEFAULT, "malloc");
	if (allocators[A_GLIBC].alloc && libc_malloc != (void *)allocators[A_GLIBC].alloc)
		fprintf(stderr, "warning: malloc is not glibc's in this process\n");
}

/* === the measured loops ================================================= */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* Returns false if an allocation failed. */
static bool run_pair(const struct allocator *a, size_t size, long n)
{
	alloc_fn alloc = a->alloc;
	free_fn release = a->free;
	long i;

	for (i = 0; i < n; i++) {
		void *p = alloc(size);

		if (!p)
			return false;
		release(p);
	}
	return true;
}

static bool run_batch(const struct allocator *a, size_t size, long rounds, void **ptrs)
{
	alloc_fn alloc = a->alloc;
	free_fn release = a->free;
	long r;
	int i, n;

	for (r = 0; r < rounds; r++) {
		for (n = 0; n < BATCH; n++) {
			ptrs[n] = alloc(size);
			if (!ptrs[n])
				break;
		}
		for (i = 0; i < n; i++)
			release(ptrs[i]);
		if (n < BATCH)
			return false;
	}
	return true;
}

/* ns per object of one run after a warm-up round, or -1 on failure. */
static double measure(const struct allocator *a, int pattern, size_t size, long n,
		      void **ptrs)
{
	uint64_t start, ns;
	long objs;
	bool ok;

	if (pattern == PAIR) {
		run_pair(a, size, BATCH);
		start = now_ns();
		ok = run_pair(a, size, n);
		objs = n;
	} else {
		long rounds = n / BATCH > 0 ? n / BATCH : 1;

		run_batch(a, size, 1, ptrs);
		start = now_ns();
		ok = run_batch(a, size, rounds, ptrs);
		objs = rounds * BATCH;
	}
	ns = now_ns() - start;
	return ok ? (double)ns / objs : -1;
}

/* === threads ============================================================ */

static long opt_objs = 100000;
static int opt_reps = 5;
static int opt_threads = 2;

/* ns per object: [threads mode][pattern][size][allocator] */
static double results[2][NR_PATTERNS][NR_SIZES][NR_ALLOCATORS];
/* Each thread's runs of the measurements in progress. */
static double runs[MAX_THREADS][NR_ALLOCATORS][MAX_REPS];

static pthread_barrier_t barrier;

struct worker {
	int id;
	int nthreads;
	pthread_t thread;
	void *ptrs[BATCH];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] < 0)
			return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One thread sums up the runs of every thread, while the others wait. */
static void sum_up(int nthreads, int mode, int p, size_t s)
{
	int a, t;

	for (a = 0; a < NR_ALLOCATORS; a++) {
		double sum = 0;
		bool failed = false;

		if (!allocators[a].alloc)
			continue;
		for (t = 0; t < nthreads; t++) {
			double m = median(runs[t][a], opt_reps);

			if (m < 0)
				failed = true;
			sum += m;
		}
		results[mode][p][s][a] = failed ? -1 : sum / nthreads;
	}
}

/*
 * Every measurement, in the same order on every thread; with several
 * threads they start each run together at the barrier. The allocators
 * take turns run by run, so that a slow spell of the machine does not
 * fall on one of them only.
 */
static void run_all(struct worker *w, int mode)
{
	bool many = w->nthreads > 1;
	size_t s;
	int p, a, r;

	for (s = 0; s < NR_SIZES; s++) {
		for (p = 0; p < NR_PATTERNS; p++) {
			for (r = 0; r < opt_reps; r++) {
				for (a = 0; a < NR_ALLOCATORS; a++) {
					if (!allocators[a].alloc)
						continue;
					if (many)
						pthread_barrier_wait(&barrier);
					runs[w->id][a][r] = measure(&allocators[a], p, sizes[s],
								    opt_objs, w->ptrs);
				}
			}
			if (!many) {
				sum_up(1, mode, p, s);
			} else if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD) {
				sum_up(w->nthreads, mode, p, s);
				pthread_barrier_wait(&barrier);
			} else {
				pthread_barrier_wait(&barrier);
			}
		}
	}
}

/* Threads go to CPUs of their own when there are enough; best effort. */
static void pin(int id)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < opt_threads)
		return;
	CPU_ZERO(&set);
	CPU_SET(id, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pin(w->id);
	run_all(w, 1);
	return NULL;
}

/* === the tables ========================================================= */

static void print_cell(double v)
{
	if (v < 0)
		printf(" %9s", "fail");
	else
		printf(" %9.1f", v);
}

static void print_ratio(double a, double b)
{
	if (a <= 0 || b <= 0)
		printf(" %10s", "-");
	else
		printf(" %10.2f", a / b);
}

static void print_tables(void)
{
	int m, p, a;
	size_t s;

	for (m = 0; m < 2; m++) {
		for (p = 0; p < NR_PATTERNS; p++) {
			printf("\n%s, %d thread%s: ns per object (alloc + free)%s\n",
			       pattern_names[p], m ? opt_threads : 1,
			       m && opt_threads > 1 ? "s at once" : "",
			       m && opt_threads > 1 ? ", mean of the threads" : "");
			printf("%8s", "size");
			for (a = 0; a < NR_ALLOCATORS; a++)
				if (allocators[a].alloc)
					printf(" %9s", allocators[a].name);
			printf(" %10s %10s\n", "g/glibc", "g/mimalloc");
			for (s = 0; s < NR_SIZES; s++) {
				double *r = results[m][p][s];

				printf("%8zu", sizes[s]);
				for (a = 0; a < NR_ALLOCATORS; a++)
					if (allocators[a].alloc)
						print_cell(r[a]);
				print_ratio(r[A_GOMEM], allocators[A_GLIBC].alloc ? r[A_GLIBC] : 0);
				print_ratio(r[A_GOMEM],
					    allocators[A_MIMALLOC].alloc ? r[A_MIMALLOC] : 0);
				printf("\n");
			}
		}
	}
}

/* The worst ratio of @num to @den over the sizes up to 32 KiB, or -1. */
static double worst_ratio(int mn, int pn, int an, int md, int pd, int ad, size_t *at)
{
	double worst = -1;
	size_t s;

	for (s = 0; s < NR_SIZES && sizes[s] <= 32768; s++) {
		double a = results[mn][pn][s][an], b = results[md][pd][s][ad];

		if (a <= 0 || b <= 0)
			return -1;
		if (a / b > worst) {
			worst = a / b;
			*at = sizes[s];
		}
	}
	return worst;
}

static void print_target(const char *what, double worst, size_t at, double target)
{
	if (worst < 0) {
		printf("  %-58s   not measured\n", what);
		return;
	}
	printf("  %-58s %5.2fx (at %zu B)  target <= %.1fx: %s\n", what, worst, at, target,
	       worst <= target ? "met" : "NOT met");
}

/*
 * Issue 12's targets for the native core, beside the figures: pairs up to
 * 32 KiB within 1.5x mimalloc on one thread, and the per-thread cost on
 * several threads at once within 1.2x the one-thread cost.
 */
static void print_targets(void)
{
	size_t at = 0;
	double w;
	int p;

	printf("\ntargets (worst size from 8 B to 32 KiB)\n");
	w = allocators[A_MIMALLOC].alloc ?
	    worst_ratio(0, PAIR, A_GOMEM, 0, PAIR, A_MIMALLOC, &at) : -1;
	print_target("pair, 1 thread: gomem / mimalloc", w, at, 1.5);
	if (opt_threads < 2)
		return;
	for (p = 0; p < NR_PATTERNS; p++) {
		char what[96];

		snprintf(what, sizeof(what), "%s, %d threads / 1 thread: gomem",
			 p == PAIR ? "pair" : "batch", opt_threads);
		w = worst_ratio(1, p, A_GOMEM, 0, p, A_GOMEM, &at);
		print_target(what, w, at, 1.2);
	}
}

/* === main =============================================================== */

#define TLS_TUNABLE	"glibc.rtld.optional_static_tls"

/* Raise the spare static TLS (a tunable read at start-up) and start over. */
static void reexec_with_static_tls(char **argv)
{
	const char *old = getenv("GLIBC_TUNABLES");
	char buf[1024];

	if (old && strstr(old, TLS_TUNABLE))
		return;
	snprintf(buf, sizeof(buf), "%s%s" TLS_TUNABLE "=16384", old ? old : "",
		 old ? ":" : "");
	if (setenv("GLIBC_TUNABLES", buf, 1))
		return;
	execv("/proc/self/exe", argv);
	/* Not fatal: jemalloc may be left out, the rest runs. */
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n objects per run] [-r runs] [-t threads]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	uint64_t start;
	int opt, i;

	while ((opt = getopt(argc, argv, "n:r:t:")) != -1) {
		switch (opt) {
		case 'n':
			opt_objs = atol(optarg);
			break;
		case 'r':
			opt_reps = atoi(optarg);
			break;
		case 't':
			opt_threads = atoi(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (opt_objs < 1 || opt_reps < 1 || opt_reps > MAX_REPS ||
	    opt_threads < 1 || opt_threads > MAX_THREADS)
		usage(argv[0]);

	reexec_with_static_tls(argv);
	load_allocators();
	printf("gomem_native_bench: %ld objects per run, median of %d runs, 1 and %d threads, batch %d\n",
	       opt_objs, opt_reps, opt_threads, BATCH);
	start = now_ns();

	/* One thread: the main thread, on its own. */
	workers[0].id = 0;
	workers[0].nthreads = 1;
	pin(0);
	run_all(&workers[0], 0);

	/* Several threads at once, each with its own gomem cache slot. */
	pthread_barrier_init(&barrier, NULL, opt_threads);
	for (i = 0; i < opt_threads; i++) {
		workers[i].id = i;
		workers[i].nthreads = opt_threads;
		errno = pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
		if (errno) {
			perror("pthread_create");
			return 1;
		}
	}
	for (i = 0; i < opt_threads; i++)
		pthread_join(workers[i].thread, NULL);
	pthread_barrier_destroy(&barrier);

	print_tables();
	print_targets();
	printf("\ndone in %.1f s%s\n", (now_ns() - start) / 1e9,
	       gomem_free_failed ? " (gomem refused a free: a bug)" : "");
	gm_heap_destroy(gomem_heap);
	return gomem_free_failed;
}
