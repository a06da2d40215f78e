// SPDX-License-Identifier: GPL-2.0
/*
 * boehm_bench: the Boehm GC's side of gomem_gc_bench (see there), with
 * libgc-dev's default settings: GC_INIT(), objects from GC_MALLOC(), the
 * collector scanning this program's data, bss and stack.
 *
 *   boehm_bench mark list|graph NODES REPS
 *   boehm_bench trees DEPTH
 *
 * Prints one "result key=value..." line.
 */
#define GC_THREADS	/* for GC_get_parallel(); no thread is started */
#include <gc/gc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_common.h"

static void die(const char *what)
{
	fprintf(stderr, "boehm_bench: %s\n", what);
	exit(1);
}

static void *node_alloc(size_t size)
{
	void *p = GC_MALLOC(size);

	if (!p)
		die("GC_MALLOC failed");
	return p;
}

/* === the mark benchmark ================================================= */

struct lnode {
	struct lnode *next;
	uintptr_t payload;
};

struct gnode {
	struct gnode *p[2];
};

/*
 * The one root, in the data the collector scans. Nothing reads it: it is
 * volatile so that the compiler keeps the store the collector must see.
 */
static void *volatile mark_root;

/*
 * The mark phase of the last collection, and the time of all collections
 * (GC_EVENT_START to GC_EVENT_END), told by the collector's own events.
 */
static uint64_t mark_start, mark_ns, gc_start, gc_total_ns;

static void on_event(GC_EventType ev)
{
	switch (ev) {
	case GC_EVENT_START:
		gc_start = gcb_now_ns();
		break;
	case GC_EVENT_MARK_START:
		mark_start = gcb_now_ns();
		break;
	case GC_EVENT_MARK_END:
		mark_ns = gcb_now_ns() - mark_start;
		break;
	case GC_EVENT_END:
		gc_total_ns += gcb_now_ns() - gc_start;
		break;
	default:
		break;
	}
}

static void build_list(long n)
{
	struct lnode *head, *tail, *x;
	long i;

	head = tail = node_alloc(sizeof(*head));
	for (i = 1; i < n; i++) {
		x = node_alloc(sizeof(*x));
		x->payload = i;
		tail->next = x;
		tail = x;
	}
	mark_root = head;
}

static void build_graph(long n)
{
	struct gnode **node = gcb_xmalloc(sizeof(*node) * n);
	uint32_t *edge = gcb_graph_edges(n);
	long i;

	for (i = 0; i < n; i++)
		node[i] = node_alloc(sizeof(struct gnode));
	for (i = 0; i < n; i++) {
		node[i]->p[0] = node[edge[2 * i]];
		node[i]->p[1] = node[edge[2 * i + 1]];
	}
	mark_root = node[0];
	free(edge);
	free(node);
}

static int mark(int argc, char **argv)
{
	uint64_t gc_ns[GCB_MAX_REPS], mk_ns[GCB_MAX_REPS], t;
	bool graph;
	long nodes;
	int reps, i;

	if (!gcb_mark_args(argc, argv, &graph, &nodes, &reps))
		die("usage: mark list|graph NODES REPS");
	GC_set_on_collection_event(on_event);
	/*
	 * The nodes are built with the collector off: while the graph is
	 * linked, they are held only by malloc()ed memory it does not scan.
	 */
	GC_disable();
	t = gcb_now_ns();
	if (graph)
		build_graph(nodes);
	else
		build_list(nodes);
	t = gcb_now_ns() - t;
	GC_enable();
	for (i = -1; i < reps; i++) {
		uint64_t start = gcb_now_ns();

		mark_ns = 0;
		GC_gcollect();
		if (i < 0)
			continue;	/* the warm-up */
		gc_ns[i] = gcb_now_ns() - start;
		mk_ns[i] = mark_ns;
	}
	printf("result impl=boehm bench=mark shape=%s nodes=%ld reps=%d gc_ns=%llu mark_ns=%llu "
	       "build_ns=%llu heap=%zu numgc=%llu parallel=%d hwm_kb=%ld\n",
	       graph ? "graph" : "list", nodes, reps,
	       (unsigned long long)gcb_median(gc_ns, reps),
	       (unsigned long long)gcb_median(mk_ns, reps), (unsigned long long)t,
	       GC_get_heap_size(), (unsigned long long)GC_get_gc_no(), GC_get_parallel(),
	       gcb_vm_hwm_kb());
	return 0;
}

/* === binary-trees ======================================================= */

struct tnode {
	struct tnode *left, *right;
};

/* Children first, as in the other programs; the stack holds them meanwhile. */
static struct tnode *bottom_up(int depth)
{
	struct tnode *left = NULL, *right = NULL, *n;

	if (depth) {
		left = bottom_up(depth - 1);
		right = bottom_up(depth - 1);
	}
	n = node_alloc(sizeof(*n));
	n->left = left;
	n->right = right;
	return n;
}

static uint64_t check(const struct tnode *n)
{
	return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static int trees(int argc, char **argv)
{
	struct tnode *long_lived;
	uint64_t t, sum = 0, sub;
	long iters, i;
	int max_depth, d;

	max_depth = argc == 2 ? atoi(argv[1]) : 0;
	if (max_depth < 4 || max_depth > 39)
		die("usage: trees DEPTH (4 to 39)");
	GC_set_on_collection_event(on_event);
	t = gcb_now_ns();
	sum += check(bottom_up(max_depth + 1));
	long_lived = bottom_up(max_depth);
	for (d = 4; d <= max_depth; d += 2) {
		iters = 1l << (max_depth - d + 4);
		sub = 0;
		for (i = 0; i < iters; i++)
			sub += check(bottom_up(d));
		sum += sub;
	}
	sum += check(long_lived);
	t = gcb_now_ns() - t;
	printf("result impl=boehm bench=trees depth=%d wall_ns=%llu check=%llu ok=%d numgc=%llu "
	       "goal=%zu heap=%zu gc_total_ns=%llu parallel=%d hwm_kb=%ld\n",
	       max_depth, (unsigned long long)t, (unsigned long long)sum,
	       sum == gcb_trees_expected(max_depth), (unsigned long long)GC_get_gc_no(),
	       GC_get_heap_size(), GC_get_heap_size(), (unsigned long long)gc_total_ns,
	       GC_get_parallel(), gcb_vm_hwm_kb());
	return sum == gcb_trees_expected(max_depth) ? 0 : 1;
}

int main(int argc, char **argv)
{
	GC_INIT();
	if (argc >= 2 && !strcmp(argv[1], "mark"))
		return mark(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "trees"))
		return trees(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s mark list|graph NODES REPS | trees DEPTH\n", argv[0]);
	return 2;
}
