// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for the heap ioctls of /dev/gomem: each command's success,
 * and each of its validation errors. A refused command must change
 * nothing: neither the heap (its statistics) nor the caller's structure.
 */
#include <time.h>
#include <sys/mman.h>

#include "sizeclasses.h"
#include "gomem_test_util.h"

FIXTURE(heap) {
	struct gomem_heap *h;
	int fd;
	long page;
};

FIXTURE_SETUP(heap)
{
	self->h = gm_open_heap(_metadata);
	self->fd = gomem_fd(self->h);
	self->page = sysconf(_SC_PAGESIZE);
}

FIXTURE_TEARDOWN(heap)
{
	gomem_close(self->h);
}

/* ioctl() as 0 or -errno. */
static int ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int raw_alloc(int fd, __u64 size, __u32 flags, __u64 *addr, __u64 *usable)
{
	struct gomem_alloc a = { .size = size, .flags = flags };
	int ret = ioc(fd, GOMEM_IOC_ALLOC, &a);

	*addr = ret ? 0 : a.addr;
	*usable = ret ? 0 : a.usable;
	return ret;
}

static int raw_size(int fd, __u64 addr, __u64 *size)
{
	struct gomem_free f = { .addr = addr, .size = 0x5a5a };
	int ret = ioc(fd, GOMEM_IOC_SIZE, &f);

	*size = f.size;
	return ret;
}

static int raw_free(int fd, __u64 addr)
{
	struct gomem_free f = { .addr = addr };

	return ioc(fd, GOMEM_IOC_FREE, &f);
}

/* The fields a refused command must leave alone (all of them). */
static void expect_same_stats(struct __test_metadata *_metadata, struct gomem_heap *h,
			      const struct gomem_memstats *before, const char *what)
{
	struct gomem_memstats now;

	gm_stats(_metadata, h, &now);
	EXPECT_EQ(before->heap_alloc, now.heap_alloc) TH_LOG("%s", what);
	EXPECT_EQ(before->heap_objects, now.heap_objects) TH_LOG("%s", what);
	EXPECT_EQ(before->mallocs, now.mallocs) TH_LOG("%s", what);
	EXPECT_EQ(before->frees, now.frees) TH_LOG("%s", what);
	EXPECT_EQ(before->tiny_allocs, now.tiny_allocs) TH_LOG("%s", what);
	EXPECT_EQ(before->tiny_frees, now.tiny_frees) TH_LOG("%s", what);
	EXPECT_EQ(before->heap_inuse, now.heap_inuse) TH_LOG("%s", what);
	EXPECT_EQ(before->heap_sys, now.heap_sys) TH_LOG("%s", what);
	EXPECT_EQ(before->cap_bytes, now.cap_bytes) TH_LOG("%s", what);
}

/* The slot size the size class tables give @size (pages for large objects). */
static __u64 class_size(__u64 size)
{
	unsigned int c;

	if (size > GOMEM_MAX_SMALL)
		return (size + GOMEM_PAGE_SIZE - 1) & ~(GOMEM_PAGE_SIZE - 1);
	for (c = 1; gm_class_to_size[c] < size; c++)
		;
	return gm_class_to_size[c];
}

/* Tiny objects: noscan and under 16 bytes, packed into 16-byte blocks. */
static int is_tiny(__u64 size, __u32 flags)
{
	return size < 16 && (flags & GOMEM_ALLOC_NOSCAN);
}

/* === GOMEM_IOC_ALLOC ==================================================== */

TEST_F(heap, alloc_sizes)
{
	static const __u64 sizes[] = {
		1, 7, 8, 15, 16, 17, 24, 100, 1000, 1024, 4096, 10000, 32767, 32768,
		32769, 65536, MiB, 4 * MiB + 1,
	};
	__u64 addr[ARRAY_SIZE(sizes)][4], usable, size;
	unsigned long start, end;
	size_t i, f;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (f = 0; f < 4; f++) {
			__u64 a;

			ASSERT_EQ(0, raw_alloc(self->fd, sizes[i], f, &a, &usable))
				TH_LOG("size %llu flags %zu", sizes[i], f);
			addr[i][f] = a;
			/* A user address, never a kernel one. */
			EXPECT_NE(0, a);
			EXPECT_LT(a, 1ULL << 47);
			EXPECT_EQ(1, gm_find_map(a, &start, &end)) TH_LOG("0x%llx", a);
			EXPECT_GE(usable, sizes[i]);
			EXPECT_EQ(0, raw_size(self->fd, a, &size));
			EXPECT_EQ(usable, size) TH_LOG("size %llu flags %zu", sizes[i], f);
			if (!is_tiny(sizes[i], f)) {
				EXPECT_EQ(class_size(sizes[i]), usable) TH_LOG("size %llu", sizes[i]);
				EXPECT_EQ(0, a % (sizes[i] > GOMEM_MAX_SMALL ? GOMEM_PAGE_SIZE : 8));
			}
			if (f & GOMEM_ALLOC_ZERO)
				EXPECT_TRUE(gm_is_zero((void *)a, sizes[i]));
			gm_fill((void *)a, sizes[i], a, 8);
		}
	}
	/* Every object still holds its own pattern: no two overlap. */
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (f = 0; f < 4; f++) {
			long bad = gm_check((void *)addr[i][f], sizes[i], addr[i][f], 8);

			EXPECT_EQ(-1, bad) TH_LOG("size %llu flags %zu", sizes[i], f);
		}
	}
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (f = 0; f < 4; f++) {
			EXPECT_EQ(0, raw_free(self->fd, addr[i][f]));
			EXPECT_EQ(-EINVAL, raw_free(self->fd, addr[i][f]));
		}
	}
}

/* GOMEM_ALLOC_ZERO objects read as zeros even where freed objects were dirty. */
TEST_F(heap, alloc_zero_reuses_dirty_memory)
{
	static const __u64 sizes[] = { 64, 4096, 32768, 256 * 1024 };
	__u64 addr[64], usable;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (n = 0; n < ARRAY_SIZE(addr); n++) {
			ASSERT_EQ(0, raw_alloc(self->fd, sizes[i], 0, &addr[n], &usable));
			memset((void *)addr[n], 0xa5, usable);
		}
		for (n = 0; n < ARRAY_SIZE(addr); n++)
			ASSERT_EQ(0, raw_free(self->fd, addr[n]));
		for (n = 0; n < ARRAY_SIZE(addr); n++) {
			ASSERT_EQ(0, raw_alloc(self->fd, sizes[i], GOMEM_ALLOC_ZERO, &addr[n],
					       &usable));
			EXPECT_TRUE(gm_is_zero((void *)addr[n], usable))
				TH_LOG("size %llu at 0x%llx", sizes[i], addr[n]);
		}
		for (n = 0; n < ARRAY_SIZE(addr); n++)
			ASSERT_EQ(0, raw_free(self->fd, addr[n]));
	}
}

/* The first arena is a 64 MiB mapping of /dev/gomem at Go's hint address. */
TEST_F(heap, alloc_first_arena)
{
	struct gomem_memstats st;
	struct gm_vmas v;
	unsigned long start, end;
	__u64 a, usable;

	ASSERT_EQ(0, raw_alloc(self->fd, 64, 0, &a, &usable));
	ASSERT_EQ(1, gm_find_map(a, &start, &end));
	EXPECT_EQ(GOMEM_ARENA_HINT, start);
	EXPECT_EQ(0, (end - start) % GOMEM_ARENA_SIZE);
	ASSERT_EQ(0, gm_smaps(&v));
	gm_stats(_metadata, self->h, &st);
	EXPECT_EQ(v.size, st.reserved_bytes);
	EXPECT_EQ(GOMEM_ARENA_SIZE, st.reserved_bytes);
	EXPECT_LE(st.heap_sys, st.reserved_bytes);
	EXPECT_LE(st.resident_bytes, st.heap_sys);
	EXPECT_EQ(0, raw_free(self->fd, a));
}

TEST_F(heap, alloc_bad_size)
{
	static const __u64 sizes[] = {
		0, GOMEM_ALLOC_MAX + 1, 1ULL << 40, 1ULL << 63, ~0ULL, ~0ULL - 8191,
	};
	struct gomem_memstats before;
	size_t i, f;

	gm_stats(_metadata, self->h, &before);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (f = 0; f < 4; f++) {
			struct gomem_alloc a = {
				.size = sizes[i], .flags = f, .addr = 0x1111, .usable = 0x2222,
			};
			struct gomem_alloc old = a;

			EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_ALLOC, &a))
				TH_LOG("size 0x%llx flags %zu", sizes[i], f);
			EXPECT_EQ(0, memcmp(&a, &old, sizeof(a)));
		}
	}
	expect_same_stats(_metadata, self->h, &before, "bad sizes");
}

/*
 * GOMEM_ALLOC_MAX itself is a valid size: success or -ENOMEM, never
 * -EINVAL. Nothing is touched, so it only costs address space.
 */
TEST_F_TIMEOUT(heap, alloc_max_size, 60)
{
	__u64 a, usable;
	time_t t0 = time(NULL);
	int ret = raw_alloc(self->fd, GOMEM_ALLOC_MAX, GOMEM_ALLOC_NOSCAN, &a, &usable);

	TH_LOG("GOMEM_ALLOC_MAX: %s in %ld s", ret ? strerror(-ret) : "allocated",
	       (long)(time(NULL) - t0));
	if (ret) {
		EXPECT_EQ(-ENOMEM, ret);
		return;
	}
	EXPECT_EQ(GOMEM_ALLOC_MAX, usable);
	EXPECT_EQ(0, raw_free(self->fd, a));
}

TEST_F(heap, alloc_bad_flags_reserved)
{
	struct gomem_memstats before;
	unsigned int bit;

	gm_stats(_metadata, self->h, &before);
	for (bit = 0; bit < 32; bit++) {
		struct gomem_alloc a = { .size = 64, .flags = 1U << bit, .addr = 0x1111 };
		struct gomem_alloc r = { .size = 64, .reserved = 1U << bit, .addr = 0x1111 };
		struct gomem_alloc olda = a, oldr = r;

		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_ALLOC, &r)) TH_LOG("reserved bit %u", bit);
		EXPECT_EQ(0, memcmp(&r, &oldr, sizeof(r)));
		if ((1U << bit) & GOMEM_ALLOC_FLAGS)
			continue;
		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_ALLOC, &a)) TH_LOG("flag bit %u", bit);
		EXPECT_EQ(0, memcmp(&a, &olda, sizeof(a)));
	}
	expect_same_stats(_metadata, self->h, &before, "bad flags");
}

/* === GOMEM_IOC_ALLOC_BULK =============================================== */

TEST_F(heap, alloc_bulk)
{
	static const struct { __u64 size; __u32 count, flags; } cases[] = {
		{ 8, 1, 0 }, { 8, 300, GOMEM_ALLOC_NOSCAN }, { 48, 100, 0 },
		{ 64, GOMEM_BULK_MAX, GOMEM_ALLOC_NOSCAN }, { 4000, 37, GOMEM_ALLOC_ZERO },
		{ 40000, 5, 0 }, { 300000, 3, GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_ZERO },
	};
	static __u64 addrs[GOMEM_BULK_MAX + 1];
	struct gomem_memstats before, after;
	__u64 size;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gomem_alloc_bulk b = {
			.size = cases[i].size, .flags = cases[i].flags,
			.count = cases[i].count, .addrs = (uintptr_t)addrs,
		};
		int tiny = is_tiny(b.size, b.flags);

		for (j = 0; j <= b.count; j++)
			addrs[j] = 0x5a5a;
		gm_stats(_metadata, self->h, &before);
		ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_ALLOC_BULK, &b)) TH_LOG("case %zu", i);
		gm_stats(_metadata, self->h, &after);
		/*
		 * As in Go, Mallocs counts tiny objects and their blocks, and
		 * HeapObjects the blocks.
		 */
		if (tiny) {
			EXPECT_EQ(before.tiny_allocs + b.count, after.tiny_allocs);
			EXPECT_EQ(before.mallocs + b.count + after.heap_objects - before.heap_objects,
				  after.mallocs);
		} else {
			EXPECT_EQ(before.mallocs + b.count, after.mallocs);
			EXPECT_EQ(before.heap_objects + b.count, after.heap_objects);
		}
		/* Only @count entries are written. */
		EXPECT_EQ(0x5a5a, addrs[b.count]);
		for (j = 0; j < b.count; j++) {
			ASSERT_NE(0x5a5a, addrs[j]);
			EXPECT_LT(addrs[j], 1ULL << 47);
			EXPECT_EQ(0, raw_size(self->fd, addrs[j], &size));
			EXPECT_GE(size, b.size);
			if (!tiny)
				EXPECT_EQ(class_size(b.size), size);
			if (b.flags & GOMEM_ALLOC_ZERO)
				EXPECT_TRUE(gm_is_zero((void *)addrs[j], b.size));
			gm_fill((void *)addrs[j], b.size, addrs[j], 8);
		}
		for (j = 0; j < b.count; j++) {
			long bad = gm_check((void *)addrs[j], b.size, addrs[j], 8);

			EXPECT_EQ(-1, bad) TH_LOG("case %zu object %zu", i, j);
		}
		for (j = 0; j < b.count; j++)
			EXPECT_EQ(0, raw_free(self->fd, addrs[j]));
		gm_stats(_metadata, self->h, &after);
		/* Tiny blocks of the CPUs' cached spans are reclaimed later. */
		if (tiny) {
			EXPECT_EQ(before.tiny_frees + b.count, after.tiny_frees);
		} else {
			EXPECT_EQ(before.heap_objects, after.heap_objects);
			EXPECT_EQ(before.frees + b.count, after.frees);
		}
	}
}

TEST_F(heap, alloc_bulk_bad_args)
{
	static const struct { __u64 size; __u32 flags, count; __u64 reserved; } cases[] = {
		{ 64, 0, 0, 0 }, { 64, 0, GOMEM_BULK_MAX + 1, 0 }, { 64, 0, ~0U, 0 },
		{ 0, 0, 4, 0 }, { GOMEM_ALLOC_MAX + 1, 0, 4, 0 }, { ~0ULL, 0, 4, 0 },
		{ 64, GOMEM_ALLOC_NOGC << 1, 4, 0 }, { 64, 1U << 31, 4, 0 }, { 64, 0, 4, 1 },
		{ 64, 0, 4, 1ULL << 63 },
	};
	static __u64 addrs[GOMEM_BULK_MAX + 1];
	struct gomem_memstats before;
	size_t i, j, n;

	for (j = 0; j < ARRAY_SIZE(addrs); j++)
		addrs[j] = 0x5a5a;
	gm_stats(_metadata, self->h, &before);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gomem_alloc_bulk b = {
			.size = cases[i].size, .flags = cases[i].flags, .count = cases[i].count,
			.addrs = (uintptr_t)addrs, .reserved = cases[i].reserved,
		};

		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_ALLOC_BULK, &b)) TH_LOG("case %zu", i);
	}
	for (j = 0, n = 0; j < ARRAY_SIZE(addrs); j++)
		n += addrs[j] != 0x5a5a;
	EXPECT_EQ(0, n) TH_LOG("%zu entries written", n);
	expect_same_stats(_metadata, self->h, &before, "bad bulk arguments");
}

/* An array the kernel cannot write: -EFAULT, and no object stays allocated. */
TEST_F(heap, alloc_bulk_bad_addrs)
{
	struct gomem_memstats before;
	size_t half = self->page / sizeof(__u64), j, n;
	char *pages;
	__u64 *arr;
	struct {
		const char *what;
		__u64 addrs;
		__u32 count;
	} cases[6];
	size_t i;

	pages = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	/* Page 0 writable, page 1 read-only, page 2 inaccessible. */
	ASSERT_EQ(0, mprotect(pages + self->page, self->page, PROT_READ));
	ASSERT_EQ(0, mprotect(pages + 2 * self->page, self->page, PROT_NONE));
	arr = (__u64 *)pages;
	for (j = 0; j < half; j++)
		arr[j] = 0x5a5a;

	cases[0].what = "NULL";
	cases[0].addrs = 0;
	cases[0].count = 4;
	cases[1].what = "read-only";
	cases[1].addrs = (uintptr_t)(pages + self->page);
	cases[1].count = 4;
	cases[2].what = "inaccessible";
	cases[2].addrs = (uintptr_t)(pages + 2 * self->page);
	cases[2].count = 4;
	cases[3].what = "writable, then read-only";
	cases[3].addrs = (uintptr_t)(pages + self->page / 2);
	cases[3].count = half;
	cases[4].what = "kernel address";
	cases[4].addrs = 0xffff888000000000ULL;
	cases[4].count = 4;
	cases[5].what = "non-canonical address";
	cases[5].addrs = 0x8000000000000000ULL;
	cases[5].count = 4;

	gm_stats(_metadata, self->h, &before);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gomem_alloc_bulk b = {
			.size = 64, .count = cases[i].count, .addrs = cases[i].addrs,
		};

		EXPECT_EQ(-EFAULT, ioc(self->fd, GOMEM_IOC_ALLOC_BULK, &b)) TH_LOG("%s", cases[i].what);
		gm_stats(_metadata, self->h, &before);
		EXPECT_EQ(before.mallocs - before.frees, before.heap_objects) TH_LOG("%s", cases[i].what);
	}
	EXPECT_EQ(0, before.heap_objects);
	EXPECT_EQ(0, before.heap_alloc);
	/* "The array is left as it was", its writable half included. */
	for (j = 0, n = 0; j < half; j++)
		n += arr[j] != 0x5a5a;
	EXPECT_EQ(0, n) TH_LOG("%zu of the %zu writable entries written", n, half / 2);
	munmap(pages, 3 * self->page);
}

/* === GOMEM_IOC_FREE and GOMEM_IOC_SIZE ================================== */

/* Neither FREE nor SIZE accepts @addr; both leave everything alone. */
static void expect_not_object(struct __test_metadata *_metadata, struct gomem_heap *h,
			      __u64 addr, const char *what)
{
	struct gomem_memstats before;
	int fd = gomem_fd(h);
	struct gomem_free f = { .addr = addr, .size = 0x5a5a };
	struct gomem_free old = f;

	gm_stats(_metadata, h, &before);
	EXPECT_EQ(-EINVAL, ioc(fd, GOMEM_IOC_SIZE, &f)) TH_LOG("size of %s 0x%llx", what, addr);
	EXPECT_EQ(0, memcmp(&f, &old, sizeof(f)));
	EXPECT_EQ(-EINVAL, ioc(fd, GOMEM_IOC_FREE, &f)) TH_LOG("free of %s 0x%llx", what, addr);
	expect_same_stats(_metadata, h, &before, what);
}

TEST_F(heap, free_not_an_object)
{
	__u64 small, large, tiny, usable, size;
	int local;

	ASSERT_EQ(0, raw_alloc(self->fd, 64, 0, &small, &usable));
	ASSERT_EQ(0, raw_alloc(self->fd, 64 * 1024, 0, &large, &usable));
	ASSERT_EQ(0, raw_alloc(self->fd, 12, GOMEM_ALLOC_NOSCAN, &tiny, &usable));

	expect_not_object(_metadata, self->h, 0, "NULL");
	expect_not_object(_metadata, self->h, 1, "address 1");
	expect_not_object(_metadata, self->h, small + 8, "interior of a small object");
	expect_not_object(_metadata, self->h, small + 1, "unaligned interior");
	expect_not_object(_metadata, self->h, small + 63, "last byte of a small object");
	expect_not_object(_metadata, self->h, large + GOMEM_PAGE_SIZE, "interior of a large object");
	expect_not_object(_metadata, self->h, large + 8, "interior of a large object");
	expect_not_object(_metadata, self->h, tiny + 1, "interior of a tiny object");
	expect_not_object(_metadata, self->h, GOMEM_ARENA_HINT + GOMEM_ARENA_SIZE - 4096,
			  "never allocated arena address");
	expect_not_object(_metadata, self->h, GOMEM_ARENA_HINT + 1000 * GOMEM_ARENA_SIZE,
			  "address beyond the arenas");
	expect_not_object(_metadata, self->h, (uintptr_t)&local, "stack address");
	expect_not_object(_metadata, self->h, (uintptr_t)self, "libc heap address");
	expect_not_object(_metadata, self->h, 0xffff888000000000ULL, "kernel address");
	expect_not_object(_metadata, self->h, ~0ULL, "~0");

	/* The objects are still there. */
	EXPECT_EQ(0, raw_size(self->fd, small, &size));
	EXPECT_EQ(0, raw_size(self->fd, large, &size));
	EXPECT_EQ(0, raw_size(self->fd, tiny, &size));
	EXPECT_EQ(0, raw_free(self->fd, small));
	EXPECT_EQ(0, raw_free(self->fd, large));
	EXPECT_EQ(0, raw_free(self->fd, tiny));
}

TEST_F(heap, double_free)
{
	static const struct { __u64 size; __u32 flags; } cases[] = {
		{ 5, GOMEM_ALLOC_NOSCAN }, { 8, 0 }, { 64, GOMEM_ALLOC_NOSCAN }, { 32768, 0 },
		{ 40000, 0 }, { 8 * MiB, GOMEM_ALLOC_NOSCAN },
	};
	__u64 a, usable;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, raw_alloc(self->fd, cases[i].size, cases[i].flags, &a, &usable));
		ASSERT_EQ(0, raw_free(self->fd, a));
		expect_not_object(_metadata, self->h, a, "freed object");
	}
}

/* Tiny objects share a block: freeing one twice must not free its neighbour. */
TEST_F(heap, double_free_tiny)
{
	__u64 a[6], usable, size;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(a); i++)
		ASSERT_EQ(0, raw_alloc(self->fd, 1 + i, GOMEM_ALLOC_NOSCAN, &a[i], &usable));
	for (i = 0; i < ARRAY_SIZE(a); i += 2) {
		ASSERT_EQ(0, raw_free(self->fd, a[i]));
		expect_not_object(_metadata, self->h, a[i], "freed tiny object");
	}
	for (i = 1; i < ARRAY_SIZE(a); i += 2) {
		EXPECT_EQ(0, raw_size(self->fd, a[i], &size));
		EXPECT_EQ(0, raw_free(self->fd, a[i]));
	}
}

/*
 * An object's usable size is its own to use, tiny objects' too: a later
 * tiny object must not start inside the usable bytes an earlier one was
 * given.
 */
TEST_F(heap, tiny_usable_is_own)
{
	__u64 a[24], usable[24], size;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(a); i++) {
		ASSERT_EQ(0, raw_alloc(self->fd, 1 + i % 5, GOMEM_ALLOC_NOSCAN, &a[i], &usable[i]));
		memset((void *)a[i], (int)i + 1, usable[i]);
	}
	for (i = 0; i < ARRAY_SIZE(a); i++) {
		long bad = gm_first_not((void *)a[i], usable[i], (int)i + 1);

		EXPECT_EQ(-1, bad) TH_LOG("object %zu (0x%llx, usable %llu): byte %ld overwritten",
					  i, a[i], usable[i], bad);
		for (j = 0; j < i; j++) {
			int inside = a[i] >= a[j] && a[i] < a[j] + usable[j];

			EXPECT_FALSE(inside) TH_LOG("0x%llx inside 0x%llx + %llu", a[i], a[j],
						    usable[j]);
		}
		EXPECT_EQ(0, raw_size(self->fd, a[i], &size));
		EXPECT_EQ(usable[i], size) TH_LOG("object %zu", i);
	}
	for (i = 0; i < ARRAY_SIZE(a); i++)
		EXPECT_EQ(0, raw_free(self->fd, a[i]));
}

/* Another heap's objects are not this heap's, in the same process too. */
TEST_F(heap, free_other_heaps_object)
{
	struct gomem_heap *other = gm_open_nogc();
	__u64 mine, theirs, theirs_large, usable, size;
	unsigned long s1, e1, s2, e2;

	ASSERT_NE(NULL, other);
	ASSERT_EQ(0, raw_alloc(self->fd, 64, 0, &mine, &usable));
	ASSERT_EQ(0, raw_alloc(gomem_fd(other), 64, 0, &theirs, &usable));
	ASSERT_EQ(0, raw_alloc(gomem_fd(other), 1 * MiB, 0, &theirs_large, &usable));
	/* Two heaps, two sets of arenas. */
	ASSERT_EQ(1, gm_find_map(mine, &s1, &e1));
	ASSERT_EQ(1, gm_find_map(theirs, &s2, &e2));
	EXPECT_NE(s1, s2);

	expect_not_object(_metadata, self->h, theirs, "the other heap's object");
	expect_not_object(_metadata, self->h, theirs_large, "the other heap's large object");
	expect_not_object(_metadata, other, mine, "the first heap's object");
	EXPECT_EQ(0, raw_size(gomem_fd(other), theirs, &size));
	EXPECT_EQ(0, raw_size(gomem_fd(other), theirs_large, &size));
	EXPECT_EQ(0, raw_free(gomem_fd(other), theirs));
	EXPECT_EQ(0, raw_free(gomem_fd(other), theirs_large));
	EXPECT_EQ(0, raw_free(self->fd, mine));
	gomem_close(other);
}

TEST_F(heap, free_bad_flags_reserved)
{
	struct gomem_memstats before;
	__u64 a, usable, size;
	unsigned int bit;

	ASSERT_EQ(0, raw_alloc(self->fd, 64, 0, &a, &usable));
	gm_stats(_metadata, self->h, &before);
	for (bit = 0; bit < 32; bit++) {
		struct gomem_free fl = { .addr = a, .flags = 1U << bit, .size = 7 };
		struct gomem_free rs = { .addr = a, .reserved = 1U << bit, .size = 7 };

		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_SIZE, &fl)) TH_LOG("bit %u", bit);
		EXPECT_EQ(7, fl.size);
		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_SIZE, &rs)) TH_LOG("bit %u", bit);
		EXPECT_EQ(7, rs.size);
		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_FREE, &fl)) TH_LOG("bit %u", bit);
		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_FREE, &rs)) TH_LOG("bit %u", bit);
	}
	expect_same_stats(_metadata, self->h, &before, "bad free flags");
	EXPECT_EQ(0, raw_size(self->fd, a, &size));
	EXPECT_EQ(64, size);
	EXPECT_EQ(0, raw_free(self->fd, a));
}

/* === GOMEM_IOC_STATS ==================================================== */

TEST_F(heap, stats_counters)
{
	struct gomem_memstats st0, st1, st2;
	struct gomem_heap *other;
	__u64 addrs[100], tiny[10], usable, blocks;
	size_t i;

	gm_stats(_metadata, self->h, &st0);
	EXPECT_EQ(sizeof(struct gomem_memstats), st0.size);
	EXPECT_NE(0, st0.heap_id);
	EXPECT_EQ(0, st0.heap_objects);
	EXPECT_EQ(0, st0.cap_bytes);
	EXPECT_EQ(0, st0.lost_bytes);

	ASSERT_EQ(0, gomem_alloc_bulk(self->h, 64, 0, (void **)addrs, ARRAY_SIZE(addrs)));
	for (i = 0; i < ARRAY_SIZE(tiny); i++)
		ASSERT_EQ(0, raw_alloc(self->fd, 1, GOMEM_ALLOC_NOSCAN, &tiny[i], &usable));
	gm_stats(_metadata, self->h, &st1);
	EXPECT_EQ(st0.heap_id, st1.heap_id);
	EXPECT_EQ(st0.tiny_allocs + 10, st1.tiny_allocs);
	/*
	 * Ten 1-byte tiny objects fit one 16-byte block, per CPU if the task
	 * moved: HeapObjects counts blocks, HeapAlloc their 16 bytes, and
	 * Mallocs both the blocks and the tiny objects, as in Go.
	 */
	blocks = st1.heap_objects - st0.heap_objects - 100;
	EXPECT_GE(blocks, 1);
	EXPECT_LE(blocks, sysconf(_SC_NPROCESSORS_CONF));
	EXPECT_EQ(st0.mallocs + 110 + blocks, st1.mallocs);
	EXPECT_EQ(st0.heap_alloc + 100 * 64 + 16 * blocks, st1.heap_alloc);
	EXPECT_EQ(st1.heap_idle, st1.heap_sys - st1.heap_inuse);
	EXPECT_LE(st1.heap_released, st1.heap_idle);
	EXPECT_LE(st1.heap_alloc, st1.heap_inuse);
	EXPECT_GT(st1.heap_sys, 0);
	EXPECT_LE(st1.heap_sys, st1.reserved_bytes);
	EXPECT_EQ(0, st1.reserved_bytes % GOMEM_ARENA_SIZE);
	EXPECT_LE(st1.resident_bytes, st1.reserved_bytes);

	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		ASSERT_EQ(0, raw_free(self->fd, addrs[i]));
	for (i = 0; i < ARRAY_SIZE(tiny); i++)
		ASSERT_EQ(0, raw_free(self->fd, tiny[i]));
	gm_stats(_metadata, self->h, &st2);
	EXPECT_EQ(st1.tiny_frees + 10, st2.tiny_frees);
	/* Emptied tiny blocks in the CPUs' cached spans are reclaimed later. */
	EXPECT_GE(st2.frees, st1.frees + 110);
	EXPECT_LE(st2.frees, st1.frees + 110 + blocks);
	EXPECT_LE(st2.heap_objects, st0.heap_objects + blocks);
	EXPECT_LE(st2.heap_alloc, st0.heap_alloc + 16 * blocks);

	/* Each open is a heap of its own, with a number of its own. */
	other = gm_open_nogc();
	ASSERT_NE(NULL, other);
	gm_stats(_metadata, other, &st2);
	EXPECT_NE(st0.heap_id, st2.heap_id);
	EXPECT_EQ(0, st2.mallocs);
	gomem_close(other);
}

/* The structure is extensible: shorter (down to VER0) and longer buffers. */
TEST_F(heap, stats_sizes)
{
	const size_t ksize = sizeof(struct gomem_memstats);
	unsigned char buf[sizeof(struct gomem_memstats) + 64];
	struct gomem_stats s = { .buf = (uintptr_t)buf };

	memset(buf, 0xaa, sizeof(buf));
	s.size = sizeof(buf);
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_STATS, &s));
	EXPECT_EQ(ksize, s.size);
	EXPECT_EQ(ksize, ((struct gomem_memstats *)buf)->size);
	EXPECT_EQ(-1, gm_first_not(buf + ksize, sizeof(buf) - ksize, 0xaa));

	memset(buf, 0xaa, sizeof(buf));
	s.size = GOMEM_MEMSTATS_SIZE_VER0;
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_STATS, &s));
	EXPECT_EQ(ksize, s.size);
	EXPECT_EQ(-1, gm_first_not(buf + GOMEM_MEMSTATS_SIZE_VER0,
				   sizeof(buf) - GOMEM_MEMSTATS_SIZE_VER0, 0xaa));
}

TEST_F(heap, stats_bad_args)
{
	unsigned char buf[sizeof(struct gomem_memstats)];
	static const __u32 sizes[] = { 0, 1, 8, GOMEM_MEMSTATS_SIZE_VER0 - 8,
				       GOMEM_MEMSTATS_SIZE_VER0 - 1 };
	/* NULL, read-only, inaccessible, crossing into it, kernel. */
	__u64 bufs[] = { 0, 0, 0, 0, 0xffff888000000000ULL };
	char *pages;
	size_t i;
	unsigned int bit;

	memset(buf, 0xaa, sizeof(buf));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct gomem_stats s = { .buf = (uintptr_t)buf, .size = sizes[i] };
		struct gomem_stats old = s;

		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_STATS, &s)) TH_LOG("size %u", sizes[i]);
		EXPECT_EQ(0, memcmp(&s, &old, sizeof(s)));
	}
	for (bit = 0; bit < 32; bit++) {
		struct gomem_stats s = {
			.buf = (uintptr_t)buf, .size = sizeof(buf), .flags = 1U << bit,
		};

		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_STATS, &s)) TH_LOG("flag bit %u", bit);
		EXPECT_EQ(sizeof(buf), s.size);
	}
	EXPECT_EQ(-1, gm_first_not(buf, sizeof(buf), 0xaa));

	pages = mmap(NULL, 2 * self->page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + self->page, self->page, PROT_NONE));
	bufs[1] = (uintptr_t)pages;
	bufs[2] = (uintptr_t)pages + self->page;
	bufs[3] = (uintptr_t)pages + self->page - 64;
	for (i = 0; i < ARRAY_SIZE(bufs); i++) {
		struct gomem_stats s = { .buf = bufs[i], .size = sizeof(buf) };

		EXPECT_EQ(-EFAULT, ioc(self->fd, GOMEM_IOC_STATS, &s)) TH_LOG("buf %zu", i);
	}
	munmap(pages, 2 * self->page);
}

/* === GOMEM_IOC_CLASS_STATS ============================================== */

static int class_of(__u64 size)
{
	unsigned int c;

	for (c = 1; gm_class_to_size[c] < size; c++)
		;
	return c;
}

TEST_F(heap, class_stats)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES + 4];
	struct gomem_class_stats cs = {
		.buf = (uintptr_t)tab, .count = ARRAY_SIZE(tab), .entry_size = sizeof(tab[0]),
	};
	struct gomem_memstats st;
	__u64 objs[10], large, usable, sum = 0;
	int c48 = class_of(48);
	size_t i;

	ASSERT_EQ(GOMEM_NUM_SIZE_CLASSES, GM_NUM_SIZE_CLASSES);
	ASSERT_EQ(0, gomem_alloc_bulk(self->h, 48, 0, (void **)objs, ARRAY_SIZE(objs)));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, raw_free(self->fd, objs[i]));
	ASSERT_EQ(0, raw_alloc(self->fd, MiB, 0, &large, &usable));

	memset(tab, 0xaa, sizeof(tab));
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_CLASS_STATS, &cs));
	ASSERT_EQ(GOMEM_NUM_SIZE_CLASSES, cs.count);
	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++) {
		EXPECT_EQ(i, tab[i].class);
		EXPECT_EQ(i ? gm_class_to_size[i] : 0, tab[i].size) TH_LOG("class %zu", i);
		EXPECT_EQ(gm_class_to_npages[i], tab[i].span_pages) TH_LOG("class %zu", i);
		EXPECT_EQ(i ? gm_class_to_npages[i] * GOMEM_PAGE_SIZE / gm_class_to_size[i] : 0,
			  tab[i].objects_per_span) TH_LOG("class %zu", i);
		EXPECT_EQ(tab[i].allocs - tab[i].frees, tab[i].inuse) TH_LOG("class %zu", i);
		EXPECT_EQ(tab[i].allocs, tab[i].fast + tab[i].slow) TH_LOG("class %zu", i);
		sum += tab[i].inuse;
	}
	/* Nothing past the table. */
	EXPECT_EQ(-1, gm_first_not(&tab[GOMEM_NUM_SIZE_CLASSES], sizeof(tab[0]), 0xaa));
	EXPECT_EQ(10, tab[c48].allocs);
	EXPECT_EQ(3, tab[c48].frees);
	EXPECT_EQ(7, tab[c48].inuse);
	/* One span per CPU at most. */
	EXPECT_GE(tab[c48].spans, 1);
	EXPECT_LE(tab[c48].spans, sysconf(_SC_NPROCESSORS_CONF));
	EXPECT_EQ(1, tab[0].allocs);
	EXPECT_EQ(1, tab[0].inuse);
	EXPECT_EQ(1, tab[0].spans);
	gm_stats(_metadata, self->h, &st);
	EXPECT_EQ(st.heap_objects, sum);

	/* A short table: class 0 only. */
	memset(tab, 0xaa, sizeof(tab));
	cs.count = 1;
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_CLASS_STATS, &cs));
	EXPECT_EQ(1, cs.count);
	EXPECT_EQ(0, tab[0].class);
	EXPECT_EQ(1, tab[0].inuse);
	EXPECT_EQ(-1, gm_first_not(&tab[1], sizeof(tab[1]), 0xaa));
}

TEST_F(heap, class_stats_bad_args)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	const __u32 esize = sizeof(tab[0]);
	const struct { __u32 count, entry_size, flags, reserved; } cases[] = {
		{ 0, esize, 0, 0 }, { 4, 0, 0, 0 }, { 4, esize - 8, 0, 0 }, { 4, esize + 8, 0, 0 },
		{ 4, esize / 2, 0, 0 }, { 4, ~0U, 0, 0 }, { 4, esize, 1, 0 },
		{ 4, esize, 1U << 31, 0 }, { 4, esize, 0, 1 }, { 4, esize, 0, 1U << 31 },
	};
	/* NULL, read-only, kernel. */
	__u64 bufs[] = { 0, 0, 0xffff888000000000ULL };
	size_t i;
	char *none;

	memset(tab, 0xaa, sizeof(tab));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gomem_class_stats cs = {
			.buf = (uintptr_t)tab, .count = cases[i].count,
			.entry_size = cases[i].entry_size, .flags = cases[i].flags,
			.reserved = cases[i].reserved,
		};
		struct gomem_class_stats old = cs;

		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_CLASS_STATS, &cs)) TH_LOG("case %zu", i);
		EXPECT_EQ(0, memcmp(&cs, &old, sizeof(cs)));
	}
	EXPECT_EQ(-1, gm_first_not(tab, sizeof(tab), 0xaa));

	none = mmap(NULL, self->page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	bufs[1] = (uintptr_t)none;
	for (i = 0; i < ARRAY_SIZE(bufs); i++) {
		struct gomem_class_stats cs = { .buf = bufs[i], .count = 4, .entry_size = esize };

		EXPECT_EQ(-EFAULT, ioc(self->fd, GOMEM_IOC_CLASS_STATS, &cs)) TH_LOG("buf %zu", i);
	}
	munmap(none, self->page);
}

/* === GOMEM_IOC_SCAVENGE ================================================= */

TEST_F(heap, scavenge)
{
	struct gomem_memstats st0, st1;
	struct gomem_scavenge s = { 0 };
	__u64 a, usable;

	ASSERT_EQ(0, raw_alloc(self->fd, 4 * MiB, 0, &a, &usable));
	memset((void *)a, 1, usable);
	ASSERT_EQ(0, raw_free(self->fd, a));
	gm_stats(_metadata, self->h, &st0);

	/* At most max_bytes. */
	s.max_bytes = 64 * 1024;
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_SCAVENGE, &s));
	EXPECT_LE(s.released, 64 * 1024);
	EXPECT_GT(s.released, 0);
	/* Then everything else. */
	s.max_bytes = 0;
	s.released = 0;
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_SCAVENGE, &s));
	EXPECT_GE(s.released, 4 * MiB - 64 * 1024);
	gm_stats(_metadata, self->h, &st1);
	EXPECT_GE(st1.heap_released, st0.heap_released + 4 * MiB);
	EXPECT_LE(st1.heap_released, st1.heap_idle);
	EXPECT_GE(st1.scavenged_bytes, st0.scavenged_bytes + 4 * MiB);
	EXPECT_LE(st1.resident_bytes + 4 * MiB, st0.resident_bytes);
	/* Nothing left to give back. */
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_SCAVENGE, &s));
	EXPECT_EQ(0, s.released);
}

TEST_F(heap, scavenge_bad_args)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		struct gomem_scavenge fl = { .flags = 1U << bit, .released = 7 };
		struct gomem_scavenge rs = { .reserved = 1U << bit, .released = 7 };

		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_SCAVENGE, &fl)) TH_LOG("bit %u", bit);
		EXPECT_EQ(7, fl.released);
		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_SCAVENGE, &rs)) TH_LOG("bit %u", bit);
		EXPECT_EQ(7, rs.released);
	}
}

/* === GOMEM_IOC_SET_CAP ================================================== */

TEST_F(heap, set_cap)
{
	struct gomem_cap c = { .cap_bytes = 123, .flags = GOMEM_CAP_QUERY, .old_cap = 7 };
	struct gomem_memstats st;

	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_SET_CAP, &c));
	EXPECT_EQ(0, c.old_cap);
	/* A query changes nothing. */
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_SET_CAP, &c));
	EXPECT_EQ(0, c.old_cap);

	c.cap_bytes = 16 * MiB;
	c.flags = 0;
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_SET_CAP, &c));
	EXPECT_EQ(0, c.old_cap);
	EXPECT_EQ(16 * MiB, gomem_get_cap(self->h));
	gm_stats(_metadata, self->h, &st);
	EXPECT_EQ(16 * MiB, st.cap_bytes);

	c.cap_bytes = 0;
	ASSERT_EQ(0, ioc(self->fd, GOMEM_IOC_SET_CAP, &c));
	EXPECT_EQ(16 * MiB, c.old_cap);
	EXPECT_EQ(0, gomem_get_cap(self->h));
}

TEST_F(heap, set_cap_bad_args)
{
	unsigned int bit;

	ASSERT_EQ(0, gomem_set_cap(self->h, 32 * MiB, NULL));
	for (bit = 0; bit < 32; bit++) {
		struct gomem_cap fl = { .cap_bytes = MiB, .flags = 1U << bit, .old_cap = 7 };
		struct gomem_cap rs = { .cap_bytes = MiB, .reserved = 1U << bit, .old_cap = 7 };

		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_SET_CAP, &rs)) TH_LOG("bit %u", bit);
		EXPECT_EQ(7, rs.old_cap);
		if ((1U << bit) == GOMEM_CAP_QUERY)
			continue;
		EXPECT_EQ(-EINVAL, ioc(self->fd, GOMEM_IOC_SET_CAP, &fl)) TH_LOG("bit %u", bit);
		EXPECT_EQ(7, fl.old_cap);
	}
	EXPECT_EQ(32 * MiB, gomem_get_cap(self->h));
}

/*
 * The cap bounds HeapSys: growing over it gives -ENOMEM, and the heap
 * goes on working within it. HeapSys grows by 4 MiB blocks, so 1 MiB
 * objects fill a 16 MiB cap exactly.
 */
TEST_F(heap, cap_enomem)
{
	const __u64 cap = 16 * MiB;
	struct gomem_memstats st, st2;
	__u64 objs[64], bulk[4], a, usable;
	struct gomem_alloc_bulk b = {
		.size = MiB, .flags = GOMEM_ALLOC_NOSCAN, .count = 4, .addrs = (uintptr_t)bulk,
	};
	size_t n, i;
	int ret = 0;

	ASSERT_EQ(0, gomem_set_cap(self->h, cap, NULL));
	for (n = 0; n < ARRAY_SIZE(objs); n++) {
		ret = raw_alloc(self->fd, MiB, GOMEM_ALLOC_NOSCAN, &objs[n], &usable);
		if (ret)
			break;
		memset((void *)objs[n], 1, 4096);
	}
	ASSERT_EQ(-ENOMEM, ret);
	gm_stats(_metadata, self->h, &st);
	TH_LOG("%zu objects of 1 MiB under a 16 MiB cap; HeapSys %llu", n, st.heap_sys);
	EXPECT_LE(st.heap_sys, cap);
	EXPECT_GE(n, 8);
	EXPECT_EQ(n, st.heap_objects);

	/* All or nothing: a bulk request over the cap allocates nothing. */
	ASSERT_EQ(0, raw_free(self->fd, objs[--n]));
	EXPECT_EQ(-ENOMEM, ioc(self->fd, GOMEM_IOC_ALLOC_BULK, &b));
	gm_stats(_metadata, self->h, &st2);
	EXPECT_EQ(n, st2.heap_objects);
	EXPECT_EQ(st.heap_sys, st2.heap_sys);

	/* Freed room is usable again, for large and small objects. */
	ASSERT_EQ(0, raw_alloc(self->fd, MiB, GOMEM_ALLOC_NOSCAN, &objs[n], &usable));
	memset((void *)objs[n], 2, usable);
	n++;
	EXPECT_EQ(-ENOMEM, raw_alloc(self->fd, MiB, GOMEM_ALLOC_NOSCAN, &a, &usable));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, raw_free(self->fd, objs[--n]));
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, raw_alloc(self->fd, 256, 0, &a, &usable)) TH_LOG("small object %zu", i);
		memset((void *)a, 3, usable);
	}

	/* A cap below HeapSys only stops growth. */
	ASSERT_EQ(0, gomem_set_cap(self->h, 4 * MiB, NULL));
	gm_stats(_metadata, self->h, &st);
	EXPECT_LE(st.heap_sys, cap);
	EXPECT_EQ(-ENOMEM, raw_alloc(self->fd, 8 * MiB, GOMEM_ALLOC_NOSCAN, &a, &usable));
	ASSERT_EQ(0, raw_alloc(self->fd, MiB, GOMEM_ALLOC_NOSCAN, &a, &usable));
	ASSERT_EQ(0, raw_free(self->fd, a));

	/* Without a cap the heap grows again. */
	ASSERT_EQ(0, gomem_set_cap(self->h, 0, NULL));
	ASSERT_EQ(0, raw_alloc(self->fd, 8 * MiB, GOMEM_ALLOC_NOSCAN, &a, &usable));
	memset((void *)a, 4, usable);
	gm_stats(_metadata, self->h, &st);
	EXPECT_GT(st.heap_sys, cap);
	while (n)
		ASSERT_EQ(0, raw_free(self->fd, objs[--n]));
}

/* === every command ====================================================== */

static const unsigned long heap_cmds[] = {
	GOMEM_IOC_ALLOC, GOMEM_IOC_ALLOC_BULK, GOMEM_IOC_FREE, GOMEM_IOC_SIZE,
	GOMEM_IOC_STATS, GOMEM_IOC_CLASS_STATS, GOMEM_IOC_SCAVENGE, GOMEM_IOC_SET_CAP,
	GOMEM_IOC_ROOT_ADD, GOMEM_IOC_ROOT_DEL, GOMEM_IOC_GC, GOMEM_IOC_SET_GC,
	GOMEM_IOC_PROF_RATE, GOMEM_IOC_PROF_READ,
};

/* A known command number with another size or direction is unknown. */
TEST_F(heap, wrong_size_or_direction)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	struct gomem_memstats before;
	__u64 arg[64] = { 0 };
	size_t i, d;

	gm_stats(_metadata, self->h, &before);
	for (i = 0; i < ARRAY_SIZE(heap_cmds); i++) {
		unsigned long c = heap_cmds[i];
		unsigned int nr = _IOC_NR(c), size = _IOC_SIZE(c);
		const unsigned long bad[] = {
			_IOC(_IOC_DIR(c), GOMEM_IOC_MAGIC, nr, size - 8),
			_IOC(_IOC_DIR(c), GOMEM_IOC_MAGIC, nr, size + 8),
			_IOC(_IOC_DIR(c), GOMEM_IOC_MAGIC, nr, 0),
			_IOC(_IOC_DIR(c), 'g', nr, size),
		};

		for (d = 0; d < ARRAY_SIZE(dirs); d++) {
			unsigned long cmd = _IOC(dirs[d], GOMEM_IOC_MAGIC, nr, size);

			if (cmd == c)
				continue;
			EXPECT_EQ(-ENOTTY, ioc(self->fd, cmd, arg)) TH_LOG("cmd 0x%lx", cmd);
		}
		for (d = 0; d < ARRAY_SIZE(bad); d++) {
			unsigned long cmd = bad[d];

			EXPECT_EQ(-ENOTTY, ioc(self->fd, cmd, arg)) TH_LOG("cmd 0x%lx", cmd);
		}
	}
	/* Numbers past the last command, GOMEM_IOC_PROF_READ. */
	for (i = _IOC_NR(GOMEM_IOC_PROF_READ) + 1; i < 0x40; i++)
		EXPECT_EQ(-ENOTTY, ioc(self->fd, _IOWR(GOMEM_IOC_MAGIC, i, struct gomem_alloc), arg));
	expect_same_stats(_metadata, self->h, &before, "wrong commands");
}

/* An argument pointer the kernel cannot read (or write back to). */
TEST_F(heap, bad_arg_pointer)
{
	struct gomem_memstats before;
	char *pages;
	size_t i, j;

	pages = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	memset(pages, 0, 2 * self->page);
	ASSERT_EQ(0, mprotect(pages + self->page, self->page, PROT_NONE));
	gm_stats(_metadata, self->h, &before);
	for (i = 0; i < ARRAY_SIZE(heap_cmds); i++) {
		const __u64 ptrs[] = {
			0, (uintptr_t)pages + self->page,
			/* The structure's last bytes cross into the inaccessible page. */
			(uintptr_t)pages + self->page - _IOC_SIZE(heap_cmds[i]) + 8,
			0xffff888000000000ULL,
		};

		for (j = 0; j < ARRAY_SIZE(ptrs); j++) {
			int ret = ioc(self->fd, heap_cmds[i], (void *)(uintptr_t)ptrs[j]);

			EXPECT_EQ(-EFAULT, ret) TH_LOG("cmd 0x%lx arg %zu", heap_cmds[i], j);
		}
	}
	expect_same_stats(_metadata, self->h, &before, "bad argument pointers");
	munmap(pages, 2 * self->page);
}

TEST_HARNESS_MAIN
