// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libgomem: a thin layer over the /dev/gomem ioctls (include/uapi/linux/
 * gomem.h). Every function may be called by several threads at once; the
 * kernel serialises what needs it.
 *
 * With GOMEM_FEATURE_GC a heap is garbage collected, and a cycle must not
 * run while another thread writes pointers into the heap. A heap has a
 * "world" lock for that: threads that write pointers do so inside mutator
 * sections (gomem_mutator_enter/exit), and a cycle runs only once every
 * thread in a section is out of it or parked inside libgomem, waiting for
 * the cycle itself. Allocations ask the kernel not to collect
 * (GOMEM_ALLOC_NOGC); when it answers -EAGAIN, a cycle is due, and the
 * allocating thread stops the world and allocates again without the flag,
 * so that the kernel runs the cycle while no thread writes pointers.
 *
 * A thread in a section may hold objects it allocated in that section and
 * not yet stored anywhere the collector looks. So that a cycle run while
 * it is parked does not free them, each thread remembers the objects of
 * its current section, and registers that list as a root range while it
 * is parked.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
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
	__u64 features;
	/* The world lock: @lock guards the counts, @cond signals changes. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int active;	/* threads in a section or an allocation, not parked */
	unsigned int waiting;	/* threads waiting to stop the world */
	bool stopped;		/* one of them has stopped it */
};

/*
 * One thread's mutator section on one heap: how deep it is nested, and
 * the objects allocated since the outermost gomem_mutator_enter().
 */
struct section {
	struct gomem_heap *h;
	unsigned int depth;
	__u64 *objs;
	size_t nobjs, cap;
	struct section *next;
};

static _Thread_local struct section *sections;

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

static bool has_gc(const struct gomem_heap *h)
{
	return h->features & GOMEM_FEATURE_GC;
}

struct gomem_heap *gomem_open(const char *path)
{
	struct gomem_version v;
	struct gomem_heap *h;
	int err;

	h = calloc(1, sizeof(*h));
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
	if (!err) {
		err = pthread_mutex_init(&h->lock, NULL);
		if (!err) {
			err = pthread_cond_init(&h->cond, NULL);
			if (err)
				pthread_mutex_destroy(&h->lock);
		}
	}
	if (!err) {
		h->features = v.features;
		return h;
	}
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
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
	errno = err;
}

int gomem_fd(const struct gomem_heap *h)
{
	return h->fd;
}

uint64_t gomem_features(const struct gomem_heap *h)
{
	return h->features;
}

/* ---- the world lock ---- */

static struct section *find_section(const struct gomem_heap *h)
{
	struct section *s;

	for (s = sections; s; s = s->next)
		if (s->h == h)
			return s;
	return NULL;
}

/* Become an active mutator: wait while the world is stopped or about to be. */
static void world_enter(struct gomem_heap *h)
{
	pthread_mutex_lock(&h->lock);
	while (h->stopped || h->waiting)
		pthread_cond_wait(&h->cond, &h->lock);
	h->active++;
	pthread_mutex_unlock(&h->lock);
}

static void world_exit(struct gomem_heap *h)
{
	pthread_mutex_lock(&h->lock);
	if (!--h->active && h->waiting)
		pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/*
 * Register (@add) or unregister the objects of section @s as root ranges,
 * in pieces of at most GOMEM_ROOT_MAX_LEN bytes. Unregistering goes on
 * past errors; registering undoes what it did when a piece fails.
 */
static int section_roots(struct gomem_heap *h, struct section *s, bool add)
{
	size_t per = GOMEM_ROOT_MAX_LEN / sizeof(__u64), i;
	int err = 0;

	for (i = 0; i < s->nobjs; i += per) {
		struct gomem_root r = {
			.addr = to_u64(s->objs + i),
			.len = (s->nobjs - i < per ? s->nobjs - i : per) * sizeof(__u64),
		};
		int e = gomem_ioctl(h, add ? GOMEM_IOC_ROOT_ADD : GOMEM_IOC_ROOT_DEL, &r);

		if (e && add) {
			size_t n = i;

			for (i = 0; i < n; i += per) {
				struct gomem_root u = { .addr = to_u64(s->objs + i) };

				gomem_ioctl(h, GOMEM_IOC_ROOT_DEL, &u);
			}
			return e;
		}
		if (e && !err)
			err = e;
	}
	return err;
}

/*
 * Stop the heap's world: wait until no thread is active in it. A thread in
 * a section (@s) parks first: it stops counting as active, and the objects
 * of its section become roots until stop_world()'s caller is done.
 */
static int stop_world(struct gomem_heap *h, struct section *s)
{
	if (s) {
		int err = section_roots(h, s, true);

		if (err)
			return err;
	}
	pthread_mutex_lock(&h->lock);
	if (s)
		h->active--;
	h->waiting++;
	if (!h->active)
		pthread_cond_broadcast(&h->cond);
	while (h->stopped || h->active)
		pthread_cond_wait(&h->cond, &h->lock);
	h->waiting--;
	h->stopped = true;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* Let the world go again; a parked thread is active again at once. */
static void start_world(struct gomem_heap *h, struct section *s)
{
	pthread_mutex_lock(&h->lock);
	h->stopped = false;
	if (s)
		h->active++;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	if (s)
		section_roots(h, s, false);
}

int gomem_mutator_enter(struct gomem_heap *h)
{
	struct section *s = find_section(h);

	if (s) {
		if (s->depth == UINT_MAX)
			return -EOVERFLOW;
		s->depth++;
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->h = h;
	s->depth = 1;
	world_enter(h);
	s->next = sections;
	sections = s;
	return 0;
}

int gomem_mutator_exit(struct gomem_heap *h)
{
	struct section **pp, *s;

	for (pp = &sections; (s = *pp); pp = &s->next)
		if (s->h == h)
			break;
	if (!s)
		return -EPERM;
	if (--s->depth)
		return 0;
	*pp = s->next;
	world_exit(h);
	free(s->objs);
	free(s);
	return 0;
}

int gomem_mutator_depth(const struct gomem_heap *h)
{
	struct section *s = find_section(h);

	return s ? (int)s->depth : 0;
}

/* Remember @n objects allocated in section @s; on failure they are freed. */
static int track(struct gomem_heap *h, struct section *s, const __u64 *addrs, size_t n)
{
	size_t i;

	if (s->cap - s->nobjs < n) {
		size_t cap = s->cap ? s->cap : 64;
		__u64 *objs;

		while (cap - s->nobjs < n)
			cap *= 2;
		objs = realloc(s->objs, cap * sizeof(*objs));
		if (!objs) {
			for (i = 0; i < n; i++) {
				struct gomem_free f = { .addr = addrs[i] };

				gomem_ioctl(h, GOMEM_IOC_FREE, &f);
			}
			return -ENOMEM;
		}
		s->objs = objs;
		s->cap = cap;
	}
	memcpy(s->objs + s->nobjs, addrs, n * sizeof(*addrs));
	s->nobjs += n;
	return 0;
}

static int gc_ioctl(struct gomem_heap *h, unsigned int flags, struct gomem_gc_stats *st)
{
	struct gomem_gc g = { .flags = flags };

	if (st) {
		memset(st, 0, sizeof(*st));
		g.buf = to_u64(st);
		g.size = sizeof(*st);
	}
	return gomem_ioctl(h, GOMEM_IOC_GC, &g);
}

/*
 * One allocating command (@cmd with @arg, whose flags are at @flags) made
 * the way a mutator must: without letting the kernel collect while other
 * threads may write pointers. A caller that passes GOMEM_ALLOC_NOGC
 * itself gets -EAGAIN back as it is.
 */
static int alloc_ioctl(struct gomem_heap *h, unsigned long cmd, void *arg, __u32 *flags)
{
	struct section *s;
	int err;

	if (!has_gc(h) || (*flags & GOMEM_ALLOC_NOGC))
		return gomem_ioctl(h, cmd, arg);
	s = find_section(h);
	*flags |= GOMEM_ALLOC_NOGC;
	if (!s)
		world_enter(h);
	err = gomem_ioctl(h, cmd, arg);
	if (!s)
		world_exit(h);
	if (err != -EAGAIN)
		return err;
	/*
	 * A cycle is due: stop the world and allocate without
	 * GOMEM_ALLOC_NOGC, so that the kernel runs the cycle and then
	 * allocates, in one call. (GOMEM_IOC_GC with GOMEM_GC_IF_DUE first
	 * would run a second cycle for an object that alone passes the goal
	 * the first one sets: the kernel counts the object in.)
	 */
	err = stop_world(h, s);
	if (err)
		return err;
	*flags &= ~GOMEM_ALLOC_NOGC;
	err = gomem_ioctl(h, cmd, arg);
	start_world(h, s);
	return err;
}

/* ---- objects ---- */

void *gomem_alloc(struct gomem_heap *h, size_t size, unsigned int flags)
{
	struct gomem_alloc a = { .size = size, .flags = flags };
	struct section *s = has_gc(h) ? find_section(h) : NULL;
	int err = alloc_ioctl(h, GOMEM_IOC_ALLOC, &a, &a.flags);

	if (!err && s)
		err = track(h, s, &a.addr, 1);
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
	struct section *s = has_gc(h) ? find_section(h) : NULL;
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

		err = alloc_ioctl(h, GOMEM_IOC_ALLOC_BULK, &b, &b.flags);
		/* void * and __u64 have one size and representation here. */
		if (!err && s)
			err = track(h, s, (const __u64 *)(out + done), b.count);
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

/* ---- the collector ---- */

static int root_ioctl(struct gomem_heap *h, unsigned long cmd, const void *addr,
		      size_t len, unsigned int flags)
{
	struct gomem_root r = { .addr = to_u64(addr), .len = len, .flags = flags };

	return gomem_ioctl(h, cmd, &r);
}

int gomem_root_add(struct gomem_heap *h, const void *addr, size_t len)
{
	return root_ioctl(h, GOMEM_IOC_ROOT_ADD, addr, len, 0);
}

int gomem_root_del(struct gomem_heap *h, const void *addr)
{
	return root_ioctl(h, GOMEM_IOC_ROOT_DEL, addr, 0, 0);
}

int gomem_root_add_object(struct gomem_heap *h, const void *obj)
{
	return root_ioctl(h, GOMEM_IOC_ROOT_ADD, obj, 0, GOMEM_ROOT_OBJECT);
}

int gomem_root_del_object(struct gomem_heap *h, const void *obj)
{
	return root_ioctl(h, GOMEM_IOC_ROOT_DEL, obj, 0, GOMEM_ROOT_OBJECT);
}

static int collect(struct gomem_heap *h, unsigned int flags, struct gomem_gc_stats *st)
{
	struct section *s = find_section(h);
	int err = stop_world(h, s);

	if (err)
		return err;
	err = gc_ioctl(h, flags, st);
	start_world(h, s);
	return err;
}

int gomem_gc(struct gomem_heap *h, struct gomem_gc_stats *st)
{
	return collect(h, 0, st);
}

int gomem_gc_if_due(struct gomem_heap *h, struct gomem_gc_stats *st)
{
	return collect(h, GOMEM_GC_IF_DUE, st);
}

static int set_gc(struct gomem_heap *h, struct gomem_gc_params *p)
{
	return gomem_ioctl(h, GOMEM_IOC_SET_GC, p);
}

int gomem_gc_params(struct gomem_heap *h, int *gogc, uint64_t *memory_limit)
{
	struct gomem_gc_params p = { 0 };
	int err = set_gc(h, &p);

	if (err)
		return err;
	if (gogc)
		*gogc = p.old_gogc;
	if (memory_limit)
		*memory_limit = p.old_limit;
	return 0;
}

int gomem_set_gcpercent(struct gomem_heap *h, int percent)
{
	struct gomem_gc_params p = {
		.gogc = percent < 0 ? GOMEM_GOGC_OFF : percent,
		.flags = GOMEM_GC_SET_GOGC,
	};
	int err = set_gc(h, &p);

	if (err) {
		errno = -err;
		return GOMEM_GCPERCENT_ERROR;
	}
	return p.old_gogc < 0 ? GOMEM_GOGC_OFF : p.old_gogc;
}

int64_t gomem_set_memory_limit(struct gomem_heap *h, int64_t limit)
{
	struct gomem_gc_params p = { 0 };
	int err;

	if (limit >= 0) {
		p.flags = GOMEM_GC_SET_LIMIT;
		p.memory_limit = limit == INT64_MAX ? GOMEM_NO_LIMIT : (__u64)limit;
	}
	err = set_gc(h, &p);
	if (err)
		return err;
	return p.old_limit > INT64_MAX ? INT64_MAX : (int64_t)p.old_limit;
}

int64_t gomem_set_profile_rate(struct gomem_heap *h, int64_t rate)
{
	struct gomem_prof_rate r = { 0 };
	int err;

	if (rate >= 0) {
		r.rate = (__u64)rate;
		r.flags = GOMEM_PROF_SET_RATE;
	}
	err = gomem_ioctl(h, GOMEM_IOC_PROF_RATE, &r);
	return err ? err : (int64_t)r.old_rate;
}

void *gomem_read_heap_profile(struct gomem_heap *h, size_t *len)
{
	struct gomem_prof_read r = { 0 };
	void *buf = NULL, *p;
	int err;

	/* The dump may grow between the call that sizes it and the one that copies it. */
	for (;;) {
		r.buf = (uintptr_t)buf;
		err = gomem_ioctl(h, GOMEM_IOC_PROF_READ, &r);
		if (err) {
			free(buf);
			errno = -err;
			return NULL;
		}
		if (buf && r.size <= r.len)
			break;
		r.len = r.size + 4096;
		p = realloc(buf, r.len);
		if (!p) {
			free(buf);
			errno = ENOMEM;
			return NULL;
		}
		buf = p;
	}
	*len = r.size;
	return buf;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

int gomem_write_heap_profile(struct gomem_heap *h, int fd)
{
	char chunk[4096];
	size_t len;
	void *dump = gomem_read_heap_profile(h, &len);
	ssize_t n;
	int err, maps;

	if (!dump)
		return -errno;
	err = write_all(fd, dump, len);
	free(dump);
	maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (maps < 0)
		return err ? err : -errno;
	while (!err && (n = read(maps, chunk, sizeof(chunk))) > 0)
		err = write_all(fd, chunk, n);
	close(maps);
	return err;
}
