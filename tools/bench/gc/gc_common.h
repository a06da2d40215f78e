/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the C programs of the GC benchmark share (gomem_gc_bench.c and
 * gc/boehm_bench.c): the clock, the random numbers, the shape of the
 * mark benchmark's graph, and the result lines the driver reads.
 *
 * A child run prints one line that starts with "result " and goes on
 * with key=value words; the driver (gomem_gc_bench without -x) reads
 * them. Every collector sees the same list and the same graph: their
 * shapes come from the same seed, only the allocator differs.
 */
#ifndef _GOMEM_GC_COMMON_H
#define _GOMEM_GC_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Collections timed by the mark benchmark, at most. */
#define GCB_MAX_REPS	31
/* The graph's seed. */
#define GCB_SEED	0x9e3779b97f4a7c15ull

static inline uint64_t gcb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* xorshift64*: the same sequence in every program. */
/* The peak RSS of this process, in KiB, or 0. */
static inline long gcb_vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static inline uint64_t gcb_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int gcb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline uint64_t gcb_median(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), gcb_cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline void *gcb_xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p) {
		fprintf(stderr, "out of memory (%zu bytes)\n", size);
		exit(1);
	}
	return p;
}

/*
 * The graph, by node index: edge[2 * i + k] is the node pointer k of node
 * i points to. First a random binary spanning tree from node 0: each new
 * node i takes a free pointer slot of the nodes before it, chosen at
 * random, so that everything is reachable from node 0. The N + 1 slots
 * left free then point to random nodes. Every node ends with two
 * pointers, to nodes anywhere in the list of allocations, so that a
 * mark that follows them keeps many nodes gray at once (see
 * gcb_graph_frontier()).
 */
static inline uint32_t *gcb_graph_edges(uint32_t n)
{
	uint32_t *edge = gcb_xmalloc(2 * sizeof(*edge) * n);
	uint32_t *slot = gcb_xmalloc(2 * sizeof(*slot) * n);
	uint64_t rnd = GCB_SEED;
	uint32_t i, k, nslots = 0;

	slot[nslots++] = 0;
	slot[nslots++] = 1;
	for (i = 1; i < n; i++) {
		k = gcb_rand(&rnd) % nslots;
		edge[slot[k]] = i;
		slot[k] = slot[--nslots];
		slot[nslots++] = 2 * i;
		slot[nslots++] = 2 * i + 1;
	}
	for (k = 0; k < nslots; k++)
		edge[slot[k]] = gcb_rand(&rnd) % n;
	free(slot);
	return edge;
}

/*
 * How wide the graph is for a mark: the most nodes waiting at once when
 * it is marked from node 0 with an unbounded LIFO gray stack that takes
 * a node's pointers in order (as gomem's mark and Boehm's do), and with
 * a FIFO queue (breadth first).
 */
static inline void gcb_graph_frontier(const uint32_t *edge, uint32_t n,
				      uint32_t *lifo_peak, uint32_t *fifo_peak)
{
	uint32_t *work = gcb_xmalloc(sizeof(*work) * n);
	uint8_t *seen = calloc(n, 1);
	uint32_t sp = 0, head, tail, v, w, k;

	if (!seen) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	*lifo_peak = 0;
	seen[0] = 1;
	work[sp++] = 0;
	while (sp) {
		v = work[--sp];
		for (k = 0; k < 2; k++) {
			w = edge[2 * v + k];
			if (!seen[w]) {
				seen[w] = 1;
				work[sp++] = w;
			}
		}
		if (sp > *lifo_peak)
			*lifo_peak = sp;
	}
	memset(seen, 0, n);
	*fifo_peak = 0;
	head = tail = 0;
	seen[0] = 1;
	work[tail++] = 0;
	while (head < tail) {
		v = work[head++];
		for (k = 0; k < 2; k++) {
			w = edge[2 * v + k];
			if (!seen[w]) {
				seen[w] = 1;
				work[tail++] = w;
			}
		}
		if (tail - head > *fifo_peak)
			*fifo_peak = tail - head;
	}
	free(seen);
	free(work);
}

/* The mark benchmark's arguments: list|graph NODES REPS. */
static inline bool gcb_mark_args(int argc, char **argv, bool *graph, long *nodes, int *reps)
{
	if (argc != 4)
		return false;
	if (!strcmp(argv[1], "list"))
		*graph = false;
	else if (!strcmp(argv[1], "graph"))
		*graph = true;
	else
		return false;
	*nodes = atol(argv[2]);
	*reps = atoi(argv[3]);
	return *nodes >= 2 && *nodes < (1l << 31) && *reps >= 1 && *reps <= GCB_MAX_REPS;
}

/* The nodes binary-trees checks in all: the figure every program prints. */
static inline uint64_t gcb_trees_expected(int max_depth)
{
	uint64_t sum = 0;
	int d;

	sum += (2ull << (max_depth + 1)) - 1;		/* stretch */
	for (d = 4; d <= max_depth; d += 2)
		sum += ((1ull << (max_depth - d + 4)) * ((2ull << d) - 1));
	sum += (2ull << max_depth) - 1;			/* long-lived */
	return sum;
}

#endif /* _GOMEM_GC_COMMON_H */
