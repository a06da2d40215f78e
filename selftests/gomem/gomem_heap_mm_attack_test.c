// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for what an unprivileged program can do to its heap's arena
 * mappings with the mm system calls (security audit, issue 10): fork
 * after MADV_DOFORK, every mremap() path, giving big arenas back,
 * madvise(), mprotect(), mlock(), /proc/PID/mem and process_vm_readv()
 * and the memory cgroup their faults are charged to. After each, the
 * heap's arenas must be where they were, no mapping of the heap may exist
 * anywhere else, and live objects must be intact.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "gomem_test_util.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif
#ifndef MADV_COLD
#define MADV_COLD		20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif

#define MAX_ARENAS	64

/*
 * The heap's slot, the top bits of its file offsets, from its debugfs
 * "owner" file: its id names it, but ids are never reused and slots are.
 * Return: the slot, or 0 (no heap has it) if the file cannot be read.
 */
static unsigned int heap_slot(unsigned int id)
{
	char path[128], line[128];
	unsigned int slot = 0;
	FILE *f;

	snprintf(path, sizeof(path), GOMEM_HEAPS "/%u/owner", id);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "slot %u", &slot) == 1)
			break;
	fclose(f);
	return slot;
}

FIXTURE(heap) {
	struct gomem_heap *h;
	unsigned int id;
	unsigned int slot;
};

FIXTURE_SETUP(heap)
{
	struct gomem_memstats st;

	self->h = gm_open_heap(_metadata);
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	self->id = st.heap_id;
	self->slot = heap_slot(self->id);
}

FIXTURE_TEARDOWN(heap)
{
	gomem_close(self->h);
}

/* === the heap's arenas and mappings ===================================== */

struct arenas {
	int n;
	unsigned long start[MAX_ARENAS], end[MAX_ARENAS];
};

/* The heap's arenas from debugfs. Return: how many, or -1. */
static int read_arenas(unsigned int id, struct arenas *ar)
{
	char path[128], line[256];
	unsigned long s, e;
	FILE *f;

	snprintf(path, sizeof(path), GOMEM_HEAPS "/%u/arenas", id);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ar->n = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "0x%lx 0x%lx", &s, &e) == 2 && ar->n < MAX_ARENAS) {
			ar->start[ar->n] = s;
			ar->end[ar->n++] = e;
		}
	fclose(f);
	return ar->n;
}

/*
 * Mappings of the heap in slot @slot in /proc/self/maps that are not
 * where the heap put them: outside its arenas, or at another address than
 * their file offset says (the offset of a heap's mapping at A is
 * (slot << 48) + A).
 * Return: how many; the first is logged.
 */
static int stray_maps(unsigned int slot, const struct arenas *ar)
{
	unsigned long s, e, off;
	char line[512];
	int bad = 0, i, in;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!gm_is_gomem_map(line) || sscanf(line, "%lx-%lx %*s %lx", &s, &e, &off) != 3)
			continue;
		if (off >> 48 != slot)
			continue;
		for (i = 0, in = 0; i < ar->n && !in; i++)
			in = s >= ar->start[i] && e <= ar->end[i];
		if (!in || (off & ((1UL << 48) - 1)) != s) {
			if (!bad++)
				fprintf(stderr, "# stray heap mapping: %s", line);
		}
	}
	fclose(f);
	return bad;
}

/* The arenas are the ones in @before, where they were, and nothing strays. */
static void check_arenas(struct __test_metadata *_metadata, unsigned int id,
			 const struct arenas *before, const char *what)
{
	struct arenas now;
	int i;

	ASSERT_LE(0, read_arenas(id, &now));
	EXPECT_EQ(before->n, now.n) TH_LOG("%s: arenas", what);
	for (i = 0; i < before->n && i < now.n; i++) {
		EXPECT_EQ(before->start[i], now.start[i]) TH_LOG("%s: arena %d", what, i);
		EXPECT_EQ(before->end[i], now.end[i]) TH_LOG("%s: arena %d", what, i);
	}
	EXPECT_EQ(0, stray_maps(heap_slot(id), &now)) TH_LOG("%s", what);
}

/* Writes one byte in each 4 KiB page of [p, p + len). */
static void touch_pages(void *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += 4096)
		((char *)p)[off] = 1;
}

static size_t fault_off;

/*
 * Reads one byte every @stride bytes of [p, p + len). Return: the offset
 * of the first that faults, or -1. One sigsetjmp() for all of them: the
 * guest runs under TCG, and signal set-up per page is slow there.
 */
static long first_fault_stride(void *p, size_t len, size_t stride)
{
	struct sigaction sa = { .sa_handler = gm_fault_handler }, old_segv, old_bus;
	long ret = -1;

	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (!sigsetjmp(gm_fault_env, 1)) {
		for (size_t off = 0; off < len; off += stride) {
			__atomic_store_n(&fault_off, off, __ATOMIC_SEQ_CST);
			__atomic_load_n((char *)p + off, __ATOMIC_RELAXED);
		}
	} else {
		ret = __atomic_load_n(&fault_off, __ATOMIC_SEQ_CST);
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return ret;
}

static long first_fault(void *p, size_t len)
{
	return first_fault_stride(p, len, 4096);
}

/* Checks @p's pattern only if it can be read: a SIGBUS would end the test. */
static long safe_check(void *p, size_t len, uint64_t seed, size_t stride)
{
	long off = first_fault_stride(p, len, stride < 4096 ? 4096 : stride);

	if (off >= 0) {
		fprintf(stderr, "# %p + %ld: SIGBUS or SIGSEGV\n", p, off);
		return off;
	}
	return gm_check(p, len, seed, stride);
}

/* === fork after MADV_DOFORK ============================================= */

struct dofork_arg {
	char *obj;		/* touched, with a pattern */
	char *fresh;		/* the heap's, never touched */
	size_t len;
	unsigned long start, end;	/* the arena mapping holding both */
	int unmap;		/* the child unmaps the mapping before it exits */
};

/*
 * The child of a fork after MADV_DOFORK: the mapping is there (the
 * kernel copied the VMA), but it must be dead: no page of the parent
 * visible, no fault into the parent's heap. Exit codes: 0 dead, 10 the
 * parent's object was readable, 11 a fresh page of the parent's heap
 * could be faulted in.
 */
static int dofork_child(void *arg)
{
	struct dofork_arg *da = arg;
	unsigned long s, e;
	int ret = 0;

	if (gm_find_map((unsigned long)da->obj, &s, &e) != 1)
		return gm_child_fail("the child did not inherit the mapping");
	if (!gm_touch(da->obj, 0)) {
		fprintf(stderr, "# child: the parent's object is readable (%s)\n",
			gm_check(da->obj, da->len, 77, 8) < 0 ? "its contents" : "other contents");
		ret = 10;
	}
	if (!gm_touch(da->fresh, 1) && !ret) {
		fprintf(stderr, "# child: faulted a page into the parent's heap\n");
		ret = 11;
	}
	if (da->unmap && munmap((void *)da->start, da->end - da->start))
		return gm_child_fail("munmap: %s", strerror(errno));
	return ret;
}

static void dofork_case(struct __test_metadata *_metadata, struct gomem_heap *h,
			unsigned int id, int unmap)
{
	struct dofork_arg da = { .len = MiB, .unmap = unmap };
	struct gomem_memstats st0, st1;
	struct arenas ar;
	int status;

	da.obj = gomem_alloc(h, da.len, GOMEM_ALLOC_NOSCAN);
	da.fresh = gomem_alloc(h, da.len, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, da.obj);
	ASSERT_NE(NULL, da.fresh);
	gm_fill(da.obj, da.len, 77, 8);
	ASSERT_EQ(1, gm_find_map((unsigned long)da.obj, &da.start, &da.end));
	ASSERT_EQ(0, madvise((void *)da.start, da.end - da.start, MADV_DOFORK));
	ASSERT_LT(0, read_arenas(id, &ar));
	ASSERT_EQ(0, gomem_stats(h, &st0));

	status = gm_run_child(dofork_child, &da);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child status 0x%x (unmap %d)", status, unmap);

	/* The parent's heap lost nothing and gained nothing. */
	EXPECT_EQ(-1, first_fault(da.fresh, da.len));
	EXPECT_EQ(-1, safe_check(da.obj, da.len, 77, 8));
	ASSERT_EQ(0, gomem_stats(h, &st1));
	EXPECT_EQ(0, st1.lost_bytes);
	EXPECT_EQ(st0.reserved_bytes, st1.reserved_bytes);
	check_arenas(_metadata, id, &ar, "after the child");
	EXPECT_EQ(0, gomem_free(h, da.obj));
	EXPECT_EQ(0, gomem_free(h, da.fresh));
}

/* Finding 3: the child unmaps the inherited mapping. */
TEST_F(heap, dofork_child_unmaps)
{
	dofork_case(_metadata, self->h, self->id, 1);
}

/* Finding 3: the child just exits. */
TEST_F(heap, dofork_child_exits)
{
	dofork_case(_metadata, self->h, self->id, 0);
}

/* A grandchild (fork of the fork) gets nothing either. */
static int dofork_grandparent(void *arg)
{
	int status = gm_run_child(dofork_child, arg);

	return WIFEXITED(status) ? WEXITSTATUS(status) : 12;
}

TEST_F(heap, dofork_grandchild)
{
	struct dofork_arg da = { .len = MiB };
	struct gomem_memstats st;
	int status;

	da.obj = gomem_alloc(self->h, da.len, GOMEM_ALLOC_NOSCAN);
	da.fresh = gomem_alloc(self->h, da.len, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, da.obj);
	ASSERT_NE(NULL, da.fresh);
	gm_fill(da.obj, da.len, 77, 8);
	ASSERT_EQ(1, gm_find_map((unsigned long)da.obj, &da.start, &da.end));
	ASSERT_EQ(0, madvise((void *)da.start, da.end - da.start, MADV_DOFORK));
	status = gm_run_child(dofork_grandparent, &da);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("status 0x%x", status);
	EXPECT_EQ(-1, safe_check(da.obj, da.len, 77, 8));
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	EXPECT_EQ(0, st.lost_bytes);
}

/* === mremap ============================================================= */

/*
 * Two arenas: a 64 MiB one with a live object in its first chunk, and the
 * 128 MiB arena of an 80 MiB object; the rest of each is Reserved, to be
 * mremap()ed without harming an object: @rs1 (16 MiB, where small
 * objects may go later) and @rs2 (40 MiB, where nothing else ever goes).
 */
struct mremap_setup {
	char *obj, *obj2;
	size_t len, len2;
	unsigned long a1, a1_end, a2, a2_end, rs1, rs2;
	char *dst;		/* a PROT_NONE playground to move things to */
	size_t dst_len;
	struct arenas ar;
};

static void mremap_setup(struct __test_metadata *_metadata, struct gomem_heap *h,
			 unsigned int id, struct mremap_setup *m)
{
	m->len = 2 * MiB;
	m->len2 = 80 * MiB;
	m->obj = gomem_alloc(h, m->len, GOMEM_ALLOC_NOSCAN);
	m->obj2 = gomem_alloc(h, m->len2, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, m->obj);
	ASSERT_NE(NULL, m->obj2);
	gm_fill(m->obj, m->len, 5, 4096);
	gm_fill(m->obj2, m->len2, 6, MiB);
	ASSERT_EQ(1, gm_find_map((unsigned long)m->obj, &m->a1, &m->a1_end));
	ASSERT_EQ(1, gm_find_map((unsigned long)m->obj2, &m->a2, &m->a2_end));
	ASSERT_EQ(GOMEM_ARENA_SIZE, m->a1_end - m->a1);
	ASSERT_EQ(2 * GOMEM_ARENA_SIZE, m->a2_end - m->a2);
	m->rs1 = m->a1_end - 16 * MiB;
	m->rs2 = m->a2_end - 40 * MiB;
	m->dst_len = 2 * GOMEM_ARENA_SIZE;
	m->dst = mmap(NULL, m->dst_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	ASSERT_NE(MAP_FAILED, m->dst);
	ASSERT_LT(0, read_arenas(id, &m->ar));
}

/* Put the playground back: MREMAP_FIXED unmapped parts of it. */
static void dst_reset(struct mremap_setup *m)
{
	mmap(m->dst, m->dst_len, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

static void mremap_verify(struct __test_metadata *_metadata, struct gomem_heap *h,
			  unsigned int id, struct mremap_setup *m, const char *what)
{
	unsigned long s, e;

	check_arenas(_metadata, id, &m->ar, what);
	EXPECT_EQ(1, gm_find_map((unsigned long)m->obj, &s, &e)) TH_LOG("%s", what);
	EXPECT_EQ(-1, safe_check(m->obj, m->len, 5, 4096)) TH_LOG("%s", what);
	EXPECT_EQ(-1, safe_check(m->obj2, m->len2, 6, MiB)) TH_LOG("%s", what);
}

/* mremap() of a heap mapping must fail with one of @errs (0-terminated). */
#define EXPECT_MREMAP_FAILS(what, errs, ...) do {				\
	static const int _e[] = { errs, 0 };					\
	void *_p = mremap(__VA_ARGS__);						\
	int _i, _ok = 0;							\
										\
	for (_i = 0; _e[_i]; _i++)						\
		_ok |= _p == MAP_FAILED && errno == _e[_i];			\
	EXPECT_TRUE(_ok) TH_LOG("%s: %p, errno %d", what, _p, errno);		\
	mremap_verify(_metadata, self->h, self->id, &m, what);			\
	dst_reset(&m);								\
} while (0)

#define ERRS(...)	__VA_ARGS__

/* Finding 4: every path of 6.1's mremap(), one by one. */
TEST_F(heap, mremap_every_path)
{
	struct mremap_setup m;
	unsigned long tail1, tail2, piece;
	void *p;

	mremap_setup(_metadata, self->h, self->id, &m);
	tail1 = m.a1 + 32 * MiB;	/* Reserved chunks of arena 1 */
	tail2 = m.rs2;			/* and of arena 2 */
	piece = 4 * MiB;

	/* Moves: whole mapping, a piece (may_split), a piece to a piece. */
	EXPECT_MREMAP_FAILS("move whole", ERRS(EINVAL),
			    (void *)m.a1, GOMEM_ARENA_SIZE, GOMEM_ARENA_SIZE,
			    MREMAP_MAYMOVE | MREMAP_FIXED, m.dst);
	EXPECT_MREMAP_FAILS("move piece", ERRS(EINVAL),
			    (void *)tail1, piece, piece, MREMAP_MAYMOVE | MREMAP_FIXED, m.dst);
	EXPECT_MREMAP_FAILS("move piece with an object", ERRS(EINVAL),
			    m.obj, m.len, m.len, MREMAP_MAYMOVE | MREMAP_FIXED, m.dst);
	/* DONTUNMAP, with and without FIXED. */
	EXPECT_MREMAP_FAILS("dontunmap", ERRS(EINVAL),
			    (void *)tail1, piece, piece, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	EXPECT_MREMAP_FAILS("dontunmap fixed", ERRS(EINVAL),
			    (void *)tail1, piece, piece,
			    MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, m.dst);
	/* Grow in place, grow and move, old_len 0 (duplicate a shared mapping). */
	EXPECT_MREMAP_FAILS("grow", ERRS(EFAULT, EINVAL, ENOMEM),
			    (void *)m.a2, m.a2_end - m.a2, m.a2_end - m.a2 + piece, 0);
	EXPECT_MREMAP_FAILS("grow and move", ERRS(EFAULT, EINVAL),
			    (void *)tail1, piece, 2 * piece, MREMAP_MAYMOVE);
	EXPECT_MREMAP_FAILS("grow and move fixed", ERRS(EFAULT, EINVAL),
			    (void *)tail1, piece, 2 * piece, MREMAP_MAYMOVE | MREMAP_FIXED, m.dst);
	EXPECT_MREMAP_FAILS("duplicate", ERRS(EFAULT, EINVAL),
			    (void *)tail1, 0, piece, MREMAP_MAYMOVE);
	EXPECT_MREMAP_FAILS("duplicate fixed", ERRS(EFAULT, EINVAL),
			    (void *)tail1, 0, piece, MREMAP_MAYMOVE | MREMAP_FIXED, m.dst);
	EXPECT_MREMAP_FAILS("duplicate object", ERRS(EFAULT, EINVAL),
			    m.obj, 0, m.len, MREMAP_MAYMOVE | MREMAP_FIXED, m.dst);
	/* Shrink and move: the tail goes (Reserved chunks), the move does not. */
	EXPECT_MREMAP_FAILS("shrink and move", ERRS(EINVAL),
			    (void *)(tail1 + 16 * MiB), 2 * piece, piece,
			    MREMAP_MAYMOVE | MREMAP_FIXED, m.dst);
	/* A split piece (mprotect), moved. */
	ASSERT_EQ(0, mprotect((void *)(tail1 + piece), piece, PROT_READ));
	EXPECT_MREMAP_FAILS("move split piece", ERRS(EINVAL),
			    (void *)(tail1 + piece), piece, piece, MREMAP_MAYMOVE | MREMAP_FIXED,
			    m.dst);
	/* Onto, and next to, the other arena of the same heap (vma_merge()). */
	EXPECT_MREMAP_FAILS("onto another arena", ERRS(EINVAL),
			    (void *)tail1, piece, piece, MREMAP_MAYMOVE | MREMAP_FIXED,
			    (void *)tail2);
	EXPECT_MREMAP_FAILS("next to another arena", ERRS(EINVAL),
			    (void *)(tail1 + 2 * piece), piece, piece,
			    MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(tail2 + 2 * piece));
	if (m.a2_end == m.a1 || m.a1_end == m.a2)
		TH_LOG("the arenas are adjacent");
	/* Next to its own lower half, at the address its offset continues. */
	ASSERT_EQ(0, munmap((void *)(tail1 + 4 * piece), piece));
	EXPECT_MREMAP_FAILS("into a hole of its own arena", ERRS(EINVAL),
			    (void *)(tail1 + 6 * piece), piece, piece,
			    MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(tail1 + 4 * piece));

	/* Shrink in place is an unmap of the tail: the mapping stays. */
	p = mremap((void *)m.a2, m.a2_end - m.a2, m.a2_end - m.a2 - piece, 0);
	EXPECT_EQ((void *)m.a2, p) TH_LOG("shrink in place: errno %d", errno);
	mremap_verify(_metadata, self->h, self->id, &m, "shrink in place");

	munmap(m.dst, m.dst_len);
	EXPECT_EQ(0, gomem_free(self->h, m.obj));
	EXPECT_EQ(0, gomem_free(self->h, m.obj2));
}

#define FAILSLAB	"/sys/kernel/debug/failslab"

TEST_F(heap, mremap_under_fault_injection)
{
	char path[64], val[16];
	struct mremap_setup m;
	unsigned long tail1;
	int n, fails = 0, fd;
	void *p;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", syscall(SYS_gettid));
	if (access(path, W_OK) || access(FAILSLAB "/ignore-gfp-wait", W_OK))
		SKIP(return, "no fail-nth or failslab");
	mremap_setup(_metadata, self->h, self->id, &m);
	tail1 = m.a1 + 32 * MiB;
	ASSERT_EQ(0, gm_write_str(FAILSLAB "/ignore-gfp-wait", "N"));
	gm_write_str(FAILSLAB "/verbose", "0");
	for (n = 1; n <= 40; n++) {
		fd = open(path, O_WRONLY);
		ASSERT_LE(0, fd);
		snprintf(val, sizeof(val), "%d", n);
		ASSERT_EQ((ssize_t)strlen(val), write(fd, val, strlen(val)));
		p = mremap((void *)tail1, 4 * MiB, 4 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, m.dst);
		ASSERT_EQ(1, write(fd, "0", 1));
		close(fd);
		EXPECT_EQ(MAP_FAILED, p);
		fails += errno == ENOMEM;
		if (stray_maps(self->slot, &m.ar)) {
			TH_LOG("a heap mapping strayed when allocation %d failed", n);
			/* What it maps: pages of the heap, at another address? */
			if (!gm_touch(m.dst, 1))
				TH_LOG("and a page of the heap faulted in there");
			break;
		}
		dst_reset(&m);
	}
	gm_write_str(FAILSLAB "/ignore-gfp-wait", "Y");
	gm_write_str(FAILSLAB "/verbose", "2");
	TH_LOG("%d injected failures gave ENOMEM", fails);
	mremap_verify(_metadata, self->h, self->id, &m, "fault injection");
	dst_reset(&m);
	munmap(m.dst, m.dst_len);
	EXPECT_EQ(0, gomem_free(self->h, m.obj));
	EXPECT_EQ(0, gomem_free(self->h, m.obj2));
}

/*
 * Threads doing random mremap()s of the big arena's Reserved tail, with
 * random flags, lengths and targets in the playground, while the main
 * thread allocates, fills, checks and frees objects.
 */
struct fuzz {
	struct mremap_setup *m;
	unsigned int seed;
	int stop;
	long moved;
};

static unsigned long rnd(unsigned int *seed, unsigned long n)
{
	return (unsigned long)rand_r(seed) % n;
}

static void *fuzz_thread(void *arg)
{
	static const int flags[] = {
		0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED,
		MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
		MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
	};
	struct fuzz *fz = arg;
	struct mremap_setup *m = fz->m;
	unsigned long src, old_len, new_len, dst;
	int i;
	void *p;

	for (i = 0; i < 80 && !__atomic_load_n(&fz->stop, __ATOMIC_RELAXED); i++) {
		/* Sources: the Reserved halves of both arenas. */
		/* At most 4 MiB from at most 36 MiB into the big arena's tail. */
		src = m->rs2 + rnd(&fz->seed, 9216) * 4096;
		old_len = rnd(&fz->seed, 4) ? (1 + rnd(&fz->seed, 1024)) * 4096 : 0;
		new_len = (1 + rnd(&fz->seed, 1024)) * 4096;
		dst = (unsigned long)m->dst + rnd(&fz->seed, m->dst_len / 4096 - 1024) * 4096;
		p = mremap((void *)src, old_len, new_len, flags[rnd(&fz->seed, 5)], (void *)dst);
		if (p != MAP_FAILED && p != (void *)src)
			fz->moved++;
	}
	return NULL;
}

TEST_F(heap, mremap_threads)
{
	struct fuzz fz[3];
	pthread_t t[3];
	struct mremap_setup m;
	void *objs[16];
	int i, j;

	mremap_setup(_metadata, self->h, self->id, &m);
	for (i = 0; i < 3; i++) {
		fz[i] = (struct fuzz){ .m = &m, .seed = 1234 + i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fuzz_thread, &fz[i]));
	}
	for (j = 0; j < 4; j++) {
		for (i = 0; i < 16; i++) {
			objs[i] = gomem_alloc(self->h, 4096 << (i % 6), GOMEM_ALLOC_NOSCAN);
			ASSERT_NE(NULL, objs[i]);
			gm_fill(objs[i], 4096 << (i % 6), i + j, 512);
		}
		for (i = 0; i < 16; i++) {
			EXPECT_EQ(-1, gm_check(objs[i], 4096 << (i % 6), i + j, 512));
			EXPECT_EQ(0, gomem_free(self->h, objs[i]));
		}
	}
	for (i = 0; i < 3; i++) {
		__atomic_store_n(&fz[i].stop, 1, __ATOMIC_RELAXED);
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, fz[i].moved) TH_LOG("thread %d moved a heap mapping", i);
	}
	mremap_verify(_metadata, self->h, self->id, &m, "threads");
	dst_reset(&m);
	munmap(m.dst, m.dst_len);
	EXPECT_EQ(0, gomem_free(self->h, m.obj));
	EXPECT_EQ(0, gomem_free(self->h, m.obj2));
}

/*
 * mmap(MAP_FIXED) of the heap's own file over one of its arenas, with the
 * arena's own offset: refused before the kernel unmaps what is there.
 */
TEST_F(heap, mmap_fixed_over_arena)
{
	unsigned long s, e, off;
	struct gomem_memstats st;
	struct arenas ar;
	char *p, *q;

	p = gomem_alloc(self->h, MiB, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, p);
	gm_fill(p, MiB, 8, 8);
	ASSERT_EQ(1, gm_find_map((unsigned long)p, &s, &e));
	ASSERT_LT(0, read_arenas(self->id, &ar));
	off = ((unsigned long)self->slot << 48) + s;
	q = mmap((void *)s, e - s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 gomem_fd(self->h), off);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_TRUE(errno == EPERM || errno == EINVAL) TH_LOG("errno %d", errno);
	q = mmap((void *)s, e - s, PROT_READ, MAP_PRIVATE | MAP_FIXED, gomem_fd(self->h), off);
	EXPECT_EQ(MAP_FAILED, q);
	check_arenas(_metadata, self->id, &ar, "mmap over an arena");
	EXPECT_EQ(-1, safe_check(p, MiB, 8, 8));
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	EXPECT_EQ(0, st.lost_bytes);
	EXPECT_EQ(0, gomem_free(self->h, p));
}

/* === big arenas ========================================================= */

/* The heap's reserved bytes, arena count and highest arena end. */
static void big_state(struct __test_metadata *_metadata, struct gomem_heap *h, unsigned int id,
		      unsigned long long *reserved, int *narenas, unsigned long *top)
{
	struct gomem_memstats st;
	struct arenas ar;
	int i;

	ASSERT_EQ(0, gomem_stats(h, &st));
	*reserved = st.reserved_bytes;
	*narenas = read_arenas(id, &ar);
	*top = 0;
	for (i = 0; i < ar.n; i++)
		if (ar.end[i] > *top)
			*top = ar.end[i];
	EXPECT_EQ(0, stray_maps(id, &ar));
}

/*
 * Finding 9: two 65 MiB objects allocated and freed over and over. Each
 * needs an arena of its own (128 MiB); given back, the arenas must serve
 * the next ones, not stay Reserved while new ones are mapped.
 */
TEST_F(heap, big_arenas_reused)
{
	unsigned long long reserved, max_reserved = 0;
	unsigned long top = 0, max_top = 0;
	struct gomem_memstats st;
	int i, n = 0, max_n = 0;
	char *a, *b;

	for (i = 0; i < 60; i++) {
		a = gomem_alloc(self->h, 65 * MiB, GOMEM_ALLOC_NOSCAN);
		b = gomem_alloc(self->h, 65 * MiB, GOMEM_ALLOC_NOSCAN);
		ASSERT_NE(NULL, a) TH_LOG("round %d: %s", i, strerror(errno));
		ASSERT_NE(NULL, b) TH_LOG("round %d: %s", i, strerror(errno));
		a[0] = 1;
		b[65 * MiB - 1] = 2;
		if (i % 10 && i > 2) {
			ASSERT_EQ(0, gomem_stats(self->h, &st));
			reserved = st.reserved_bytes;
		} else {
			big_state(_metadata, self->h, self->id, &reserved, &n, &top);
		}
		max_reserved = reserved > max_reserved ? reserved : max_reserved;
		max_n = n > max_n ? n : max_n;
		max_top = top > max_top ? top : max_top;
		ASSERT_EQ(0, gomem_free(self->h, a));
		ASSERT_EQ(0, gomem_free(self->h, b));
		if (max_reserved > 8 * 65 * MiB)
			break;
	}
	TH_LOG("max reserved %llu MiB, max arenas %d, top 0x%lx", max_reserved / MiB, max_n,
	       max_top);
	/* Two 128 MiB arenas, and a 64 MiB one for the small objects at most. */
	EXPECT_LE(max_reserved, 4 * 65 * MiB);
	EXPECT_LE(max_n, 4);
	EXPECT_LE(max_top, GOMEM_ARENA_HINT + 8 * GOMEM_ARENA_SIZE);
}

/*
 * Sizes that grow, then shrink, then vary: the address space stays
 * within about twice the peak of live objects, and the hint does not run
 * away (the 0x2000_0000_0000 arenas of the fuzzer: big objects of up to
 * 64 GiB, each leaving its arena behind, walked the hint up by their
 * size each time).
 */
TEST_F(heap, big_arenas_varying_sizes)
{
	unsigned long long reserved, live, peak = 0, worst = 0;
	unsigned long top, max_top = 0;
	int i, n, k;
	size_t size;
	char *a, *b;

	for (i = 0; i < 24; i++) {
		k = i < 8 ? i : i < 16 ? 16 - i : (i * 7919) % 8;
		size = 65 * MiB + (size_t)k * 33 * MiB;
		a = gomem_alloc(self->h, size, GOMEM_ALLOC_NOSCAN);
		b = gomem_alloc(self->h, size / 2 + 65 * MiB, GOMEM_ALLOC_NOSCAN);
		ASSERT_NE(NULL, a) TH_LOG("round %d: %s", i, strerror(errno));
		ASSERT_NE(NULL, b) TH_LOG("round %d: %s", i, strerror(errno));
		live = size + size / 2 + 65 * MiB;
		peak = live > peak ? live : peak;
		big_state(_metadata, self->h, self->id, &reserved, &n, &top);
		if (reserved > worst)
			worst = reserved;
		max_top = top > max_top ? top : max_top;
		EXPECT_LE(reserved, 2 * peak + 2 * GOMEM_ARENA_SIZE)
			TH_LOG("round %d: %llu MiB reserved for %llu MiB live, %d arenas", i,
			       reserved / MiB, live / MiB, n);
		ASSERT_EQ(0, gomem_free(self->h, a));
		ASSERT_EQ(0, gomem_free(self->h, b));
		if (reserved > 4 * peak + 2 * GOMEM_ARENA_SIZE)
			break;
	}
	TH_LOG("peak live %llu MiB, worst reserved %llu MiB, top 0x%lx", peak / MiB,
	       worst / MiB, max_top);
	EXPECT_LE(max_top, GOMEM_ARENA_HINT + 4 * peak + 4 * GOMEM_ARENA_SIZE);
}

/*
 * The program unmaps a free big arena and maps its own memory there; big
 * arenas given back and mapped again (the hint going back down) must step
 * over it, and leave its memory alone.
 */
TEST_F(heap, big_arena_unmapped_by_program)
{
	unsigned long s, e, ms, me;
	char *a, *mine;
	int i;

	a = gomem_alloc(self->h, 100 * MiB, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(1, gm_find_map((unsigned long)a, &s, &e));
	ASSERT_EQ(0, gomem_free(self->h, a));
	ASSERT_EQ(0, munmap((void *)s, e - s));
	mine = mmap((void *)s, e - s, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
	ASSERT_EQ((void *)s, mine);
	gm_fill(mine, 4096, 99, 8);
	gm_fill(mine + (e - s) - 4096, 4096, 98, 8);
	for (i = 0; i < 20; i++) {
		a = gomem_alloc(self->h, (65 + 70 * (i % 3)) * MiB, GOMEM_ALLOC_NOSCAN);
		ASSERT_NE(NULL, a);
		EXPECT_TRUE((unsigned long)a + 65 * MiB <= s || (unsigned long)a >= e);
		a[0] = 1;
		ASSERT_EQ(0, gomem_free(self->h, a));
	}
	EXPECT_EQ(0, gm_find_map(s, &ms, &me));
	EXPECT_EQ(-1, gm_check(mine, 4096, 99, 8));
	EXPECT_EQ(-1, gm_check(mine + (e - s) - 4096, 4096, 98, 8));
	munmap(mine, e - s);
}

/* === madvise, mprotect, mlock =========================================== */

TEST_F(heap, madvise_every_flag)
{
	static const struct { int advice; const char *name; } adv[] = {
		{ MADV_DONTDUMP, "DONTDUMP" }, { MADV_DODUMP, "DODUMP" },
		{ MADV_DONTFORK, "DONTFORK" }, { MADV_DOFORK, "DOFORK" },
		{ MADV_WIPEONFORK, "WIPEONFORK" }, { MADV_KEEPONFORK, "KEEPONFORK" },
		{ MADV_DONTNEED, "DONTNEED" }, { MADV_REMOVE, "REMOVE" },
		{ MADV_FREE, "FREE" }, { MADV_COLD, "COLD" }, { MADV_PAGEOUT, "PAGEOUT" },
		{ MADV_MERGEABLE, "MERGEABLE" }, { MADV_UNMERGEABLE, "UNMERGEABLE" },
		{ MADV_HUGEPAGE, "HUGEPAGE" }, { MADV_NOHUGEPAGE, "NOHUGEPAGE" },
		{ MADV_COLLAPSE, "COLLAPSE" }, { MADV_WILLNEED, "WILLNEED" },
		{ MADV_SEQUENTIAL, "SEQUENTIAL" }, { MADV_RANDOM, "RANDOM" },
		{ MADV_POPULATE_READ, "POPULATE_READ" }, { MADV_POPULATE_WRITE, "POPULATE_WRITE" },
	};
	const size_t len = 2 * MiB;
	struct gomem_memstats st;
	unsigned long s, e;
	struct arenas ar;
	size_t i;
	char *p;
	int r;

	p = gomem_alloc(self->h, len, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, gm_find_map((unsigned long)p, &s, &e));
	ASSERT_LT(0, read_arenas(self->id, &ar));
	for (i = 0; i < ARRAY_SIZE(adv); i++) {
		gm_fill(p, len, i, 4096);
		/* The object's pages, then the whole mapping (Reserved parts too). */
		r = madvise(p, len, adv[i].advice);
		TH_LOG("madvise(%s) on an object: %d %s", adv[i].name, r, r ? strerror(errno) : "");
		r = madvise((void *)s, e - s, adv[i].advice);
		TH_LOG("madvise(%s) on the arena: %d %s", adv[i].name, r, r ? strerror(errno) : "");
		EXPECT_EQ(-1, safe_check(p, len, i, 4096)) TH_LOG("%s", adv[i].name);
		check_arenas(_metadata, self->id, &ar, adv[i].name);
	}
	madvise((void *)s, e - s, MADV_DONTFORK);
	/* mprotect: none and back, exec; mlock. */
	gm_fill(p, len, 1000, 4096);
	ASSERT_EQ(0, mprotect(p, len, PROT_NONE));
	EXPECT_EQ(SIGSEGV, gm_touch(p, 0));
	ASSERT_EQ(0, mprotect(p, len, PROT_READ | PROT_WRITE));
	r = mprotect(p, len, PROT_READ | PROT_EXEC);
	TH_LOG("mprotect(PROT_EXEC): %d %s", r, r ? strerror(errno) : "");
	ASSERT_EQ(0, mprotect(p, len, PROT_READ | PROT_WRITE));
	r = mlock((void *)s, e - s);
	TH_LOG("mlock: %d %s", r, r ? strerror(errno) : "");
	munlock((void *)s, e - s);
	r = mlock2(p, len, MLOCK_ONFAULT);
	TH_LOG("mlock2(ONFAULT): %d %s", r, r ? strerror(errno) : "");
	munlock(p, len);
	EXPECT_EQ(-1, safe_check(p, len, 1000, 4096));
	check_arenas(_metadata, self->id, &ar, "mprotect and mlock");
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	EXPECT_EQ(0, st.lost_bytes);
	EXPECT_EQ(0, gomem_free(self->h, p));
}

/* === /proc/PID/mem, process_vm_readv, memory cgroups ==================== */

TEST_F(heap, proc_mem_and_vm_readv)
{
	const size_t len = MiB;
	char *p, *buf, path[64];
	unsigned long s, e;
	struct iovec l, r;
	int fd;

	p = gomem_alloc(self->h, len, GOMEM_ALLOC_NOSCAN);
	buf = malloc(len);
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, buf);
	gm_fill(p, len / 2, 3, 8);
	ASSERT_EQ(1, gm_find_map((unsigned long)p, &s, &e));
	snprintf(path, sizeof(path), "/proc/%d/mem", getpid());
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	/* Touched and untouched pages of an object read; Reserved ones fail. */
	EXPECT_EQ((ssize_t)len, pread(fd, buf, len, (off_t)(uintptr_t)p));
	EXPECT_EQ(-1, gm_check(buf, len / 2, 3, 8));
	EXPECT_TRUE(gm_is_zero(buf + len / 2, len / 2));
	EXPECT_EQ(-1, pread(fd, buf, 4096, (off_t)(e - 4096)));
	EXPECT_EQ(8, pwrite(fd, "gomem!!!", 8, (off_t)(uintptr_t)(p + len - 8)));
	EXPECT_EQ(0, memcmp(p + len - 8, "gomem!!!", 8));
	EXPECT_EQ(-1, pwrite(fd, "x", 1, (off_t)(e - 4096)));
	close(fd);
	/* The debug kernel has no CONFIG_CROSS_MEMORY_ATTACH. */
	l = (struct iovec){ buf, len };
	r = (struct iovec){ p, len };
	if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) < 0 && errno != EFAULT) {
		TH_LOG("process_vm_readv: %s", strerror(errno));
	} else {
		EXPECT_EQ((ssize_t)len, process_vm_readv(getpid(), &l, 1, &r, 1, 0));
		r = (struct iovec){ (void *)(e - 4096), 4096 };
		EXPECT_EQ(-1, process_vm_readv(getpid(), &l, 1, &r, 1, 0));
	}
	EXPECT_EQ(0, gomem_free(self->h, p));
	free(buf);
}

struct remote_shared {
	int phase;		/* 1: the child's object is ready, 2: the parent read it */
	unsigned long obj;
	long long before, after;
};

struct remote_arg {
	const char *dir;
	struct remote_shared *sh;
};

static long long cg_current(struct remote_arg *ra)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/memory.current", ra->dir);
	return gm_read_number(path, -1);
}

static int remote_child(void *arg)
{
	struct remote_arg *ra = arg;
	struct gomem_heap *h;
	char path[256];
	char *p;

	snprintf(path, sizeof(path), "%s/cgroup.procs", ra->dir);
	if (gm_write_str(path, "0"))
		return gm_child_fail("joining %s: %s", ra->dir, strerror(errno));
	h = gm_open_nogc();
	if (!h)
		return gm_child_fail("open: %s", strerror(errno));
	p = gomem_alloc(h, 4 * MiB, GOMEM_ALLOC_NOSCAN);
	if (!p)
		return gm_child_fail("alloc");
	ra->sh->before = cg_current(ra);
	ra->sh->obj = (unsigned long)p;
	__atomic_store_n(&ra->sh->phase, 1, __ATOMIC_RELEASE);
	if (gm_wait_for(&ra->sh->phase, 2, 60000))
		return gm_child_fail("the parent did not read");
	ra->sh->after = cg_current(ra);
	gomem_close(h);
	return 0;
}

/*
 * Pages another process faults into the heap (here a read of
 * /proc/PID/mem by the parent, outside the cgroup) are charged to the heap owner's
 * cgroup, not the reader's: otherwise the owner's memory would escape
 * its limit, paid for by whoever reads it.
 */
TEST(remote_fault_charged_to_owner)
{
	struct remote_shared *sh;
	struct remote_arg ra;
	char dir[128], path[64], *buf;
	const char *why;
	int status, fd;
	pid_t pid;
	ssize_t n;

	if (access(GOMEM_DEV, F_OK) || geteuid())
		SKIP(return, "needs gomem.ko and root");
	why = gm_memcg_create(dir, sizeof(dir), "gomem_attack");
	if (why)
		SKIP(return, "%s: %s", why, strerror(errno));
	gm_kmsg(_metadata->name);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	ra = (struct remote_arg){ .dir = dir, .sh = sh };
	buf = malloc(4 * MiB);
	ASSERT_NE(NULL, buf);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(remote_child(&ra));
	ASSERT_EQ(0, gm_wait_for(&sh->phase, 1, 60000));
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY);
	EXPECT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	n = pread(fd, buf, 4 * MiB, (off_t)sh->obj);
	EXPECT_EQ((ssize_t)(4 * MiB), n) TH_LOG("reading the child's heap: %s", strerror(errno));
	close(fd);
	__atomic_store_n(&sh->phase, 2, __ATOMIC_RELEASE);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child 0x%x", status);
	TH_LOG("the owner's cgroup: %lld before, %lld after the read", sh->before, sh->after);
	EXPECT_GE(sh->after - sh->before, (long long)(3 * MiB));
	rmdir(dir);
	free(buf);
	munmap(sh, sizeof(*sh));
}

/* === the fd: closed while mapped, passed on ============================= */

/* Closing the last descriptor unmaps every arena; a dup keeps them. */
TEST(close_fd_while_mapped)
{
	struct gomem_alloc a = { .size = 8 * MiB };
	struct gomem_memstats st;
	struct gomem_stats sa = { .buf = (uintptr_t)&st, .size = sizeof(st) };
	struct arenas ar;
	unsigned int slot;
	int fd, fd2;
	char *p;

	if (access(GOMEM_DEV, F_OK))
		SKIP(return, "no %s", GOMEM_DEV);
	gm_kmsg(_metadata->name);
	fd = open(GOMEM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, GOMEM_IOC_ALLOC, &a));
	p = (char *)(uintptr_t)a.addr;
	touch_pages(p, a.size);
	ASSERT_EQ(0, ioctl(fd, GOMEM_IOC_STATS, &sa)) TH_LOG("%s", strerror(errno));
	slot = heap_slot(st.heap_id);
	ar.n = 0;
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(-1, first_fault(p, a.size));
	ASSERT_EQ(0, close(fd2));
	/* The arenas are gone: nothing of the heap is mapped anywhere. */
	EXPECT_EQ(0, stray_maps(slot, &ar));
	EXPECT_EQ(SIGSEGV, gm_touch(p, 0));
}

/*
 * A heap's descriptor passed over a unix socket (SCM_RIGHTS) to a process
 * that never shared its mm: every heap command is refused, and so is a
 * mapping of the heap at the owner's arena address and offset.
 */
static int recv_fd(int sock)
{
	char data, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &data, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int scm_child(int sock)
{
	struct gomem_alloc a = { .size = 64 };
	struct gomem_memstats st;
	struct gomem_stats sa = { .buf = (uintptr_t)&st, .size = sizeof(st) };
	struct gomem_scavenge sc = { 0 };
	unsigned long addr, off;
	int fd, ret = 0;
	char c = 0;
	void *p;

	fd = recv_fd(sock);
	if (fd < 0 || read(sock, &addr, sizeof(addr)) != sizeof(addr) ||
	    read(sock, &off, sizeof(off)) != sizeof(off))
		return gm_child_fail("receiving the heap");
	if (!ioctl(fd, GOMEM_IOC_ALLOC, &a) || errno != EPERM)
		ret = gm_child_fail("alloc: %s", strerror(errno));
	if (!ioctl(fd, GOMEM_IOC_STATS, &sa) || errno != EPERM)
		ret = gm_child_fail("stats: %s", strerror(errno));
	if (!ioctl(fd, GOMEM_IOC_SCAVENGE, &sc) || errno != EPERM)
		ret = gm_child_fail("scavenge: %s", strerror(errno));
	p = mmap((void *)addr, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE,
		 fd, off);
	if (p != MAP_FAILED)
		ret = gm_child_fail("mapped the heap at %p", p);
	close(fd);
	if (write(sock, &c, 1) != 1)
		ret = gm_child_fail("write: %s", strerror(errno));
	return ret;
}

TEST_F(heap, fd_passed_over_unix_socket)
{
	char cbuf[CMSG_SPACE(sizeof(int))], data = 0, c;
	struct iovec iov = { &data, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct gomem_memstats st0, st1;
	unsigned long addr, off, s, e;
	struct gomem_heap *h;
	struct cmsghdr *cm;
	int sv[2], status;
	pid_t pid;
	char *p;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		SKIP(return, "no unix sockets: %s", strerror(errno));
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		_exit(scm_child(sv[1]));
	}
	close(sv[1]);
	/* Opened after the fork: the child never shared this heap's mm. */
	h = gm_open_nogc();
	ASSERT_NE(NULL, h);
	p = gomem_alloc(h, MiB, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, p);
	gm_fill(p, MiB, 4, 8);
	ASSERT_EQ(1, gm_find_map((unsigned long)p, &s, &e));
	ASSERT_EQ(0, gomem_stats(h, &st0));
	addr = s;
	off = ((unsigned long)heap_slot(st0.heap_id) << 48) + s;
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &(int){ gomem_fd(h) }, sizeof(int));
	ASSERT_EQ(1, sendmsg(sv[0], &msg, 0));
	ASSERT_EQ(sizeof(addr), write(sv[0], &addr, sizeof(addr)));
	ASSERT_EQ(sizeof(off), write(sv[0], &off, sizeof(off)));
	EXPECT_EQ(1, read(sv[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child 0x%x", status);
	EXPECT_EQ(-1, safe_check(p, MiB, 4, 8));
	ASSERT_EQ(0, gomem_stats(h, &st1));
	EXPECT_EQ(st0.mallocs, st1.mallocs);
	EXPECT_EQ(0, st1.lost_bytes);
	EXPECT_EQ(0, gomem_free(h, p));
	gomem_close(h);
	close(sv[0]);
}

TEST_HARNESS_MAIN
