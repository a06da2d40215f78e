// SPDX-License-Identifier: GPL-2.0
/*
 * gomem_fuzz: random sequences of every /dev/gomem command, from several
 * threads of several processes, mixed with what a program may do to its
 * heap's mappings (munmap, mremap, madvise, mprotect, MAP_FIXED), fork,
 * passing the descriptor to another process, closing and reopening.
 *
 * The fuzzer keeps a shadow of its heap and checks, as it goes:
 *  - every command returns 0 or an errno its documentation allows, and the
 *    exact one where the arguments decide it;
 *  - no two live objects it holds overlap, none lies in memory it
 *    unmapped, each has the slot size and alignment of its size class;
 *  - each object's contents (a pattern from the seed, the address and a
 *    generation, written at allocation) survive until it frees the object:
 *    across GC cycles (its object tables are registered root ranges, so
 *    every object it holds is reachable), scavenging, madvise, mprotect;
 *  - GOMEM_ALLOC_ZERO objects read as zeros;
 *  - GOMEM_IOC_STATS agrees with the shadow where it is exact: the cap,
 *    GOGC and memory limit, lost_bytes (the 8 KiB pages it unmapped), and
 *    the object counts while nothing it dropped or unmapped can differ;
 *  - a failed command changes nothing (the bulk array, the heap).
 *
 * Deterministic by seed: each thread draws its operations from its own
 * generator (seed, process, thread); with one process and one thread and
 * --max-ops the whole run repeats. On a violation it prints the seed, the
 * command line that replays it and the last operations of every thread,
 * and exits non-zero.
 *
 *   gomem_fuzz [--seed N] [--seconds S] [--max-ops N] [--procs N]
 *	[--threads N] [--ops CLASS,...|all|default] [--history N]
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <search.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/gomem.h>

#include "sizeclasses.h"
/* Both define ARRAY_SIZE the same way. */
#undef ARRAY_SIZE
#include "kselftest.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif
#ifndef MADV_COLD
#define MADV_COLD		20
#define MADV_PAGEOUT		21
#endif

#define DEV			"/dev/gomem"
#define ARENA_HINT		0xc000000000ULL
#define ARENA_SIZE		(64ULL << 20)
#define GPAGE			8192ULL		/* the heap's page */
#define SPAGE			4096ULL		/* the machine's page */
#define MAX_SMALL		32768ULL
#define TINY_SIZE		16ULL
#define KERNEL_ADDR		0xffff888000000000ULL

#define MAX_PROCS		16
#define MAX_THREADS		16
#define TABLE_MAX		12288		/* objects one thread holds */
#define QUEUE_MAX		256		/* objects handed between threads */
#define HEAD_BYTES		16384ULL	/* filled completely */
#define PATTERN_POINTS		256		/* further words of a big object */
#define THREAD_BUDGET		(24ULL << 20)	/* bytes a thread keeps touched */
#define SCRATCH_SIZE		(1ULL << 20)
#define DEST_SIZE		(32ULL << 20)	/* mremap destinations */
#define MREMAP_MAX		(16ULL << 20)
#define HIST_DEFAULT		32
#define HIST_MAX		1024

typedef uint64_t u64;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint8_t u8;

/* === commands =========================================================== */

struct cmd_desc {
	unsigned long cmd;
	const char *name;
	u64 allowed;	/* errnos it may return, as 1 << errno */
};

#define E(x)		(1ULL << (x))
/* Any heap command: a bad argument pointer, another address space, no heap. */
#define E_HEAP		(E(EFAULT) | E(EPERM) | E(EBADF) | E(EINTR))

enum { C_VERSION, C_ALLOC, C_BULK, C_FREE, C_SIZE, C_STATS, C_CLASSES, C_SCAVENGE,
	C_CAP, C_ROOT_ADD, C_ROOT_DEL, C_GC, C_SET_GC, C_PROF_RATE, C_PROF_READ, C_UNKNOWN,
	NCMD };

static const struct cmd_desc cmds[NCMD] = {
	[C_VERSION] = { GOMEM_IOC_VERSION, "VERSION", E(EINVAL) | E(EFAULT) },
	[C_ALLOC] = { GOMEM_IOC_ALLOC, "ALLOC", E_HEAP | E(EINVAL) | E(ENOMEM) | E(EAGAIN) },
	[C_BULK] = { GOMEM_IOC_ALLOC_BULK, "ALLOC_BULK",
		     E_HEAP | E(EINVAL) | E(ENOMEM) | E(EAGAIN) },
	[C_FREE] = { GOMEM_IOC_FREE, "FREE", E_HEAP | E(EINVAL) },
	[C_SIZE] = { GOMEM_IOC_SIZE, "SIZE", E_HEAP | E(EINVAL) },
	[C_STATS] = { GOMEM_IOC_STATS, "STATS", E_HEAP | E(EINVAL) },
	[C_CLASSES] = { GOMEM_IOC_CLASS_STATS, "CLASS_STATS", E_HEAP | E(EINVAL) | E(ENOMEM) },
	[C_SCAVENGE] = { GOMEM_IOC_SCAVENGE, "SCAVENGE", E_HEAP | E(EINVAL) },
	[C_CAP] = { GOMEM_IOC_SET_CAP, "SET_CAP", E_HEAP | E(EINVAL) },
	[C_ROOT_ADD] = { GOMEM_IOC_ROOT_ADD, "ROOT_ADD", E_HEAP | E(EINVAL) | E(EEXIST) |
			 E(ENOENT) | E(ENOSPC) | E(ENOMEM) },
	[C_ROOT_DEL] = { GOMEM_IOC_ROOT_DEL, "ROOT_DEL", E_HEAP | E(EINVAL) | E(EEXIST) |
			 E(ENOENT) | E(ENOSPC) | E(ENOMEM) },
	[C_GC] = { GOMEM_IOC_GC, "GC", E_HEAP | E(EINVAL) | E(ENOMEM) },
	[C_SET_GC] = { GOMEM_IOC_SET_GC, "SET_GC", E_HEAP | E(EINVAL) },
	[C_PROF_RATE] = { GOMEM_IOC_PROF_RATE, "PROF_RATE", E_HEAP | E(EINVAL) },
	[C_PROF_READ] = { GOMEM_IOC_PROF_READ, "PROF_READ", E_HEAP | E(EINVAL) | E(ENOMEM) },
	[C_UNKNOWN] = { 0, "unknown", E(ENOTTY) },
};

static int cmd_index(unsigned long cmd)
{
	int i;

	for (i = 0; i < C_UNKNOWN; i++)
		if (cmds[i].cmd == cmd)
			return i;
	return C_UNKNOWN;
}

/* === operation classes ================================================== */

enum {
	O_ALLOC, O_BULK, O_FREE, O_SIZE, O_STATS, O_CLASSES, O_SCAVENGE, O_CAP, O_ROOT,
	O_GC, O_SETGC, O_VERSION, O_BADCMD, O_BADPTR, O_TOUCH, O_HANDOFF, O_DROP,
	O_MUNMAP, O_MREMAP, O_MADVISE, O_MPROTECT, O_MAPFIXED, O_FORK, O_PASSFD,
	O_REOPEN, O_HEAP2, O_DOFORK, O_ROARG, O_PROF, O_ABI, NOPS
};

static const char * const op_names[NOPS] = {
	"alloc", "bulk", "free", "size", "stats", "classes", "scavenge", "cap", "root",
	"gc", "setgc", "version", "badcmd", "badptr", "touch", "handoff", "drop",
	"munmap", "mremap", "madvise", "mprotect", "mapfixed", "fork", "passfd",
	"reopen", "heap2", "dofork", "roarg", "prof", "abi",
};

/* Relative frequency of each class, out of their sum. */
static const unsigned int op_weight[NOPS] = {
	[O_ALLOC] = 300, [O_BULK] = 40, [O_FREE] = 220, [O_SIZE] = 40, [O_STATS] = 20,
	[O_CLASSES] = 10, [O_SCAVENGE] = 8, [O_CAP] = 10, [O_ROOT] = 30, [O_GC] = 8,
	[O_SETGC] = 10, [O_VERSION] = 5, [O_BADCMD] = 10, [O_BADPTR] = 15, [O_TOUCH] = 60,
	[O_HANDOFF] = 30, [O_DROP] = 8, [O_MUNMAP] = 6, [O_MREMAP] = 6, [O_MADVISE] = 12,
	[O_MPROTECT] = 8, [O_MAPFIXED] = 4, [O_FORK] = 2, [O_PASSFD] = 2, [O_REOPEN] = 1,
	[O_HEAP2] = 2, [O_DOFORK] = 1, [O_ROARG] = 2, [O_PROF] = 6, [O_ABI] = 0,
};

/* Every class runs by default; --ops narrows a run down for a replay. */
#define OPS_ALL			((1ULL << NOPS) - 1)
#define OPS_DEFAULT		OPS_ALL

/* === settings, shared counters ========================================== */

static struct {
	u64 seed;
	double seconds;
	u64 max_ops;
	int procs, threads;
	u64 ops;
	unsigned int history;
	bool seed_given;
} cfg = { .seconds = 10, .procs = 2, .threads = 3, .ops = OPS_DEFAULT,
	  .history = HIST_DEFAULT };

/* In memory shared by every process of the run. */
struct shared {
	u64 issued[NCMD];
	u64 failed[NCMD];
	u64 ops[NOPS];
	u64 forks, procs, violations, objects, bytes;
};

static struct shared *sh;

static void count(u64 *c, u64 n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* === random numbers ===================================================== */

static u64 splitmix(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* === per-thread state, history ========================================== */

struct hist {
	u64 n;
	const char *what;
	u64 a, b, c;
	long ret;
};

struct obj {
	u64 addr;
	u64 size;
	u64 usable;
	u32 flags;	/* GOMEM_ALLOC_* it was allocated with, OBJ_* */
	u32 gen;
};

#define OBJ_ROOT		(1U << 16)	/* a root object now */
#define OBJ_TINY		(1U << 17)	/* shares a tiny block */
#define OBJ_TREQ		(1U << 18)	/* went to the tiny allocator */

/* One thread's objects: a registered root range, so the GC keeps them. */
struct table {
	u64 n;
	struct obj o[TABLE_MAX];
};

struct queue {
	u64 n;
	struct obj o[QUEUE_MAX];
};

struct thr {
	int id;
	u64 rng;
	struct table *t;
	u64 touched;		/* bytes of its objects it wrote */
	u64 nops;
	u64 *bulk;		/* GOMEM_BULK_MAX + 1 words, then a PROT_NONE page */
	char *dest;		/* an anonymous range for mremap destinations */
	struct hist *h;
	unsigned int hn;
	sigjmp_buf env;
	int armed;		/* a fault is expected: jump back to env */
	bool need_gc;
};

static __thread struct thr *me;
static struct thr thrs[MAX_THREADS];
static int proc_index = -1;
static const char *run_ops;

static u64 rnd(void)
{
	return splitmix(&me->rng);
}

static u64 below(u64 n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int pct)
{
	return below(100) < pct;
}

static void hist(const char *what, u64 a, u64 b, u64 c, long ret)
{
	struct hist *e;

	if (!me || !me->h)
		return;
	e = &me->h[me->hn++ % cfg.history];
	e->n = me->nops;
	e->what = what;
	e->a = a;
	e->b = b;
	e->c = c;
	e->ret = ret;
}

/* === reporting ========================================================== */

/* snprintf and write only: forked children of threaded processes use it too. */
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(STDOUT_FILENO, buf, n) != n)
		return;
}

static void dump_history(const struct thr *t, unsigned int last)
{
	unsigned int i, n = t->hn < cfg.history ? t->hn : cfg.history;
	const struct hist *e;

	if (n > last)
		n = last;
	say("# thread %d of process %d: last %u of %llu operations\n", t->id, proc_index,
	    n, (unsigned long long)t->nops);
	for (i = t->hn - n; i != t->hn; i++) {
		e = &t->h[i % cfg.history];
		say("#   op %llu %s 0x%llx 0x%llx 0x%llx -> %ld\n", (unsigned long long)e->n,
		    e->what, (unsigned long long)e->a, (unsigned long long)e->b,
		    (unsigned long long)e->c, e->ret);
	}
}

/* An invariant failed: say what, how to replay, what led there, and end. */
static _Noreturn void fail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	count(&sh->violations, 1);
	say("# VIOLATION (seed %llu, process %d, thread %d, op %llu): %s\n",
	    (unsigned long long)cfg.seed, proc_index, me ? me->id : -1,
	    me ? (unsigned long long)me->nops : 0ULL, buf);
	say("# replay: gomem_fuzz --seed %llu --procs %d --threads %d --ops %s --max-ops %llu\n",
	    (unsigned long long)cfg.seed, cfg.procs, cfg.threads, run_ops,
	    me ? (unsigned long long)me->nops + 1 : 0ULL);
	if (me && me->h)
		dump_history(me, cfg.history);
	for (i = 0; i < cfg.threads; i++)
		if (thrs[i].h && &thrs[i] != me)
			dump_history(&thrs[i], 8);
	_exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

static const char *ename(long r)
{
	static const char * const names[] = {
		[EPERM] = "EPERM", [ENOENT] = "ENOENT", [EINTR] = "EINTR", [EBADF] = "EBADF",
		[EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM", [EACCES] = "EACCES",
		[EFAULT] = "EFAULT", [EEXIST] = "EEXIST", [EINVAL] = "EINVAL",
		[ENOTTY] = "ENOTTY", [ENOSPC] = "ENOSPC",
	};

	if (!r)
		return "0";
	if (r < 0 && -r < (long)(ARRAY_SIZE(names)) && names[-r])
		return names[-r];
	return "?";
}

/* === faults ============================================================= */

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	if (me && __atomic_load_n(&me->armed, __ATOMIC_RELAXED)) {
		__atomic_store_n(&me->armed, 0, __ATOMIC_RELAXED);
		siglongjmp(me->env, sig);
	}
	fail("signal %d at address %p", sig, si->si_addr);
}

/* Reads or writes a byte; Return: 0, or the signal it raised. */
static int touch(u64 addr, bool write)
{
	char *p = (char *)(uintptr_t)addr;
	int sig;

	sig = sigsetjmp(me->env, 1);
	if (sig)
		return sig;
	__atomic_store_n(&me->armed, 1, __ATOMIC_SEQ_CST);
	if (write)
		__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
	else
		__atomic_load_n(p, __ATOMIC_RELAXED);
	__atomic_store_n(&me->armed, 0, __ATOMIC_SEQ_CST);
	return 0;
}

/* === the process's shadow =========================================== */

struct iv {
	u64 start, end;
};

static struct {
	int fd;
	u32 heap_id;
	pthread_rwlock_t world;	/* write: GC, checks; read: everything else */
	pthread_mutex_t mu;	/* the fields below */
	void *tree;		/* struct iv of every live object it holds */
	u64 *lost;		/* sorted 8 KiB pages it unmapped */
	size_t nlost, lost_cap;
	u64 cap;
	s32 gogc, gogc_default;
	u64 prof_rate;		/* the heap's sampling rate, as the fuzzer set it */
	u64 limit;
	u64 rootaddr[GOMEM_ROOTS_MAX];
	int nroots;		/* of rootaddr: random ranges */
	int fixed_roots;	/* the tables and the queue */
	bool inexact;		/* mallocs - frees may differ from the shadow */
	bool dofork;		/* MADV_DOFORK was applied to the heap */
	struct queue *q;
	pthread_mutex_t qmu;
	char *scratch;		/* memory for random root ranges */
	char *ro;		/* a read-only page */
	char *none;		/* a PROT_NONE page */
	u64 gen;
} P;

/* === the ioctl wrapper ================================================== */

static long gioc(int fd, unsigned long cmd, void *arg)
{
	int i = cmd_index(cmd);
	long r = ioctl(fd, cmd, arg);

	if (r < 0)
		r = -errno;
	count(&sh->issued[i], 1);
	if (r)
		count(&sh->failed[i], 1);
	/* The argument's first words after the call (an allocation's address is the third). */
	if ((uintptr_t)arg >= 0x10000 && (uintptr_t)arg < (1ULL << 47) && arg != P.none) {
		u64 w[3] = { 0 };

		memcpy(w, arg, _IOC_SIZE(cmd) >= sizeof(w) ? sizeof(w) : 2 * sizeof(u64));
		hist(cmds[i].name, w[0], w[1], w[2], r);
	} else {
		hist(cmds[i].name, 0, (u64)(uintptr_t)arg, (u64)cmd, r);
	}
	CHECK(r <= 0, "%s returned %ld", cmds[i].name, r);
	CHECK(!r || (-r < 64 && (cmds[i].allowed & E(-r))),
	      "%s returned %ld (%s), not a documented error", cmds[i].name, r, ename(r));
	return r;
}

/* A command whose result the arguments decide. */
static long expect(long want, int fd, unsigned long cmd, void *arg, const char *why)
{
	long r = gioc(fd, cmd, arg);

	CHECK(r == want, "%s (%s): %ld (%s), expected %ld (%s)", cmds[cmd_index(cmd)].name,
	      why, r, ename(r), want, ename(want));
	return r;
}

static int ivcmp(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	if (x->end <= y->start)
		return -1;
	if (y->end <= x->start)
		return 1;
	return 0;
}

static u64 obj_span(const struct obj *o)
{
	return (o->flags & OBJ_TINY) ? o->size : o->usable;
}

static void tree_add(u64 addr, u64 len, const char *what)
{
	struct iv *n = malloc(sizeof(*n)), **r;

	CHECK(n, "out of memory");
	n->start = addr;
	n->end = addr + len;
	pthread_mutex_lock(&P.mu);
	r = tsearch(n, &P.tree, ivcmp);
	CHECK(r, "out of memory");
	if (*r != n) {
		struct iv o = **r;

		pthread_mutex_unlock(&P.mu);
		fail("%s: object [0x%llx, 0x%llx) overlaps live object [0x%llx, 0x%llx)", what,
		     (unsigned long long)addr, (unsigned long long)(addr + len),
		     (unsigned long long)o.start, (unsigned long long)o.end);
	}
	pthread_mutex_unlock(&P.mu);
}

static void tree_del(u64 addr, u64 len)
{
	struct iv key = { addr, addr + len }, **r, *n;

	pthread_mutex_lock(&P.mu);
	r = tfind(&key, &P.tree, ivcmp);
	CHECK(r && (*r)->start == addr && (*r)->end == addr + len,
	      "shadow lost object 0x%llx", (unsigned long long)addr);
	n = *r;
	tdelete(&key, &P.tree, ivcmp);
	pthread_mutex_unlock(&P.mu);
	free(n);
}

static void tree_clear(void)
{
	tdestroy(P.tree, free);
	P.tree = NULL;
}

/* Whether [addr, addr + len) has a page the fuzzer unmapped. P.mu held. */
static bool lost_hit(u64 addr, u64 len)
{
	size_t lo = 0, hi = P.nlost;
	u64 first = addr & ~(GPAGE - 1);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (P.lost[mid] < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < P.nlost && P.lost[lo] < addr + len;
}

static void lost_add(u64 page)
{
	size_t i;

	for (i = 0; i < P.nlost && P.lost[i] < page; i++)
		;
	if (i < P.nlost && P.lost[i] == page)
		return;
	if (P.nlost == P.lost_cap) {
		P.lost_cap = P.lost_cap ? 2 * P.lost_cap : 256;
		P.lost = realloc(P.lost, P.lost_cap * sizeof(*P.lost));
		CHECK(P.lost, "out of memory");
	}
	memmove(&P.lost[i + 1], &P.lost[i], (P.nlost - i) * sizeof(*P.lost));
	P.lost[i] = page;
	P.nlost++;
}

static bool is_gomem_line(const char *line)
{
	size_t n = strcspn(line, "\n");

	return n >= strlen(DEV) && !strncmp(line + n - strlen(DEV), DEV, strlen(DEV));
}

/*
 * After the fuzzer did something to [addr, addr + len) of its heap: every
 * 4 KiB page there that is no /dev/gomem mapping any more loses its 8 KiB
 * heap page, as the heap counts it.
 */
static void note_unmapped(u64 addr, u64 len)
{
	u64 mapped[64][2], start, end, p;
	int n = 0, i;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	CHECK(f, "cannot read /proc/self/maps");
	while (fgets(line, sizeof(line), f) && n < 64) {
		if (sscanf(line, "%llx-%llx", (unsigned long long *)&start,
			   (unsigned long long *)&end) != 2)
			continue;
		if (end <= addr || start >= addr + len || !is_gomem_line(line))
			continue;
		mapped[n][0] = start;
		mapped[n][1] = end;
		n++;
	}
	fclose(f);
	pthread_mutex_lock(&P.mu);
	for (p = addr; p < addr + len; p += SPAGE) {
		for (i = 0; i < n; i++)
			if (p >= mapped[i][0] && p < mapped[i][1])
				break;
		if (i == n)
			lost_add(p & ~(GPAGE - 1));
	}
	pthread_mutex_unlock(&P.mu);
}

/* The /dev/gomem mapping holding @addr: Return: true and its bounds, or false. */
static bool find_map(u64 addr, u64 *start, u64 *end)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	CHECK(f, "cannot read /proc/self/maps");
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx", (unsigned long long *)start,
			   (unsigned long long *)end) != 2)
			continue;
		found = addr >= *start && addr < *end && is_gomem_line(line);
	}
	fclose(f);
	return found;
}

/* === objects ============================================================ */

static u64 pattern(u64 s, u64 off)
{
	u64 x = (s + off) * 0x9e3779b97f4a7c15ULL;

	return x ^ (x >> 29) ^ (off << 48);
}

static u64 obj_seed(const struct obj *o)
{
	return cfg.seed ^ o->addr ^ ((u64)o->gen << 40);
}

enum { FILL, CHECKP, ZERO };

/* One word of a walk; Return: true if it is as expected. */
static bool word(u64 addr, u64 v, u64 n, int mode)
{
	void *p = (void *)(uintptr_t)addr;
	static const char zeros[8];

	if (mode == FILL) {
		memcpy(p, &v, n);
		return true;
	}
	if (mode == CHECKP)
		return !memcmp(p, &v, n);
	return !memcmp(p, zeros, n);
}

/*
 * Visits the words of the pattern: all of the first HEAD_BYTES, then up to
 * PATTERN_POINTS words spread over the rest, and the last word. Return:
 * the offset of the first word that is not as expected, or -1.
 */
static long long obj_walk(const struct obj *o, int mode)
{
	u64 s = obj_seed(o), head = o->size <= HEAD_BYTES + 8 ? o->size : HEAD_BYTES;
	u64 off, stride, n;

	for (off = 0; off < head; off += 8) {
		n = head - off < 8 ? head - off : 8;
		if (!word(o->addr + off, pattern(s, off), n, mode))
			return off;
	}
	if (o->size == head)
		return -1;
	/* The words do not overlap: the last one is at least 8 bytes past. */
	stride = (o->size - HEAD_BYTES) / PATTERN_POINTS;
	stride = stride < SPAGE ? SPAGE : (stride + 7) & ~7ULL;
	for (off = HEAD_BYTES; off + 16 <= o->size; off += stride)
		if (!word(o->addr + off, pattern(s, off), 8, mode))
			return off;
	off = o->size - 8;
	if (!word(o->addr + off, pattern(s, off), 8, mode))
		return off;
	return -1;
}

static u64 obj_touched(const struct obj *o)
{
	u64 b = o->size < HEAD_BYTES ? o->size : HEAD_BYTES;

	return o->size <= HEAD_BYTES ? b : b + (PATTERN_POINTS + 1) * SPAGE;
}

static void obj_check(const struct obj *o, const char *when)
{
	long long off = obj_walk(o, CHECKP);

	CHECK(off < 0, "%s: object 0x%llx (size %llu, flags 0x%x) changed at offset %lld",
	      when, (unsigned long long)o->addr, (unsigned long long)o->size, o->flags, off);
}

static bool tiny(u64 size, u32 flags)
{
	return (flags & GOMEM_ALLOC_NOSCAN) && !(flags & GOMEM_ALLOC_ROOT) && size < TINY_SIZE;
}

/* The slot size GOMEM_IOC_ALLOC must report. */
static u64 expected_usable(u64 size, u32 flags)
{
	int c;

	if (tiny(size, flags))
		return size;
	if ((flags & GOMEM_ALLOC_ROOT) && (flags & GOMEM_ALLOC_NOSCAN) && size < TINY_SIZE)
		size = TINY_SIZE;
	if (size > MAX_SMALL)
		return (size + GPAGE - 1) & ~(GPAGE - 1);
	for (c = 1; gm_class_to_size[c] < size; c++)
		;
	return gm_class_to_size[c];
}

/*
 * A new object from the kernel: check it against the shadow, zeros if
 * asked for, fill it, and put it in the thread's table.
 */
static void obj_new(u64 addr, u64 size, u64 usable, u32 flags, const char *what)
{
	struct obj o = { .addr = addr, .size = size, .usable = usable, .flags = flags };
	u64 align = 8, want;
	bool lost;

	if (tiny(size, flags)) {
		o.flags |= OBJ_TINY | OBJ_TREQ;
		align = !(size & 7) ? 8 : !(size & 3) ? 4 : !(size & 1) ? 2 : 1;
	} else if (size > MAX_SMALL) {
		align = GPAGE;
	}
	if (flags & GOMEM_ALLOC_ROOT)
		o.flags |= OBJ_ROOT;
	CHECK(addr >= ARENA_HINT && addr + size > addr && !(addr & (align - 1)),
	      "%s: bad address 0x%llx for size %llu", what, (unsigned long long)addr,
	      (unsigned long long)size);
	/*
	 * A tiny request that did not fit the current tiny block, when the
	 * new block is not kept as the tiny one (Go's mallocgc), has a
	 * 16-byte slot of its own.
	 */
	want = expected_usable(size, flags);
	if ((o.flags & OBJ_TINY) && usable == TINY_SIZE && !(addr & (TINY_SIZE - 1))) {
		o.flags &= ~OBJ_TINY;
		want = TINY_SIZE;
	}
	CHECK(!usable || usable == want, "%s: size %llu flags 0x%x: slot %llu, expected %llu",
	      what, (unsigned long long)size, flags, (unsigned long long)usable,
	      (unsigned long long)want);
	o.usable = want;
	pthread_mutex_lock(&P.mu);
	lost = lost_hit(addr, o.usable);
	o.gen = ++P.gen;
	pthread_mutex_unlock(&P.mu);
	CHECK(!lost, "%s: object 0x%llx size %llu lies in memory the fuzzer unmapped", what,
	      (unsigned long long)addr, (unsigned long long)size);
	tree_add(addr, obj_span(&o), what);
	if (flags & GOMEM_ALLOC_ZERO)
		CHECK(obj_walk(&o, ZERO) < 0, "%s: GOMEM_ALLOC_ZERO object 0x%llx size %llu not zero",
		      what, (unsigned long long)addr, (unsigned long long)size);
	obj_walk(&o, FILL);
	me->touched += obj_touched(&o);
	me->t->o[me->t->n++] = o;
	count(&sh->objects, 1);
	count(&sh->bytes, size);
}

/* Takes object @i out of the thread's table (and the shadow). */
static struct obj obj_take(u64 i)
{
	struct obj o = me->t->o[i];

	me->t->o[i] = me->t->o[--me->t->n];
	tree_del(o.addr, obj_span(&o));
	me->touched -= me->touched < obj_touched(&o) ? me->touched : obj_touched(&o);
	return o;
}

/* A random object of the thread, or -1. @large: page-aligned, 16 KiB or more. */
static long long pick(bool large)
{
	u64 i, k;

	if (!me->t->n)
		return -1;
	if (!large)
		return below(me->t->n);
	for (k = 0, i = below(me->t->n); k < me->t->n; k++, i = (i + 1) % me->t->n)
		if (me->t->o[i].size > MAX_SMALL && me->t->o[i].usable >= 4 * SPAGE)
			return i;
	return -1;
}

static void free_obj(struct obj *o, const char *why)
{
	struct gomem_free f = { .addr = o->addr };

	expect(0, P.fd, GOMEM_IOC_FREE, &f, why);
}

/* === sizes and flags ==================================================== */

static const u64 odd_sizes[] = {
	0, GOMEM_ALLOC_MAX + 1, 1ULL << 63, ~0ULL, ~0ULL - 8191, 1ULL << 40,
};

static u64 pick_size(void)
{
	u64 r = below(1000), c;

	if (r < 300) {
		c = 1 + below(GM_NUM_SIZE_CLASSES - 1);
		c = gm_class_to_size[c] + below(3) - 1;
		return c ? c : 1;
	}
	if (r < 550)
		return 1 + below(TINY_SIZE - 1);
	if (r < 800)
		return 1 + below(MAX_SMALL);
	if (r < 930)
		return MAX_SMALL + below(1 << 20);
	if (r < 980)
		return (1 << 20) + below(7 << 20);
	if (r < 995) {
		static const u64 b[] = { 4 << 20, 64 << 20, 8192, 16384 };

		return b[below(4)] + below(3) - 1;
	}
	return chance(50) ? GOMEM_ALLOC_MAX : (1ULL << 30) + below(1ULL << 30);
}

static u32 pick_flags(bool nogc)
{
	u32 f = rnd() & (GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_ZERO);

	if (chance(10))
		f |= GOMEM_ALLOC_ROOT;
	if (nogc || chance(30))
		f |= GOMEM_ALLOC_NOGC;
	return f;
}

/* Whether this thread may let an allocation run a GC cycle. */
static __thread bool exclusive_now;

static bool must_nogc(void)
{
	return cfg.threads > 1 && !exclusive_now;
}

/* === the operations ===================================================== */

static void gc_if_due(void);

static void op_alloc(void)
{
	struct gomem_alloc a = { 0 };
	long r;

	if (chance(6)) {
		/* Arguments that must fail with EINVAL. */
		a.size = odd_sizes[below(ARRAY_SIZE(odd_sizes))];
		a.flags = pick_flags(true);
		if (a.size == 1ULL << 40 || chance(30)) {
			a.size = 1 + below(4096);
			if (chance(50))
				a.flags |= 1U << (4 + below(28));
			else
				a.reserved = 1 + (u32)rnd();
		}
		expect(-EINVAL, P.fd, GOMEM_IOC_ALLOC, &a, "bad size, flag or reserved");
		return;
	}
	a.size = pick_size();
	a.flags = pick_flags(must_nogc());
	/*
	 * A cycle reads every page of a scan object, faulted in or not:
	 * 64 GiB is 16 million pages, minutes in a guest. Objects over 64 MiB
	 * are noscan here; gomem_mgc.large_4g_scanned_whole scans one.
	 */
	if (a.size > (64 << 20))
		a.flags |= GOMEM_ALLOC_NOSCAN;
	/* A mark or zeroing of gigabytes would take the run's time and memory. */
	if (a.size > ARENA_SIZE)
		a.flags = (a.flags & ~GOMEM_ALLOC_ZERO) | GOMEM_ALLOC_NOSCAN;
	if (me->t->n >= TABLE_MAX - 1 || me->touched > THREAD_BUDGET) {
		long long i = pick(false);

		if (i >= 0) {
			struct obj o = obj_take(i);

			obj_check(&o, "alloc (making room)");
			free_obj(&o, "making room");
		}
		return;
	}
	r = gioc(P.fd, GOMEM_IOC_ALLOC, &a);
	if (r == -EAGAIN) {
		CHECK(a.flags & GOMEM_ALLOC_NOGC, "ALLOC without NOGC returned EAGAIN");
		me->need_gc = true;
		return;
	}
	if (r == -ENOMEM)
		return;
	CHECK(!r, "ALLOC size %llu flags 0x%x: %ld (%s)", (unsigned long long)a.size, a.flags,
	      r, ename(r));
	obj_new(a.addr, a.size, a.usable, a.flags & GOMEM_ALLOC_FLAGS, "ALLOC");
}

static void op_bulk(void)
{
	struct gomem_alloc_bulk b = { 0 };
	u64 room = TABLE_MAX - me->t->n, i, n;
	int variant = below(20);
	long r, want = 0;

	b.flags = pick_flags(must_nogc());
	b.size = chance(30) ? 1 + below(TINY_SIZE) : 1 + below(512);
	b.addrs = (u64)(uintptr_t)me->bulk;
	switch (below(32)) {
	case 0:
		b.count = GOMEM_BULK_MAX;
		break;
	case 1:
	case 2:
	case 3:
		b.count = 1;
		break;
	case 4:
		b.count = 512 + below(512);
		break;
	default:
		b.count = 2 + below(63);
		b.size = 1 + below(chance(20) ? 3 * MAX_SMALL : MAX_SMALL);
		break;
	}
	if (b.count > room || me->touched > THREAD_BUDGET)
		b.count = room > 64 ? 1 + below(64) : 0;
	if (!b.count)
		variant = 0;
	switch (variant) {
	case 0:
		b.count = chance(50) ? 0 : chance(50) ? GOMEM_BULK_MAX + 1 : ~0U - (u32)below(4);
		want = -EINVAL;
		break;
	case 1:
		b.size = odd_sizes[below(ARRAY_SIZE(odd_sizes) - 1)];
		want = -EINVAL;
		break;
	case 2:
		if (chance(50))
			b.reserved = rnd() | 1;
		else
			b.flags |= 1U << (4 + below(28));
		want = -EINVAL;
		break;
	case 3: {
		static const u64 bad[] = { 0, KERNEL_ADDR, ~0ULL - 7, 8 };

		b.addrs = bad[below(4)];
		want = -EFAULT;
		break;
	}
	case 4:
		/* A read-only page, or the last words run into PROT_NONE. */
		b.addrs = chance(50) ? (u64)(uintptr_t)P.ro :
			(u64)(uintptr_t)(me->bulk + GOMEM_BULK_MAX + 1 - b.count + 1);
		want = -EFAULT;
		break;
	}
	n = b.count <= GOMEM_BULK_MAX ? b.count : 0;
	for (i = 0; i < n && !want; i++)
		me->bulk[i] = 0x5a5a5a5a00000000ULL | i;
	r = gioc(P.fd, GOMEM_IOC_ALLOC_BULK, &b);
	if (want) {
		CHECK(r == want || (want == -EFAULT && r == -EINVAL && !b.count),
		      "ALLOC_BULK count %u size %llu addrs 0x%llx: %ld, expected %ld", b.count,
		      (unsigned long long)b.size, (unsigned long long)b.addrs, r, want);
		return;
	}
	if (r) {
		CHECK(r == -ENOMEM || r == -EAGAIN, "ALLOC_BULK count %u size %llu: %ld (%s)",
		      b.count, (unsigned long long)b.size, r, ename(r));
		for (i = 0; i < n; i++)
			CHECK(me->bulk[i] == (0x5a5a5a5a00000000ULL | i),
			      "failed ALLOC_BULK (%ld) wrote its array at %llu", r,
			      (unsigned long long)i);
		if (r == -EAGAIN)
			me->need_gc = true;
		return;
	}
	for (i = 0; i < n; i++)
		obj_new(me->bulk[i], b.size, 0, b.flags & GOMEM_ALLOC_FLAGS, "ALLOC_BULK");
}

static void op_free(void)
{
	struct gomem_free f = { 0 };
	long long i = pick(false);
	struct obj o;

	if (i < 0)
		return;
	o = me->t->o[i];
	switch (below(12)) {
	case 0:
		/* Flags or reserved: refused, the object stays. */
		f.addr = o.addr;
		if (chance(50))
			f.flags = 1U << below(32);
		else
			f.reserved = 1U << below(32);
		expect(-EINVAL, P.fd, GOMEM_IOC_FREE, &f, "flags or reserved");
		f.flags = f.reserved = 0;
		expect(0, P.fd, GOMEM_IOC_SIZE, &f, "after a refused FREE");
		CHECK(f.size == o.usable || ((o.flags & OBJ_TINY) && f.size >= o.size),
		      "SIZE %llu, expected %llu",
		      (unsigned long long)f.size, (unsigned long long)o.usable);
		return;
	case 1: {
		/* Not an object's base: inside one, or no heap memory at all. */
		static const u64 bad[] = { 0, 1, ARENA_HINT - 8, KERNEL_ADDR, ~0ULL, ~0ULL - 8191 };

		if (o.usable >= 16 && !(o.flags & OBJ_TINY) && chance(70))
			f.addr = o.addr + 8 * (1 + below(o.usable / 8 - 1));
		else
			f.addr = bad[below(6)];
		expect(-EINVAL, P.fd, chance(50) ? GOMEM_IOC_FREE : GOMEM_IOC_SIZE, &f,
		       "not an object's base");
		return;
	}
	default:
		o = obj_take(i);
		obj_check(&o, "FREE");
		free_obj(&o, "own object");
	}
}

static void op_size(void)
{
	long long i = pick(false);
	struct gomem_free f = { 0 };

	if (i < 0)
		return;
	f.addr = me->t->o[i].addr;
	expect(0, P.fd, GOMEM_IOC_SIZE, &f, "own object");
	CHECK(f.size == me->t->o[i].usable ||
	      ((me->t->o[i].flags & OBJ_TINY) && f.size >= me->t->o[i].size),
	      "SIZE of 0x%llx: %llu, expected %llu", (unsigned long long)f.addr,
	      (unsigned long long)f.size, (unsigned long long)me->t->o[i].usable);
	obj_check(&me->t->o[i], "SIZE");
}

static void op_stats(void)
{
	unsigned char buf[sizeof(struct gomem_memstats) + 64];
	struct gomem_stats s = { .buf = (u64)(uintptr_t)buf };
	struct gomem_memstats *st = (void *)buf;
	long want = 0;
	u64 i, n;

	memset(buf, 0xa5, sizeof(buf));
	switch (below(8)) {
	case 0:
		s.size = below(GOMEM_MEMSTATS_SIZE_VER0);
		want = -EINVAL;
		break;
	case 1:
		s.size = sizeof(*st);
		s.flags = 1U << below(32);
		want = -EINVAL;
		break;
	case 2:
		s.size = sizeof(*st);
		s.buf = chance(50) ? 0 : KERNEL_ADDR;
		want = -EFAULT;
		break;
	case 3:
		s.size = GOMEM_MEMSTATS_SIZE_VER0;
		break;
	case 4:
		s.size = GOMEM_MEMSTATS_SIZE_VER1;
		break;
	case 5:
		s.size = sizeof(buf);
		break;
	default:
		s.size = sizeof(*st);
	}
	if (want) {
		expect(want, P.fd, GOMEM_IOC_STATS, &s, "bad size, flags or buffer");
		return;
	}
	n = s.size;
	expect(0, P.fd, GOMEM_IOC_STATS, &s, "valid");
	CHECK(s.size == sizeof(*st), "STATS size out %u, expected %zu", s.size, sizeof(*st));
	CHECK(st->size == sizeof(*st) && st->heap_id == P.heap_id,
	      "STATS: size %u heap_id %u (heap %u)", st->size, st->heap_id, P.heap_id);
	for (i = n < sizeof(*st) ? n : sizeof(*st); i < sizeof(buf); i++)
		CHECK(buf[i] == 0xa5, "STATS wrote past the structure, at %llu",
		      (unsigned long long)i);
}

static void op_classes(void)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES + 4];
	struct gomem_class_stats c = { .buf = (u64)(uintptr_t)tab, .entry_size = sizeof(tab[0]) };
	u32 i, n;

	memset(tab, 0xa5, sizeof(tab));
	switch (below(8)) {
	case 0:
		c.count = 0;
		expect(-EINVAL, P.fd, GOMEM_IOC_CLASS_STATS, &c, "count 0");
		return;
	case 1:
		c.count = 1;
		c.entry_size = sizeof(tab[0]) + (chance(50) ? 8 : -8);
		expect(-EINVAL, P.fd, GOMEM_IOC_CLASS_STATS, &c, "entry size");
		return;
	case 2:
		c.count = 1;
		if (chance(50))
			c.flags = 1U << below(32);
		else
			c.reserved = 1U << below(32);
		expect(-EINVAL, P.fd, GOMEM_IOC_CLASS_STATS, &c, "flags or reserved");
		return;
	case 3:
		c.count = GOMEM_NUM_SIZE_CLASSES;
		c.buf = chance(50) ? 0 : (u64)(uintptr_t)P.none;
		expect(-EFAULT, P.fd, GOMEM_IOC_CLASS_STATS, &c, "bad buffer");
		return;
	case 4:
		c.count = 1 + below(GOMEM_NUM_SIZE_CLASSES);
		break;
	default:
		c.count = GOMEM_NUM_SIZE_CLASSES + below(5);
	}
	n = c.count < GOMEM_NUM_SIZE_CLASSES ? c.count : GOMEM_NUM_SIZE_CLASSES;
	if (c.count > GOMEM_NUM_SIZE_CLASSES + 4)
		c.count = GOMEM_NUM_SIZE_CLASSES + 4;
	expect(0, P.fd, GOMEM_IOC_CLASS_STATS, &c, "valid");
	CHECK(c.count == n, "CLASS_STATS count out %u, expected %u", c.count, n);
	for (i = 0; i < n; i++)
		CHECK(tab[i].class == i && tab[i].size == (i ? gm_class_to_size[i] : 0),
		      "CLASS_STATS entry %u: class %u size %u", i, tab[i].class, tab[i].size);
	CHECK(n == GOMEM_NUM_SIZE_CLASSES + 4 || ((unsigned char *)&tab[n])[0] == 0xa5,
	      "CLASS_STATS wrote past %u entries", n);
}

static void sample_check(const char *when)
{
	u64 k;

	for (k = 0; k < 8 && me->t->n; k++)
		obj_check(&me->t->o[below(me->t->n)], when);
}

static void op_scavenge(void)
{
	struct gomem_scavenge s = { 0 };

	if (chance(15)) {
		if (chance(50))
			s.flags = 1U << below(32);
		else
			s.reserved = 1U << below(32);
		expect(-EINVAL, P.fd, GOMEM_IOC_SCAVENGE, &s, "flags or reserved");
		return;
	}
	s.max_bytes = chance(40) ? 0 : chance(50) ? ~0ULL - below(16384) : below(64 << 20);
	expect(0, P.fd, GOMEM_IOC_SCAVENGE, &s, "valid");
	/* "At most", in the scavenger's 64 KiB units; max_bytes + 64 KiB may wrap. */
	CHECK(!s.max_bytes || s.released <= s.max_bytes || s.released - s.max_bytes <= 65536,
	      "SCAVENGE released %llu of at most %llu", (unsigned long long)s.released,
	      (unsigned long long)s.max_bytes);
	sample_check("after SCAVENGE");
}

static void op_cap(void)
{
	static const u64 caps[] = { 0, 1, 8 << 20, 64 << 20, 256 << 20, 1ULL << 30, ~0ULL };
	struct gomem_cap c = { 0 };

	pthread_mutex_lock(&P.mu);
	if (chance(10)) {
		if (chance(50))
			c.flags = 1U << (1 + below(31));
		else
			c.reserved = 1U << below(32);
		expect(-EINVAL, P.fd, GOMEM_IOC_SET_CAP, &c, "flags or reserved");
		goto out;
	}
	if (chance(30))
		c.flags = GOMEM_CAP_QUERY;
	/* Mostly a cap that lets the run go on. */
	c.cap_bytes = chance(60) ? 0 : caps[below(7)];
	c.old_cap = rnd();
	expect(0, P.fd, GOMEM_IOC_SET_CAP, &c, "valid");
	CHECK(c.old_cap == P.cap, "SET_CAP old_cap %llu, the fuzzer set %llu",
	      (unsigned long long)c.old_cap, (unsigned long long)P.cap);
	if (!(c.flags & GOMEM_CAP_QUERY))
		P.cap = c.cap_bytes;
out:
	pthread_mutex_unlock(&P.mu);
}

static void op_root(void)
{
	struct gomem_root r = { 0 };
	long long i;
	int k;
	long ret;

	pthread_mutex_lock(&P.mu);
	switch (below(10)) {
	case 0: {
		/* Arguments that must fail with EINVAL. */
		r.addr = (u64)(uintptr_t)P.scratch + 8 * below(8);
		r.len = 8;
		switch (below(6)) {
		case 0:
			r.len = 0;
			break;
		case 1:
			r.len = GOMEM_ROOT_MAX_LEN + 1 + below(1 << 20);
			break;
		case 2:
			r.addr = ~0ULL - 7;
			r.len = 16;
			break;
		case 3:
			r.addr = KERNEL_ADDR;
			break;
		case 4:
			r.reserved = 1U << below(32);
			break;
		default:
			r.flags = 1U << (1 + below(31));
		}
		expect(-EINVAL, P.fd, GOMEM_IOC_ROOT_ADD, &r, "bad range");
		break;
	}
	case 1:
	case 2:
	case 3: {
		/* A range of scratch memory, or of unmapped user memory. */
		r.addr = chance(80) ? (u64)(uintptr_t)P.scratch + 8 * below(SCRATCH_SIZE / 8) :
			 0x10000 + 8 * below(1 << 20);
		/* Long ranges of unmapped memory make every cycle slow: 16 MiB. */
		r.len = 1 + below(chance(90) ? 4096 : 16 << 20);
		for (k = 0; k < P.nroots && P.rootaddr[k] != r.addr; k++)
			;
		ret = gioc(P.fd, GOMEM_IOC_ROOT_ADD, &r);
		if (k < P.nroots)
			CHECK(ret == -EEXIST, "ROOT_ADD of a registered range: %ld", ret);
		else if (P.nroots + P.fixed_roots >= GOMEM_ROOTS_MAX)
			CHECK(ret == -ENOSPC, "ROOT_ADD past GOMEM_ROOTS_MAX: %ld", ret);
		else if (ret != -ENOMEM)
			CHECK(!ret, "ROOT_ADD: %ld (%s)", ret, ename(ret));
		if (!ret)
			P.rootaddr[P.nroots++] = r.addr;
		break;
	}
	case 4:
	case 5:
		/* Remove one, or one that is not there. */
		if (P.nroots && chance(80)) {
			k = below(P.nroots);
			r.addr = P.rootaddr[k];
			r.len = rnd();
			expect(0, P.fd, GOMEM_IOC_ROOT_DEL, &r, "registered range");
			P.rootaddr[k] = P.rootaddr[--P.nroots];
		} else {
			r.addr = (u64)(uintptr_t)P.scratch + 4;
			for (k = 0; k < P.nroots && P.rootaddr[k] != r.addr; k++)
				;
			if (k == P.nroots)
				expect(-ENOENT, P.fd, GOMEM_IOC_ROOT_DEL, &r, "no such range");
		}
		break;
	case 6:
		/* Fill up to GOMEM_ROOTS_MAX and past, then take them away. */
		if (!chance(10))
			break;
		while (P.nroots + P.fixed_roots < GOMEM_ROOTS_MAX) {
			r.addr = (u64)(uintptr_t)P.scratch + 8 * below(SCRATCH_SIZE / 8);
			r.len = 8 + below(64);
			for (k = 0; k < P.nroots && P.rootaddr[k] != r.addr; k++)
				;
			if (k < P.nroots)
				continue;
			ret = gioc(P.fd, GOMEM_IOC_ROOT_ADD, &r);
			if (ret == -ENOMEM)
				break;
			CHECK(!ret, "ROOT_ADD %d: %ld", P.nroots, ret);
			P.rootaddr[P.nroots++] = r.addr;
		}
		r.addr = (u64)(uintptr_t)P.scratch + 2;
		r.len = 8;
		if (P.nroots + P.fixed_roots >= GOMEM_ROOTS_MAX)
			expect(-ENOSPC, P.fd, GOMEM_IOC_ROOT_ADD, &r, "GOMEM_ROOTS_MAX + 1");
		while (P.nroots > 16) {
			r.addr = P.rootaddr[--P.nroots];
			expect(0, P.fd, GOMEM_IOC_ROOT_DEL, &r, "emptying");
		}
		break;
	default:
		/* Root objects. */
		i = pick(false);
		if (i < 0)
			break;
		r.addr = me->t->o[i].addr;
		r.flags = GOMEM_ROOT_OBJECT;
		if (me->t->o[i].flags & OBJ_TINY) {
			expect(-EINVAL, P.fd, chance(50) ? GOMEM_IOC_ROOT_ADD : GOMEM_IOC_ROOT_DEL,
			       &r, "tiny object");
		} else if (chance(15)) {
			r.len = 1 + below(4096);
			expect(-EINVAL, P.fd, GOMEM_IOC_ROOT_ADD, &r, "object with a length");
		} else if (chance(50)) {
			expect(me->t->o[i].flags & OBJ_ROOT ? -EEXIST : 0, P.fd,
			       GOMEM_IOC_ROOT_ADD, &r, "object");
			me->t->o[i].flags |= OBJ_ROOT;
		} else {
			expect(me->t->o[i].flags & OBJ_ROOT ? 0 : -ENOENT, P.fd,
			       GOMEM_IOC_ROOT_DEL, &r, "object");
			me->t->o[i].flags &= ~OBJ_ROOT;
		}
	}
	pthread_mutex_unlock(&P.mu);
}

/* Takes the world; every other thread is between operations. */
static void world_write(void)
{
	pthread_rwlock_wrlock(&P.world);
	exclusive_now = true;
}

static void world_unlock(void)
{
	exclusive_now = false;
	pthread_rwlock_unlock(&P.world);
}

static void check_all(const char *when, unsigned int max)
{
	struct gomem_free f = { 0 };
	unsigned int k;
	int t;

	for (t = 0; t < cfg.threads; t++) {
		struct table *tab = thrs[t].t;

		for (k = 0; k < tab->n && k < max; k++) {
			struct obj *o = &tab->o[max < tab->n ? below(tab->n) : k];

			obj_check(o, when);
			f.addr = o->addr;
			expect(0, P.fd, GOMEM_IOC_SIZE, &f, when);
			CHECK(f.size == o->usable || ((o->flags & OBJ_TINY) && f.size >= o->size),
			      "%s: SIZE of 0x%llx %llu, expected %llu", when,
			      (unsigned long long)o->addr, (unsigned long long)f.size,
			      (unsigned long long)o->usable);
		}
	}
}

/* The world is held. */
static void do_gc(void)
{
	struct gomem_gc_stats st;
	unsigned char buf[sizeof(st) + 16];
	struct gomem_gc g = { 0 };
	long want = 0, r;
	u64 n, i;

	memset(buf, 0xa5, sizeof(buf));
	switch (below(12)) {
	case 0:
		g.flags = 1U << (1 + below(31));
		want = -EINVAL;
		break;
	case 1:
		g.size = 8 + below(64);
		want = -EINVAL;
		break;
	case 2:
		g.buf = (u64)(uintptr_t)buf;
		g.size = below(8);
		want = -EINVAL;
		break;
	case 3:
		g.buf = chance(50) ? KERNEL_ADDR : (u64)(uintptr_t)P.ro;
		g.size = sizeof(st);
		want = -EFAULT;
		break;
	case 4:
	case 5:
		break;
	default:
		g.buf = (u64)(uintptr_t)buf;
		g.size = chance(50) ? sizeof(st) : 8 + below(sizeof(buf) - 8);
		if (chance(40))
			g.flags = GOMEM_GC_IF_DUE;
	}
	if (want) {
		expect(want, P.fd, GOMEM_IOC_GC, &g, "bad flags, size or buffer");
		return;
	}
	n = g.size < sizeof(st) ? g.size : sizeof(st);
	r = gioc(P.fd, GOMEM_IOC_GC, &g);
	if (r == -ENOMEM)
		return;
	CHECK(!r, "GC: %ld (%s)", r, ename(r));
	CHECK(g.size == sizeof(st), "GC size out %u", g.size);
	if (g.buf) {
		for (i = n; i < sizeof(buf); i++)
			CHECK(buf[i] == 0xa5, "GC wrote %llu bytes, asked for %llu",
			      (unsigned long long)i + 1, (unsigned long long)n);
		memset(&st, 0, sizeof(st));
		memcpy(&st, buf, n);
		CHECK(st.size == sizeof(st), "GC stats size %u", st.size);
		CHECK((g.flags & GOMEM_GC_IF_DUE) || n < 16 || (st.forced == 1 && st.cycle > 0),
		      "forced GC: forced %u cycle %llu", st.forced,
		      (unsigned long long)st.cycle);
	}
	check_all("after GC", 16);
}

static void op_gc(void)
{
	world_write();
	do_gc();
	world_unlock();
}

/* An allocation was refused with EAGAIN: run the cycle it wanted. */
static void gc_if_due(void)
{
	struct gomem_gc g = { .flags = GOMEM_GC_IF_DUE };
	long r;

	world_write();
	r = gioc(P.fd, GOMEM_IOC_GC, &g);
	CHECK(!r || r == -ENOMEM, "GC IF_DUE: %ld", r);
	world_unlock();
	me->need_gc = false;
}

static void op_setgc(void)
{
	static const s32 gogcs[] = { GOMEM_GOGC_OFF, 0, 1, 10, 50, 100, 100, 100, 200, 1000,
				     INT_MAX };
	static const u64 limits[] = { GOMEM_NO_LIMIT, GOMEM_NO_LIMIT, GOMEM_NO_LIMIT,
				      GOMEM_NO_LIMIT, 0, 1 << 20, 16 << 20, 256 << 20 };
	struct gomem_gc_params p = { 0 };

	pthread_mutex_lock(&P.mu);
	switch (below(10)) {
	case 0:
		p.flags = GOMEM_GC_SET_GOGC;
		p.gogc = GOMEM_GOGC_OFF - 1 - (s32)below(INT_MAX - 2);
		expect(-EINVAL, P.fd, GOMEM_IOC_SET_GC, &p, "GOGC below -1");
		goto out;
	case 1:
		if (chance(50))
			p.flags = 1U << (2 + below(30));
		else
			p.reserved = 1U << below(32);
		expect(-EINVAL, P.fd, GOMEM_IOC_SET_GC, &p, "flags or reserved");
		goto out;
	case 2:
	case 3:
	case 4:
		/* Back to the defaults, so that the run keeps going. */
		p.flags = GOMEM_GC_SET_GOGC | GOMEM_GC_SET_LIMIT;
		p.gogc = P.gogc_default;
		p.memory_limit = GOMEM_NO_LIMIT;
		break;
	default:
		p.flags = rnd() & (GOMEM_GC_SET_GOGC | GOMEM_GC_SET_LIMIT);
		p.gogc = gogcs[below(ARRAY_SIZE(gogcs))];
		p.memory_limit = limits[below(ARRAY_SIZE(limits))];
	}
	expect(0, P.fd, GOMEM_IOC_SET_GC, &p, "valid");
	CHECK(p.old_gogc == P.gogc && p.old_limit == P.limit,
	      "SET_GC old %d/%llu, the fuzzer set %d/%llu", p.old_gogc,
	      (unsigned long long)p.old_limit, P.gogc, (unsigned long long)P.limit);
	if (p.flags & GOMEM_GC_SET_GOGC)
		P.gogc = p.gogc;
	if (p.flags & GOMEM_GC_SET_LIMIT)
		P.limit = p.memory_limit;
out:
	pthread_mutex_unlock(&P.mu);
}

static void check_version(int fd)
{
	struct gomem_version v = { 0 };

	if (chance(30)) {
		if (chance(50))
			v.flags = 1U << below(32);
		else
			v.reserved[below(2)] = 1ULL << below(64);
		expect(-EINVAL, fd, GOMEM_IOC_VERSION, &v, "flags or reserved");
		return;
	}
	v.abi_version = 77;
	v.features = ~0ULL;
	expect(0, fd, GOMEM_IOC_VERSION, &v, "valid");
	CHECK(v.abi_version == GOMEM_ABI_VERSION && !(v.features & ~GOMEM_FEATURES_ALL) &&
	      (v.features & GOMEM_FEATURE_HEAP) && !v.reserved[0] && !v.reserved[1],
	      "VERSION: abi %u features 0x%llx", v.abi_version,
	      (unsigned long long)v.features);
}

static void op_version(void)
{
	check_version(P.fd);
}

static void op_badcmd(void)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	static const unsigned int types[] = { GOMEM_IOC_MAGIC, GOMEM_IOC_MAGIC,
					      GOMEM_IOC_MAGIC - 1, GOMEM_IOC_MAGIC + 1 };
	u64 arg[64] = { 0 };
	unsigned long c;

	do {
		unsigned int nr = chance(70) ? below(0x10) : below(256);
		unsigned int size = chance(50) ? _IOC_SIZE(cmds[below(C_UNKNOWN)].cmd) :
				    below(_IOC_SIZEMASK + 1);

		c = _IOC(dirs[below(4)], types[below(4)], nr, size);
	} while (cmd_index(c) != C_UNKNOWN);
	expect(-ENOTTY, P.fd, c, chance(50) ? (void *)arg : (void *)KERNEL_ADDR,
	       "unknown command");
}

static void op_badptr(void)
{
	static const u64 bad[] = { 0, 8, KERNEL_ADDR, ~0ULL - 3 };
	int i = below(C_UNKNOWN);
	void *p = (void *)(uintptr_t)bad[below(4)];

	if (chance(25))
		p = P.none;
	expect(-EFAULT, P.fd, cmds[i].cmd, p, "bad argument pointer");
}

/*
 * An argument in a read-only page (P.ro holds a valid struct gomem_alloc):
 * it is read, the command runs, the answer cannot be written back, so the
 * call fails with EFAULT. A failed command must change nothing: the
 * heap's counts must not move.
 */
static void op_roarg(void)
{
	struct gomem_memstats before, after;
	struct gomem_stats s = { .size = sizeof(before) };

	world_write();
	s.buf = (u64)(uintptr_t)&before;
	expect(0, P.fd, GOMEM_IOC_STATS, &s, "before");
	expect(-EFAULT, P.fd, GOMEM_IOC_ALLOC, P.ro, "read-only argument");
	expect(-EFAULT, P.fd, GOMEM_IOC_SCAVENGE, P.ro + 64, "read-only argument");
	s.buf = (u64)(uintptr_t)&after;
	expect(0, P.fd, GOMEM_IOC_STATS, &s, "after");
	/* Frees may grow: the heap's background worker sweeps meanwhile. */
	CHECK(after.mallocs == before.mallocs,
	      "ALLOC that failed with EFAULT changed mallocs %llu -> %llu",
	      (unsigned long long)before.mallocs, (unsigned long long)after.mallocs);
	world_unlock();
}

/*
 * PROF_RATE: the old rate is the one the fuzzer set last, clamped. Rate 1
 * (every allocation) is rare: it makes each allocation walk the user stack.
 */
static void prof_rate(void)
{
	static const u64 rates[] = { 0, 1, 4096, 64 << 10, GOMEM_PROF_DEFAULT_RATE,
				     GOMEM_PROF_DEFAULT_RATE, GOMEM_PROF_MAX_RATE, ~0ULL };
	struct gomem_prof_rate r = { 0 };

	pthread_mutex_lock(&P.mu);
	if (chance(15)) {
		if (chance(50))
			r.flags = 1U << (1 + below(31));
		else
			r.reserved = 1U << below(32);
		expect(-EINVAL, P.fd, GOMEM_IOC_PROF_RATE, &r, "flags or reserved");
		goto out;
	}
	r.rate = rates[below(ARRAY_SIZE(rates))];
	if (r.rate == 1 && chance(75))
		r.rate = GOMEM_PROF_DEFAULT_RATE;
	r.flags = chance(80) ? GOMEM_PROF_SET_RATE : 0;
	expect(0, P.fd, GOMEM_IOC_PROF_RATE, &r, "valid");
	CHECK(r.old_rate == P.prof_rate, "PROF_RATE old %llu, the fuzzer set %llu",
	      (unsigned long long)r.old_rate, (unsigned long long)P.prof_rate);
	if (r.flags)
		P.prof_rate = r.rate < GOMEM_PROF_MAX_RATE ? r.rate : GOMEM_PROF_MAX_RATE;
out:
	pthread_mutex_unlock(&P.mu);
}

/*
 * Every frame of a /dev/gomem heap's profile is a user address: a kernel
 * address there would leak the kernel's layout.
 */
static void prof_check(const u8 *buf, u64 size)
{
	const struct gomem_prof_header *h = (const void *)buf;
	u64 off = sizeof(*h), i;

	CHECK(size >= sizeof(*h) && h->magic == GOMEM_PROF_MAGIC &&
	      h->version == GOMEM_PROF_VERSION && h->flags == GOMEM_PROF_USER_STACKS,
	      "PROF_READ: header size %llu magic 0x%llx version %u flags 0x%x",
	      (unsigned long long)size, (unsigned long long)h->magic, h->version, h->flags);
	for (i = 0; i < h->nrecords; i++) {
		const struct gomem_prof_record *rec = (const void *)(buf + off);
		const u64 *pc = (const u64 *)(rec + 1);
		u32 d;

		CHECK(off + sizeof(*rec) <= size && rec->depth <= GOMEM_PROF_MAX_DEPTH &&
		      off + sizeof(*rec) + rec->depth * 8ULL <= size && !rec->reserved &&
		      rec->frees <= rec->allocs && rec->free_bytes <= rec->alloc_bytes,
		      "PROF_READ: record %llu of %llu at %llu of %llu is malformed",
		      (unsigned long long)i, (unsigned long long)h->nrecords,
		      (unsigned long long)off, (unsigned long long)size);
		for (d = 0; d < rec->depth; d++)
			CHECK(pc[d] < KERNEL_ADDR, "PROF_READ: record %llu frame %u is 0x%llx",
			      (unsigned long long)i, d, (unsigned long long)pc[d]);
		off += sizeof(*rec) + rec->depth * 8ULL;
	}
	CHECK(off == size, "PROF_READ: %llu records end at %llu of %llu bytes",
	      (unsigned long long)h->nrecords, (unsigned long long)off,
	      (unsigned long long)size);
}

/* PROF_READ: the size first, then the dump into a buffer that holds it. */
static void prof_read(void)
{
	struct gomem_prof_read r = { 0 };
	u8 *buf;

	switch (below(6)) {
	case 0:
		if (chance(50))
			r.flags = 1U << below(32);
		else
			r.reserved = 1U << below(32);
		expect(-EINVAL, P.fd, GOMEM_IOC_PROF_READ, &r, "flags or reserved");
		return;
	case 1:
		r.buf = chance(50) ? (u64)(uintptr_t)P.none : KERNEL_ADDR;
		r.len = 1ULL << 40;	/* more than any dump: it is written */
		expect(-EFAULT, P.fd, GOMEM_IOC_PROF_READ, &r, "bad buffer");
		return;
	}
	expect(0, P.fd, GOMEM_IOC_PROF_READ, &r, "size");
	CHECK(r.size >= sizeof(struct gomem_prof_header), "PROF_READ: size %llu",
	      (unsigned long long)r.size);
	/* Room to grow: other threads allocate meanwhile. */
	r.len = r.size + 64 * (sizeof(struct gomem_prof_record) + 8 * GOMEM_PROF_MAX_DEPTH);
	buf = malloc(r.len);
	CHECK(buf, "malloc %llu", (unsigned long long)r.len);
	r.buf = (u64)(uintptr_t)buf;
	expect(0, P.fd, GOMEM_IOC_PROF_READ, &r, "dump");
	if (r.size <= r.len)
		prof_check(buf, r.size);
	free(buf);
}

static void op_prof(void)
{
	if (chance(40))
		prof_rate();
	else
		prof_read();
}

static void op_touch(void)
{
	long long i = pick(false);
	struct obj *o;

	if (i < 0)
		return;
	o = &me->t->o[i];
	obj_check(o, "touch");
	pthread_mutex_lock(&P.mu);
	o->gen = ++P.gen;
	pthread_mutex_unlock(&P.mu);
	obj_walk(o, FILL);
}

static void op_handoff(void)
{
	struct obj o;
	long long i;

	pthread_mutex_lock(&P.qmu);
	if (P.q->n && (chance(50) || P.q->n == QUEUE_MAX || !me->t->n)) {
		o = P.q->o[below(P.q->n)];
		/* The queue is a root range too: no cycle between the two. */
		for (i = 0; i < (long long)P.q->n && P.q->o[i].addr != o.addr; i++)
			;
		P.q->o[i] = P.q->o[--P.q->n];
		pthread_mutex_unlock(&P.qmu);
		obj_check(&o, "handed over");
		if (chance(60) || me->t->n >= TABLE_MAX) {
			tree_del(o.addr, obj_span(&o));
			free_obj(&o, "handed over");
		} else {
			me->t->o[me->t->n++] = o;
			me->touched += obj_touched(&o);
		}
		return;
	}
	i = pick(false);
	if (i < 0 || P.q->n == QUEUE_MAX) {
		pthread_mutex_unlock(&P.qmu);
		return;
	}
	/* Hand the object over; the receiver frees it, maybe right away. */
	o = me->t->o[i];
	me->t->o[i] = me->t->o[--me->t->n];
	me->touched -= me->touched < obj_touched(&o) ? me->touched : obj_touched(&o);
	P.q->o[P.q->n++] = o;
	pthread_mutex_unlock(&P.qmu);
}

static void op_drop(void)
{
	long long i = pick(false);

	if (i < 0)
		return;
	pthread_mutex_lock(&P.mu);
	P.inexact = true;
	pthread_mutex_unlock(&P.mu);
	obj_take(i);
}

/* A page-aligned range inside a large object: [*start, *start + *len). */
static bool sacrifice(struct obj *o, u64 *start, u64 *len, bool take)
{
	long long i = pick(true);
	u64 pages, first;

	if (i < 0)
		return false;
	*o = take ? obj_take(i) : me->t->o[i];
	pages = o->usable / SPAGE;
	first = below(pages);
	*start = o->addr + first * SPAGE;
	*len = (1 + below(chance(50) ? 4 : pages - first)) * SPAGE;
	if (*start + *len > o->addr + o->usable)
		*len = o->addr + o->usable - *start;
	return true;
}

static void inexact(void)
{
	pthread_mutex_lock(&P.mu);
	P.inexact = true;
	pthread_mutex_unlock(&P.mu);
}

static void op_munmap(void)
{
	u64 start, len;
	struct obj o;
	int r;

	if (!sacrifice(&o, &start, &len, true))
		return;
	inexact();
	r = munmap((void *)(uintptr_t)start, len);
	hist("munmap", start, len, 0, r ? -errno : 0);
	CHECK(!r, "munmap of part of an object: %s", strerror(errno));
	CHECK(touch(start, false) == SIGSEGV, "unmapped heap memory still readable");
	note_unmapped(o.addr, o.usable);
	/* Its memory is gone, the object may still be freed. */
	free_obj(&o, "partly unmapped object");
}

static void op_mremap(void)
{
	static const int flagsets[] = {
		0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED,
		MREMAP_MAYMOVE | MREMAP_DONTUNMAP, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
		MREMAP_FIXED, MREMAP_DONTUNMAP, 0x10,
	};
	u64 start, len, nlen;
	int flags = flagsets[below(8)];
	struct obj o;
	void *r;

	if (!sacrifice(&o, &start, &len, true))
		return;
	inexact();
	if (len > MREMAP_MAX)
		len = MREMAP_MAX;
	switch (below(3)) {
	case 0:
		nlen = len > SPAGE ? len - SPAGE * (1 + below(len / SPAGE - 1)) : len;
		break;
	case 1:
		nlen = len;
		break;
	default:
		nlen = len + SPAGE * (1 + below(16));
	}
	r = mremap((void *)(uintptr_t)start, len, nlen, flags, me->dest);
	hist("mremap", start, len, nlen | (u64)flags << 48,
	     r == MAP_FAILED ? -errno : (long)(uintptr_t)r);
	if (r != MAP_FAILED) {
		CHECK(r == (void *)(uintptr_t)start && nlen <= len,
		      "mremap(0x%llx, %llu, %llu, 0x%x) moved or grew a heap mapping to %p",
		      (unsigned long long)start, (unsigned long long)len,
		      (unsigned long long)nlen, flags, r);
	} else {
		CHECK(errno == EINVAL || errno == EFAULT || errno == ENOMEM || errno == EAGAIN,
		      "mremap: unexpected %s", strerror(errno));
	}
	/* The destination may have been unmapped: make it anonymous again. */
	CHECK(mmap(me->dest, DEST_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == me->dest, "mmap dest");
	note_unmapped(o.addr, o.usable);
	free_obj(&o, "mremapped object");
}

static const int advices[] = {
	MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
	MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE,
	MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP,
	MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT, 22 /* POPULATE_READ */,
	23 /* POPULATE_WRITE */, 25 /* COLLAPSE */, 99, -1,
};

static void op_madvise(void)
{
	int adv = advices[below(ARRAY_SIZE(advices))];
	bool whole = chance(25), destroys;
	u64 start, len;
	struct obj o;
	long long i;
	int r;

	/* MADV_HWPOISON and MADV_SOFT_OFFLINE are left out: they poison pages. */
	if (adv == MADV_DOFORK && !(cfg.ops & (1ULL << O_DOFORK)))
		adv = MADV_DONTFORK;
	/* MADV_REMOVE punches a hole in the file: a device has none (ENODEV). */
	destroys = adv == MADV_FREE || adv == MADV_REMOVE;
	if (whole) {
		/* A part of the arena of one of its objects, others' objects too. */
		u64 vs, ve;

		i = pick(false);
		if (i < 0 || destroys || adv == 22 || adv == 23 ||
		    !find_map(me->t->o[i].addr, &vs, &ve))
			return;
		start = vs + below((ve - vs) / SPAGE) * SPAGE;
		len = (1 + below(1024)) * SPAGE;
		if (len > ve - start)
			len = ve - start;
	} else if (!sacrifice(&o, &start, &len, false)) {
		return;
	}
	if (adv == MADV_DOFORK) {
		pthread_mutex_lock(&P.mu);
		P.dofork = true;
		pthread_mutex_unlock(&P.mu);
	}
	r = madvise((void *)(uintptr_t)start, len, adv);
	hist("madvise", start, len, adv, r ? -errno : 0);
	if (r)
		CHECK(errno == EINVAL || errno == EAGAIN || errno == ENOMEM || errno == EFAULT ||
		      errno == EIO || errno == EOPNOTSUPP || errno == EACCES || errno == EPERM ||
		      errno == EBUSY || (adv == MADV_REMOVE && errno == ENODEV),
		      "madvise(%d): unexpected %s", adv, strerror(errno));
	if (whole) {
		sample_check("after madvise of an arena");
		return;
	}
	if (destroys && !r) {
		/* Its contents may be gone: let it go. */
		for (i = 0; i < me->t->n && me->t->o[i].addr != o.addr; i++)
			;
		o = obj_take(i);
		free_obj(&o, "after a destructive madvise");
		return;
	}
	obj_check(&o, "after madvise");
}

static void op_mprotect(void)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_READ | PROT_EXEC, PROT_WRITE, PROT_GROWSDOWN };
	int prot = prots[below(6)], r, sig;
	u64 start, len;
	struct obj o;

	if (!sacrifice(&o, &start, &len, false))
		return;
	r = mprotect((void *)(uintptr_t)start, len, prot);
	hist("mprotect", start, len, prot, r ? -errno : 0);
	if (r) {
		CHECK(errno == EINVAL || errno == EACCES || errno == ENOMEM,
		      "mprotect(0x%x): unexpected %s", prot, strerror(errno));
	} else if (prot == PROT_NONE) {
		sig = touch(start + below(len), false);
		CHECK(sig == SIGSEGV, "PROT_NONE heap memory: read gave signal %d", sig);
	} else if (prot == PROT_READ) {
		sig = touch(start + below(len), true);
		CHECK(sig == SIGSEGV, "read-only heap memory: write gave signal %d", sig);
	}
	r = mprotect((void *)(uintptr_t)start, len, PROT_READ | PROT_WRITE);
	CHECK(!r, "mprotect back to read-write: %s", strerror(errno));
	obj_check(&o, "after mprotect");
}

static void op_mapfixed(void)
{
	u64 start, len;
	struct obj o;
	void *r;

	if (!sacrifice(&o, &start, &len, true))
		return;
	inexact();
	if (chance(50)) {
		r = mmap((void *)(uintptr_t)start, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		hist("mmap-anon-fixed", start, len, 0, r == MAP_FAILED ? -errno : 0);
		CHECK(r == (void *)(uintptr_t)start, "MAP_FIXED anonymous over the heap: %s",
		      strerror(errno));
		CHECK(!touch(start, true), "anonymous memory over the heap not writable");
	} else {
		/* The device cannot be mapped by hand: EPERM, the range may be gone. */
		r = mmap((void *)(uintptr_t)start, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, P.fd, start - ARENA_HINT);
		hist("mmap-gomem-fixed", start, len, 0, r == MAP_FAILED ? -errno : 0);
		CHECK(r == MAP_FAILED && errno == EPERM, "mmap of /dev/gomem: %p (%s)", r,
		      strerror(errno));
	}
	note_unmapped(o.addr, o.usable);
	free_obj(&o, "object under MAP_FIXED");
}

/* === other processes ==================================================== */

/* In a process that is not the heap's owner: every heap command is EPERM. */
static int foreign_checks(int fd, u64 parent_obj, bool obj_mapped)
{
	struct gomem_alloc a = { .size = 64 };
	struct gomem_free f = { .addr = parent_obj };
	struct gomem_memstats st;
	struct gomem_stats s = { .buf = (u64)(uintptr_t)&st, .size = sizeof(st) };
	struct gomem_gc g = { 0 };
	struct gomem_scavenge sc = { 0 };
	struct gomem_root r = { .addr = (u64)(uintptr_t)&st, .len = 8 };
	struct gomem_cap c = { .flags = GOMEM_CAP_QUERY };
	struct gomem_gc_params p = { 0 };
	struct gomem_alloc_bulk b = { .size = 16, .count = 1, .addrs = (u64)(uintptr_t)&st };

	expect(-EPERM, fd, GOMEM_IOC_ALLOC, &a, "foreign ALLOC");
	expect(-EPERM, fd, GOMEM_IOC_ALLOC_BULK, &b, "foreign ALLOC_BULK");
	expect(-EPERM, fd, GOMEM_IOC_FREE, &f, "foreign FREE");
	expect(-EPERM, fd, GOMEM_IOC_SIZE, &f, "foreign SIZE");
	expect(-EPERM, fd, GOMEM_IOC_STATS, &s, "foreign STATS");
	expect(-EPERM, fd, GOMEM_IOC_SCAVENGE, &sc, "foreign SCAVENGE");
	expect(-EPERM, fd, GOMEM_IOC_SET_CAP, &c, "foreign SET_CAP");
	expect(-EPERM, fd, GOMEM_IOC_ROOT_ADD, &r, "foreign ROOT_ADD");
	expect(-EPERM, fd, GOMEM_IOC_ROOT_DEL, &r, "foreign ROOT_DEL");
	expect(-EPERM, fd, GOMEM_IOC_GC, &g, "foreign GC");
	expect(-EPERM, fd, GOMEM_IOC_SET_GC, &p, "foreign SET_GC");
	check_version(fd);
	CHECK(mmap(NULL, GPAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM,
	      "mmap of /dev/gomem in another process");
	if (parent_obj && !obj_mapped)
		CHECK(touch(parent_obj, false) == SIGSEGV,
		      "the heap's mapping was inherited by fork");
	return 0;
}

/* A forked child's own heap: a few objects, checked and freed. */
static void child_heap(void)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC), k;
	struct gomem_alloc a = { 0 };
	struct gomem_free f = { 0 };
	u64 s;

	CHECK(fd >= 0, "child: open %s: %s", DEV, strerror(errno));
	for (k = 0; k < 8; k++) {
		a.size = pick_size() & ((1 << 20) - 1);
		a.size += !a.size;
		a.flags = GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_ZERO;
		if (gioc(fd, GOMEM_IOC_ALLOC, &a))
			continue;
		CHECK(a.usable >= a.size, "child ALLOC: slot %llu < %llu",
		      (unsigned long long)a.usable, (unsigned long long)a.size);
		for (s = 0; s < a.size; s += SPAGE)
			CHECK(!__atomic_load_n((char *)(uintptr_t)(a.addr + s), __ATOMIC_RELAXED),
			      "child: not zero");
		memset((void *)(uintptr_t)a.addr, 0x5a, a.size < HEAD_BYTES ? a.size : HEAD_BYTES);
		f.addr = a.addr;
		expect(0, fd, GOMEM_IOC_FREE, &f, "child's own object");
	}
	close(fd);
}

static void reap(pid_t pid, const char *what)
{
	int status;

	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "%s child failed (status 0x%x)", what,
	      status);
}

static void op_fork(void)
{
	long long i = pick(false);
	u64 addr = i >= 0 ? me->t->o[i].addr : 0;
	bool dofork;
	pid_t pid;

	pthread_mutex_lock(&P.mu);
	dofork = P.dofork;
	pthread_mutex_unlock(&P.mu);
	count(&sh->forks, 1);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		proc_index += 100;
		foreign_checks(P.fd, addr, dofork);
		if (chance(50))
			child_heap();
		_exit(0);
	}
	reap(pid, "fork");
}

/* MADV_DOFORK on an object's pages, then fork: the known crash. */
static void op_dofork(void)
{
	u64 start, len;
	struct obj o;

	if (!sacrifice(&o, &start, &len, false))
		return;
	pthread_mutex_lock(&P.mu);
	P.dofork = true;
	pthread_mutex_unlock(&P.mu);
	hist("madvise-dofork", start, len, 0, madvise((void *)(uintptr_t)start, len,
						      MADV_DOFORK) ? -errno : 0);
	op_fork();
	obj_check(&o, "after MADV_DOFORK and fork");
}

static void send_fd(int sock, int fd)
{
	char c = 'f', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	CHECK(sendmsg(sock, &m, 0) == 1, "sendmsg: %s", strerror(errno));
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	CHECK(recvmsg(sock, &m, 0) == 1, "recvmsg: %s", strerror(errno));
	cm = CMSG_FIRSTHDR(&m);
	CHECK(cm && cm->cmsg_type == SCM_RIGHTS, "no descriptor received");
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd	438
#endif

/* Another process's descriptor @fd, through pidfd_getfd(2). */
static int grab_fd(pid_t pid, int fd)
{
	int pidfd = syscall(__NR_pidfd_open, pid, 0), ret;

	CHECK(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	ret = syscall(__NR_pidfd_getfd, pidfd, fd, 0);
	CHECK(ret >= 0, "pidfd_getfd: %s", strerror(errno));
	close(pidfd);
	return ret;
}

static bool have_unix = true;

/*
 * The descriptor goes to a child (over a unix socket, or taken with
 * pidfd_getfd(2) where the kernel has no AF_UNIX): EPERM there. The child
 * hands it back the same way, and the owner's second descriptor of the
 * heap works and can be closed without the heap going.
 */
static void op_passfd(void)
{
	struct gomem_memstats st;
	struct gomem_stats s = { .buf = (u64)(uintptr_t)&st, .size = sizeof(st) };
	int sv[2] = { -1, -1 }, c2p[2], p2c[2], fd2, child_fd = -1;
	bool unix_sock = have_unix;
	char c = 0;
	pid_t pid;

	/* A kernel without networking (the debug guest's) has no socketpair(). */
	if (unix_sock && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		unix_sock = have_unix = false;
	CHECK(!pipe(c2p) && !pipe(p2c), "pipe: %s", strerror(errno));
	count(&sh->forks, 1);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		int fd;

		proc_index += 200;
		/* Not the inherited one: the one passed over. */
		close(P.fd);
		fd = unix_sock ? recv_fd(sv[1]) : grab_fd(getppid(), P.fd);
		foreign_checks(fd, 0, false);
		if (unix_sock)
			send_fd(sv[1], fd);
		CHECK(write(c2p[1], &fd, sizeof(fd)) == sizeof(fd), "pipe write");
		CHECK(read(p2c[0], &c, 1) == 1, "pipe read");
		_exit(0);
	}
	if (unix_sock)
		send_fd(sv[0], P.fd);
	CHECK(read(c2p[0], &child_fd, sizeof(child_fd)) == sizeof(child_fd), "pipe read");
	fd2 = unix_sock ? recv_fd(sv[0]) : grab_fd(pid, child_fd);
	CHECK(write(p2c[1], &c, 1) == 1, "pipe write");
	reap(pid, "passfd");
	close(c2p[0]);
	close(c2p[1]);
	close(p2c[0]);
	close(p2c[1]);
	if (unix_sock) {
		close(sv[0]);
		close(sv[1]);
	}
	expect(0, fd2, GOMEM_IOC_STATS, &s, "second descriptor of the owner");
	CHECK(st.heap_id == P.heap_id, "second descriptor: heap %u, expected %u", st.heap_id,
	      P.heap_id);
	close(fd2);
	sample_check("after closing a second descriptor");
}

/* A second heap in the same process: its objects are its own. */
static void op_heap2(void)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC), k, n = 0;
	struct gomem_alloc a = { 0 };
	struct gomem_free f = { 0 };
	struct gomem_gc_params p = { .gogc = GOMEM_GOGC_OFF, .flags = GOMEM_GC_SET_GOGC };
	struct obj objs[8];
	long long i;

	CHECK(fd >= 0, "open a second heap: %s", strerror(errno));
	expect(0, fd, GOMEM_IOC_SET_GC, &p, "second heap: GOGC off");
	for (k = 0; k < 8; k++) {
		a.size = 1 + below(chance(20) ? 1 << 20 : MAX_SMALL);
		a.flags = rnd() & (GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_ZERO);
		if (gioc(fd, GOMEM_IOC_ALLOC, &a))
			continue;
		objs[n] = (struct obj){ .addr = a.addr, .size = a.size, .usable = a.usable };
		if (tiny(a.size, a.flags))
			objs[n].flags = OBJ_TINY;
		tree_add(a.addr, obj_span(&objs[n]), "second heap ALLOC");
		obj_walk(&objs[n], FILL);
		f.addr = a.addr;
		expect(-EINVAL, P.fd, GOMEM_IOC_SIZE, &f, "another heap's object");
		n++;
	}
	i = pick(false);
	if (i >= 0) {
		f.addr = me->t->o[i].addr;
		expect(-EINVAL, fd, GOMEM_IOC_FREE, &f, "the first heap's object");
	}
	for (k = 0; k < n; k++) {
		obj_check(&objs[k], "second heap");
		tree_del(objs[k].addr, obj_span(&objs[k]));
		if (chance(50)) {
			f.addr = objs[k].addr;
			expect(0, fd, GOMEM_IOC_FREE, &f, "second heap");
		}
	}
	close(fd);
}

/* === the heap's life ==================================================== */

static void register_roots(void)
{
	struct gomem_root r = { 0 };
	int t;

	for (t = 0; t < cfg.threads; t++) {
		r.addr = (u64)(uintptr_t)thrs[t].t;
		r.len = sizeof(struct table);
		expect(0, P.fd, GOMEM_IOC_ROOT_ADD, &r, "a thread's table");
	}
	r.addr = (u64)(uintptr_t)P.q;
	r.len = sizeof(*P.q);
	expect(0, P.fd, GOMEM_IOC_ROOT_ADD, &r, "the queue");
	P.fixed_roots = cfg.threads + 1;
}

/* A new heap samples at Go's MemProfileRate. */
static void prof_open(void)
{
	struct gomem_prof_rate r = { .rate = 1 };

	expect(0, P.fd, GOMEM_IOC_PROF_RATE, &r, "read the rate");
	CHECK(r.old_rate == GOMEM_PROF_DEFAULT_RATE, "new heap samples every %llu bytes",
	      (unsigned long long)r.old_rate);
	P.prof_rate = r.old_rate;
}

static void heap_open(void)
{
	struct gomem_memstats st;
	struct gomem_stats s = { .buf = (u64)(uintptr_t)&st, .size = sizeof(st) };
	struct gomem_gc_params p = { 0 };
	struct gomem_cap c = { .cap_bytes = 1ULL << 30 };

	P.fd = open(DEV, O_RDWR | O_CLOEXEC);
	CHECK(P.fd >= 0, "open %s: %s", DEV, strerror(errno));
	expect(0, P.fd, GOMEM_IOC_STATS, &s, "new heap");
	P.heap_id = st.heap_id;
	CHECK(!st.heap_alloc && !st.heap_objects && !st.mallocs && !st.lost_bytes,
	      "a new heap is not empty");
	expect(0, P.fd, GOMEM_IOC_SET_GC, &p, "read the settings");
	P.gogc = P.gogc_default = p.old_gogc;
	P.limit = p.old_limit;
	CHECK(P.limit == GOMEM_NO_LIMIT, "new heap has a memory limit %llu",
	      (unsigned long long)P.limit);
	/* A 1 GiB cap keeps a run inside the guest's memory. */
	expect(0, P.fd, GOMEM_IOC_SET_CAP, &c, "initial cap");
	CHECK(!c.old_cap, "new heap has a cap");
	P.cap = c.cap_bytes;
	prof_open();
	P.nroots = 0;
	P.nlost = 0;
	P.inexact = false;
	P.dofork = false;
	register_roots();
}

static void tally(const struct obj *o, u64 *treq, u64 *other, u64 *bytes)
{
	if (o->flags & OBJ_TREQ)
		(*treq)++;
	else
		(*other)++;
	if (!(o->flags & OBJ_TINY))
		*bytes += o->usable;
}

/*
 * Every other thread is out: compare the heap with the shadow. @empty:
 * the fuzzer holds nothing and a forced cycle just ran.
 */
static void checkpoint(const char *when, bool empty)
{
	struct gomem_memstats st;
	struct gomem_stats s = { .buf = (u64)(uintptr_t)&st, .size = sizeof(st) };
	u64 treq = 0, other = 0, bytes = 0, k;
	int t;

	for (t = 0; t < cfg.threads; t++)
		for (k = 0; k < thrs[t].t->n; k++)
			tally(&thrs[t].t->o[k], &treq, &other, &bytes);
	for (k = 0; k < P.q->n; k++)
		tally(&P.q->o[k], &treq, &other, &bytes);
	expect(0, P.fd, GOMEM_IOC_STATS, &s, when);
	CHECK(st.cap_bytes == P.cap, "%s: cap %llu, the fuzzer set %llu", when,
	      (unsigned long long)st.cap_bytes, (unsigned long long)P.cap);
	CHECK(st.gogc == P.gogc && st.memory_limit == P.limit,
	      "%s: GOGC %d limit %llu, the fuzzer set %d %llu", when, st.gogc,
	      (unsigned long long)st.memory_limit, P.gogc, (unsigned long long)P.limit);
	CHECK(st.lost_bytes == P.nlost * GPAGE,
	      "%s: lost_bytes %llu, the fuzzer unmapped %zu heap pages (%llu bytes)", when,
	      (unsigned long long)st.lost_bytes, P.nlost, (unsigned long long)(P.nlost * GPAGE));
	CHECK(st.heap_idle + st.heap_inuse == st.heap_sys && st.heap_released <= st.heap_idle,
	      "%s: HeapIdle %llu + HeapInuse %llu != HeapSys %llu (released %llu)", when,
	      (unsigned long long)st.heap_idle, (unsigned long long)st.heap_inuse,
	      (unsigned long long)st.heap_sys, (unsigned long long)st.heap_released);
	/* Heap pages the program unmapped left Reserved and went to Lost. */
	CHECK(st.heap_alloc >= bytes && st.heap_sys <= st.reserved_bytes + st.lost_bytes,
	      "%s: HeapAlloc %llu < %llu the fuzzer holds, or HeapSys %llu > reserved %llu + lost %llu",
	      when, (unsigned long long)st.heap_alloc, (unsigned long long)bytes,
	      (unsigned long long)st.heap_sys, (unsigned long long)st.reserved_bytes,
	      (unsigned long long)st.lost_bytes);
	if (P.inexact)
		return;
	/*
	 * Tiny objects count in tiny_allocs and tiny_frees one by one, their
	 * blocks in heap_objects (which the fuzzer cannot count); the other
	 * objects count in heap_objects.
	 */
	CHECK(st.tiny_allocs - st.tiny_frees == treq,
	      "%s: tiny_allocs %llu - tiny_frees %llu != %llu tiny objects the fuzzer holds",
	      when, (unsigned long long)st.tiny_allocs, (unsigned long long)st.tiny_frees,
	      (unsigned long long)treq);
	/* Blocks whose tiny objects are all freed may stay until a sweep. */
	CHECK(st.heap_objects >= other,
	      "%s: heap_objects %llu, the fuzzer holds %llu objects and %llu tiny ones", when,
	      (unsigned long long)st.heap_objects, (unsigned long long)other,
	      (unsigned long long)treq);
	CHECK(!empty || (!st.heap_objects && !st.heap_alloc),
	      "%s: heap_objects %llu heap_alloc %llu after everything was freed and a cycle ran",
	      when, (unsigned long long)st.heap_objects, (unsigned long long)st.heap_alloc);
}

static void op_checkpoint(void)
{
	world_write();
	checkpoint("checkpoint", false);
	if (chance(20))
		check_all("checkpoint", ~0U);
	world_unlock();
}

/* Close the heap (its arenas go with it) and open a new one. */
static void op_reopen(void)
{
	struct gomem_alloc a = { .size = 64 };
	u64 old = 0;
	int t, fd;

	world_write();
	checkpoint("before close", false);
	if (me->t->n)
		old = me->t->o[below(me->t->n)].addr;
	close(P.fd);
	if (old)
		CHECK(touch(old, false) == SIGSEGV, "heap memory readable after the last close");
	for (t = 0; t < cfg.threads; t++) {
		thrs[t].t->n = 0;
		thrs[t].touched = 0;
	}
	P.q->n = 0;
	tree_clear();
	/* A read-only open has no heap. */
	fd = open(DEV, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open read-only: %s", strerror(errno));
	check_version(fd);
	expect(-EBADF, fd, GOMEM_IOC_ALLOC, &a, "read-only open");
	CHECK(mmap(NULL, GPAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM,
	      "mmap of a read-only /dev/gomem");
	close(fd);
	heap_open();
	world_unlock();
}

/* === threads and processes ============================================== */

typedef void (*op_fn)(void);

static const op_fn op_fns[NOPS] = {
	[O_ALLOC] = op_alloc, [O_BULK] = op_bulk, [O_FREE] = op_free, [O_SIZE] = op_size,
	[O_STATS] = op_stats, [O_CLASSES] = op_classes, [O_SCAVENGE] = op_scavenge,
	[O_CAP] = op_cap, [O_ROOT] = op_root, [O_GC] = op_gc, [O_SETGC] = op_setgc,
	[O_VERSION] = op_version, [O_BADCMD] = op_badcmd, [O_BADPTR] = op_badptr,
	[O_TOUCH] = op_touch, [O_HANDOFF] = op_handoff, [O_DROP] = op_drop,
	[O_MUNMAP] = op_munmap, [O_MREMAP] = op_mremap, [O_MADVISE] = op_madvise,
	[O_MPROTECT] = op_mprotect, [O_MAPFIXED] = op_mapfixed, [O_FORK] = op_fork,
	[O_PASSFD] = op_passfd, [O_REOPEN] = op_reopen, [O_HEAP2] = op_heap2,
	[O_DOFORK] = op_dofork, [O_ROARG] = op_roarg, [O_PROF] = op_prof,
};

/* Operations that take the world themselves. */
static bool takes_world(int op)
{
	return op == O_GC || op == O_REOPEN || op == O_ROARG;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static u64 deadline;

static int pick_op(void)
{
	u64 total = 0, r;
	int i;

	for (i = 0; i < NOPS; i++)
		if (cfg.ops & (1ULL << i))
			total += op_weight[i];
	r = below(total);
	for (i = 0; i < NOPS; i++) {
		if (!(cfg.ops & (1ULL << i)))
			continue;
		if (r < op_weight[i])
			return i;
		r -= op_weight[i];
	}
	return O_ALLOC;
}

static void *thread_main(void *arg)
{
	int op;

	me = arg;
	while (now_ns() < deadline && (!cfg.max_ops || me->nops < cfg.max_ops)) {
		me->nops++;
		op = pick_op();
		count(&sh->ops[op], 1);
		hist(op_names[op], 0, 0, 0, 0);
		if (me->nops % 256 == 0) {
			op_checkpoint();
		} else if (op == O_ALLOC && chance(5)) {
			/* May run the cycle itself: nothing else runs meanwhile. */
			world_write();
			op_alloc();
			world_unlock();
		} else if (takes_world(op)) {
			op_fns[op]();
		} else {
			pthread_rwlock_rdlock(&P.world);
			op_fns[op]();
			pthread_rwlock_unlock(&P.world);
		}
		if (me->need_gc)
			gc_if_due();
	}
	return NULL;
}

static void *map_anon(u64 len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED, "mmap %llu: %s", (unsigned long long)len, strerror(errno));
	return p;
}

static void setup_thread(int t, u64 s)
{
	struct thr *th = &thrs[t];
	char *region;
	u64 bytes;

	th->id = t;
	th->rng = s;
	th->t = map_anon(sizeof(struct table), PROT_READ | PROT_WRITE);
	th->h = calloc(cfg.history, sizeof(*th->h));
	CHECK(th->h, "out of memory");
	/* The bulk array ends right before a PROT_NONE page. */
	bytes = ((GOMEM_BULK_MAX + 1) * 8 + SPAGE - 1) & ~(SPAGE - 1);
	region = map_anon(bytes + SPAGE, PROT_READ | PROT_WRITE);
	CHECK(!mprotect(region + bytes, SPAGE, PROT_NONE), "mprotect");
	th->bulk = (u64 *)(region + bytes) - (GOMEM_BULK_MAX + 1);
	th->dest = map_anon(DEST_SIZE, PROT_READ | PROT_WRITE);
}

/* The process's scratch memory, queue and odd pages. */
static void setup_process(void)
{
	struct gomem_alloc a = { .size = 64, .flags = GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_NOGC };

	pthread_mutex_init(&P.mu, NULL);
	pthread_mutex_init(&P.qmu, NULL);
	P.q = map_anon(sizeof(*P.q), PROT_READ | PROT_WRITE);
	P.scratch = map_anon(SCRATCH_SIZE, PROT_READ | PROT_WRITE);
	P.ro = map_anon(SPAGE, PROT_READ | PROT_WRITE);
	memcpy(P.ro, &a, sizeof(a));
	CHECK(!mprotect(P.ro, SPAGE, PROT_READ), "mprotect");
	P.none = map_anon(SPAGE, PROT_NONE);
}

static void install_handlers(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* One process of the run: a heap, cfg.threads threads on it. */
static int worker(int index)
{
	pthread_rwlockattr_t wa;
	pthread_t tid[MAX_THREADS];
	u64 s = cfg.seed ^ (0x1000193ULL * (index + 1));
	int t;

	proc_index = index;
	count(&sh->procs, 1);
	install_handlers();
	pthread_rwlockattr_init(&wa);
	pthread_rwlockattr_setkind_np(&wa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&P.world, &wa);
	for (t = 0; t < cfg.threads; t++)
		setup_thread(t, splitmix(&s));
	me = &thrs[0];
	setup_process();
	heap_open();
	for (t = 1; t < cfg.threads; t++)
		CHECK(!pthread_create(&tid[t], NULL, thread_main, &thrs[t]), "pthread_create");
	thread_main(&thrs[0]);
	for (t = 1; t < cfg.threads; t++)
		pthread_join(tid[t], NULL);
	me = &thrs[0];
	exclusive_now = true;
	checkpoint("end", false);
	check_all("end", 256);
	/* Everything it holds goes back; the heap must agree. */
	for (t = 0; t < cfg.threads; t++) {
		me = &thrs[t];
		while (me->t->n) {
			struct obj o = obj_take(me->t->n - 1);

			free_obj(&o, "end");
		}
	}
	me = &thrs[0];
	while (P.q->n) {
		struct obj o = P.q->o[--P.q->n];

		tree_del(o.addr, obj_span(&o));
		free_obj(&o, "end");
	}
	{
		struct gomem_gc g = { 0 };

		expect(0, P.fd, GOMEM_IOC_GC, &g, "final cycle");
	}
	checkpoint("after freeing everything", true);
	do_gc();
	close(P.fd);
	return 0;
}

/* === the deterministic boundary pass ==================================== */

/*
 * Every command with its boundary arguments once, in a fresh heap, one
 * thread: the part of the run that does not depend on chance.
 */
static int abi_pass(void)
{
	static const u64 sizes[] = { 0, 1, GOMEM_ALLOC_MAX, GOMEM_ALLOC_MAX + 1, 1ULL << 63,
				     ~0ULL, ~0ULL - 8191 };
	struct gomem_alloc a = { 0 };
	struct gomem_alloc_bulk b = { .size = 16 };
	struct gomem_free f = { 0 };
	struct gomem_cap c = { 0 };
	struct gomem_gc_params p = { .flags = GOMEM_GC_SET_GOGC, .gogc = GOMEM_GOGC_OFF };
	u64 *arr;
	unsigned int k;
	int op;

	proc_index = 99;
	install_handlers();
	setup_thread(0, cfg.seed);
	me = &thrs[0];
	cfg.threads = 1;
	setup_process();
	pthread_rwlock_init(&P.world, NULL);
	heap_open();
	/* Sizes: EINVAL past GOMEM_ALLOC_MAX, ENOMEM at it under a 64 MiB cap. */
	c.cap_bytes = 64 << 20;
	expect(0, P.fd, GOMEM_IOC_SET_CAP, &c, "64 MiB cap");
	P.cap = c.cap_bytes;
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		a.size = sizes[k];
		a.flags = 0;
		expect(sizes[k] == 1 ? 0 : sizes[k] == GOMEM_ALLOC_MAX ? -ENOMEM : -EINVAL,
		       P.fd, GOMEM_IOC_ALLOC, &a, "boundary size");
		if (sizes[k] == 1)
			obj_new(a.addr, a.size, a.usable, 0, "ALLOC 1");
	}
	a.size = 8;
	a.flags = GOMEM_ALLOC_FLAGS + 1;
	expect(-EINVAL, P.fd, GOMEM_IOC_ALLOC, &a, "unknown flag");
	a.flags = 0;
	a.reserved = 1;
	expect(-EINVAL, P.fd, GOMEM_IOC_ALLOC, &a, "reserved");
	/* Counts: 0 and GOMEM_BULK_MAX + 1 refused, GOMEM_BULK_MAX allocated. */
	arr = me->bulk;
	b.addrs = (u64)(uintptr_t)arr;
	b.count = 0;
	expect(-EINVAL, P.fd, GOMEM_IOC_ALLOC_BULK, &b, "count 0");
	b.count = GOMEM_BULK_MAX + 1;
	expect(-EINVAL, P.fd, GOMEM_IOC_ALLOC_BULK, &b, "GOMEM_BULK_MAX + 1");
	b.count = GOMEM_BULK_MAX;
	b.addrs = (u64)(uintptr_t)(arr + 2);
	expect(-EFAULT, P.fd, GOMEM_IOC_ALLOC_BULK, &b, "array runs into PROT_NONE");
	b.addrs = (u64)(uintptr_t)arr;
	b.flags = GOMEM_ALLOC_NOSCAN;
	expect(0, P.fd, GOMEM_IOC_ALLOC_BULK, &b, "GOMEM_BULK_MAX");
	for (k = 0; k < GOMEM_BULK_MAX; k++)
		obj_new(arr[k], b.size, 0, b.flags, "ALLOC_BULK");
	f.addr = me->t->o[0].addr;
	expect(0, P.fd, GOMEM_IOC_SIZE, &f, "SIZE");
	f.addr++;
	expect(-EINVAL, P.fd, GOMEM_IOC_FREE, &f, "interior");
	expect(0, P.fd, GOMEM_IOC_SET_GC, &p, "GOGC off");
	P.gogc = GOMEM_GOGC_OFF;
	exclusive_now = true;
	checkpoint("boundary pass", false);
	/* Large objects for the mm operations. */
	for (k = 0; k < 16; k++) {
		a.size = 64 * 1024 + k * GPAGE;
		a.flags = 0;
		a.reserved = 0;
		expect(0, P.fd, GOMEM_IOC_ALLOC, &a, "large object");
		obj_new(a.addr, a.size, a.usable, 0, "ALLOC large");
	}
	/* Every operation class a few times, the checks as in the random run. */
	for (op = 0; op < NOPS; op++) {
		if (!op_fns[op] || !(cfg.ops & (1ULL << op)) || op == O_REOPEN)
			continue;
		for (k = 0; k < 4; k++) {
			me->nops++;
			count(&sh->ops[op], 1);
			hist(op_names[op], 0, 0, 0, 0);
			op_fns[op]();
		}
	}
	do_gc();
	op_reopen();
	checkpoint("after reopen", true);
	close(P.fd);
	return 0;
}

/* === main =============================================================== */

static int run_child(int (*fn)(int), int arg, pid_t *pid)
{
	fflush(stdout);
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (!*pid)
		_exit(fn(arg));
	return 0;
}

static int abi_entry(int unused)
{
	return abi_pass();
}

static u64 parse_ops(const char *s)
{
	char buf[512], *tok, *save;
	u64 m = 0;
	int i;

	if (!strcmp(s, "all"))
		return OPS_ALL;
	if (!strcmp(s, "default"))
		return OPS_DEFAULT;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NOPS && strcmp(tok, op_names[i]); i++)
			;
		if (i == NOPS) {
			fprintf(stderr, "unknown operation class '%s'; classes:", tok);
			for (i = 0; i < NOPS; i++)
				fprintf(stderr, " %s", op_names[i]);
			fprintf(stderr, "\n");
			exit(KSFT_FAIL);
		}
		m |= 1ULL << i;
	}
	return m;
}

static void usage(void)
{
	fprintf(stderr, "%s\n", "gomem_fuzz [--seed N] [--seconds S] [--max-ops N] [--procs N]");
	fprintf(stderr, "%s\n", "\t[--threads N] [--ops CLASS,...|all|default] [--history N]");
	exit(KSFT_FAIL);
}

static void parse_args(int argc, char **argv, char *ops_buf, size_t ops_len)
{
	int i;

	snprintf(ops_buf, ops_len, "default");
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(argv[i], "--seed")) {
			cfg.seed = strtoull(v, NULL, 0);
			cfg.seed_given = true;
		} else if (!strcmp(argv[i], "--seconds")) {
			cfg.seconds = strtod(v, NULL);
		} else if (!strcmp(argv[i], "--max-ops")) {
			cfg.max_ops = strtoull(v, NULL, 0);
		} else if (!strcmp(argv[i], "--procs")) {
			cfg.procs = atoi(v);
		} else if (!strcmp(argv[i], "--threads")) {
			cfg.threads = atoi(v);
		} else if (!strcmp(argv[i], "--ops")) {
			cfg.ops = parse_ops(v);
			snprintf(ops_buf, ops_len, "%s", v);
		} else if (!strcmp(argv[i], "--history")) {
			cfg.history = atoi(v);
		} else {
			usage();
		}
		i++;
	}
	if (cfg.procs < 1 || cfg.procs > MAX_PROCS || cfg.threads < 1 ||
	    cfg.threads > MAX_THREADS || cfg.history < 1 || cfg.history > HIST_MAX ||
	    cfg.seconds < 0)
		usage();
	if (!cfg.seed_given)
		cfg.seed = now_ns() ^ ((u64)getpid() << 32);
}

int main(int argc, char **argv)
{
	static char ops_buf[512];
	pid_t pids[MAX_PROCS], abi_pid = 0;
	u64 t0 = now_ns(), issued = 0, failed = 0;
	int i, status, missing = 0;
	bool abi = cfg.ops & (1ULL << O_ABI);

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, ops_buf, sizeof(ops_buf));
	run_ops = ops_buf;
	abi = cfg.ops & (1ULL << O_ABI);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return KSFT_FAIL;
	ksft_print_header();
	ksft_set_plan(cfg.procs + 2);
	ksft_print_msg("gomem_fuzz --seed %llu --seconds %g --procs %d --threads %d --ops %s%s\n",
		       (unsigned long long)cfg.seed, cfg.seconds, cfg.procs, cfg.threads, ops_buf,
		       cfg.max_ops ? " (with --max-ops)" : "");
	if (access(DEV, F_OK)) {
		ksft_print_msg("%s: %s (is gomem.ko loaded?)\n", DEV, strerror(errno));
		ksft_exit_skip("no " DEV "\n");
	}

	if (abi && !run_child(abi_entry, 0, &abi_pid)) {
		waitpid(abi_pid, &status, 0);
		ksft_test_result(WIFEXITED(status) && !WEXITSTATUS(status),
				 "boundary pass: every command and class once\n");
	} else {
		ksft_test_result_skip("boundary pass (not in --ops)\n");
	}
	deadline = now_ns() + (u64)(cfg.seconds * 1e9);
	for (i = 0; i < cfg.procs; i++)
		if (run_child(worker, i, &pids[i]))
			pids[i] = -1;
	for (i = 0; i < cfg.procs; i++) {
		status = -1;
		if (pids[i] > 0)
			waitpid(pids[i], &status, 0);
		ksft_test_result(pids[i] > 0 && WIFEXITED(status) && !WEXITSTATUS(status),
				 "process %d (seed %llu, %d threads)\n", i,
				 (unsigned long long)cfg.seed, cfg.threads);
	}

	for (i = 0; i < NCMD; i++) {
		ksft_print_msg("ioctl %-12s issued %8llu  failed %8llu\n", cmds[i].name,
			       (unsigned long long)sh->issued[i], (unsigned long long)sh->failed[i]);
		issued += sh->issued[i];
		failed += sh->failed[i];
		if (!sh->issued[i])
			missing++;
	}
	for (i = 0; i < NOPS; i++)
		if (sh->ops[i])
			ksft_print_msg("op %-10s %llu\n", op_names[i],
				       (unsigned long long)sh->ops[i]);
	if ((cfg.ops & OPS_DEFAULT) == OPS_DEFAULT)
		ksft_test_result(!missing, "every command issued (%d not)\n", missing);
	else
		ksft_test_result_skip("every command issued (narrowed --ops)\n");
	/* One line, which fuzz.sh reads. */
	printf("# gomem_fuzz totals: seed %llu ioctls %llu (failed %llu) objects %llu",
	       (unsigned long long)cfg.seed, (unsigned long long)issued,
	       (unsigned long long)failed, (unsigned long long)sh->objects);
	printf(" bytes %llu processes %llu forks %llu seconds %.1f violations %llu\n",
	       (unsigned long long)sh->bytes, (unsigned long long)sh->procs,
	       (unsigned long long)sh->forks, (now_ns() - t0) / 1e9,
	       (unsigned long long)sh->violations);
	ksft_print_cnts();
	return ksft_get_fail_cnt() ? KSFT_FAIL : KSFT_PASS;
}
