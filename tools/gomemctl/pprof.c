// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl pprof: a heap's profile for `go tool pprof`.
 *
 *   gomemctl pprof [-o FILE] HEAP       heap id (heaps/<id>) or kernel heap
 *                                       name (kheaps/<name>), from debugfs
 *   gomemctl pprof [-o FILE] -i DUMP    a recorded dump (gomem_write_heap_profile())
 *   gomemctl pprof --raw [-o FILE] HEAP the dump itself, with the owner's maps
 *
 * The kernel gives a dump of sample counts and stacks (uapi
 * GOMEM_IOC_PROF_READ); this file writes it as pprof's profile.proto, the
 * format of Go's heap profiles: four sample types (alloc_objects,
 * alloc_space, inuse_objects, inuse_space), counts scaled by the rate as
 * Go's scaleHeapSample does, locations by address with the mappings of
 * the heap owner's /proc/PID/maps, and their functions' names: from the
 * symbol tables of the mapped files where they can be read (as Go's
 * runtime/pprof names them, so that the profile needs no binary), from
 * /proc/kallsyms for kernel stacks; gzip-compressed with zlib.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <linux/gomem.h>

#include "elfsym.h"
#include "pprof.h"

#define DEBUGFS_DEFAULT	"/sys/kernel/debug/gomem"

/* === protobuf writing =================================================== */

struct pbuf {
	unsigned char *p;
	size_t n, cap;
	bool oom;
};

static void pb_put(struct pbuf *b, const void *src, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *p;

		while (cap < b->n + len)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, len);
	b->n += len;
}

static void pb_varint(struct pbuf *b, uint64_t v)
{
	unsigned char c[10];
	size_t n = 0;

	do {
		c[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	pb_put(b, c, n);
}

/* Wire types: 0 varint, 2 length-delimited. */
static void pb_uint(struct pbuf *b, unsigned int field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3);
	pb_varint(b, v);
}

static void pb_bytes(struct pbuf *b, unsigned int field, const void *p, size_t len)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, len);
	pb_put(b, p, len);
}

/* A submessage: its fields were written to @sub, which is emptied. */
static void pb_msg(struct pbuf *b, unsigned int field, struct pbuf *sub)
{
	b->oom |= sub->oom;
	pb_bytes(b, field, sub->p, sub->n);
	sub->n = 0;
}

/* === the string table =================================================== */

struct strtab {
	char **s;
	size_t n, cap;
	bool oom;
};

static uint64_t str_id(struct strtab *t, const char *s)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->s[i], s))
			return i;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **p = realloc(t->s, cap * sizeof(*p));

		if (!p) {
			t->oom = true;
			return 0;
		}
		t->s = p;
		t->cap = cap;
	}
	t->s[t->n] = strdup(s);
	if (!t->s[t->n]) {
		t->oom = true;
		return 0;
	}
	return t->n++;
}

static void str_free(struct strtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
}

/* === the dump =========================================================== */

size_t pprof_dump_size(const void *buf, size_t len)
{
	const struct gomem_prof_header *h = buf;
	const unsigned char *p = buf;
	size_t off = sizeof(*h);
	uint64_t i;

	if (len < sizeof(*h) || h->magic != GOMEM_PROF_MAGIC || h->version != GOMEM_PROF_VERSION)
		return 0;
	for (i = 0; i < h->nrecords; i++) {
		struct gomem_prof_record r;

		if (len - off < sizeof(r))
			return 0;
		memcpy(&r, p + off, sizeof(r));
		if (r.depth > GOMEM_PROF_MAX_DEPTH)
			return 0;
		off += sizeof(r);
		if (len - off < r.depth * sizeof(__u64))
			return 0;
		off += r.depth * sizeof(__u64);
	}
	return off;
}

/* === mappings and kernel symbols ======================================== */

/*
 * An executable mapping; @sym is read at its first location, and the
 * mapping has functions when every one of its @nlocs locations was named.
 */
struct mapping {
	uint64_t start, limit, offset;
	char *file;
	struct elfsym sym;
	bool sym_tried;
	size_t nlocs, nnamed;
};

struct maptab {
	struct mapping *m;
	size_t n;
};

/* The executable mappings of a maps file: where code addresses can be. */
static void maps_parse(const char *text, struct maptab *t)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char perms[8], path[4096] = "";
		uint64_t start, end, offset;
		struct mapping *m;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %4095[^\n]",
			   &start, &end, perms, &offset, path) >= 4 && strchr(perms, 'x')) {
			m = realloc(t->m, (t->n + 1) * sizeof(*m));
			if (m) {
				t->m = m;
				m += t->n++;
				memset(m, 0, sizeof(*m));
				m->start = start;
				m->limit = end;
				m->offset = offset;
				m->file = strdup(path);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
}

static size_t mapping_of(const struct maptab *t, uint64_t addr)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (addr >= t->m[i].start && addr < t->m[i].limit)
			return i + 1;
	return 0;
}

struct ksym {
	uint64_t addr;
	char *name;
};

struct ksymtab {
	struct ksym *s;
	size_t n;
};

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Text symbols of /proc/kallsyms (addresses read as root), sorted. */
static void kallsyms_parse(const char *text, struct ksymtab *t)
{
	const char *line = text;
	size_t cap = 0;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char type, name[256];
		uint64_t addr;

		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) == 3 && addr &&
		    (type == 't' || type == 'T')) {
			if (t->n == cap) {
				struct ksym *s;

				cap = cap ? cap * 2 : 4096;
				s = realloc(t->s, cap * sizeof(*s));
				if (!s)
					break;
				t->s = s;
			}
			t->s[t->n].addr = addr;
			t->s[t->n++].name = strdup(name);
		}
		line = nl ? nl + 1 : NULL;
	}
	if (t->n)
		qsort(t->s, t->n, sizeof(*t->s), ksym_cmp);
}

static const char *ksym_of(const struct ksymtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->s[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? t->s[lo - 1].name : NULL;
}

/* === the profile ======================================================== */

/*
 * Go's scaleHeapSample: a sample of average size s stands for
 * 1 / (1 - exp(-s / rate)) allocations like it.
 */
static void scale(uint64_t count, uint64_t bytes, uint64_t rate, int64_t *c, int64_t *b)
{
	double avg, f;

	if (!count || !bytes) {
		*c = 0;
		*b = 0;
		return;
	}
	if (rate <= 1) {
		*c = (int64_t)count;
		*b = (int64_t)bytes;
		return;
	}
	avg = (double)bytes / (double)count;
	f = 1 / (1 - exp(-avg / (double)rate));
	*c = (int64_t)((double)count * f);
	*b = (int64_t)((double)bytes * f);
}

/* Locations, one per address; ids from 1 in order of appearance. */
struct loctab {
	uint64_t *addr;
	size_t n, cap;
};

static uint64_t loc_id(struct loctab *t, uint64_t addr, bool *new)
{
	size_t i;

	*new = false;
	for (i = 0; i < t->n; i++)
		if (t->addr[i] == addr)
			return i + 1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		uint64_t *p = realloc(t->addr, cap * sizeof(*p));

		if (!p)
			return 0;
		t->addr = p;
		t->cap = cap;
	}
	t->addr[t->n++] = addr;
	*new = true;
	return t->n;
}

struct encoder {
	struct pbuf out, sub, sub2;
	struct strtab str;
	struct loctab locs;
	struct maptab maps;
	struct ksymtab ksyms;
	uint64_t nfuncs;
	bool kernel;
};

static void value_type(struct encoder *e, unsigned int field, const char *type,
		       const char *unit)
{
	pb_uint(&e->sub, 1, str_id(&e->str, type));
	pb_uint(&e->sub, 2, str_id(&e->str, unit));
	pb_msg(&e->out, field, &e->sub);
}

/* The function of a user address, from its mapping's file (read once). */
static const char *user_func(struct encoder *e, size_t mapping, uint64_t addr)
{
	struct mapping *m = &e->maps.m[mapping - 1];
	const char *name = NULL;

	if (!m->sym_tried) {
		m->sym_tried = true;
		if (m->file && m->file[0] == '/')
			elfsym_open(m->file, &m->sym);
	}
	m->nlocs++;
	name = elfsym_lookup(&m->sym, addr - m->start + m->offset);
	if (name)
		m->nnamed++;
	return name;
}

/* A new location: its mapping, and its function by name where it is known. */
static void location(struct encoder *e, uint64_t id, uint64_t addr)
{
	size_t mapping = e->kernel ? 1 : mapping_of(&e->maps, addr);
	const char *name;

	if (e->kernel)
		name = ksym_of(&e->ksyms, addr);
	else
		name = mapping ? user_func(e, mapping, addr) : NULL;
	pb_uint(&e->sub, 1, id);
	if (mapping)
		pb_uint(&e->sub, 2, mapping);
	pb_uint(&e->sub, 3, addr);
	if (name) {
		/* Function = Line's function_id; one function per location is enough here. */
		pb_uint(&e->sub2, 1, ++e->nfuncs);
		pb_msg(&e->sub, 4, &e->sub2);
		pb_uint(&e->sub2, 1, e->nfuncs);
		pb_uint(&e->sub2, 2, str_id(&e->str, name));
		pb_uint(&e->sub2, 3, str_id(&e->str, name));
		/* Written now, out of order: protobuf fields may come in any order. */
		pb_msg(&e->out, 5, &e->sub2);
	}
	pb_msg(&e->out, 4, &e->sub);
}

static void sample(struct encoder *e, const struct gomem_prof_record *r, const __u64 *pcs,
		   uint64_t rate)
{
	uint64_t ids[GOMEM_PROF_MAX_DEPTH];
	int64_t v[4];
	uint32_t d;
	bool new;

	scale(r->allocs, r->alloc_bytes, rate, &v[0], &v[1]);
	scale(r->allocs - r->frees, r->alloc_bytes - r->free_bytes, rate, &v[2], &v[3]);
	/* New locations first: location() uses the scratch buffers. */
	for (d = 0; d < r->depth; d++) {
		/* Return addresses point past the call: name the call's line instead. */
		uint64_t addr = d ? pcs[d] - 1 : pcs[d];

		ids[d] = loc_id(&e->locs, addr, &new);
		if (new)
			location(e, ids[d], addr);
	}
	/* Packed repeated fields: location_id, then value. */
	for (d = 0; d < r->depth; d++)
		pb_varint(&e->sub2, ids[d]);
	pb_msg(&e->sub, 1, &e->sub2);
	for (d = 0; d < 4; d++)
		pb_varint(&e->sub2, (uint64_t)v[d]);
	pb_msg(&e->sub, 2, &e->sub2);
	pb_msg(&e->out, 2, &e->sub);
}

static void mappings(struct encoder *e)
{
	size_t i;

	if (e->kernel) {
		pb_uint(&e->sub, 1, 1);
		pb_uint(&e->sub, 5, str_id(&e->str, "[kernel.kallsyms]"));
		pb_uint(&e->sub, 7, 1);	/* has_functions */
		pb_msg(&e->out, 3, &e->sub);
		return;
	}
	for (i = 0; i < e->maps.n; i++) {
		const struct mapping *m = &e->maps.m[i];

		pb_uint(&e->sub, 1, i + 1);
		pb_uint(&e->sub, 2, m->start);
		pb_uint(&e->sub, 3, m->limit);
		pb_uint(&e->sub, 4, m->offset);
		pb_uint(&e->sub, 5, str_id(&e->str, m->file));
		/* Every location named: pprof needs no binary for this one. */
		if (m->nlocs && m->nnamed == m->nlocs)
			pb_uint(&e->sub, 7, 1);
		pb_msg(&e->out, 3, &e->sub);
	}
}

static void encode(struct encoder *e, const unsigned char *dump)
{
	const struct gomem_prof_header *h = (const void *)dump;
	const unsigned char *p = dump + sizeof(*h);
	struct timespec ts;
	uint64_t i;
	size_t s;

	str_id(&e->str, "");
	value_type(e, 1, "alloc_objects", "count");
	value_type(e, 1, "alloc_space", "bytes");
	value_type(e, 1, "inuse_objects", "count");
	value_type(e, 1, "inuse_space", "bytes");
	for (i = 0; i < h->nrecords; i++) {
		struct gomem_prof_record r;

		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if (r.depth)
			sample(e, &r, (const __u64 *)p, h->rate);
		p += r.depth * sizeof(__u64);
	}
	mappings(e);
	clock_gettime(CLOCK_REALTIME, &ts);
	pb_uint(&e->out, 9, (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	value_type(e, 11, "space", "bytes");
	pb_uint(&e->out, 12, h->rate);
	/* The string table last: every id above is in it now. */
	for (s = 0; s < e->str.n; s++)
		pb_bytes(&e->out, 6, e->str.s[s], strlen(e->str.s[s]));
}

static int gzip_write(const struct pbuf *b, FILE *out, const char **err)
{
	unsigned char chunk[65536];
	z_stream z = { 0 };
	int ret;

	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		*err = "zlib: deflateInit2 failed";
		return -1;
	}
	z.next_in = b->p;
	z.avail_in = b->n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		ret = deflate(&z, Z_FINISH);
		if (fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) !=
		    sizeof(chunk) - z.avail_out) {
			*err = "write failed";
			deflateEnd(&z);
			return -1;
		}
	} while (ret == Z_OK);
	deflateEnd(&z);
	if (ret != Z_STREAM_END) {
		*err = "zlib: deflate failed";
		return -1;
	}
	return 0;
}

int pprof_encode(const void *dump, size_t len, const char *maps, const char *kallsyms,
		 FILE *out, const char **err)
{
	const struct gomem_prof_header *h = dump;
	struct encoder e = { 0 };
	size_t i;
	int ret = -1;

	if (!pprof_dump_size(dump, len)) {
		*err = "not a gomem heap profile dump (or a truncated one)";
		return -1;
	}
	e.kernel = h->flags & GOMEM_PROF_KERNEL_STACKS;
	if (maps && !e.kernel)
		maps_parse(maps, &e.maps);
	if (kallsyms && e.kernel)
		kallsyms_parse(kallsyms, &e.ksyms);
	encode(&e, dump);
	if (e.out.oom || e.str.oom || e.sub.oom || e.sub2.oom)
		*err = "out of memory";
	else
		ret = gzip_write(&e.out, out, err);
	free(e.out.p);
	free(e.sub.p);
	free(e.sub2.p);
	str_free(&e.str);
	free(e.locs.addr);
	for (i = 0; i < e.maps.n; i++) {
		free(e.maps.m[i].file);
		elfsym_close(&e.maps.m[i].sym);
	}
	free(e.maps.m);
	for (i = 0; i < e.ksyms.n; i++)
		free(e.ksyms.s[i].name);
	free(e.ksyms.s);
	return ret;
}

/* === the command ======================================================== */

/* A whole file (debugfs and procfs files say they have no size), NUL-terminated. */
static char *read_all(const char *path, size_t *len)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap + 1);
	ssize_t r;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += r;
		if (n == cap) {
			char *p = realloc(buf, cap * 2 + 1);

			if (!p) {
				r = -1;
				break;
			}
			buf = p;
			cap *= 2;
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

static void pprof_usage(void)
{
	fputs("usage: gomemctl pprof [-o FILE] [--raw] HEAP\n"
	      "       gomemctl pprof [-o FILE] -i DUMP\n"
	      "HEAP: a heap id (debugfs heaps/<id>) or a kernel heap's name (kheaps/<name>)\n",
	      stderr);
}

/* The debugfs dump of heap @heap, with its owner's maps or the kernel's symbols. */
static char *read_heap(const char *dbg, const char *heap, size_t *len, char **maps,
		       char **ksyms)
{
	char path[4096], *owner, *dump;
	size_t olen, mlen;
	int pid = 0;
	bool dev = heap[0] && strspn(heap, "0123456789") == strlen(heap);

	snprintf(path, sizeof(path), "%s/%s/%s/heapprof", dbg, dev ? "heaps" : "kheaps", heap);
	dump = read_all(path, len);
	if (!dump) {
		fprintf(stderr, "gomemctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (!dev) {
		*ksyms = read_all("/proc/kallsyms", &mlen);
		return dump;
	}
	snprintf(path, sizeof(path), "%s/heaps/%s/owner", dbg, heap);
	owner = read_all(path, &olen);
	if (owner && sscanf(owner, "pid %d", &pid) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
		*maps = read_all(path, &mlen);
	}
	if (!*maps)
		fprintf(stderr, "gomemctl: no maps of heap %s's owner: addresses stay unsymbolized\n",
			heap);
	free(owner);
	return dump;
}

int cmd_pprof(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "input", required_argument, NULL, 'i' },
		{ "raw", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dbg = getenv("GOMEMCTL_DEBUGFS") ?: DEBUGFS_DEFAULT;
	const char *output = NULL, *input = NULL, *err = "";
	char *dump = NULL, *maps = NULL, *ksyms = NULL;
	size_t len = 0, dlen;
	bool raw = false;
	FILE *out = stdout;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "o:i:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'i':
			input = optarg;
			break;
		case 'R':
			raw = true;
			break;
		default:
			pprof_usage();
			return 2;
		}
	}
	if (!!input == (optind < argc) || argc - optind > 1) {
		pprof_usage();
		return 2;
	}
	if (input) {
		dump = read_all(input, &len);
		if (!dump) {
			fprintf(stderr, "gomemctl: %s: %s\n", input, strerror(errno));
			return 1;
		}
	} else {
		dump = read_heap(dbg, argv[optind], &len, &maps, &ksyms);
		if (!dump)
			return 1;
	}
	dlen = pprof_dump_size(dump, len);
	if (!dlen) {
		fprintf(stderr, "gomemctl: not a gomem heap profile dump\n");
		goto out;
	}
	/* A recording holds the owner's maps after the dump. */
	if (input && len > dlen)
		maps = strdup(dump + dlen);
	if (output) {
		out = fopen(output, "w");
		if (!out) {
			fprintf(stderr, "gomemctl: %s: %s\n", output, strerror(errno));
			goto out;
		}
	}
	if (raw) {
		/* What gomem_write_heap_profile() records: the dump, then the maps. */
		ret = fwrite(dump, 1, dlen, out) != dlen ||
		      (maps && fputs(maps, out) == EOF);
		if (ret)
			fprintf(stderr, "gomemctl: write failed\n");
	} else if (pprof_encode(dump, dlen, maps, ksyms, out, &err)) {
		fprintf(stderr, "gomemctl: %s\n", err);
	} else {
		ret = 0;
	}
	if (out != stdout && fclose(out) && !ret) {
		fprintf(stderr, "gomemctl: %s: %s\n", output, strerror(errno));
		ret = 1;
	}
out:
	free(dump);
	free(maps);
	free(ksyms);
	return ret;
}
