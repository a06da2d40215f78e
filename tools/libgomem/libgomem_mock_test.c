// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libgomem without the kernel: this program defines ioctl() itself, so
 * that the library's calls reach a fake /dev/gomem (any file opened as
 * the device), and checks what the library sends and how it reacts:
 * the version check, bulk splitting and its rollback, the stats size,
 * argument passing of the other commands. Run by "make test".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libgomem.h"

#define OLD_STATS_SIZE	offsetof(struct gomem_memstats, cap_bytes)

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
		failures++;						\
	}								\
} while (0)

/* What the fake module answers and counts. */
static struct {
	__u32 abi;
	__u64 features;
	unsigned int bulk_calls;
	unsigned int bulk_fail_at;	/* fail the nth bulk call (1-based) */
	unsigned int frees;
	__u64 next_addr;
	__u32 stats_size;
	__u64 cap;
} fake;

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	(void)fd;
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);

	switch (cmd) {
	case GOMEM_IOC_VERSION: {
		struct gomem_version *v = arg;

		v->abi_version = fake.abi;
		v->features = fake.features;
		return 0;
	}
	case GOMEM_IOC_ALLOC: {
		struct gomem_alloc *a = arg;

		if (!a->size || a->flags & ~GOMEM_ALLOC_FLAGS)
			break;
		a->addr = fake.next_addr;
		a->usable = a->size;
		fake.next_addr += 4096;
		return 0;
	}
	case GOMEM_IOC_ALLOC_BULK: {
		struct gomem_alloc_bulk *b = arg;
		__u64 *addrs = (__u64 *)(uintptr_t)b->addrs;
		__u32 i;

		if (!b->count || b->count > GOMEM_BULK_MAX)
			break;
		if (++fake.bulk_calls == fake.bulk_fail_at) {
			errno = ENOMEM;
			return -1;
		}
		for (i = 0; i < b->count; i++) {
			addrs[i] = fake.next_addr;
			fake.next_addr += 16;
		}
		return 0;
	}
	case GOMEM_IOC_FREE:
		fake.frees++;
		return 0;
	case GOMEM_IOC_SIZE:
		((struct gomem_free *)arg)->size = 48;
		return 0;
	case GOMEM_IOC_STATS: {
		struct gomem_stats *s = arg;
		struct gomem_memstats *m = (void *)(uintptr_t)s->buf;

		fake.stats_size = s->size;
		if (s->flags || s->size < GOMEM_MEMSTATS_SIZE_VER0)
			break;
		/* A module with fewer fields: the caller's tail stays. */
		memset(m, 0x11, OLD_STATS_SIZE);
		m->size = OLD_STATS_SIZE;
		s->size = OLD_STATS_SIZE;
		return 0;
	}
	case GOMEM_IOC_CLASS_STATS: {
		struct gomem_class_stats *s = arg;

		if (s->entry_size != sizeof(struct gomem_class_stat) ||
		    s->count < GOMEM_NUM_SIZE_CLASSES)
			break;
		s->count = GOMEM_NUM_SIZE_CLASSES;
		return 0;
	}
	case GOMEM_IOC_SCAVENGE:
		((struct gomem_scavenge *)arg)->released = 8192;
		return 0;
	case GOMEM_IOC_SET_CAP: {
		struct gomem_cap *c = arg;

		c->old_cap = fake.cap;
		if (!(c->flags & GOMEM_CAP_QUERY))
			fake.cap = c->cap_bytes;
		return 0;
	}
	default:
		errno = ENOTTY;
		return -1;
	}
	errno = EINVAL;
	return -1;
}

static struct gomem_heap *open_fake(__u32 abi, __u64 features)
{
	fake.abi = abi;
	fake.features = features;
	return gomem_open("/dev/null");
}

static void test_open(void)
{
	struct gomem_heap *h;

	errno = 0;
	CHECK(!gomem_open("/nonexistent/gomem") && errno == ENOENT);
	CHECK(!open_fake(GOMEM_ABI_VERSION + 1, GOMEM_FEATURES_ALL) && errno == EPROTO);
	CHECK(!open_fake(GOMEM_ABI_VERSION, GOMEM_FEATURE_DEBUGFS) && errno == ENOTSUP);
	h = open_fake(GOMEM_ABI_VERSION, GOMEM_FEATURES_ALL);
	CHECK(h && gomem_fd(h) >= 0);
	errno = 1234;
	gomem_close(h);
	CHECK(errno == 1234);
	gomem_close(NULL);
}

static void test_bulk(struct gomem_heap *h)
{
	size_t count = 2 * GOMEM_BULK_MAX + 5, i;
	void **out = calloc(count, sizeof(*out));

	fake.bulk_calls = 0;
	fake.bulk_fail_at = 0;
	CHECK(gomem_alloc_bulk(h, 16, 0, out, count) == 0);
	CHECK(fake.bulk_calls == 3);
	for (i = 1; i < count; i++)
		CHECK((char *)out[i] - (char *)out[i - 1] == 16);

	/* The third call fails: the first two batches are given back. */
	memset(out, 0, count * sizeof(*out));
	fake.bulk_calls = 0;
	fake.bulk_fail_at = 3;
	fake.frees = 0;
	CHECK(gomem_alloc_bulk(h, 16, 0, out, count) == -ENOMEM);
	CHECK(fake.frees == 2 * GOMEM_BULK_MAX);
	for (i = 0; i < count; i++)
		CHECK(!out[i]);

	CHECK(gomem_alloc_bulk(h, 16, 0, out, 0) == -EINVAL);
	free(out);
}

static void test_commands(struct gomem_heap *h)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	struct gomem_memstats st;
	uint64_t v = 0;

	CHECK(gomem_malloc(h, 100) != NULL);
	CHECK(gomem_calloc(h, 3, 7) != NULL);
	errno = 0;
	CHECK(!gomem_calloc(h, SIZE_MAX / 2, 3) && errno == ENOMEM);
	errno = 0;
	CHECK(!gomem_alloc(h, 0, 0) && errno == EINVAL);
	CHECK(gomem_free(h, (void *)0xc000000000) == 0);
	CHECK(gomem_usable_size(h, (void *)0xc000000000) == 48);

	memset(&st, 0xff, sizeof(st));
	CHECK(gomem_stats(h, &st) == 0);
	CHECK(fake.stats_size == sizeof(st));
	CHECK(st.size == OLD_STATS_SIZE);
	CHECK(!st.cap_bytes && !st.lost_bytes && !st.scavenged_bytes);
	CHECK(st.heap_alloc == 0x1111111111111111ULL);

	CHECK(gomem_class_stats(h, tab) == GOMEM_NUM_SIZE_CLASSES);
	CHECK(gomem_scavenge(h, 0, &v) == 0 && v == 8192);
	CHECK(gomem_scavenge(h, 0, NULL) == 0);
	fake.cap = 0;
	CHECK(gomem_set_cap(h, 1 << 20, &v) == 0 && v == 0);
	CHECK(gomem_get_cap(h) == 1 << 20);
	CHECK(gomem_set_cap(h, 0, NULL) == 0);
	CHECK(gomem_get_cap(h) == 0);
}

int main(void)
{
	struct gomem_heap *h;

	test_open();
	h = open_fake(GOMEM_ABI_VERSION, GOMEM_FEATURES_ALL);
	if (!h) {
		perror("fake open");
		return 1;
	}
	fake.next_addr = 0xc000000000ULL;
	test_bulk(h);
	test_commands(h);
	gomem_close(h);
	printf("libgomem mock test: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
