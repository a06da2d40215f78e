// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for the /dev/gomem ABI: the version ioctl, and refusal of
 * unknown commands and bad arguments.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/gomem.h>

#include "kselftest_harness.h"
#include "gomem_skip.h"

#define GOMEM_DEV	"/dev/gomem"
#define GOMEM_INFO	"/sys/kernel/debug/gomem/info"

FIXTURE(gomem) {
	int fd;
};

FIXTURE_SETUP(gomem)
{
	self->fd = open(GOMEM_DEV, O_RDWR | O_CLOEXEC);
	/*
	 * 6.1's harness runs the test body even after a SKIP() in the setup,
	 * so end the test's child here; exit code 255 is its "skipped".
	 */
	if (self->fd < 0)
		SKIP(_exit(255), "%s: %s (is gomem.ko loaded?)", GOMEM_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(gomem)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(gomem, version)
{
	struct gomem_version v;

	memset(&v, 0xff, sizeof(v));
	v.flags = 0;
	v.reserved[0] = v.reserved[1] = 0;
	ASSERT_EQ(0, ioctl(self->fd, GOMEM_IOC_VERSION, &v));
	EXPECT_EQ(GOMEM_ABI_VERSION, v.abi_version);
	EXPECT_EQ(0, v.flags);
	EXPECT_EQ(0, v.features & ~GOMEM_FEATURES_ALL);
	EXPECT_EQ(0, v.reserved[0]);
	EXPECT_EQ(0, v.reserved[1]);
}

/* Unknown commands, and known ones with another size or direction. */
TEST_F(gomem, unknown_ioctl)
{
	struct gomem_version v = { 0 };
	const unsigned long bogus[] = {
		_IOWR(GOMEM_IOC_MAGIC, 0x7f, struct gomem_version),
		_IO(GOMEM_IOC_MAGIC, 0xff),
		_IOWR(GOMEM_IOC_MAGIC, 0x00, __u64),
		_IOR(GOMEM_IOC_MAGIC, 0x00, struct gomem_version),
		_IOW(GOMEM_IOC_MAGIC, 0x00, struct gomem_version),
		_IOWR('X', 0x00, struct gomem_version),
		FIONREAD,
		0,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bogus); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, bogus[i], &v)) TH_LOG("cmd 0x%lx", bogus[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd 0x%lx", bogus[i]);
	}
}

/* Argument pointers that do not point at writable user memory. */
TEST_F(gomem, bad_pointer)
{
	long page = sysconf(_SC_PAGESIZE);
	void *none;

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, GOMEM_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);

	none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, GOMEM_IOC_VERSION, none));
	EXPECT_EQ(EFAULT, errno);

	/* Readable but not writable: the answer cannot be delivered. */
	ASSERT_EQ(0, mprotect(none, page, PROT_READ));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, GOMEM_IOC_VERSION, none));
	EXPECT_EQ(EFAULT, errno);
	munmap(none, page);

	/* Kernel addresses are not user memory either. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, GOMEM_IOC_VERSION, (void *)-4096L));
	EXPECT_EQ(EFAULT, errno);
}

/* A refused request leaves the caller's structure untouched. */
TEST_F(gomem, nonzero_flags)
{
	struct gomem_version v = { .abi_version = 0x1234, .flags = 1 };
	struct gomem_version before = v;
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		v.flags = 1U << bit;
		before.flags = v.flags;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, GOMEM_IOC_VERSION, &v)) TH_LOG("flag bit %u", bit);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, memcmp(&v, &before, sizeof(v)));
	}
}

TEST_F(gomem, nonzero_reserved)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		struct gomem_version v = { .abi_version = 0x1234 };
		struct gomem_version before;

		v.reserved[i] = 1;
		before = v;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, GOMEM_IOC_VERSION, &v)) TH_LOG("reserved[%zu]", i);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, memcmp(&v, &before, sizeof(v)));
	}
}

/* Returns the value of @key in gomem's debugfs info file, or -1. */
static long info_value(const char *key)
{
	char name[64];
	long value, found = -1;
	FILE *f = fopen(GOMEM_INFO, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %li", name, &value) == 2)
		if (!strcmp(name, key))
			found = value;
	fclose(f);
	return found;
}

/* debugfs counts the files open on /dev/gomem, this test's included. */
TEST_F(gomem, debugfs_open_files)
{
	long before, during, after;
	struct gomem_version v = { 0 };
	int fd2;

	if (access(GOMEM_INFO, R_OK))
		SKIP(return, "%s not readable (root and debugfs needed)", GOMEM_INFO);
	before = info_value("open_files");
	ASSERT_GE(before, 1);

	fd2 = open(GOMEM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd2, 0);
	during = info_value("open_files");
	ASSERT_EQ(0, ioctl(fd2, GOMEM_IOC_VERSION, &v));
	ASSERT_EQ(0, close(fd2));
	after = info_value("open_files");

	EXPECT_EQ(before + 1, during);
	EXPECT_EQ(before, after);
	ASSERT_EQ(0, ioctl(self->fd, GOMEM_IOC_VERSION, &v));
	EXPECT_EQ(GOMEM_FEATURE_DEBUGFS, v.features & GOMEM_FEATURE_DEBUGFS);
}

/*
 * struct gomem_memstats grows at its end, one version at a time: each
 * version's fields start where the last one's size ends, and a caller
 * with an older, shorter structure gets exactly its bytes.
 */
static_assert(sizeof(struct gomem_memstats) == GOMEM_MEMSTATS_SIZE_VER3, "VER3");
static_assert(offsetof(struct gomem_memstats, num_gc) == GOMEM_MEMSTATS_SIZE_VER0, "VER0");
static_assert(offsetof(struct gomem_memstats, scavenge_goal) == GOMEM_MEMSTATS_SIZE_VER1, "VER1");
static_assert(offsetof(struct gomem_memstats, heap_id64) == GOMEM_MEMSTATS_SIZE_VER2, "VER2");
static_assert(offsetof(struct gomem_memstats, pause_end) + 8 * GOMEM_PAUSE_RING ==
	      GOMEM_MEMSTATS_SIZE_VER3, "rings last");
static_assert(GOMEM_MEMSTATS_SIZE_VER3 % 8 == 0, "8-byte multiple");

TEST_F(gomem, memstats_sizes)
{
	unsigned char buf[GOMEM_MEMSTATS_SIZE_VER3 + 64];
	struct gomem_memstats *st = (void *)buf;
	struct gomem_stats s = { .buf = (uintptr_t)buf, .size = GOMEM_MEMSTATS_SIZE_VER2 };
	size_t i;

	/* A VER2 caller: the module says its size and writes only VER2's bytes. */
	memset(buf, 0xaa, sizeof(buf));
	ASSERT_EQ(0, ioctl(self->fd, GOMEM_IOC_STATS, &s)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(GOMEM_MEMSTATS_SIZE_VER3, s.size);
	EXPECT_EQ(GOMEM_MEMSTATS_SIZE_VER3, st->size);
	for (i = GOMEM_MEMSTATS_SIZE_VER2; i < sizeof(buf); i++)
		ASSERT_EQ(0xaa, buf[i]) TH_LOG("byte %zu written", i);

	/* A VER3 caller gets the new fields, with the values they must have. */
	s.size = sizeof(buf);
	ASSERT_EQ(0, ioctl(self->fd, GOMEM_IOC_STATS, &s)) TH_LOG("%s", strerror(errno));
	EXPECT_NE(0, st->heap_id64);
	EXPECT_EQ(st->heap_id64 <= UINT32_MAX ? st->heap_id64 : 0, st->heap_id);
	EXPECT_EQ(st->heap_alloc, st->alloc);
	EXPECT_EQ(0, st->lookups);
	EXPECT_EQ(1, st->enable_gc);
	EXPECT_EQ(0, st->debug_gc);
	EXPECT_EQ(st->sys, st->heap_sys + st->stack_sys + st->mspan_sys + st->mcache_sys +
		  st->buckhash_sys + st->gc_sys + st->other_sys);
	for (i = GOMEM_MEMSTATS_SIZE_VER3; i < sizeof(buf); i++)
		ASSERT_EQ(0xaa, buf[i]) TH_LOG("byte %zu written", i);
}

TEST_HARNESS_MAIN
