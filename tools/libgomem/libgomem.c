// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libgomem: a thin layer over the /dev/gomem ioctls (include/uapi/linux/
 * gomem.h). A heap is its file descriptor and nothing else, so every
 * function may be called by several threads at once; the kernel
 * serialises what needs it.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libgomem.h"

#define GOMEM_DEFAULT_PATH	"/dev/gomem"

/* Heaps live at 0xc000000000 up, and the kernel writes __u64 addresses. */
_Static_assert(sizeof(void *) == sizeof(__u64), "gomem needs 64-bit pointers");

struct gomem_heap {
	int fd;
};

static inline void *to_ptr(__u64 addr)
{
	return (void *)(uintptr_t)addr;
}

static inline __u64 to_u64(const void *p)
{
	return (__u64)(uintptr_t)p;
}

/* ioctl() as 0 or a negative errno. */
static int gomem_ioctl(const struct gomem_heap *h, unsigned long cmd, void *arg)
{
	return ioctl(h->fd, cmd, arg) ? -errno : 0;
}

struct gomem_heap *gomem_open(const char *path)
{
	struct gomem_version v;
	struct gomem_heap *h;
	int err;

	h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	h->fd = open(path ? path : GOMEM_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		err = errno;
		goto fail;
	}
	memset(&v, 0, sizeof(v));
	err = -gomem_ioctl(h, GOMEM_IOC_VERSION, &v);
	if (!err && v.abi_version != GOMEM_ABI_VERSION)
		err = EPROTO;
	if (!err && !(v.features & GOMEM_FEATURE_HEAP))
		err = ENOTSUP;
	if (!err)
		return h;
	close(h->fd);
fail:
	free(h);
	errno = err;
	return NULL;
}

void gomem_close(struct gomem_heap *h)
{
	int err = errno;

	if (!h)
		return;
	close(h->fd);
	free(h);
	errno = err;
}

int gomem_fd(const struct gomem_heap *h)
{
	return h->fd;
}

void *gomem_alloc(struct gomem_heap *h, size_t size, unsigned int flags)
{
	struct gomem_alloc a = { .size = size, .flags = flags };
	int err = gomem_ioctl(h, GOMEM_IOC_ALLOC, &a);

	if (err) {
		errno = -err;
		return NULL;
	}
	return to_ptr(a.addr);
}

void *gomem_malloc(struct gomem_heap *h, size_t size)
{
	return gomem_alloc(h, size, 0);
}

void *gomem_calloc(struct gomem_heap *h, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return gomem_alloc(h, bytes, GOMEM_ALLOC_ZERO);
}

static int free_addr(struct gomem_heap *h, __u64 addr)
{
	struct gomem_free f = { .addr = addr };

	return gomem_ioctl(h, GOMEM_IOC_FREE, &f);
}

int gomem_alloc_bulk(struct gomem_heap *h, size_t size, unsigned int flags,
		     void **out, size_t count)
{
	size_t done = 0, i;
	int err = 0;

	if (!count)
		return -EINVAL;
	while (done < count) {
		size_t n = count - done;
		struct gomem_alloc_bulk b = {
			.size = size,
			.flags = flags,
			.count = n < GOMEM_BULK_MAX ? n : GOMEM_BULK_MAX,
			.addrs = to_u64(out + done),
		};

		err = gomem_ioctl(h, GOMEM_IOC_ALLOC_BULK, &b);
		if (err)
			break;
		done += b.count;
	}
	if (!err)
		return 0;
	/* All or nothing: give back what the earlier batches got. */
	for (i = 0; i < done; i++) {
		free_addr(h, to_u64(out[i]));
		out[i] = NULL;
	}
	return err;
}

int gomem_free(struct gomem_heap *h, void *p)
{
	return free_addr(h, to_u64(p));
}

size_t gomem_usable_size(struct gomem_heap *h, const void *p)
{
	struct gomem_free f = { .addr = to_u64(p) };
	int err = gomem_ioctl(h, GOMEM_IOC_SIZE, &f);

	if (err) {
		errno = -err;
		return 0;
	}
	return f.size;
}

int gomem_stats(struct gomem_heap *h, struct gomem_memstats *st)
{
	struct gomem_stats s = {
		.buf = to_u64(st),
		.size = sizeof(*st),
	};

	/* An older module writes less: the rest reads as 0. */
	memset(st, 0, sizeof(*st));
	return gomem_ioctl(h, GOMEM_IOC_STATS, &s);
}

int gomem_class_stats(struct gomem_heap *h, struct gomem_class_stat *tab)
{
	struct gomem_class_stats s = {
		.buf = to_u64(tab),
		.count = GOMEM_NUM_SIZE_CLASSES,
		.entry_size = sizeof(*tab),
	};
	int err = gomem_ioctl(h, GOMEM_IOC_CLASS_STATS, &s);

	return err ? err : (int)s.count;
}

int gomem_scavenge(struct gomem_heap *h, uint64_t max_bytes, uint64_t *released)
{
	struct gomem_scavenge s = { .max_bytes = max_bytes };
	int err = gomem_ioctl(h, GOMEM_IOC_SCAVENGE, &s);

	if (!err && released)
		*released = s.released;
	return err;
}

static int cap_ioctl(struct gomem_heap *h, uint64_t cap_bytes, unsigned int flags,
		     uint64_t *old)
{
	struct gomem_cap c = { .cap_bytes = cap_bytes, .flags = flags };
	int err = gomem_ioctl(h, GOMEM_IOC_SET_CAP, &c);

	if (!err)
		*old = c.old_cap;
	return err;
}

int gomem_set_cap(struct gomem_heap *h, uint64_t cap_bytes, uint64_t *old)
{
	uint64_t prev;
	int err = cap_ioctl(h, cap_bytes, 0, &prev);

	if (!err && old)
		*old = prev;
	return err;
}

int64_t gomem_get_cap(struct gomem_heap *h)
{
	uint64_t cap;
	int err = cap_ioctl(h, 0, GOMEM_CAP_QUERY, &cap);

	if (err)
		return err;
	return cap > INT64_MAX ? -EOVERFLOW : (int64_t)cap;
}
