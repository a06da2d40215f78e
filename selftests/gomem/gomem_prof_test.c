// SPDX-License-Identifier: GPL-2.0
/*
 * Heap profiles of /dev/gomem heaps (Documentation/profiling.rst): the
 * default rate is Go's, a rate of 1 samples every allocation and records
 * the user stack of the allocating function, frees are counted, rate 0
 * records nothing, the dump holds no kernel address, bad arguments are
 * refused, and root reads the same dump in debugfs and turns it into a
 * gzip'd profile with gomemctl, in which go tool pprof finds the allocating
 * function by name; root sets a kernel heap's rate in debugfs. Built with
 * frame pointers, which the kernel walks, and without inlining.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "gomem_test_util.h"

#define OBJECTS		100

FIXTURE(prof) {
	struct gomem_heap *h;
	unsigned long long id;
};

FIXTURE_SETUP(prof)
{
	struct gomem_memstats st;

	self->h = gm_open_heap(_metadata);
	gm_stats(_metadata, self->h, &st);
	self->id = st.heap_id64;
}

FIXTURE_TEARDOWN(prof)
{
	gomem_close(self->h);
}

/*
 * The function the profile must name: no tail call here, and the
 * Makefile builds this test with -fno-inline so that it keeps its frame.
 */
void *gomem_prof_test_allocator(struct gomem_heap *h, size_t size)
{
	void *p = gomem_alloc(h, size, 0);

	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

/* A return address inside gomem_prof_test_allocator() (it is short). */
static int in_allocator(__u64 pc)
{
	return pc - (uintptr_t)gomem_prof_test_allocator < 256;
}

struct sums {
	__u64 allocs, frees, alloc_bytes, free_bytes, records, kernel_pcs;
};

/* Walk a dump: totals of the records with a frame in the allocator, and of all. */
static void walk(struct __test_metadata *_metadata, const void *dump, size_t len,
		 struct sums *mine, struct sums *all)
{
	const struct gomem_prof_header *hdr = dump;
	const unsigned char *p = (const unsigned char *)(hdr + 1);
	__u64 i;
	__u32 d;

	memset(mine, 0, sizeof(*mine));
	memset(all, 0, sizeof(*all));
	ASSERT_GE(len, sizeof(*hdr));
	ASSERT_EQ(GOMEM_PROF_MAGIC, hdr->magic);
	ASSERT_EQ(GOMEM_PROF_VERSION, hdr->version);
	EXPECT_EQ(GOMEM_PROF_USER_STACKS, hdr->flags);
	for (i = 0; i < hdr->nrecords; i++) {
		struct gomem_prof_record r;
		const __u64 *pcs;
		int found = 0;

		ASSERT_LE(p + sizeof(r), (const unsigned char *)dump + len);
		memcpy(&r, p, sizeof(r));
		pcs = (const __u64 *)(p + sizeof(r));
		ASSERT_LE(r.depth, GOMEM_PROF_MAX_DEPTH);
		p += sizeof(r) + r.depth * sizeof(__u64);
		ASSERT_LE(p, (const unsigned char *)dump + len);
		for (d = 0; d < r.depth; d++) {
			found |= in_allocator(pcs[d]);
			/* Kernel addresses are in the top half of the address space. */
			all->kernel_pcs += pcs[d] >= (1ULL << 63);
		}
		all->allocs += r.allocs;
		all->frees += r.frees;
		all->records++;
		if (found) {
			mine->allocs += r.allocs;
			mine->frees += r.frees;
			mine->alloc_bytes += r.alloc_bytes;
			mine->free_bytes += r.free_bytes;
			mine->records++;
		}
	}
	EXPECT_EQ((const unsigned char *)dump + len, p);
}

static void read_sums(struct __test_metadata *_metadata, struct gomem_heap *h,
		      struct sums *mine, struct sums *all)
{
	size_t len;
	void *dump = gomem_read_heap_profile(h, &len);

	ASSERT_NE(NULL, dump) TH_LOG("gomem_read_heap_profile: %s", strerror(errno));
	walk(_metadata, dump, len, mine, all);
	free(dump);
}

TEST_F(prof, default_rate_is_gos)
{
	EXPECT_EQ(GOMEM_PROF_DEFAULT_RATE, gomem_set_profile_rate(self->h, -1));
	EXPECT_EQ(GOMEM_PROF_DEFAULT_RATE, gomem_set_profile_rate(self->h, 4096));
	EXPECT_EQ(4096, gomem_set_profile_rate(self->h, -1));
}

/* Rate 1: every allocation of the function is in its stack's record. */
TEST_F(prof, names_the_allocating_function)
{
	void *p[OBJECTS];
	struct sums mine, all;
	int i;

	ASSERT_EQ(GOMEM_PROF_DEFAULT_RATE, gomem_set_profile_rate(self->h, 1));
	for (i = 0; i < OBJECTS; i++) {
		p[i] = gomem_prof_test_allocator(self->h, 256);
		ASSERT_NE(NULL, p[i]);
	}
	read_sums(_metadata, self->h, &mine, &all);
	EXPECT_EQ(OBJECTS, mine.allocs) TH_LOG("%llu records", (unsigned long long)all.records);
	EXPECT_EQ(OBJECTS * 256, mine.alloc_bytes);
	EXPECT_EQ(0, mine.frees);
	EXPECT_EQ(0, all.kernel_pcs);
	for (i = 0; i < OBJECTS; i += 2)
		ASSERT_EQ(0, gomem_free(self->h, p[i]));
	read_sums(_metadata, self->h, &mine, &all);
	EXPECT_EQ(OBJECTS / 2, mine.frees);
	EXPECT_EQ(OBJECTS / 2 * 256, mine.free_bytes);
}

/* The collector's frees count too: nothing is a root here. */
TEST_F(prof, collector_frees_counted)
{
	struct gomem_gc_stats gs;
	struct sums mine, all;
	int i;

	gomem_set_profile_rate(self->h, 1);
	for (i = 0; i < OBJECTS; i++)
		ASSERT_NE(NULL, gomem_prof_test_allocator(self->h, 64));
	ASSERT_EQ(0, gomem_gc(self->h, &gs));
	/* Sweeping finishes in the background or at the next cycle. */
	ASSERT_EQ(0, gomem_gc(self->h, &gs));
	read_sums(_metadata, self->h, &mine, &all);
	EXPECT_EQ(OBJECTS, mine.allocs);
	EXPECT_EQ(OBJECTS, mine.frees);
}

TEST_F(prof, rate_zero_records_nothing)
{
	struct sums mine, all;
	int i;

	gomem_set_profile_rate(self->h, 0);
	for (i = 0; i < 1000; i++)
		ASSERT_NE(NULL, gomem_prof_test_allocator(self->h, 4096));
	read_sums(_metadata, self->h, &mine, &all);
	EXPECT_EQ(0, all.records);
}

TEST_F(prof, bad_arguments_refused)
{
	struct gomem_prof_rate r = { .flags = 2 };
	struct gomem_prof_read rd = { 0 };
	struct gomem_prof_header hdr;
	int fd = gomem_fd(self->h);

	EXPECT_EQ(-1, ioctl(fd, GOMEM_IOC_PROF_RATE, &r));
	EXPECT_EQ(EINVAL, errno);
	r.flags = 0;
	r.reserved = 1;
	EXPECT_EQ(-1, ioctl(fd, GOMEM_IOC_PROF_RATE, &r));
	EXPECT_EQ(EINVAL, errno);
	rd.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, GOMEM_IOC_PROF_READ, &rd));
	EXPECT_EQ(EINVAL, errno);
	/* Too small a buffer: the size comes back, nothing is written. */
	memset(&hdr, 0xa5, sizeof(hdr));
	rd.flags = 0;
	rd.buf = (uintptr_t)&hdr;
	rd.len = sizeof(hdr) - 1;
	EXPECT_EQ(0, ioctl(fd, GOMEM_IOC_PROF_READ, &rd));
	EXPECT_GE(rd.size, sizeof(hdr));
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, hdr.magic);
	/* A bad buffer that would fit is a fault. */
	rd.buf = 8;
	rd.len = 1 << 20;
	EXPECT_EQ(-1, ioctl(fd, GOMEM_IOC_PROF_READ, &rd));
	EXPECT_EQ(EFAULT, errno);
}

/* Root's view: the same dump in debugfs, and gomemctl makes a gzip'd profile of it. */
TEST_F(prof, debugfs_and_gomemctl)
{
	char path[256], cmd[512];
	unsigned char magic[2];
	struct sums mine, all;
	struct gomem_prof_header hdr;
	FILE *f;
	int i;

	gomem_set_profile_rate(self->h, 1);
	for (i = 0; i < OBJECTS; i++)
		ASSERT_NE(NULL, gomem_prof_test_allocator(self->h, 512));
	snprintf(path, sizeof(path), GOMEM_HEAPS "/%llu/heapprof", self->id);
	f = fopen(path, "r");
	if (!f)
		SKIP(return, "%s: %s (debugfs, as root)", path, strerror(errno));
	ASSERT_EQ(1, fread(&hdr, sizeof(hdr), 1, f));
	fclose(f);
	EXPECT_EQ(GOMEM_PROF_MAGIC, hdr.magic);
	EXPECT_EQ(1, hdr.rate);
	read_sums(_metadata, self->h, &mine, &all);
	EXPECT_EQ(all.records, hdr.nrecords);
	EXPECT_EQ(OBJECTS, mine.allocs);
	if (system("command -v gomemctl >/dev/null 2>&1"))
		SKIP(return, "gomemctl not on PATH");
	snprintf(cmd, sizeof(cmd), "gomemctl pprof -o /tmp/gomem_prof_test.pb.gz %llu", self->id);
	ASSERT_EQ(0, system(cmd));
	f = fopen("/tmp/gomem_prof_test.pb.gz", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fread(magic, sizeof(magic), 1, f));
	fclose(f);
	unlink("/tmp/gomem_prof_test.pb.gz");
	EXPECT_EQ(0x1f, magic[0]);
	EXPECT_EQ(0x8b, magic[1]);
}

/*
 * What a Go programmer does with it: go tool pprof -top names the
 * allocating function, with no binary to symbolize from (-symbolize=none):
 * gomemctl took the names from this program's symbol table. The guests
 * carry golang-go's pprof; elsewhere "go tool pprof" serves if go is there.
 */
TEST_F(prof, go_tool_pprof_names_allocator)
{
	const char *out = "/tmp/gomem_prof_test_top.pb.gz";
	char cmd[512], line[512];
	const char *pprof;
	bool found = false;
	FILE *p;
	int i;

	if (system("command -v gomemctl >/dev/null 2>&1"))
		SKIP(return, "gomemctl not on PATH");
	if (!system("command -v pprof >/dev/null 2>&1"))
		pprof = "pprof";
	else if (!system("command -v go >/dev/null 2>&1"))
		pprof = "go tool pprof";
	else
		SKIP(return, "no go tool pprof (Debian: golang-go)");
	gomem_set_profile_rate(self->h, 1);
	for (i = 0; i < OBJECTS; i++)
		ASSERT_NE(NULL, gomem_prof_test_allocator(self->h, 512));
	snprintf(cmd, sizeof(cmd), "gomemctl pprof -o %s %llu 2>&1", out, self->id);
	if (system(cmd))
		SKIP(return, "gomemctl pprof failed (debugfs, as root)");
	/* pprof keeps nothing in $HOME with -top, but wants one. */
	snprintf(cmd, sizeof(cmd), "HOME=/tmp %s -top -symbolize=none %s 2>&1", pprof, out);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, "gomem_prof_test_allocator"))
			found = true;
		line[strcspn(line, "\n")] = 0;
		TH_LOG("%s", line);
	}
	EXPECT_EQ(0, pclose(p));
	unlink(out);
	EXPECT_TRUE(found);
}

#define KHEAP_RATE	GOMEM_DEBUGFS "/kheaps/kernel/heapprof_rate"

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static unsigned long long read_ull(const char *path)
{
	unsigned long long v = ~0ULL;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = ~0ULL;
		fclose(f);
	}
	return v;
}

/*
 * A kernel heap's rate, set by root in debugfs (gomem_heap_set_profile_rate()
 * for kernel code): read back, seen in the dump's header, clamped, and
 * garbage refused.
 */
TEST(kernel_heap_rate_file)
{
	unsigned long long old;
	struct gomem_prof_header hdr;
	struct stat st;
	char val[32];
	FILE *f;

	if (stat(KHEAP_RATE, &st))
		SKIP(return, "%s: %s (debugfs, as root)", KHEAP_RATE, strerror(errno));
	EXPECT_EQ(0600, st.st_mode & 07777);
	old = read_ull(KHEAP_RATE);
	ASSERT_NE(~0ULL, old);
	ASSERT_EQ(0, write_str(KHEAP_RATE, "4096\n"));
	EXPECT_EQ(4096, read_ull(KHEAP_RATE));
	f = fopen(GOMEM_DEBUGFS "/kheaps/kernel/heapprof", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fread(&hdr, sizeof(hdr), 1, f));
	fclose(f);
	EXPECT_EQ(GOMEM_PROF_MAGIC, hdr.magic);
	EXPECT_EQ(GOMEM_PROF_KERNEL_STACKS, hdr.flags);
	EXPECT_EQ(4096, hdr.rate);
	EXPECT_EQ(0, write_str(KHEAP_RATE, "99999999999"));
	EXPECT_EQ(GOMEM_PROF_MAX_RATE, read_ull(KHEAP_RATE));
	EXPECT_EQ(-EINVAL, write_str(KHEAP_RATE, "lots"));
	EXPECT_EQ(-EINVAL, write_str(KHEAP_RATE, "-1"));
	EXPECT_EQ(GOMEM_PROF_MAX_RATE, read_ull(KHEAP_RATE));
	snprintf(val, sizeof(val), "%llu", old);
	EXPECT_EQ(0, write_str(KHEAP_RATE, val));
	EXPECT_EQ(old, read_ull(KHEAP_RATE));
}

TEST_HARNESS_MAIN
