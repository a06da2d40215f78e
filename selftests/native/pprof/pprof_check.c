// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of the heap profile test: the allocator core, with the
 * user platform's stack capture, samples allocations made by a function
 * of this program; gomemctl's encoder writes the profile; pprof_check.sh
 * then asks `go tool pprof -top` for that function by name. The guest has
 * no Go toolchain, so the kselftest (gomem_prof_test) checks the kernel's
 * dump by addresses, and this program checks that the encoding is one
 * pprof reads and symbolizes.
 *
 *   gomem_pprof_check OUT.pb.gz [RECORDING]
 *
 * writes the profile to OUT.pb.gz, and with RECORDING also the recorded
 * dump (dump + maps) that `gomemctl pprof -i` reads. Prints the expected
 * totals for the script to compare.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include <linux/gomem.h>
#include "pprof.h"

#define RATE		4096
#define KNOWN_BYTES	(8 << 20)	/* allocated by the known function */
#define OTHER_BYTES	(2 << 20)	/* and by another one */

/* Not inlined, no tail call: its frame must be in every sampled stack. */
__attribute__((noinline)) void *gomem_pprof_known_allocator(struct gm_heap *h, size_t size)
{
	void *p = gm_heap_alloc(h, size, 0);

	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

__attribute__((noinline)) void *gomem_pprof_other_allocator(struct gm_heap *h, size_t size)
{
	void *p = gm_heap_alloc(h, size, 0);

	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

/* The core's records as the kernel's dump (heapprof.c does the same). */
static void *make_dump(struct gm_heap *h, size_t *len)
{
	struct gm_prof_record *recs;
	struct gm_prof_info info;
	struct gomem_prof_header *hdr;
	unsigned char *buf, *pos;
	size_t n, i;
	u32 d;

	gm_heap_profile_read(h, NULL, 0, &info);
	recs = calloc(info.buckets + 1, sizeof(*recs));
	n = gm_heap_profile_read(h, recs, info.buckets + 1, &info);
	buf = calloc(1, sizeof(*hdr) + n * (sizeof(struct gomem_prof_record) +
					    GM_PROF_DEPTH * sizeof(__u64)));
	if (!recs || !buf)
		exit(1);
	hdr = (void *)buf;
	hdr->magic = GOMEM_PROF_MAGIC;
	hdr->version = GOMEM_PROF_VERSION;
	hdr->flags = GOMEM_PROF_USER_STACKS;
	hdr->rate = info.rate;
	hdr->nrecords = n;
	hdr->objects = info.objects;
	hdr->dropped = info.dropped;
	pos = buf + sizeof(*hdr);
	for (i = 0; i < n; i++) {
		struct gomem_prof_record r = {
			.allocs = recs[i].allocs, .frees = recs[i].frees,
			.alloc_bytes = recs[i].alloc_bytes, .free_bytes = recs[i].free_bytes,
			.depth = recs[i].depth,
		};

		memcpy(pos, &r, sizeof(r));
		pos += sizeof(r);
		for (d = 0; d < r.depth; d++) {
			__u64 pc = recs[i].pcs[d];

			memcpy(pos, &pc, sizeof(pc));
			pos += sizeof(pc);
		}
	}
	free(recs);
	*len = pos - buf;
	return buf;
}

static char *read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0, cap = 1 << 20;
	char *buf = malloc(cap + 1);

	if (!f || !buf)
		exit(1);
	n = fread(buf, 1, cap, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	struct gm_heap *h = gm_heap_create(&gm_os_pagesrc, NULL);
	static void *live[KNOWN_BYTES / 256];
	const char *err = "";
	size_t len, i;
	char *maps;
	void *dump;
	FILE *out;

	if (argc < 2 || !h)
		return 2;
	gm_heap_set_profile_stacks(h, true);
	gm_heap_set_profile_rate(h, RATE);
	/* Half of the known function's objects stay live: inuse is half of alloc. */
	for (i = 0; i < KNOWN_BYTES / 256; i++)
		live[i] = gomem_pprof_known_allocator(h, 256);
	for (i = 0; i < KNOWN_BYTES / 256; i += 2)
		gm_heap_free(h, live[i]);
	for (i = 0; i < OTHER_BYTES / 4096; i++)
		gm_heap_free(h, gomem_pprof_other_allocator(h, 4096));
	dump = make_dump(h, &len);
	maps = read_maps();
	out = fopen(argv[1], "w");
	if (!out || pprof_encode(dump, len, maps, NULL, out, &err) || fclose(out)) {
		fprintf(stderr, "gomem_pprof_check: %s: %s\n", argv[1], *err ? err : strerror(errno));
		return 1;
	}
	if (argc > 2) {
		out = fopen(argv[2], "w");
		if (!out || fwrite(dump, 1, len, out) != len || fputs(maps, out) == EOF ||
		    fclose(out))
			return 1;
	}
	printf("known_alloc_bytes %d\nknown_inuse_bytes %d\nother_alloc_bytes %d\n",
	       KNOWN_BYTES, KNOWN_BYTES / 2, OTHER_BYTES);
	free(dump);
	free(maps);
	gm_heap_destroy(h);
	return 0;
}
