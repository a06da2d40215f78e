// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded, seeded stress test of /dev/gomem heaps with the collector
 * on: several processes, each with a heap and several threads, run a
 * random mix of allocations (tiny, small, large, in bulk, root objects),
 * frees, dropped references, GC cycles, scavenging, munmap of an arena,
 * cap, GOGC and memory limit changes, until the time is up.
 *
 * Every object holds a pattern derived from its address and a
 * generation, checked when it is freed or dropped and, for all the
 * objects a thread holds, after every GC cycle it sees. The objects a
 * thread holds are reachable from a root range (its slot table) or are
 * root objects, so every cycle must leave them allocated and intact.
 *
 * Environment: GOMEM_STRESS_SECONDS (20), GOMEM_STRESS_SEED (1),
 * GOMEM_STRESS_PROCS (2), GOMEM_STRESS_THREADS (2), and GOMEM_STRESS_NO,
 * a comma-separated list of operations to leave out (bulk, root, drop,
 * gc, scavenge, limit, gogc, cap, munmap), to narrow a failure down. The
 * same seed makes the same sequence of operations in each thread; how
 * many run depends on the time.
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <sys/mman.h>

#include "gomem_test_util.h"

#define NSLOTS		512

/* Operations GOMEM_STRESS_NO can leave out. */
enum {
	OP_BULK, OP_ROOT, OP_DROP, OP_GC, OP_SCAVENGE, OP_LIMIT, OP_GOGC, OP_CAP, OP_MUNMAP,
	OP_COUNT,
};

static const char *const op_names[OP_COUNT] = {
	"bulk", "root", "drop", "gc", "scavenge", "limit", "gogc", "cap", "munmap",
};

static unsigned int ops_off;

#define OP_ON(op)	(!(ops_off & (1U << (op))))

static unsigned int parse_ops_off(const char *list)
{
	unsigned int off = 0, i;
	size_t n;

	while (list && *list) {
		n = strcspn(list, ",");
		for (i = 0; i < OP_COUNT; i++)
			if (strlen(op_names[i]) == n && !strncmp(list, op_names[i], n))
				off |= 1U << i;
		list += n;
		if (*list)
			list++;
	}
	return off;
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What one process did; summed by the parent over shared memory. */
struct tally {
	long ops, allocs, bulk, roots, frees, drops, checks, gcs, gc_checks;
	long scavenges, caps, limits, gogcs, munmaps, enomem, num_gc, bytes_checked;
	long failures;
	char why[256];
};

/* The process-wide state of one heap. */
struct proc {
	struct gomem_heap *h;
	double deadline;
	uint64_t seed;
	int id;
	/* Cap changes: a generation, odd while a cap is set. */
	unsigned long cap_gen;
	pthread_mutex_t lock;
	struct tally *tally;
};

/*
 * One thread: its objects' addresses in @slot, registered as a root
 * range, and what it needs to check them in @meta.
 */
struct meta {
	size_t size;
	uint64_t gen;
	unsigned int flags;
};

struct thr {
	struct proc *pr;
	int id;
	pthread_t thread;
	uint64_t rs, gen, last_gc;
	uint64_t *slot;
	struct meta meta[NSLOTS];
	long allocs, bulk, roots, frees, drops, checks, gcs, gc_checks, scavenges;
	long caps, limits, gogcs, munmaps, enomem, bytes_checked;
	const char *why;
	char buf[200];
};

static uint64_t obj_seed(uint64_t addr, uint64_t gen)
{
	return addr * 0x9e3779b97f4a7c15ULL ^ gen;
}

/* Every byte of small objects, one word in 512 of medium, one per page of large. */
static size_t stride_of(size_t size)
{
	return size <= 512 ? 8 : size <= 64 * 1024 ? 512 : 4096;
}

static int tiny(const struct meta *m)
{
	return m->size < 16 && (m->flags & GOMEM_ALLOC_NOSCAN);
}

/* Checks slot @i. Return: 0, or -1 with t->why set. */
static int check_slot(struct thr *t, int i, const char *when)
{
	void *p = (void *)(uintptr_t)t->slot[i];
	struct meta *m = &t->meta[i];
	long off;
	size_t usable;

	t->checks++;
	t->bytes_checked += m->size;
	/* Tiny objects share their block: their pattern tells. */
	if (!tiny(m)) {
		usable = gomem_usable_size(t->pr->h, p);
		if (usable < m->size) {
			snprintf(t->buf, sizeof(t->buf),
				 "%s: object %p (%zu bytes, gen %llu) is not live (usable %zu)",
				 when, p, m->size, (unsigned long long)m->gen, usable);
			t->why = t->buf;
			return -1;
		}
	}
	off = gm_check(p, m->size, obj_seed(t->slot[i], m->gen), stride_of(m->size));
	if (off >= 0) {
		snprintf(t->buf, sizeof(t->buf),
			 "%s: object %p (%zu bytes, flags %#x, gen %llu) overwritten at +%ld",
			 when, p, m->size, m->flags, (unsigned long long)m->gen, off);
		t->why = t->buf;
		return -1;
	}
	return 0;
}

/* Every object the thread holds, after a GC cycle. */
static int check_all(struct thr *t, const char *when)
{
	int i;

	t->gc_checks++;
	for (i = 0; i < NSLOTS; i++)
		if (t->slot[i] && check_slot(t, i, when))
			return -1;
	return 0;
}

/* Whether an -ENOMEM may be the cap's doing: one was set around the call. */
static int cap_explains(struct proc *pr, unsigned long gen0)
{
	unsigned long gen = __atomic_load_n(&pr->cap_gen, __ATOMIC_ACQUIRE);

	return (gen0 & 1) || (gen & 1) || gen != gen0;
}

/* Mostly small, as programs allocate; some tiny, some large. */
static size_t rnd_size(uint64_t *rs)
{
	uint64_t r = gm_rnd(rs);
	unsigned int pick = r % 1000;

	r >>= 10;
	if (pick < 200)
		return 1 + r % 15;
	if (pick < 800)
		return 16 + r % 1008;
	if (pick < 970)
		return 1024 + r % (GOMEM_MAX_SMALL - 1024);
	return GOMEM_MAX_SMALL + 1 + r % (512 * 1024);
}

static void take(struct thr *t, int i, void *p, size_t size, unsigned int flags)
{
	struct meta *m = &t->meta[i];
	size_t usable;

	m->size = size;
	m->flags = flags;
	m->gen = ++t->gen;
	/* An address that is not an object's would overwrite its neighbours. */
	/* A tiny object's size is its own bytes: only its liveness is checked. */
	usable = gomem_usable_size(t->pr->h, p);
	if (tiny(m) && usable)
		usable = size;
	if (usable < size) {
		snprintf(t->buf, sizeof(t->buf),
			 "allocation past its span's last slot? GOMEM_IOC_SIZE refuses the object of %zu bytes (flags %#x): %p, %zu bytes",
			 size, flags, p, usable);
		t->why = t->buf;
		return;
	}
	if ((flags & GOMEM_ALLOC_ZERO) && !gm_is_zero(p, size)) {
		snprintf(t->buf, sizeof(t->buf), "GOMEM_ALLOC_ZERO object %p not zeroed", p);
		t->why = t->buf;
	}
	gm_fill(p, size, obj_seed((uintptr_t)p, m->gen), stride_of(size));
}

/* Allocate into free slot @i (and more free slots for a bulk). */
static void op_alloc(struct thr *t, int i)
{
	struct proc *pr = t->pr;
	unsigned long gen0 = __atomic_load_n(&pr->cap_gen, __ATOMIC_ACQUIRE);
	size_t size = rnd_size(&t->rs);
	unsigned int flags = gm_rnd(&t->rs) & (GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_ZERO);
	unsigned int r = gm_rnd(&t->rs) % 16;
	void *batch[8];
	int n = 1, j, k, idx[8];

	if (r == 0 && size > 16 && OP_ON(OP_ROOT))
		flags |= GOMEM_ALLOC_ROOT;
	idx[0] = i;
	if (r == 1 && size <= GOMEM_MAX_SMALL && OP_ON(OP_BULK)) {
		/* A bulk into the next free slots. */
		for (j = (i + 1) % NSLOTS; j != i && n < 8; j = (j + 1) % NSLOTS)
			if (!t->slot[j])
				idx[n++] = j;
	}
	if (gomem_mutator_enter(pr->h)) {
		t->why = "gomem_mutator_enter failed";
		return;
	}
	if (n > 1) {
		if (gomem_alloc_bulk(pr->h, size, flags, batch, n))
			batch[0] = NULL;
	} else {
		batch[0] = gomem_alloc(pr->h, size, flags);
	}
	if (batch[0]) {
		/* Stored where the collector looks before the section ends. */
		for (k = 0; k < n; k++)
			__atomic_store_n(&t->slot[idx[k]], (uintptr_t)batch[k], __ATOMIC_RELEASE);
	}
	gomem_mutator_exit(pr->h);
	if (!batch[0]) {
		if (errno == ENOMEM && cap_explains(pr, gen0)) {
			t->enomem++;
			return;
		}
		/* The kernel's own check of the slot it picked, for a root object. */
		if (errno == EINVAL && (flags & GOMEM_ALLOC_ROOT))
			snprintf(t->buf, sizeof(t->buf),
				 "allocation past its span's last slot? %d x %zu bytes (flags %#x): -EINVAL from GOMEM_ALLOC_ROOT",
				 n, size, flags);
		else
			snprintf(t->buf, sizeof(t->buf), "allocation of %d x %zu bytes (flags %#x): %s",
				 n, size, flags, strerror(errno));
		t->why = t->buf;
		return;
	}
	for (k = 0; k < n && !t->why; k++)
		take(t, idx[k], batch[k], size, flags);
	t->allocs += n;
	t->bulk += n > 1;
	t->roots += !!(flags & GOMEM_ALLOC_ROOT);
}

static void op_free(struct thr *t, int i)
{
	void *p = (void *)(uintptr_t)t->slot[i];

	if (check_slot(t, i, "free"))
		return;
	if (gomem_free(t->pr->h, p)) {
		snprintf(t->buf, sizeof(t->buf), "free of %p: %s", p, strerror(errno));
		t->why = t->buf;
		return;
	}
	__atomic_store_n(&t->slot[i], 0, __ATOMIC_RELEASE);
	t->frees++;
}

/* Forget an object: the collector frees it. A root object is released first. */
static void op_drop(struct thr *t, int i)
{
	void *p = (void *)(uintptr_t)t->slot[i];

	if (check_slot(t, i, "drop"))
		return;
	if ((t->meta[i].flags & GOMEM_ALLOC_ROOT) && gomem_root_del_object(t->pr->h, p)) {
		snprintf(t->buf, sizeof(t->buf), "root release of %p: %s", p, strerror(errno));
		t->why = t->buf;
		return;
	}
	__atomic_store_n(&t->slot[i], 0, __ATOMIC_RELEASE);
	t->drops++;
}

static void op_gc(struct thr *t)
{
	struct gomem_gc_stats st;
	int err = gomem_gc(t->pr->h, &st);

	if (err) {
		snprintf(t->buf, sizeof(t->buf), "GC: %s", strerror(-err));
		t->why = t->buf;
		return;
	}
	t->gcs++;
	t->last_gc = st.cycle;
	check_all(t, "after GOMEM_IOC_GC");
}

/* After any cycle (an allocation's, another thread's): check everything. */
static void poll_gc(struct thr *t)
{
	struct gomem_memstats st;

	if (gomem_stats(t->pr->h, &st)) {
		t->why = "GOMEM_IOC_STATS failed";
		return;
	}
	if (st.num_gc != t->last_gc) {
		t->last_gc = st.num_gc;
		check_all(t, "after a GC cycle");
	}
}

static void op_scavenge(struct thr *t)
{
	uint64_t released;
	uint64_t max = gm_rnd(&t->rs) % 2 ? 0 : (gm_rnd(&t->rs) % 64) * MiB;

	if (gomem_scavenge(t->pr->h, max, &released)) {
		t->why = "GOMEM_IOC_SCAVENGE failed";
		return;
	}
	t->scavenges++;
}

/* Thread 0 sets a cap near HeapSys, and takes it away the next time. */
static void op_cap(struct thr *t)
{
	struct proc *pr = t->pr;
	struct gomem_memstats st;
	uint64_t cap = 0;

	if (!(pr->cap_gen & 1)) {
		if (gomem_stats(pr->h, &st)) {
			t->why = "GOMEM_IOC_STATS failed";
			return;
		}
		cap = st.heap_sys + (gm_rnd(&t->rs) % 3) * 4 * MiB;
		if (!cap)
			cap = 4 * MiB;
		__atomic_add_fetch(&pr->cap_gen, 1, __ATOMIC_RELEASE);
	}
	if (gomem_set_cap(pr->h, cap, NULL)) {
		t->why = "GOMEM_IOC_SET_CAP failed";
		return;
	}
	if (!cap)
		__atomic_add_fetch(&pr->cap_gen, 1, __ATOMIC_RELEASE);
	t->caps++;
}

static void op_limit(struct thr *t)
{
	int64_t limit = gm_rnd(&t->rs) % 4 ? (int64_t)((8 + gm_rnd(&t->rs) % 248) * MiB) : INT64_MAX;

	if (gomem_set_memory_limit(t->pr->h, limit) < 0) {
		t->why = "GOMEM_IOC_SET_GC (limit) failed";
		return;
	}
	t->limits++;
}

static void op_gogc(struct thr *t)
{
	int gogc = 25 + gm_rnd(&t->rs) % 200;

	if (gomem_set_gcpercent(t->pr->h, gogc) == GOMEM_GCPERCENT_ERROR) {
		t->why = "GOMEM_IOC_SET_GC (GOGC) failed";
		return;
	}
	t->gogcs++;
}

/* op_munmap()'s work, inside a mutator section. */
static void munmap_big_object(struct thr *t)
{
	struct proc *pr = t->pr;
	unsigned long gen0 = __atomic_load_n(&pr->cap_gen, __ATOMIC_ACQUIRE);
	size_t size = GOMEM_ARENA_SIZE + GOMEM_PAGE_SIZE;
	unsigned long start, end;
	char *p;

	p = gomem_alloc(pr->h, size, GOMEM_ALLOC_NOSCAN);
	if (!p) {
		if (errno == ENOMEM && cap_explains(pr, gen0)) {
			t->enomem++;
			return;
		}
		snprintf(t->buf, sizeof(t->buf), "big allocation: %s", strerror(errno));
		t->why = t->buf;
		return;
	}
	gm_fill(p, 4096, (uintptr_t)p, 8);
	gm_fill(p + size - 4096, 4096, (uintptr_t)p + 1, 8);
	if (gm_check(p, 4096, (uintptr_t)p, 8) >= 0 ||
	    gm_check(p + size - 4096, 4096, (uintptr_t)p + 1, 8) >= 0) {
		t->why = "big object does not keep its contents";
		return;
	}
	if (gm_find_map((uintptr_t)p, &start, &end) != 1 || start != (uintptr_t)p ||
	    end - start < size) {
		t->why = "big object is not alone in its arena mapping";
		return;
	}
	if (munmap((void *)start, end - start)) {
		t->why = "munmap of an arena failed";
		return;
	}
	t->munmaps++;
}

/*
 * An object bigger than an arena gets an arena of its own: fill its ends,
 * check them, then unmap the whole arena by hand. The object is lost, as
 * the ABI says; the heap carries on.
 *
 * Nothing points to the object, so all of this happens inside a mutator
 * section (libgomem's rule 2): outside one, another thread's cycle may
 * free it, and its arena may go back to the kernel or to another
 * thread's object before it is touched or unmapped here.
 */
static void op_munmap(struct thr *t)
{
	if (gomem_mutator_enter(t->pr->h)) {
		t->why = "gomem_mutator_enter failed";
		return;
	}
	munmap_big_object(t);
	gomem_mutator_exit(t->pr->h);
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct proc *pr = t->pr;
	long op;
	int i, err;

	err = gomem_root_add(pr->h, t->slot, NSLOTS * sizeof(*t->slot));
	if (err) {
		t->why = "root range registration failed";
		return NULL;
	}
	for (op = 0; !t->why; op++) {
		unsigned int what = gm_rnd(&t->rs) % 1000;

		if (!(op % 32) && now() > pr->deadline)
			break;
		i = gm_rnd(&t->rs) % NSLOTS;
		if (what < 550) {
			if (!t->slot[i])
				op_alloc(t, i);
			else
				op_free(t, i);
		} else if (what < 750) {
			if (t->slot[i])
				op_free(t, i);
		} else if (what < 880) {
			if (t->slot[i] && OP_ON(OP_DROP))
				op_drop(t, i);
		} else if (what < 960) {
			if (t->slot[i])
				check_slot(t, i, "check");
		} else if (what < 975) {
			if (OP_ON(OP_GC))
				op_gc(t);
		} else if (what < 985) {
			if (OP_ON(OP_SCAVENGE))
				op_scavenge(t);
		} else if (what < 990) {
			if (OP_ON(OP_LIMIT))
				op_limit(t);
		} else if (what < 995) {
			if (OP_ON(OP_GOGC))
				op_gogc(t);
		} else if (what < 998) {
			if (t->id == 0 && OP_ON(OP_CAP))
				op_cap(t);
		} else if (t->id == 0 && !(gm_rnd(&t->rs) % 4) && OP_ON(OP_MUNMAP)) {
			op_munmap(t);
		}
		if (!t->why && !(op % 16))
			poll_gc(t);
	}
	/* The end: everything held is intact; free it all. */
	if (!t->why)
		check_all(t, "at the end");
	for (i = 0; i < NSLOTS && !t->why; i++)
		if (t->slot[i])
			op_free(t, i);
	gomem_root_del(pr->h, t->slot);
	return NULL;
}

/*
 * A fault on heap memory is a failure to explain: say where, and what is
 * mapped there, before dying of it.
 */
static void fault_report(int sig, siginfo_t *si, void *uc)
{
	char line[160];
	int n;

	n = snprintf(line, sizeof(line), "# stress: signal %d at %p (code %d) in pid %d\n", sig,
		     si->si_addr, si->si_code, getpid());
	if (write(2, line, n) < 0)
		_exit(128 + sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void report_faults(void)
{
	struct sigaction sa = { .sa_sigaction = fault_report, .sa_flags = SA_SIGINFO };

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

static int proc_main(struct proc *pr, int nthreads)
{
	struct thr *t = calloc(nthreads, sizeof(*t));
	struct tally *ty = pr->tally;
	struct gomem_memstats st;
	cpu_set_t cpus;
	int i;

	if (!t)
		return 1;
	/* Spread the processes over the CPUs. */
	CPU_ZERO(&cpus);
	CPU_SET(pr->id % (sysconf(_SC_NPROCESSORS_ONLN) ?: 1), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	report_faults();
	pr->h = gomem_open(NULL);
	if (!pr->h) {
		snprintf(ty->why, sizeof(ty->why), "gomem_open: %s", strerror(errno));
		return 1;
	}
	if (gomem_set_gcpercent(pr->h, 100) == GOMEM_GCPERCENT_ERROR) {
		snprintf(ty->why, sizeof(ty->why), "GOGC 100 refused");
		return 1;
	}
	pthread_mutex_init(&pr->lock, NULL);
	for (i = 0; i < nthreads; i++) {
		t[i].pr = pr;
		t[i].id = i;
		t[i].rs = pr->seed * 0x100000001b3ULL + pr->id * 1000 + i + 1;
		t[i].slot = calloc(NSLOTS, sizeof(*t[i].slot));
		if (!t[i].slot || pthread_create(&t[i].thread, NULL, thr_main, &t[i])) {
			snprintf(ty->why, sizeof(ty->why), "thread %d not started", i);
			return 1;
		}
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i].thread, NULL);
		if (t[i].why && !ty->failures++)
			snprintf(ty->why, sizeof(ty->why), "process %d thread %d: %s", pr->id, i,
				 t[i].why);
		ty->allocs += t[i].allocs;
		ty->bulk += t[i].bulk;
		ty->roots += t[i].roots;
		ty->frees += t[i].frees;
		ty->drops += t[i].drops;
		ty->checks += t[i].checks;
		ty->gcs += t[i].gcs;
		ty->gc_checks += t[i].gc_checks;
		ty->scavenges += t[i].scavenges;
		ty->caps += t[i].caps;
		ty->limits += t[i].limits;
		ty->gogcs += t[i].gogcs;
		ty->munmaps += t[i].munmaps;
		ty->enomem += t[i].enomem;
		ty->bytes_checked += t[i].bytes_checked;
		free(t[i].slot);
	}
	if (!gomem_stats(pr->h, &st))
		ty->num_gc = st.num_gc;
	gomem_close(pr->h);
	free(t);
	return ty->failures ? 1 : 0;
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
	if (access(GOMEM_DEV, F_OK))
		SKIP(_exit(255), "%s: %s (is gomem.ko loaded?)", GOMEM_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(stress)
{
}

/* The harness's alarm: GOMEM_STRESS_SECONDS decides how long it runs. */
TEST_F_TIMEOUT(stress, mixed, 86400)
{
	const long seconds = env_long("GOMEM_STRESS_SECONDS", 20);
	const long nprocs = env_long("GOMEM_STRESS_PROCS", 2);
	const long nthreads = env_long("GOMEM_STRESS_THREADS", 2);
	const uint64_t seed = env_long("GOMEM_STRESS_SEED", 1);
	long long pages0 = gm_user_pages(), pages = -1;
	struct tally *ty, sum = { 0 };
	struct gm_vmas v;
	double t0 = now();
	pid_t pid;
	int i, status;

	ASSERT_LT(0, nprocs);
	ASSERT_LT(0, nthreads);
	ops_off = parse_ops_off(getenv("GOMEM_STRESS_NO"));
	gm_kmsg(_metadata->name);
	ty = mmap(NULL, nprocs * sizeof(*ty), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, ty);
	memset(ty, 0, nprocs * sizeof(*ty));
	TH_LOG("seed %llu, %ld s, %ld processes x %ld threads%s%s", (unsigned long long)seed,
	       seconds, nprocs, nthreads, ops_off ? ", without " : "",
	       ops_off ? getenv("GOMEM_STRESS_NO") : "");
	for (i = 0; i < nprocs; i++) {
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			struct proc pr = {
				.deadline = now() + seconds,
				.seed = seed,
				.id = i,
				.tally = &ty[i],
			};

			_exit(proc_main(&pr, nthreads));
		}
	}
	for (i = 0; i < nprocs; i++) {
		pid = wait(&status);
		ASSERT_LT(0, pid);
		/* Exit code 1: the process found a failure, counted below. */
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) <= 1)
			TH_LOG("a stress process ended with status %#x", status);
	}
	for (i = 0; i < nprocs; i++) {
		EXPECT_EQ(0, ty[i].failures);
		EXPECT_EQ(0, ty[i].why[0]) TH_LOG("process %d: %s", i, ty[i].why);
		sum.allocs += ty[i].allocs;
		sum.bulk += ty[i].bulk;
		sum.roots += ty[i].roots;
		sum.frees += ty[i].frees;
		sum.drops += ty[i].drops;
		sum.checks += ty[i].checks;
		sum.gcs += ty[i].gcs;
		sum.gc_checks += ty[i].gc_checks;
		sum.scavenges += ty[i].scavenges;
		sum.caps += ty[i].caps;
		sum.limits += ty[i].limits;
		sum.gogcs += ty[i].gogcs;
		sum.munmaps += ty[i].munmaps;
		sum.enomem += ty[i].enomem;
		sum.num_gc += ty[i].num_gc;
		sum.bytes_checked += ty[i].bytes_checked;
	}
	/* Every heap is closed: no mapping, no page left. */
	ASSERT_EQ(0, gm_smaps(&v));
	EXPECT_EQ(0, v.count);
	if (pages0 >= 0) {
		for (i = 0; i < 200 && pages != pages0; i++) {
			pages = gm_user_pages();
			if (pages != pages0)
				usleep(10000);
		}
		EXPECT_EQ(pages0, pages) TH_LOG("user_pages did not come back");
	}
	/* A run that did nothing proves nothing. */
	EXPECT_LT(0, sum.allocs);
	EXPECT_LT(0, sum.num_gc);
	printf("# stress: seed %llu, %.1f s, %ld processes x %ld threads\n",
	       (unsigned long long)seed, now() - t0, nprocs, nthreads);
	printf("# stress: %ld allocations (%ld bulk, %ld root objects), %ld frees, %ld dropped\n",
	       sum.allocs, sum.bulk, sum.roots, sum.frees, sum.drops);
	printf("# stress: %ld GC cycles (%ld forced), %ld full checks after GC, %ld object checks (%ld MiB)\n",
	       sum.num_gc, sum.gcs, sum.gc_checks, sum.checks, sum.bytes_checked >> 20);
	printf("# stress: %ld scavenges, %ld cap changes (%ld -ENOMEM under a cap), %ld limits, %ld GOGC, %ld arenas unmapped\n",
	       sum.scavenges, sum.caps, sum.enomem, sum.limits, sum.gogcs, sum.munmaps);
	munmap(ty, nprocs * sizeof(*ty));
}

TEST_HARNESS_MAIN
