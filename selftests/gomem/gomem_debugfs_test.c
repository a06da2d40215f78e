// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for gomem's debugfs files. The sizeclasses table must list
 * every class with the numbers of the generated tables, which the
 * gomem_sizeclasses KUnit suite checks against Go 1.21. Each /dev/gomem
 * heap has a directory heaps/<id>/ whose numbers agree with its ioctls,
 * and closing a heap gives all of its pages back.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "sizeclasses.h"
#include "gomem_test_util.h"

#define SIZECLASSES	"/sys/kernel/debug/gomem/sizeclasses"
#define HEADER		"class  bytes/obj  bytes/span  objects  tail waste  max waste  min align"

TEST(sizeclasses_table)
{
	unsigned int cls, size, span, objs, tail, align, rows = 0;
	char line[256];
	double waste;
	FILE *f;

	if (access(SIZECLASSES, R_OK))
		SKIP(return, "%s: %s (root and debugfs needed)", SIZECLASSES, strerror(errno));
	f = fopen(SIZECLASSES, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	line[strcspn(line, "\n")] = '\0';
	EXPECT_STREQ(HEADER, line);

	while (fgets(line, sizeof(line), f)) {
		int fields = sscanf(line, "%u %u %u %u %u %lf%% %u", &cls, &size,
				    &span, &objs, &tail, &waste, &align);

		ASSERT_EQ(7, fields) TH_LOG("%s", line);
		rows++;
		ASSERT_EQ(rows, cls);
		ASSERT_LT(cls, GM_NUM_SIZE_CLASSES);
		EXPECT_EQ(gm_class_to_size[cls], size);
		EXPECT_EQ(gm_class_to_npages[cls] * 8192U, span);
		EXPECT_EQ(span / size, objs);
		EXPECT_EQ(span % size, tail);
		EXPECT_GT(waste, 0.0);
		EXPECT_LT(waste, 100.0);
		EXPECT_EQ(0, size % align);
	}
	fclose(f);
	EXPECT_EQ(GM_NUM_SIZE_CLASSES - 1, rows);
}

/* === /dev/gomem heaps =================================================== */

FIXTURE(heap) {
	struct gomem_heap *h;
	struct gomem_memstats st;
	char dir[128];
};

FIXTURE_SETUP(heap)
{
	self->h = gm_open_heap(_metadata);
	if (access(GOMEM_INFO, R_OK))
		SKIP(_exit(255), "%s: %s (root and debugfs needed)", GOMEM_INFO, strerror(errno));
	ASSERT_EQ(0, gomem_stats(self->h, &self->st));
	snprintf(self->dir, sizeof(self->dir), GOMEM_HEAPS "/%llu", self->st.heap_id64);
}

FIXTURE_TEARDOWN(heap)
{
	gomem_close(self->h);
}

static void heap_file(char *path, size_t len, const char *dir, const char *name)
{
	snprintf(path, len, "%s/%s", dir, name);
}

TEST_F(heap, files_root_only)
{
	static const char * const names[] = { "owner", "memstats", "classes", "arenas" };
	char path[256];
	struct stat sb;
	size_t i;

	ASSERT_EQ(0, stat(self->dir, &sb)) TH_LOG("%s: %s", self->dir, strerror(errno));
	EXPECT_TRUE(S_ISDIR(sb.st_mode));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		heap_file(path, sizeof(path), self->dir, names[i]);
		ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_TRUE(S_ISREG(sb.st_mode));
		EXPECT_EQ(0400, sb.st_mode & 07777) TH_LOG("%s: mode 0%o", path, sb.st_mode & 07777);
	}
}

TEST_F(heap, owner)
{
	char path[256], line[128], comm[64] = "", want[64] = "";
	unsigned int slot = 0;
	int pid = -1;
	FILE *f;

	f = fopen("/proc/self/comm", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(want, sizeof(want), f));
	want[strcspn(want, "\n")] = '\0';
	fclose(f);

	heap_file(path, sizeof(path), self->dir, "owner");
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "pid %d", &pid) != 1 && sscanf(line, "comm %63s", comm) != 1 &&
		    sscanf(line, "slot %u", &slot) != 1)
			TH_LOG("unexpected line: %s", line);
	fclose(f);
	EXPECT_EQ(getpid(), pid);
	EXPECT_STREQ(want, comm);
	/* The file offsets' slot: 15 bits, from 1 (see devmem.c). */
	EXPECT_LE(1, slot);
	EXPECT_GE(32767, slot);
}

/* Every line of memstats, and the GOMEM_IOC_STATS field it must equal. */
#define MEMSTAT(name, field) { name, offsetof(struct gomem_memstats, field) }
static const struct {
	const char *name;
	size_t off;
} memstats_fields[] = {
	MEMSTAT("HeapAlloc", heap_alloc), MEMSTAT("HeapSys", heap_sys),
	MEMSTAT("HeapIdle", heap_idle), MEMSTAT("HeapInuse", heap_inuse),
	MEMSTAT("HeapReleased", heap_released), MEMSTAT("HeapObjects", heap_objects),
	MEMSTAT("Mallocs", mallocs), MEMSTAT("Frees", frees),
	MEMSTAT("Reserved", reserved_bytes), MEMSTAT("Resident", resident_bytes),
	MEMSTAT("Cap", cap_bytes), MEMSTAT("Lost", lost_bytes),
	MEMSTAT("Scavenged", scavenged_bytes),
	/*
	 * Go's names of GOMEM_MEMSTATS_SIZE_VER3 (LastGC is Unix epoch ns).
	 * Not NextGC: this heap's GOGC is off, its goal ~0, past what
	 * gm_file_value() reads.
	 */
	MEMSTAT("Alloc", alloc), MEMSTAT("TotalAlloc", total_alloc), MEMSTAT("Sys", sys),
	MEMSTAT("Lookups", lookups), MEMSTAT("StackInuse", stack_inuse),
	MEMSTAT("StackSys", stack_sys), MEMSTAT("MSpanInuse", mspan_inuse),
	MEMSTAT("MSpanSys", mspan_sys), MEMSTAT("MCacheInuse", mcache_inuse),
	MEMSTAT("MCacheSys", mcache_sys), MEMSTAT("BuckHashSys", buckhash_sys),
	MEMSTAT("GCSys", gc_sys), MEMSTAT("OtherSys", other_sys),
	MEMSTAT("LastGC", last_gc_unix_ns), MEMSTAT("PauseTotalNs", pause_total_ns),
	MEMSTAT("NumGC", num_gc), MEMSTAT("NumForcedGC", num_forced_gc),
};

TEST_F(heap, memstats_agree_with_ioctl)
{
	char path[256], *big, *small[100];
	struct gomem_memstats st;
	size_t i;

	/* Something in every field. */
	ASSERT_EQ(0, gomem_set_cap(self->h, 1ULL << 30, NULL));
	ASSERT_EQ(0, gomem_alloc_bulk(self->h, 64, 0, (void **)small, ARRAY_SIZE(small)));
	for (i = 0; i < ARRAY_SIZE(small); i += 3)
		ASSERT_EQ(0, gomem_free(self->h, small[i]));
	big = gomem_alloc(self->h, 8 * MiB, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, big);
	memset(big, 1, 8 * MiB);
	ASSERT_EQ(0, gomem_free(self->h, big));
	ASSERT_EQ(0, gomem_scavenge(self->h, 4 * MiB, NULL));
	big = gomem_alloc(self->h, 2 * MiB, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, big);
	memset(big, 1, 2 * MiB);
	ASSERT_EQ(0, munmap(big, 2 * MiB));

	ASSERT_EQ(0, gomem_stats(self->h, &st));
	heap_file(path, sizeof(path), self->dir, "memstats");
	for (i = 0; i < ARRAY_SIZE(memstats_fields); i++) {
		__u64 want = *(__u64 *)((char *)&st + memstats_fields[i].off);

		EXPECT_EQ(want, gm_file_value(path, memstats_fields[i].name))
			TH_LOG("%s", memstats_fields[i].name);
	}
	EXPECT_NE(0, st.lost_bytes);
	EXPECT_NE(0, st.scavenged_bytes);
}

TEST_F(heap, classes_agree_with_ioctl)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	unsigned long long spans, inuse, allocs, frees;
	char path[256], line[256], size[16], *objs[50], *big;
	unsigned int cls, rows = 0;
	FILE *f;
	size_t i;

	ASSERT_EQ(0, gomem_alloc_bulk(self->h, 100, 0, (void **)objs, ARRAY_SIZE(objs)));
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, gomem_free(self->h, objs[i]));
	big = gomem_alloc(self->h, MiB, 0);
	ASSERT_NE(NULL, big);
	ASSERT_EQ(GOMEM_NUM_SIZE_CLASSES, gomem_class_stats(self->h, tab));

	heap_file(path, sizeof(path), self->dir, "classes");
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %15s %llu %llu %llu %llu", &cls, size, &spans, &inuse,
			   &allocs, &frees) != 6)
			continue;
		ASSERT_LT(cls, GOMEM_NUM_SIZE_CLASSES);
		rows++;
		EXPECT_EQ(tab[cls].spans, spans) TH_LOG("class %u", cls);
		EXPECT_EQ(tab[cls].inuse, inuse) TH_LOG("class %u", cls);
		EXPECT_EQ(tab[cls].allocs, allocs) TH_LOG("class %u", cls);
		EXPECT_EQ(tab[cls].frees, frees) TH_LOG("class %u", cls);
	}
	fclose(f);
	EXPECT_EQ(GOMEM_NUM_SIZE_CLASSES, rows);
	EXPECT_EQ(1, tab[0].inuse);
	EXPECT_EQ(0, gomem_free(self->h, big));
}

TEST_F(heap, arenas)
{
	char path[256], line[256], want[32];
	unsigned long start, end;
	int found = 0;
	char *p;
	FILE *f;

	p = gomem_alloc(self->h, 64, 0);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, gm_find_map((unsigned long)p, &start, &end));
	snprintf(want, sizeof(want), "%lx", start);
	heap_file(path, sizeof(path), self->dir, "arenas");
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		found |= !!strstr(line, want);
	fclose(f);
	EXPECT_TRUE(found) TH_LOG("no arena at %s in %s", want, path);
}

/* One directory per open heap, gone with the heap. */
TEST_F(heap, dir_follows_heap)
{
	struct gomem_heap *h2 = gm_open_nogc();
	struct gomem_memstats st;
	char dir[128];

	ASSERT_NE(NULL, h2);
	ASSERT_EQ(0, gomem_stats(h2, &st));
	EXPECT_NE(self->st.heap_id64, st.heap_id64);
	snprintf(dir, sizeof(dir), GOMEM_HEAPS "/%llu", st.heap_id64);
	EXPECT_EQ(0, access(dir, F_OK)) TH_LOG("%s: %s", dir, strerror(errno));
	gomem_close(h2);
	EXPECT_EQ(-1, access(dir, F_OK));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, access(self->dir, F_OK));
}

/*
 * Heap ids are never reused: heaps opened and closed one after another
 * (each one's slot freed before the next open) get new, increasing ids,
 * and each one's directory is named by its id while it is open.
 */
TEST_F(heap, ids_never_repeat)
{
	enum { N = 40 };
	unsigned long long ids[N];
	struct gomem_memstats st;
	struct gomem_heap *h2;
	char dir[128];
	int i, j;

	for (i = 0; i < N; i++) {
		h2 = gm_open_nogc();
		ASSERT_NE(NULL, h2);
		ASSERT_EQ(0, gomem_stats(h2, &st));
		ids[i] = st.heap_id64;
		EXPECT_LT(self->st.heap_id64, ids[i]);
		EXPECT_EQ(ids[i] <= UINT32_MAX ? ids[i] : 0, st.heap_id);
		snprintf(dir, sizeof(dir), GOMEM_HEAPS "/%llu", ids[i]);
		EXPECT_EQ(0, access(dir, F_OK)) TH_LOG("%s: %s", dir, strerror(errno));
		/* Another process may open heaps meanwhile: increasing, not consecutive. */
		if (i)
			EXPECT_LT(ids[i - 1], ids[i]);
		for (j = 0; j < i; j++)
			EXPECT_NE(ids[j], ids[i]) TH_LOG("heap %d has heap %d's id", i, j);
		gomem_close(h2);
		EXPECT_EQ(-1, access(dir, F_OK));
	}
}

/*
 * Closing a heap that still has live, touched objects gives every page
 * back: the module's user_pages returns to where it was, and free memory
 * does not stay lower than it was. Free memory is MemFree plus the
 * per-CPU free lists (gm_free_bytes()): on 6.12 those keep tens of MiB of
 * what was just freed for a while. It moves with the rest of the system
 * too (deferred frees), so only a loss of more than 8 MiB counts, and
 * touching 64 MiB must take at least half.
 */
TEST_F(heap, close_releases_pages)
{
	const size_t len = 64 * MiB;
	long long pages0, pages1, pages2, free0, free1, free2;
	struct gomem_heap *h2;
	char *objs[64], *big;
	size_t i;

	pages0 = gm_user_pages();
	ASSERT_GE(pages0, 0) TH_LOG("no user_pages in %s", GOMEM_INFO);
	free0 = gm_free_bytes();
	ASSERT_GT(free0, 0);

	h2 = gm_open_nogc();
	ASSERT_NE(NULL, h2);
	big = gomem_alloc(h2, len - MiB, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, big);
	memset(big, 1, len - MiB);
	ASSERT_EQ(0, gomem_alloc_bulk(h2, 16384, 0, (void **)objs, ARRAY_SIZE(objs)));
	for (i = 0; i < ARRAY_SIZE(objs); i++)
		memset(objs[i], 2, 16384);
	pages1 = gm_user_pages();
	free1 = gm_free_bytes();
	EXPECT_GE(pages1 - pages0, (long long)(len / 4096));
	EXPECT_GE(free0 - free1, (long long)(len / 2));

	gomem_close(h2);
	pages2 = gm_user_pages();
	free2 = gm_free_bytes();
	TH_LOG("user_pages %lld -> %lld -> %lld; free %lld -> %lld -> %lld MiB", pages0,
	       pages1, pages2, free0 >> 20, free1 >> 20, free2 >> 20);
	EXPECT_EQ(pages0, pages2);
	EXPECT_GT(free2, free0 - (long long)(8 * MiB));
}

/* user_pages follows scavenging too. */
TEST_F(heap, user_pages_scavenged)
{
	long long pages0, pages1, pages2;
	char *p;

	pages0 = gm_user_pages();
	ASSERT_GE(pages0, 0);
	p = gomem_alloc(self->h, 8 * MiB, GOMEM_ALLOC_NOSCAN);
	ASSERT_NE(NULL, p);
	memset(p, 1, 8 * MiB);
	pages1 = gm_user_pages();
	ASSERT_EQ(0, gomem_free(self->h, p));
	ASSERT_EQ(0, gomem_scavenge(self->h, 0, NULL));
	pages2 = gm_user_pages();
	EXPECT_GE(pages1 - pages0, (long long)(8 * MiB / 4096));
	EXPECT_LE(pages2, pages0);
}

/* heaps/total: a line for this heap, with its owner. */
TEST_F(heap, total)
{
	char line[256], comm[64];
	unsigned long long id;
	int pid, found = 0;
	FILE *f = fopen(GOMEM_HEAPS "/total", "r");

	ASSERT_NE(NULL, f) TH_LOG("%s: %s", GOMEM_HEAPS "/total", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llu %d %63s", &id, &pid, comm) == 3 && id == self->st.heap_id64)
			found = pid == getpid();
	fclose(f);
	EXPECT_TRUE(found);
}

TEST_HARNESS_MAIN
