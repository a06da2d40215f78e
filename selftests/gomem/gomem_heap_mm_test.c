// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for a /dev/gomem heap's memory as the process sees it:
 * arenas in /proc/self/smaps, RSS on touch and after scavenging, fork,
 * mremap, mmap and munmap by hand, another process's heap, and the
 * memory cgroup the pages are charged to.
 */
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>

#include "gomem_test_util.h"

FIXTURE(heap) {
	struct gomem_heap *h;
	int fd;
};

FIXTURE_SETUP(heap)
{
	self->h = gm_open_heap(_metadata);
	self->fd = gomem_fd(self->h);
}

FIXTURE_TEARDOWN(heap)
{
	gomem_close(self->h);
}

/* Writes one byte in each 4 KiB page of [p, p + len). */
static void touch_pages(void *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += 4096)
		((char *)p)[off] = 1;
}

static int overlaps(const void *p, size_t len, const void *q, size_t qlen)
{
	return (const char *)p < (const char *)q + qlen && (const char *)q < (const char *)p + len;
}

/* === RSS ================================================================ */

/*
 * Go's experiment: reserving costs no RSS, touching does, and scavenging
 * gives it back while the address space stays.
 */
TEST_F(heap, rss_touch_and_scavenge)
{
	const size_t len = 16 * MiB;
	struct gm_vmas v0, v1, v2, v3, v4, v5;
	struct gomem_memstats st;
	uint64_t released;
	char *p, *q;

	ASSERT_EQ(0, gm_smaps(&v0));
	p = gomem_alloc(self->h, len, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, gm_smaps(&v1));
	EXPECT_GE(v1.count, 1);
	EXPECT_GE(v1.size, len);
	EXPECT_LT(v1.rss, v0.rss + MiB) TH_LOG("reserving cost %llu bytes of RSS", v1.rss - v0.rss);

	/* Three bytes: three pages. */
	p[0] = 1;
	p[len / 2] = 1;
	p[len - 1] = 1;
	ASSERT_EQ(0, gm_smaps(&v2));
	EXPECT_GE(v2.rss, v1.rss + 3 * 4096);
	EXPECT_LE(v2.rss, v1.rss + MiB);

	touch_pages(p, len);
	ASSERT_EQ(0, gm_smaps(&v3));
	EXPECT_GE(v3.rss, v1.rss + len);
	EXPECT_EQ(v1.size, v3.size);
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	EXPECT_GE(st.resident_bytes, len);
	EXPECT_EQ(v3.rss, st.resident_bytes);

	ASSERT_EQ(0, gomem_free(self->h, p));
	ASSERT_EQ(0, gomem_scavenge(self->h, 0, &released));
	EXPECT_GE(released, len);
	ASSERT_EQ(0, gm_smaps(&v4));
	TH_LOG("RSS of the arenas: reserved %llu, 3 bytes %llu, touched %llu, scavenged %llu",
	       v1.rss, v2.rss, v3.rss, v4.rss);
	EXPECT_LE(v4.rss + len, v3.rss);
	/* The address space stays reserved. */
	EXPECT_EQ(v3.size, v4.size);
	EXPECT_EQ(v3.count, v4.count);
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	EXPECT_EQ(v4.rss, st.resident_bytes);

	/* The same range again, not asked to be zeroed: fresh zero pages. */
	q = gomem_alloc(self->h, len, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, q);
	TH_LOG("first object at %p, second at %p", p, q);
	EXPECT_TRUE(overlaps(p, len, q, len));
	EXPECT_TRUE(gm_is_zero(q, len));
	touch_pages(q, len);
	ASSERT_EQ(0, gm_smaps(&v5));
	EXPECT_GE(v5.rss, v4.rss + len);
	EXPECT_EQ(v4.size, v5.size);
	EXPECT_EQ(0, gomem_free(self->h, q));
}

/* Arena memory the heap has not taken yet is not to be touched. */
TEST_F(heap, touch_reserved_memory)
{
	unsigned long start, end;
	char *p = gomem_alloc(self->h, 64, 0);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, gm_find_map((unsigned long)p, &start, &end));
	EXPECT_EQ(SIGBUS, gm_touch((void *)(end - 4096), 0));
	EXPECT_EQ(0, gm_touch(p, 1));
}

/* === fork =============================================================== */

struct fork_arg {
	struct gomem_heap *h;
	char *small, *large;
};

/* In the child: no heap mapping, and every heap command is refused. */
static int fork_child(void *arg)
{
	struct fork_arg *fa = arg;
	struct gomem_version v = { 0 };
	struct gomem_memstats st;
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	struct gomem_heap *own;
	unsigned long start, end;
	struct gm_vmas vmas;
	void *objs[4];
	int sig;

	sig = gm_touch(fa->small, 0);
	if (sig != SIGSEGV)
		return gm_child_fail("reading the parent's object: signal %d", sig);
	sig = gm_touch(fa->large, 1);
	if (sig != SIGSEGV)
		return gm_child_fail("writing the parent's object: signal %d", sig);
	if (gm_smaps(&vmas) || vmas.count)
		return gm_child_fail("%lu /dev/gomem mappings after fork", vmas.count);

	if (gomem_alloc(fa->h, 64, 0) || errno != EPERM)
		return gm_child_fail("alloc: %s", strerror(errno));
	if (gomem_alloc_bulk(fa->h, 64, 0, objs, 4) != -EPERM)
		return gm_child_fail("bulk alloc not refused");
	if (gomem_free(fa->h, fa->small) != -EPERM)
		return gm_child_fail("free not refused");
	if (gomem_usable_size(fa->h, fa->small) || errno != EPERM)
		return gm_child_fail("size: %s", strerror(errno));
	if (gomem_stats(fa->h, &st) != -EPERM)
		return gm_child_fail("stats not refused");
	if (gomem_class_stats(fa->h, tab) != -EPERM)
		return gm_child_fail("class stats not refused");
	if (gomem_scavenge(fa->h, 0, NULL) != -EPERM)
		return gm_child_fail("scavenge not refused");
	if (gomem_set_cap(fa->h, MiB, NULL) != -EPERM)
		return gm_child_fail("set cap not refused");
	if (gomem_get_cap(fa->h) != -EPERM)
		return gm_child_fail("cap query not refused");
	/* The file itself still answers. */
	if (ioctl(gomem_fd(fa->h), GOMEM_IOC_VERSION, &v) || v.abi_version != GOMEM_ABI_VERSION)
		return gm_child_fail("version: %s", strerror(errno));

	/* A heap of its own works, at the address the parent's has. */
	own = gm_open_nogc();
	if (!own)
		return gm_child_fail("open: %s", strerror(errno));
	objs[0] = gomem_alloc(own, 64, 0);
	if (!objs[0] || gm_find_map((unsigned long)objs[0], &start, &end) != 1)
		return gm_child_fail("alloc in the child's heap: %p", objs[0]);
	gm_fill(objs[0], 64, 7, 8);
	if (gm_check(objs[0], 64, 7, 8) >= 0 || gomem_free(own, objs[0]))
		return gm_child_fail("the child's heap");
	gomem_close(own);
	return 0;
}

TEST_F(heap, fork_child_has_no_heap)
{
	struct fork_arg fa = { .h = self->h };
	struct gomem_memstats before, after;
	int status;
	void *p;

	fa.small = gomem_alloc(self->h, 100, 0);
	fa.large = gomem_alloc(self->h, MiB, 0);
	ASSERT_NE(NULL, fa.small);
	ASSERT_NE(NULL, fa.large);
	gm_fill(fa.small, 100, 1, 8);
	gm_fill(fa.large, MiB, 2, 8);
	ASSERT_EQ(0, gomem_stats(self->h, &before));

	status = gm_run_child(fork_child, &fa);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child status 0x%x", status);

	/* The parent's heap is as it was, and works. */
	ASSERT_EQ(0, gomem_stats(self->h, &after));
	EXPECT_EQ(before.heap_objects, after.heap_objects);
	EXPECT_EQ(before.mallocs, after.mallocs);
	EXPECT_EQ(before.cap_bytes, after.cap_bytes);
	EXPECT_EQ(-1, gm_check(fa.small, 100, 1, 8));
	EXPECT_EQ(-1, gm_check(fa.large, MiB, 2, 8));
	p = gomem_alloc(self->h, 100, 0);
	ASSERT_NE(NULL, p);
	gm_fill(p, 100, 3, 8);
	EXPECT_EQ(0, gomem_free(self->h, p));
	EXPECT_EQ(0, gomem_free(self->h, fa.small));
	EXPECT_EQ(0, gomem_free(self->h, fa.large));
}

/*
 * A heap's file passed to another process (here taken with pidfd_getfd(),
 * which needs no networking in the guest): that process cannot use it.
 */
struct passed_arg {
	int from_parent[2], to_parent[2];
};

static int passed_fd_child(void *arg)
{
	struct passed_arg *pa = arg;
	struct gomem_version v = { 0 };
	struct gomem_alloc a = { .size = 64 };
	struct gomem_free f = { 0 };
	int msg[2], pidfd, fd, ret = 0;
	char c = 0;

	if (read(pa->from_parent[0], msg, sizeof(msg)) != sizeof(msg) ||
	    read(pa->from_parent[0], &f.addr, sizeof(f.addr)) != sizeof(f.addr))
		return gm_child_fail("read: %s", strerror(errno));
	pidfd = syscall(SYS_pidfd_open, msg[0], 0);
	fd = pidfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pidfd, msg[1], 0);
	if (fd < 0)
		ret = gm_child_fail("taking the parent's file: %s", strerror(errno));
	else if (!ioctl(fd, GOMEM_IOC_ALLOC, &a) || errno != EPERM)
		ret = gm_child_fail("alloc: %s", strerror(errno));
	else if (!ioctl(fd, GOMEM_IOC_FREE, &f) || errno != EPERM)
		ret = gm_child_fail("free: %s", strerror(errno));
	else if (!ioctl(fd, GOMEM_IOC_SIZE, &f) || errno != EPERM)
		ret = gm_child_fail("size: %s", strerror(errno));
	else if (ioctl(fd, GOMEM_IOC_VERSION, &v) || v.abi_version != GOMEM_ABI_VERSION)
		ret = gm_child_fail("version: %s", strerror(errno));
	/* The parent keeps the heap open until the child is done with it. */
	if (write(pa->to_parent[1], &c, 1) != 1)
		ret = gm_child_fail("write: %s", strerror(errno));
	return ret;
}

TEST_F(heap, passed_fd_refused)
{
	struct passed_arg pa;
	struct gomem_heap *h;
	int status, msg[2];
	pid_t pid;
	__u64 obj;
	char c;

	ASSERT_EQ(0, pipe(pa.from_parent));
	ASSERT_EQ(0, pipe(pa.to_parent));
	fflush(stderr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(passed_fd_child(&pa));

	/* Opened after the fork: the child never shared this heap's mm. */
	h = gm_open_nogc();
	ASSERT_NE(NULL, h);
	obj = (uintptr_t)gomem_alloc(h, 64, 0);
	ASSERT_NE(0, obj);
	msg[0] = getpid();
	msg[1] = gomem_fd(h);
	ASSERT_EQ(sizeof(msg), write(pa.from_parent[1], msg, sizeof(msg)));
	ASSERT_EQ(sizeof(obj), write(pa.from_parent[1], &obj, sizeof(obj)));
	EXPECT_EQ(1, read(pa.to_parent[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child status 0x%x", status);
	EXPECT_EQ(64, gomem_usable_size(h, (void *)(uintptr_t)obj));
	EXPECT_EQ(0, gomem_free(h, (void *)(uintptr_t)obj));
	gomem_close(h);
}

/* === mmap and mremap ==================================================== */

TEST_F(heap, user_mmap_refused)
{
	static const int flags[] = { MAP_SHARED, MAP_PRIVATE, MAP_SHARED | MAP_FIXED_NOREPLACE };
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE };
	size_t i, j;
	void *p;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		for (j = 0; j < ARRAY_SIZE(prots); j++) {
			void *hint = flags[i] & MAP_FIXED_NOREPLACE ? (void *)0x7e0000000000UL : NULL;

			p = mmap(hint, 64 * 1024, prots[j], flags[i], self->fd, 0);
			EXPECT_EQ(MAP_FAILED, p) TH_LOG("flags 0x%x prot %d", flags[i], prots[j]);
			EXPECT_EQ(EPERM, errno);
			if (p != MAP_FAILED)
				munmap(p, 64 * 1024);
		}
	}
	/* Where the heap would put an arena, and as large. */
	p = mmap((void *)(GOMEM_ARENA_HINT + 64 * GOMEM_ARENA_SIZE), GOMEM_ARENA_SIZE,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = gomem_alloc(self->h, 64, 0);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, gomem_free(self->h, p));
}

/* An object with a pattern, and its arena mapping. */
struct arena_obj {
	char *obj;
	unsigned long start, end;
};

static void arena_obj_init(struct __test_metadata *_metadata, struct gomem_heap *h,
			   struct arena_obj *o)
{
	o->obj = gomem_alloc(h, 4096, 0);
	ASSERT_NE(NULL, o->obj);
	gm_fill(o->obj, 4096, 42, 8);
	ASSERT_EQ(1, gm_find_map((unsigned long)o->obj, &o->start, &o->end));
}

/* The mapping is where it was, the object intact, and the heap works. */
static void arena_obj_check(struct __test_metadata *_metadata, struct gomem_heap *h,
			    struct arena_obj *o)
{
	unsigned long start, end;
	struct gomem_memstats st;
	char *p;

	ASSERT_EQ(1, gm_find_map((unsigned long)o->obj, &start, &end));
	EXPECT_EQ(o->start, start);
	EXPECT_EQ(o->end, end);
	EXPECT_EQ(-1, gm_check(o->obj, 4096, 42, 8));
	p = gomem_alloc(h, 2 * MiB, 0);
	ASSERT_NE(NULL, p);
	touch_pages(p, 2 * MiB);
	EXPECT_EQ(0, gomem_free(h, p));
	ASSERT_EQ(0, gomem_stats(h, &st));
	EXPECT_EQ(0, st.lost_bytes);
	EXPECT_EQ(0, gomem_free(h, o->obj));
}

TEST_F(heap, mremap_grow_refused)
{
	struct arena_obj o;
	size_t len;
	void *p;

	arena_obj_init(_metadata, self->h, &o);
	len = o.end - o.start;
	/* In place (the next range is free: arenas are reserved one by one). */
	p = mremap((void *)o.start, len, len + 2 * MiB, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_TRUE(errno == EFAULT || errno == EINVAL) TH_LOG("errno %d", errno);
	/* Or anywhere. */
	p = mremap((void *)o.start, len, len + 2 * MiB, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_TRUE(errno == EFAULT || errno == EINVAL) TH_LOG("errno %d", errno);
	arena_obj_check(_metadata, self->h, &o);
}

TEST_F(heap, mremap_move_refused)
{
	struct arena_obj o;
	size_t len;
	char *dst, *p;

	arena_obj_init(_metadata, self->h, &o);
	len = o.end - o.start;
	/* MREMAP_FIXED unmaps what is at the target first: make it ours. */
	dst = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);

	p = mremap((void *)o.start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Part of it. */
	p = mremap((void *)o.start, 2 * MiB, 2 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mremap((void *)o.start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst + len / 2);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	munmap(dst, 2 * len);
	arena_obj_check(_metadata, self->h, &o);
}

/* === munmap by hand ===================================================== */

/* Whether [p, p + len) lies in one /dev/gomem mapping; @m caches the last one. */
static int in_gomem_map(const char *p, size_t len, unsigned long m[2])
{
	unsigned long a = (unsigned long)p;

	if (a >= m[0] && a + len <= m[1])
		return 1;
	return gm_find_map(a, &m[0], &m[1]) == 1 && a + len <= m[1];
}

/*
 * Allocates @n objects of @size and checks that none lies in [hole,
 * hole + len), that each is in a mapping of the heap, and that all are
 * usable; then frees them.
 */
static void alloc_around(struct __test_metadata *_metadata, struct gomem_heap *h,
			 size_t size, size_t n, const char *hole, size_t len)
{
	void **objs = calloc(n, sizeof(*objs));
	size_t i, bad = 0, unmapped = 0;
	unsigned long m[2] = { 0, 0 };

	ASSERT_NE(NULL, objs);
	ASSERT_EQ(0, gomem_alloc_bulk(h, size, GOMEM_ALLOC_NOSCAN, objs, n)) TH_LOG("size %zu", size);
	for (i = 0; i < n; i++) {
		if (overlaps(objs[i], size, hole, len)) {
			bad++;
			continue;
		}
		if (!in_gomem_map(objs[i], size, m)) {
			unmapped++;
			objs[i] = NULL;
			continue;
		}
		gm_fill(objs[i], size, i, size > 4096 ? 4096 : 8);
	}
	EXPECT_EQ(0, bad) TH_LOG("%zu objects of %zu bytes in the unmapped range", bad, size);
	EXPECT_EQ(0, unmapped) TH_LOG("%zu objects of %zu bytes outside the heap's mappings",
				      unmapped, size);
	for (i = 0; i < n; i++) {
		if (!objs[i])
			continue;
		if (!overlaps(objs[i], size, hole, len))
			EXPECT_EQ(-1, gm_check(objs[i], size, i, size > 4096 ? 4096 : 8));
		EXPECT_EQ(0, gomem_free(h, objs[i]));
	}
	free(objs);
}

/* The program unmaps a live large object: its pages are lost, the rest works. */
TEST_F_TIMEOUT(heap, munmap_live_object, 120)
{
	const size_t len = 4 * MiB;
	struct gomem_memstats st0, st1, st2;
	struct gm_vmas v0, v1;
	char *big, *small;
	int ret;

	small = gomem_alloc(self->h, 1000, 0);
	big = gomem_alloc(self->h, len, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, small);
	ASSERT_NE(NULL, big);
	gm_fill(small, 1000, 1, 8);
	touch_pages(big, len);
	ASSERT_EQ(0, gomem_stats(self->h, &st0));
	ASSERT_EQ(0, gm_smaps(&v0));

	ASSERT_EQ(0, munmap(big, len));
	EXPECT_EQ(SIGSEGV, gm_touch(big, 0));
	ASSERT_EQ(0, gm_smaps(&v1));
	EXPECT_EQ(v0.count + 1, v1.count);
	EXPECT_EQ(v0.size - len, v1.size);
	EXPECT_LE(v1.rss + len, v0.rss);
	ASSERT_EQ(0, gomem_stats(self->h, &st1));
	EXPECT_EQ(st0.lost_bytes + len, st1.lost_bytes);
	EXPECT_EQ(st0.reserved_bytes - len, st1.reserved_bytes);
	EXPECT_LE(st1.resident_bytes + len, st0.resident_bytes);

	/* Its object may still be freed; its memory is never handed out again. */
	ret = gomem_free(self->h, big);
	TH_LOG("freeing the unmapped object: %d", ret);
	EXPECT_EQ(0, ret);
	alloc_around(_metadata, self->h, len, 8, big, len);
	alloc_around(_metadata, self->h, MiB, 32, big, len);
	alloc_around(_metadata, self->h, 8192, 1024, big, len);
	alloc_around(_metadata, self->h, 512, 4096, big, len);
	EXPECT_EQ(-1, gm_check(small, 1000, 1, 8));
	ASSERT_EQ(0, gomem_stats(self->h, &st2));
	EXPECT_EQ(st1.lost_bytes, st2.lost_bytes);
	EXPECT_EQ(0, gomem_free(self->h, small));
}

/* The program unmaps free heap memory (Prepared pages): the same. */
TEST_F_TIMEOUT(heap, munmap_free_range, 120)
{
	const size_t len = 16 * MiB;
	struct gomem_memstats st0, st1;
	char *big, *hole;

	big = gomem_alloc(self->h, len, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, big);
	touch_pages(big, len);
	ASSERT_EQ(0, gomem_free(self->h, big));
	ASSERT_EQ(0, gomem_stats(self->h, &st0));

	hole = big + 4 * MiB;
	ASSERT_EQ(0, munmap(hole, 8 * MiB));
	ASSERT_EQ(0, gomem_stats(self->h, &st1));
	EXPECT_EQ(st0.lost_bytes + 8 * MiB, st1.lost_bytes);
	EXPECT_EQ(st0.reserved_bytes - 8 * MiB, st1.reserved_bytes);

	alloc_around(_metadata, self->h, 4 * MiB, 6, hole, 8 * MiB);
	alloc_around(_metadata, self->h, MiB, 40, hole, 8 * MiB);
	alloc_around(_metadata, self->h, 32768, 512, hole, 8 * MiB);
	alloc_around(_metadata, self->h, 64, 4096, hole, 8 * MiB);
}

/*
 * The program unmaps arena memory the heap has not taken yet (Reserved):
 * the reservation shrinks, nothing of the heap's is lost, and the heap
 * grows around the hole.
 */
TEST_F_TIMEOUT(heap, munmap_reserved_range, 120)
{
	struct gomem_memstats st0, st1;
	unsigned long start, end;
	char *p = gomem_alloc(self->h, 64, 0), *hole;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, gm_find_map((unsigned long)p, &start, &end));
	ASSERT_EQ(0, gomem_stats(self->h, &st0));
	hole = (char *)end - 8 * MiB;
	ASSERT_GE((unsigned long)hole, start + st0.heap_sys);
	ASSERT_EQ(0, munmap(hole, 8 * MiB));
	ASSERT_EQ(0, gomem_stats(self->h, &st1));
	EXPECT_EQ(st0.lost_bytes, st1.lost_bytes);
	EXPECT_EQ(st0.reserved_bytes - 8 * MiB, st1.reserved_bytes);
	/* Enough to fill the arena and grow into the next one. */
	alloc_around(_metadata, self->h, 2 * MiB, 40, hole, 8 * MiB);
	alloc_around(_metadata, self->h, 16384, 2048, hole, 8 * MiB);
	EXPECT_EQ(0, gomem_free(self->h, p));
}

/*
 * The whole first arena goes: the heap carries on in new arenas (which
 * may be reserved at the same addresses again: then they are new
 * mappings, which alloc_around() accepts).
 */
TEST_F(heap, munmap_whole_arena)
{
	unsigned long start, end;
	char *p = gomem_alloc(self->h, 64, 0), *q;
	struct gomem_memstats st;
	struct gm_vmas v;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, gm_find_map((unsigned long)p, &start, &end));
	ASSERT_EQ(0, munmap((void *)start, end - start));
	ASSERT_EQ(0, gm_smaps(&v));
	EXPECT_EQ(0, v.count);
	ASSERT_EQ(0, gomem_stats(self->h, &st));
	EXPECT_EQ(0, st.reserved_bytes);
	EXPECT_EQ(st.heap_sys, st.lost_bytes);
	alloc_around(_metadata, self->h, 64, 4096, NULL, 0);
	alloc_around(_metadata, self->h, 4 * MiB, 4, NULL, 0);
	q = gomem_alloc(self->h, 64, 0);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(1, gm_find_map((unsigned long)q, &start, &end));
	EXPECT_EQ(0, gomem_free(self->h, q));
}

/* === two processes ====================================================== */

#define ISO_OBJS	64

struct iso_shared {
	uint64_t child_objs[ISO_OBJS];
	uint64_t parent_objs[ISO_OBJS];
};

/* Frees the other process's addresses that are not objects of @h: all refused. */
static int try_foreign_frees(struct gomem_heap *h, const uint64_t *foreign, int *tried)
{
	struct gomem_memstats before, after;
	int i;

	if (gomem_stats(h, &before))
		return gm_child_fail("stats");
	for (i = 0; i < ISO_OBJS; i++) {
		void *p = (void *)(uintptr_t)foreign[i];

		if (gomem_usable_size(h, p))
			continue;
		++*tried;
		if (gomem_free(h, p) != -EINVAL)
			return gm_child_fail("freed the other heap's %p", p);
	}
	if (gomem_stats(h, &after) || after.frees != before.frees ||
	    after.heap_objects != before.heap_objects)
		return gm_child_fail("stats changed");
	return 0;
}

/* Allocates ISO_OBJS objects of @size into @objs, each with the pattern of @seed. */
static int iso_alloc(struct gomem_heap *h, size_t size, uint64_t seed, uint64_t *objs)
{
	int i;

	if (gomem_alloc_bulk(h, size, 0, (void **)objs, ISO_OBJS))
		return gm_child_fail("bulk alloc");
	for (i = 0; i < ISO_OBJS; i++)
		gm_fill((void *)(uintptr_t)objs[i], size, seed + i, 8);
	return 0;
}

static int iso_check(struct gomem_heap *h, size_t size, uint64_t seed, const uint64_t *objs)
{
	int i;

	for (i = 0; i < ISO_OBJS; i++) {
		void *p = (void *)(uintptr_t)objs[i];

		if (gm_check(p, size, seed + i, 8) >= 0)
			return gm_child_fail("object %d at %p overwritten", i, p);
		if (gomem_usable_size(h, p) < size)
			return gm_child_fail("object %d at %p no longer allocated", i, p);
	}
	return 0;
}

struct iso_arg {
	struct iso_shared *sh;
	int to_parent, from_parent;
};

static int iso_child(void *arg)
{
	struct iso_arg *ia = arg;
	struct gomem_heap *h = gm_open_nogc();
	int ret, tried = 0;
	char c = 0;

	if (!h)
		return gm_child_fail("open: %s", strerror(errno));
	ret = iso_alloc(h, 48, 2000, ia->sh->child_objs);
	if (ret)
		return ret;
	if (write(ia->to_parent, &c, 1) != 1 || read(ia->from_parent, &c, 1) != 1)
		return gm_child_fail("pipe");
	/* The parent has written its objects, at the same addresses perhaps. */
	ret = iso_check(h, 48, 2000, ia->sh->child_objs) ?:
		try_foreign_frees(h, ia->sh->parent_objs, &tried) ?:
		iso_check(h, 48, 2000, ia->sh->child_objs);
	if (!ret && tried < ISO_OBJS / 2)
		ret = gm_child_fail("only %d foreign addresses were not objects here", tried);
	if (write(ia->to_parent, &c, 1) != 1 || read(ia->from_parent, &c, 1) != 1)
		return gm_child_fail("pipe");
	gomem_close(h);
	return ret;
}

TEST_F(heap, two_processes_isolated)
{
	struct iso_shared *sh;
	struct iso_arg ia;
	int to_parent[2], from_parent[2], status, tried = 0;
	pid_t pid;
	char c = 0;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(from_parent));
	ia.sh = sh;
	ia.to_parent = to_parent[1];
	ia.from_parent = from_parent[0];
	fflush(stderr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(iso_child(&ia));

	/* Both heaps start at the hint address; sizes differ so objects do not coincide. */
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	ASSERT_EQ(0, iso_alloc(self->h, 256, 1000, sh->parent_objs));
	ASSERT_EQ(1, write(from_parent[1], &c, 1));
	ASSERT_EQ(0, iso_check(self->h, 256, 1000, sh->parent_objs));
	ASSERT_EQ(0, try_foreign_frees(self->h, sh->child_objs, &tried));
	EXPECT_GE(tried, ISO_OBJS / 2);
	/* Let the child check once more while this heap is alive. */
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	ASSERT_EQ(1, write(from_parent[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child status 0x%x", status);
	EXPECT_EQ(0, iso_check(self->h, 256, 1000, sh->parent_objs));
	munmap(sh, sizeof(*sh));
}

/* === memory cgroups ===================================================== */

FIXTURE(memcg) {
	char dir[128];
	long long user_pages;
};

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return gm_write_str(path, val);
}

/* A single-number file such as memory.current, or a key of memory.events. */
static long long cg_read(const char *dir, const char *file, const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return key ? gm_file_value(path, key) : gm_read_number(path, -1);
}

/*
 * A child cgroup of the cgroup2 root with the memory controller, or a
 * skip: no root, no cgroup2, no memory controller.
 */
FIXTURE_SETUP(memcg)
{
	const char *why;
	char path[256];

	if (access(GOMEM_DEV, F_OK))
		SKIP(_exit(255), "%s: %s (is gomem.ko loaded?)", GOMEM_DEV, strerror(errno));
	if (geteuid())
		SKIP(_exit(255), "memory cgroups need root");
	gm_kmsg(_metadata->name);
	why = gm_memcg_create(self->dir, sizeof(self->dir), "gomem_test");
	if (why)
		SKIP(_exit(255), "%s: %s", why, strerror(errno));
	/* Swapping would let the limit be met by moving pages elsewhere. */
	snprintf(path, sizeof(path), "%s/memory.swap.max", self->dir);
	if (!access(path, F_OK))
		ASSERT_EQ(0, cg_write(self->dir, "memory.swap.max", "0"));
	self->user_pages = gm_user_pages();
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->dir[0] && rmdir(self->dir))
		TH_LOG("rmdir %s: %s", self->dir, strerror(errno));
}

/* Runs @fn in a child process that first moves itself into cgroup @dir. */
struct cg_child {
	const char *dir;
	int (*fn)(const char *dir);
};

static int cg_child_main(void *arg)
{
	struct cg_child *cc = arg;

	if (cg_write(cc->dir, "cgroup.procs", "0"))
		return gm_child_fail("joining %s: %s", cc->dir, strerror(errno));
	return cc->fn(cc->dir);
}

static int cg_run(const char *dir, int (*fn)(const char *dir))
{
	struct cg_child cc = { .dir = dir, .fn = fn };

	return gm_run_child(cg_child_main, &cc);
}

/*
 * The heap's pages are charged to the opener's cgroup when they are
 * touched, and uncharged when they are scavenged or the heap is closed.
 */
static int charge_child(const char *dir)
{
	const size_t len = 16 * MiB;
	long long c0, c1, c2, c3, c4;
	struct gomem_heap *h;
	char *p;

	c0 = cg_read(dir, "memory.current", NULL);
	h = gm_open_nogc();
	if (!h)
		return gm_child_fail("open: %s", strerror(errno));
	p = gomem_alloc(h, len, GOMEM_ALLOC_NOSCAN);
	if (!p)
		return gm_child_fail("alloc: %s", strerror(errno));
	c1 = cg_read(dir, "memory.current", NULL);
	touch_pages(p, len);
	c2 = cg_read(dir, "memory.current", NULL);
	if (gomem_free(h, p) || gomem_scavenge(h, 0, NULL))
		return gm_child_fail("free and scavenge");
	c3 = cg_read(dir, "memory.current", NULL);
	gomem_close(h);
	c4 = cg_read(dir, "memory.current", NULL);
	fprintf(stderr, "# memory.current: start %lld, reserved %lld, touched %lld, scavenged %lld, closed %lld\n",
		c0, c1, c2, c3, c4);
	/* Give or take the per-CPU charge batches (64 pages) and page tables. */
	if (c1 - c0 > (long long)MiB)
		return gm_child_fail("reserving 16 MiB charged %lld bytes", c1 - c0);
	if (c2 - c1 < (long long)(len - MiB) || c2 - c1 > (long long)(len + 2 * MiB))
		return gm_child_fail("touching 16 MiB charged %lld bytes", c2 - c1);
	if (c2 - c3 < (long long)(len - MiB))
		return gm_child_fail("scavenging 16 MiB uncharged %lld bytes", c2 - c3);
	if (c4 - c0 > (long long)MiB)
		return gm_child_fail("closing the heap left %lld bytes charged", c4 - c0);
	return 0;
}

TEST_F(memcg, pages_charged_to_opener)
{
	int status;

	ASSERT_EQ(0, cg_write(self->dir, "memory.max", "256M"));
	status = cg_run(self->dir, charge_child);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child status 0x%x", status);
}

/*
 * Issue 10: the kernel memory a heap needs for its metadata is charged
 * too. A 64 GiB object costs nothing in pages until touched, but its
 * arenas' metadata (span maps, state bytes: some 75 MiB) is kernel
 * memory: under a 64 MiB limit the allocation must fail, cleanly and
 * without the OOM killer; before, the metadata was not charged and a
 * process could make the kernel allocate it again and again.
 */
static int metadata_child(const char *dir)
{
	const uint64_t big = GOMEM_ALLOC_MAX;
	long long c0, c1, ooms;
	struct gomem_heap *h;
	int i, got = 0;
	void *p;

	c0 = cg_read(dir, "memory.current", NULL);
	h = gm_open_nogc();
	if (!h)
		return gm_child_fail("open: %s", strerror(errno));
	for (i = 0; i < 8; i++) {
		p = gomem_alloc(h, big, GOMEM_ALLOC_NOSCAN);
		if (!p) {
			if (errno != ENOMEM)
				return gm_child_fail("alloc %d: %s, not ENOMEM", i, strerror(errno));
			continue;
		}
		got++;
	}
	/*
	 * The failed attempts leave their arenas' metadata charged until the
	 * heap closes, up to the limit: reading a cgroup file (a seq_file
	 * buffer) before the close could meet the memcg's OOM killer itself.
	 */
	gomem_close(h);
	c1 = cg_read(dir, "memory.peak", NULL);
	ooms = cg_read(dir, "memory.events", "oom_kill");
	fprintf(stderr, "# %d of 8 objects of 64 GiB under a 64 MiB limit; memory.current %lld, peak %lld\n",
		got, c0, c1);
	if (got > 1)
		return gm_child_fail("%d objects of 64 GiB: their metadata is not charged", got);
	if (ooms > 0)
		return gm_child_fail("the OOM killer ran %lld times", ooms);
	return 0;
}

TEST_F(memcg, metadata_charged_to_opener)
{
	int status;

	ASSERT_EQ(0, cg_write(self->dir, "memory.max", "64M"));
	status = cg_run(self->dir, metadata_child);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child status 0x%x", status);
}

/*
 * What this shows: when the cgroup is at its limit, heap commands that
 * need memory fail with -ENOMEM; the OOM killer is not called from them
 * (memory.events oom_kill stays 0 and the caller lives), and the heap
 * keeps working afterwards.
 *
 * How: the child, in the cgroup, touches a little of its heap; the
 * parent, outside it, lowers memory.max to the cgroup's usage plus
 * 256 KiB; the child then allocates 32 MiB objects without touching
 * them. Each new arena needs memory charged in the ioctl (the arena's
 * structures, its VMA), so the cgroup runs out within a few dozen
 * allocations while nothing is faulted in. At the limit, anything the
 * child does that needs charged memory could meet the memcg's OOM killer
 * (reading a cgroup file allocates a seq_file buffer), so it only makes
 * heap commands and reports through memory shared with the parent, which
 * reads memory.events and lifts the limit before the child goes on.
 * Faults over the limit are another matter: they meet the OOM killer
 * (see touch_over_limit).
 */
struct enomem_shared {
	int phase;	/* 1: child ready, 2: limit set, 3: child hit -ENOMEM, 4: limit lifted */
	int allocs, err;
};

static void phase_set(struct enomem_shared *sh, int phase)
{
	__atomic_store_n(&sh->phase, phase, __ATOMIC_RELEASE);
}

/* Waits for @phase; 0, or -1 after about 300 s. */
static int phase_wait(struct enomem_shared *sh, int phase)
{
	return gm_wait_for(&sh->phase, phase, 300000);
}

#define ENOMEM_OBJS	512

static int enomem_child(const char *dir, struct enomem_shared *sh)
{
	struct gomem_heap *h;
	char *objs[ENOMEM_OBJS];
	int n, ret = 0, i;

	/* Nothing but heap commands may need new memory at the limit. */
	memset(objs, 0, sizeof(objs));
	h = gm_open_nogc();
	if (!h)
		return gm_child_fail("open: %s", strerror(errno));
	objs[0] = gomem_alloc(h, 64 * 1024, 0);
	if (!objs[0])
		return gm_child_fail("alloc: %s", strerror(errno));
	touch_pages(objs[0], 64 * 1024);
	phase_set(sh, 1);
	if (phase_wait(sh, 2))
		return gm_child_fail("the parent did not set the limit");

	for (n = 1; n < ENOMEM_OBJS; n++) {
		objs[n] = gomem_alloc(h, 32 * MiB, GOMEM_ALLOC_NOSCAN);
		if (!objs[n])
			break;
	}
	sh->allocs = n - 1;
	sh->err = n < ENOMEM_OBJS ? errno : 0;
	phase_set(sh, 3);
	if (phase_wait(sh, 4))
		return gm_child_fail("the parent did not lift the limit");
	if (n == ENOMEM_OBJS)
		return gm_child_fail("%d allocations of 32 MiB never failed", n - 1);

	/* Still usable: freed room is reused, and new memory can be touched. */
	if (gomem_free(h, objs[--n]))
		return gm_child_fail("free");
	objs[n] = gomem_alloc(h, 32 * MiB, GOMEM_ALLOC_NOSCAN);
	if (!objs[n])
		return gm_child_fail("alloc after -ENOMEM: %s", strerror(errno));
	gm_fill(objs[n], 32 * MiB, 5, 4096);
	if (gm_check(objs[n], 32 * MiB, 5, 4096) >= 0)
		return gm_child_fail("object after -ENOMEM");
	objs[++n] = gomem_alloc(h, 32 * MiB, GOMEM_ALLOC_NOSCAN);
	if (!objs[n])
		return gm_child_fail("growing after -ENOMEM: %s", strerror(errno));
	for (i = 0; i <= n; i++)
		if (gomem_free(h, objs[i]))
			ret = gm_child_fail("free %d", i);
	gomem_close(h);
	return ret;
}

struct enomem_arg {
	const char *dir;
	struct enomem_shared *sh;
};

static int enomem_child_main(void *arg)
{
	struct enomem_arg *ea = arg;

	if (cg_write(ea->dir, "cgroup.procs", "0"))
		return gm_child_fail("joining %s: %s", ea->dir, strerror(errno));
	return enomem_child(ea->dir, ea->sh);
}

/* Waits for the child to reach @phase; false if it died or took too long. */
static int parent_wait(struct enomem_shared *sh, int phase, pid_t pid, int *status)
{
	int i;

	for (i = 0; i < 300000; i++) {
		if (__atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE) >= phase)
			return 1;
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(1000);
	}
	return 0;
}

TEST_F(memcg, ioctl_enomem_not_oom_kill)
{
	struct enomem_shared *sh;
	struct enomem_arg ea = { .dir = self->dir };
	long long cur, max0, max1, kills;
	int status = -1, alive;
	char val[32];
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	ea.sh = sh;
	fflush(stderr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(enomem_child_main(&ea));

	ASSERT_TRUE(parent_wait(sh, 1, pid, &status)) TH_LOG("child status 0x%x", status);
	cur = cg_read(self->dir, "memory.current", NULL);
	ASSERT_GT(cur, 0);
	snprintf(val, sizeof(val), "%lld", cur + 256 * 1024);
	ASSERT_EQ(0, cg_write(self->dir, "memory.max", val));
	max0 = cg_read(self->dir, "memory.events", "max");
	phase_set(sh, 2);

	alive = parent_wait(sh, 3, pid, &status);
	max1 = cg_read(self->dir, "memory.events", "max");
	kills = cg_read(self->dir, "memory.events", "oom_kill");
	ASSERT_EQ(0, cg_write(self->dir, "memory.max", "max"));
	phase_set(sh, 4);
	if (alive || status == -1) {
		if (!alive)
			kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	}
	TH_LOG("%d objects of 32 MiB, then %s; memory.events max %lld -> %lld, oom_kill %lld",
	       sh->allocs, strerror(sh->err), max0, max1, kills);
	EXPECT_TRUE(alive) TH_LOG("the child died in a heap command: status 0x%x%s", status,
				  WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ?
				  " (SIGKILL: the OOM killer)" : "");
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child status 0x%x", status);
	EXPECT_EQ(ENOMEM, sh->err);
	EXPECT_GT(max1, max0) TH_LOG("-ENOMEM without reaching memory.max");
	EXPECT_EQ(0, kills);
	EXPECT_EQ(0, cg_read(self->dir, "memory.events", "oom_kill"));
	munmap(sh, sizeof(*sh));
}

/* Touches 64 MiB of heap memory under a 32 MiB limit. */
static int touch_child(const char *dir)
{
	struct gomem_heap *h = gm_open_nogc();
	char *p;

	if (!h)
		return gm_child_fail("open: %s", strerror(errno));
	p = gomem_alloc(h, 64 * MiB, GOMEM_ALLOC_NOSCAN);
	if (!p)
		return gm_child_fail("alloc: %s", strerror(errno));
	touch_pages(p, 64 * MiB);
	return gm_child_fail("touched 64 MiB under a 32 MiB limit");
}

/*
 * Faults over the limit are the memcg's to handle: its OOM killer kills
 * within the cgroup (this test's process, outside it, lives on), and
 * the heap's pages go back when their process dies.
 */
TEST_F(memcg, touch_over_limit)
{
	long long cur;
	int status;

	ASSERT_EQ(0, cg_write(self->dir, "memory.max", "32M"));
	status = cg_run(self->dir, touch_child);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child status 0x%x", status);
	EXPECT_GE(cg_read(self->dir, "memory.events", "oom_kill"), 1);
	cur = cg_read(self->dir, "memory.current", NULL);
	EXPECT_LT(cur, MiB) TH_LOG("memory.current %lld after the child died", cur);
	if (self->user_pages >= 0)
		EXPECT_EQ(self->user_pages, gm_user_pages());
}

TEST_HARNESS_MAIN
