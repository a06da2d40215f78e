// SPDX-License-Identifier: GPL-2.0
/*
 * gomem_gc_bench: the collector of gomem's core, built for userspace,
 * against the Boehm GC (libgc-dev) and Go's own collector, on one machine
 * in one run (issue 13). Each measurement runs in a process of its own;
 * this program is the driver, and the gomem side of every measurement
 * (run with -x).
 *
 * - mark: a list of NODES 16-byte nodes (next pointer and payload), then
 *   a graph of NODES 16-byte nodes with two pointers each (gc_common.h),
 *   all live; then one untimed forced full collection and REPS timed
 *   ones: gm_heap_gc(h, true) against GC_gcollect(). ns per node is the
 *   median collection's time over NODES; beside it, the mark phase alone
 *   (gomem's phase_ns[GM_PHASE_MARK], Boehm's GC_EVENT_MARK_START to
 *   GC_EVENT_MARK_END) and gomem's gray queue overflows (each one a
 *   rescan of every marked object of the heap).
 * - binary-trees at each depth: the benchmarks game's program, single
 *   threaded, with all reclamation left to the collector: gomem's cycles
 *   run when gm_heap_gc_due() says so, Boehm's when it decides, Go's with
 *   GOMAXPROCS=1. Wall time, peak RSS (VmHWM, as the child saw it), GC
 *   cycles and the final heap goal (gomem's heap_goal, Go's NextGC,
 *   Boehm's heap size).
 *
 *   gomem_gc_bench [-m] [-T] [-n nodes] [-r collections] [-p mark processes]
 *                  [-t tree runs] [-d depth]... [-B boehm_bench] [-G binarytrees]
 *   gomem_gc_bench -x mark list|graph NODES REPS
 *   gomem_gc_bench -x trees DEPTH
 *
 * -m: the mark benchmark only; -T: binary-trees only. Defaults: -n
 * 1000000 -r 5 -p 3 -t 5 -d 16 -d 18. Each mark measurement runs in -p
 * processes, each binary-trees one -t times, the implementations taking
 * turns, and the process of median time is shown: the machine may be
 * shared, and a slow spell then falls on every implementation alike. The
 * peers are looked for beside this program; one that is missing is left
 * out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heap.h"
#include "gc/gc_common.h"

static void die(const char *what)
{
	fprintf(stderr, "gomem_gc_bench: %s\n", what);
	exit(1);
}

static struct gm_heap *new_heap(void)
{
	struct gm_heap *h = gm_heap_create(&gm_os_pagesrc, NULL);

	if (!h)
		die("cannot create a heap");
	return h;
}

/* === gomem: the mark benchmark ========================================== */

struct lnode {
	struct lnode *next;
	uintptr_t payload;
};

struct gnode {
	struct gnode *p[2];
};

/* The one root: the list's head, or the graph's node 0. */
static uintptr_t mark_root;

static void *node_alloc(struct gm_heap *h, size_t size)
{
	void *p = gm_heap_alloc(h, size, 0);

	if (!p)
		die("out of memory in the gomem heap");
	return p;
}

static void build_list(struct gm_heap *h, long n)
{
	struct lnode *head, *tail, *x;
	long i;

	head = tail = node_alloc(h, sizeof(*head));
	head->payload = 0;
	for (i = 1; i < n; i++) {
		x = node_alloc(h, sizeof(*x));
		x->next = NULL;
		x->payload = i;
		tail->next = x;
		tail = x;
	}
	tail->next = NULL;
	mark_root = (uintptr_t)head;
}

static void build_graph(struct gm_heap *h, long n, uint32_t *lifo, uint32_t *fifo)
{
	struct gnode **node = gcb_xmalloc(sizeof(*node) * n);
	uint32_t *edge = gcb_graph_edges(n);
	long i;

	/* No cycle runs meanwhile: @node, unseen by the collector, may hold them. */
	for (i = 0; i < n; i++)
		node[i] = node_alloc(h, sizeof(struct gnode));
	for (i = 0; i < n; i++) {
		node[i]->p[0] = node[edge[2 * i]];
		node[i]->p[1] = node[edge[2 * i + 1]];
	}
	mark_root = (uintptr_t)node[0];
	gcb_graph_frontier(edge, n, lifo, fifo);
	free(edge);
	free(node);
}

static int child_mark(int argc, char **argv)
{
	uint64_t gc_ns[GCB_MAX_REPS], mark_ns[GCB_MAX_REPS], t, overflows = 0;
	uint32_t lifo = 0, fifo = 0;
	struct gm_gc_cycle c;
	struct gm_heap *h;
	bool graph, ok = true;
	long nodes;
	int reps, i;

	if (!gcb_mark_args(argc, argv, &graph, &nodes, &reps))
		die("usage: -x mark list|graph NODES REPS");
	h = new_heap();
	/* Only the forced cycles below run. */
	gm_heap_set_gogc(h, GM_GOGC_OFF);
	if (gm_heap_add_root(h, (uintptr_t)&mark_root, sizeof(mark_root)))
		die("cannot register the root");
	t = gcb_now_ns();
	if (graph)
		build_graph(h, nodes, &lifo, &fifo);
	else
		build_list(h, nodes);
	t = gcb_now_ns() - t;
	for (i = -1; i < reps; i++) {
		if (gm_heap_gc(h, true, &c))
			die("gm_heap_gc failed");
		if (c.mark.marked != (u64)nodes)
			ok = false;
		if (i < 0)
			continue;	/* the warm-up */
		gc_ns[i] = c.pause_ns;
		mark_ns[i] = c.phase_ns[GM_PHASE_MARK];
		overflows = max(overflows, c.mark.overflows);
	}
	printf("result impl=gomem bench=mark shape=%s nodes=%ld reps=%d gc_ns=%llu mark_ns=%llu "
	       "marked=%llu all_marked=%d overflows=%llu scanned=%llu build_ns=%llu "
	       "lifo_peak=%u fifo_peak=%u hwm_kb=%ld\n",
	       graph ? "graph" : "list", nodes, reps,
	       (unsigned long long)gcb_median(gc_ns, reps),
	       (unsigned long long)gcb_median(mark_ns, reps),
	       (unsigned long long)c.mark.marked, ok, (unsigned long long)overflows,
	       (unsigned long long)c.mark.scanned_bytes, (unsigned long long)t,
	       lifo, fifo, gcb_vm_hwm_kb());
	gm_heap_destroy(h);
	return ok ? 0 : 1;
}

/* === gomem: binary-trees ================================================ */

struct tnode {
	struct tnode *left, *right;
};

/*
 * The collector scans registered root ranges, never a C stack: the
 * recursion's locals and return values, in registers and on this
 * thread's stack, are invisible to it. So a node that is still needed
 * when an allocation may run a cycle must be reachable from the ranges
 * registered here: the long-lived tree from its slot, and the subtrees
 * of the trees being built from an explicit root stack that bottom_up()
 * pushes each finished subtree onto until its parent holds it. A popped
 * slot is cleared, so that a dead tree is not kept by a stale entry.
 * Nodes between an allocation and their push, or in check(), need no
 * slot: no cycle can run there.
 */
#define TREES_MAX_DEPTH	40

static struct {
	uintptr_t long_lived;
	uintptr_t stack[2 * TREES_MAX_DEPTH + 2];
} troots;
static unsigned int tsp;
static struct gm_heap *theap;
static struct gm_gc_cycle tcycle;

static struct tnode *new_tnode(struct tnode *left, struct tnode *right)
{
	struct tnode *n;

	if (gm_heap_gc_due(theap, sizeof(*n)) && gm_heap_gc(theap, false, &tcycle))
		die("gm_heap_gc failed");
	/* Both words are written before any cycle can see the node. */
	n = gm_heap_alloc(theap, sizeof(*n), 0);
	if (!n)
		die("out of memory in the gomem heap");
	n->left = left;
	n->right = right;
	return n;
}

static struct tnode *bottom_up(int depth)
{
	struct tnode *n;

	if (!depth)
		return new_tnode(NULL, NULL);
	troots.stack[tsp++] = (uintptr_t)bottom_up(depth - 1);
	troots.stack[tsp++] = (uintptr_t)bottom_up(depth - 1);
	n = new_tnode((struct tnode *)troots.stack[tsp - 2], (struct tnode *)troots.stack[tsp - 1]);
	troots.stack[--tsp] = 0;
	troots.stack[--tsp] = 0;
	return n;
}

static uint64_t check(const struct tnode *n)
{
	return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static int child_trees(int argc, char **argv)
{
	uint64_t t, sum = 0, sub;
	struct gm_gc_info gi;
	struct gm_memstats *st;
	long iters, i;
	int max_depth, d;

	max_depth = argc == 2 ? atoi(argv[1]) : 0;
	if (max_depth < 4 || max_depth >= TREES_MAX_DEPTH)
		die("usage: -x trees DEPTH (4 to 39)");
	t = gcb_now_ns();
	theap = new_heap();
	if (gm_heap_add_root(theap, (uintptr_t)&troots, sizeof(troots)))
		die("cannot register the root stack");

	sum += check(bottom_up(max_depth + 1));			/* stretch */
	troots.long_lived = (uintptr_t)bottom_up(max_depth);
	for (d = 4; d <= max_depth; d += 2) {
		iters = 1l << (max_depth - d + 4);
		sub = 0;
		for (i = 0; i < iters; i++)
			sub += check(bottom_up(d));
		sum += sub;
	}
	sum += check((struct tnode *)troots.long_lived);
	t = gcb_now_ns() - t;

	gm_heap_read_gc_info(theap, &gi);
	st = gcb_xmalloc(sizeof(*st));
	gm_heap_read_stats(theap, st);
	printf("result impl=gomem bench=trees depth=%d wall_ns=%llu check=%llu ok=%d numgc=%llu "
	       "goal=%llu heap_sys=%llu heap_marked=%llu pause_total_ns=%llu hwm_kb=%ld\n",
	       max_depth, (unsigned long long)t, (unsigned long long)sum,
	       sum == gcb_trees_expected(max_depth), (unsigned long long)gi.numgc,
	       (unsigned long long)gi.next_gc, (unsigned long long)st->heap_sys,
	       (unsigned long long)gi.heap_marked, (unsigned long long)gi.pause_total_ns,
	       gcb_vm_hwm_kb());
	free(st);
	gm_heap_destroy(theap);
	return sum == gcb_trees_expected(max_depth) ? 0 : 1;
}

static int child(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "mark"))
		return child_mark(argc, argv);
	if (argc >= 1 && !strcmp(argv[0], "trees"))
		return child_trees(argc, argv);
	die("usage: -x mark list|graph NODES REPS | -x trees DEPTH");
	return 1;
}

/* === the driver ========================================================= */

enum { I_GOMEM, I_BOEHM, I_GO, NR_IMPLS };

static const char *const impl_names[NR_IMPLS] = { "gomem", "boehm", "go" };

static char impl_path[NR_IMPLS][PATH_MAX];
static bool impl_present[NR_IMPLS];

#define MAX_DEPTHS	4
#define MAX_RUNS	9
#define LINE_MAX_LEN	1024

/* A child's result line, and what wait4() said of it. */
struct result {
	bool ok;
	char line[LINE_MAX_LEN];
	long maxrss_kb;
	double cpu_s;
};

static long opt_nodes = 1000000;
static int opt_reps = 5;
static int opt_mark_runs = 3;
static int opt_tree_runs = 5;
static int opt_depths[MAX_DEPTHS] = { 16, 18 };
static int opt_ndepths = 2;
static bool opt_mark = true, opt_trees = true;

/*
 * Runs @path with @args (NULL-terminated, argv[0] included) and keeps its
 * "result " line. The child's stderr goes to ours.
 */
static void run_child(const char *path, char *const args[], bool go, struct result *r)
{
	char buf[8192];
	struct rusage ru;
	size_t len = 0;
	ssize_t got;
	int fd[2], status;
	char *p, *nl;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(fd))
		die("pipe failed");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork failed");
	if (!pid) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		if (go)
			setenv("GOMAXPROCS", "1", 1);
		execv(path, args);
		fprintf(stderr, "gomem_gc_bench: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	while ((got = read(fd[0], buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += got;
		if (len == sizeof(buf) - 1)
			break;
	}
	buf[len] = 0;
	close(fd[0]);
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4 failed");
	r->maxrss_kb = ru.ru_maxrss;
	r->cpu_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	for (p = buf; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(p, "result ", 7)) {
			if (snprintf(r->line, sizeof(r->line), "%s ", p) >= (int)sizeof(r->line))
				die("a result line too long");
			r->ok = true;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "gomem_gc_bench: %s %s %s failed (status %#x)%s%s\n", args[0],
			args[1], args[2] ? args[2] : "", status, r->ok ? ": " : "",
			r->ok ? r->line : "");
		r->ok = false;
	}
}

/* The value of key=value in a result line, or -1. */
static double val(const struct result *r, const char *key)
{
	char pat[64];
	const char *p;

	if (!r || !r->ok)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(r->line, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

static const char *sval(const struct result *r, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = r && r->ok ? strstr(r->line, pat) : NULL;
	if (!p)
		return "-";
	p += strlen(pat);
	n = strcspn(p, " ");
	snprintf(buf, len, "%.*s", (int)min(n, len - 1), p);
	return buf;
}

/* === the mark benchmark's table ========================================= */

/*
 * The run whose @key is the median of the runs that succeeded, or NULL;
 * @min and @max get the smallest and largest @key.
 */
static const struct result *median_run(const struct result *runs, int n, const char *key,
				       double *min, double *max)
{
	const struct result *ok[MAX_RUNS];
	int i, j, k = 0;

	for (i = 0; i < n; i++)
		if (runs[i].ok)
			ok[k++] = &runs[i];
	if (!k)
		return NULL;
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && val(ok[j - 1], key) > val(ok[j], key); j--) {
			const struct result *t = ok[j];

			ok[j] = ok[j - 1];
			ok[j - 1] = t;
		}
	*min = val(ok[0], key);
	*max = val(ok[k - 1], key);
	return ok[(k - 1) / 2];
}

/* [graph][impl][process] */
static struct result mark_res[2][NR_IMPLS][MAX_RUNS];
/* The process of median collection time, per shape and implementation. */
static const struct result *mark_med[2][NR_IMPLS];

static void run_mark(void)
{
	char nodes[32], reps[32];
	double lo, hi;
	int g, i, r;

	snprintf(nodes, sizeof(nodes), "%ld", opt_nodes);
	snprintf(reps, sizeof(reps), "%d", opt_reps);
	for (g = 0; g < 2; g++) {
		for (r = 0; r < opt_mark_runs; r++) {
			for (i = I_GOMEM; i <= I_BOEHM; i++) {
				char *gomem_args[] = { impl_path[i], "-x", "mark",
						       g ? "graph" : "list", nodes, reps, NULL };
				char *boehm_args[] = { impl_path[i], "mark", g ? "graph" : "list",
						       nodes, reps, NULL };

				if (!impl_present[i])
					continue;
				run_child(impl_path[i], i == I_GOMEM ? gomem_args : boehm_args,
					  false, &mark_res[g][i][r]);
			}
		}
		for (i = I_GOMEM; i <= I_BOEHM; i++)
			mark_med[g][i] = median_run(mark_res[g][i], opt_mark_runs, "gc_ns",
						    &lo, &hi);
	}
}

static void print_ns_per_node(const struct result *r, const char *key)
{
	double v = val(r, key), n = val(r, "nodes");

	if (v < 0 || n <= 0)
		printf(" %8s", "-");
	else
		printf(" %8.2f", v / n);
}

static void print_x(double num, double den)
{
	if (num < 0 || den <= 0)
		printf(" %8s", "-");
	else
		printf(" %7.2fx", num / den);
}

static void print_mark(void)
{
	int g;

	printf("\nmark: one forced full collection, all %ld nodes live; ns per node, median of %d\n"
	       "collections in a process, the process of median time of %d\n",
	       opt_nodes, opt_reps, opt_mark_runs);
	printf("%-6s %8s %8s %8s %8s %8s %8s %9s %11s\n", "shape", "gomem", "(mark)", "boehm",
	       "(mark)", "g/b", "(mark)", "rescans", "gray peak");
	for (g = 0; g < 2; g++) {
		const struct result *gm = mark_med[g][I_GOMEM], *bo = mark_med[g][I_BOEHM];
		char buf[32];

		printf("%-6s", g ? "graph" : "list");
		print_ns_per_node(gm, "gc_ns");
		print_ns_per_node(gm, "mark_ns");
		print_ns_per_node(bo, "gc_ns");
		print_ns_per_node(bo, "mark_ns");
		print_x(val(gm, "gc_ns"), val(bo, "gc_ns"));
		print_x(val(gm, "mark_ns"), val(bo, "mark_ns"));
		printf(" %9s", sval(gm, "overflows", buf, sizeof(buf)));
		if (g)
			printf(" %11s", sval(gm, "lifo_peak", buf, sizeof(buf)));
		else
			printf(" %11s", gm ? "1" : "-");
		printf("\n");
	}
	printf("(gomem: gm_heap_gc(forced), its mark phase; boehm: GC_gcollect(), GC_EVENT_MARK_START..END;\n"
	       " rescans: gomem's gray queue overflows, each a rescan of the marked heap;\n"
	       " gray peak: nodes gray at once in an unbounded depth-first mark)\n");
}

/* === binary-trees' table ================================================ */

/* [depth][impl][run] */
static struct result tree_res[MAX_DEPTHS][NR_IMPLS][MAX_RUNS];
/* The run of median time, per depth and implementation, or NULL. */
static const struct result *tree_med[MAX_DEPTHS][NR_IMPLS];
/* The shortest and longest time of the runs. */
static double tree_min[MAX_DEPTHS][NR_IMPLS], tree_max[MAX_DEPTHS][NR_IMPLS];

static void run_trees(void)
{
	char depth[16];
	int d, i, r;

	for (d = 0; d < opt_ndepths; d++) {
		snprintf(depth, sizeof(depth), "%d", opt_depths[d]);
		for (r = 0; r < opt_tree_runs; r++) {
			for (i = 0; i < NR_IMPLS; i++) {
				char *gomem_args[] = { impl_path[i], "-x", "trees", depth, NULL };
				char *peer_args[] = { impl_path[i], "trees", depth, NULL };

				if (!impl_present[i])
					continue;
				run_child(impl_path[i], i == I_GOMEM ? gomem_args : peer_args,
					  i == I_GO, &tree_res[d][i][r]);
			}
		}
		for (i = 0; i < NR_IMPLS; i++)
			tree_med[d][i] = median_run(tree_res[d][i], opt_tree_runs, "wall_ns",
						    &tree_min[d][i], &tree_max[d][i]);
	}
}

/* Peak RSS in KiB: the child's own VmHWM, or what wait4() saw. */
static double peak_kb(const struct result *r)
{
	double kb = val(r, "hwm_kb");

	return kb > 0 ? kb : r->maxrss_kb;
}

/* The collector's time: gomem's pauses (all its work), the others' own figure. */
static double gc_s(const struct result *r, int impl)
{
	return val(r, impl == I_GOMEM ? "pause_total_ns" : "gc_total_ns") / 1e9;
}

static void print_trees(void)
{
	int d, i;

	printf("\nbinary-trees, one thread (Go: GOMAXPROCS=1); the run of median time of %d\n",
	       opt_tree_runs);
	printf("%5s %-6s %7s %15s %6s %6s %8s %7s %8s %10s\n", "depth", "impl", "time s",
	       "(min - max)", "cpu s", "GC s", "RSS MiB", "cycles", "goal MiB", "check");
	for (d = 0; d < opt_ndepths; d++) {
		for (i = 0; i < NR_IMPLS; i++) {
			const struct result *r = tree_med[d][i];
			char buf[32];

			if (!impl_present[i])
				continue;
			printf("%5d %-6s", opt_depths[d], impl_names[i]);
			if (!r) {
				printf(" %7s\n", "failed");
				continue;
			}
			printf(" %7.3f (%5.3f - %5.3f) %6.2f %6.2f %8.1f %7.0f %8.1f %10s%s\n",
			       val(r, "wall_ns") / 1e9, tree_min[d][i] / 1e9, tree_max[d][i] / 1e9,
			       r->cpu_s,
			       gc_s(r, i), peak_kb(r) / 1024, val(r, "numgc"),
			       val(r, "goal") / 1048576, sval(r, "check", buf, sizeof(buf)),
			       val(r, "ok") == 1 ? "" : " WRONG");
		}
	}
	printf("(time: the program's own clock; cpu: user + sys of the process (wait4);\n"
	       " GC: gomem's pauses, Boehm's collections (GC_EVENT_START..END), Go's GCCPUFraction\n"
	       " times GOMAXPROCS times its run time; RSS: VmHWM; goal: gomem's heap_goal, Go's\n"
	       " MemStats.NextGC, Boehm's GC_get_heap_size(); check: nodes checked, all agree)\n");
}

/* === targets ============================================================ */

static void print_target(const char *what, double num, double den, double target)
{
	if (num < 0 || den <= 0) {
		printf("  %-52s   not measured\n", what);
		return;
	}
	printf("  %-52s %6.2fx   target <= %.1fx: %s\n", what, num / den, target,
	       num / den <= target ? "met" : "NOT met");
}

/*
 * Issue 13's targets: mark at most 1.5x Boehm's ns per node on the list
 * and on the graph, with no rescan; binary-trees at depth 18 at most
 * 1.2x Boehm's and 0.9x Go's time, and a peak RSS at most both of theirs.
 */
static void print_targets(void)
{
	const struct result *gm, *bo, *go;
	char what[80];
	int g, d;

	printf("\ntargets (issue 13)\n");
	if (opt_mark) {
		for (g = 0; g < 2; g++) {
			const char *shape = g ? "graph" : "list";
			double rescans;

			gm = mark_med[g][I_GOMEM];
			bo = mark_med[g][I_BOEHM];
			snprintf(what, sizeof(what), "mark, %s: gomem / boehm ns per node", shape);
			print_target(what, val(gm, "gc_ns"), val(bo, "gc_ns"), 1.5);
			snprintf(what, sizeof(what), "mark, %s: the same, mark phase only", shape);
			print_target(what, val(gm, "mark_ns"), val(bo, "mark_ns"), 1.5);
			rescans = val(gm, "overflows");
			snprintf(what, sizeof(what), "mark, %s: gomem rescans", shape);
			if (rescans < 0)
				printf("  %-52s   not measured\n", what);
			else
				printf("  %-52s %6.0f    target 0: %s\n", what, rescans,
				       rescans == 0 ? "met" : "NOT met");
		}
	}
	if (opt_trees) {
		for (d = 0; d < opt_ndepths && opt_depths[d] != 18; d++)
			;
		if (d == opt_ndepths) {
			printf("  binary-trees 18: not run\n");
			return;
		}
		gm = tree_med[d][I_GOMEM];
		bo = tree_med[d][I_BOEHM];
		go = tree_med[d][I_GO];
		print_target("binary-trees 18, time: gomem / boehm", gm ? val(gm, "wall_ns") : -1,
			     bo ? val(bo, "wall_ns") : -1, 1.2);
		print_target("binary-trees 18, time: gomem / go", gm ? val(gm, "wall_ns") : -1,
			     go ? val(go, "wall_ns") : -1, 0.9);
		print_target("binary-trees 18, peak RSS: gomem / boehm", gm ? peak_kb(gm) : -1,
			     bo ? peak_kb(bo) : -1, 1.0);
		print_target("binary-trees 18, peak RSS: gomem / go", gm ? peak_kb(gm) : -1,
			     go ? peak_kb(go) : -1, 1.0);
	}
}

/* === main =============================================================== */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-m] [-T] [-n nodes] [-r collections] [-p mark processes]\n"
		"       [-t tree runs] [-d depth]...\n"
		"       [-B boehm_bench] [-G binarytrees]\n"
		"       %s -x mark list|graph NODES REPS | -x trees DEPTH\n", prog, prog);
	exit(2);
}

static void set_path(char *dst, const char *dir, const char *name)
{
	if (snprintf(dst, PATH_MAX, "%s%s%s", dir, name ? "/" : "", name ? name : "") >= PATH_MAX)
		die("path too long");
}

static void find_impls(const char *boehm, const char *go)
{
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int i;

	if (n <= 0)
		die("cannot read /proc/self/exe");
	self[n] = 0;
	set_path(impl_path[I_GOMEM], self, NULL);
	set_path(dir, self, NULL);
	dirname(dir);
	if (boehm)
		set_path(impl_path[I_BOEHM], boehm, NULL);
	else
		set_path(impl_path[I_BOEHM], dir, "boehm_bench");
	if (go)
		set_path(impl_path[I_GO], go, NULL);
	else
		set_path(impl_path[I_GO], dir, "binarytrees");
	for (i = 0; i < NR_IMPLS; i++) {
		impl_present[i] = !access(impl_path[i], X_OK);
		if (!impl_present[i])
			fprintf(stderr, "note: %s left out: no %s\n", impl_names[i], impl_path[i]);
	}
}

int main(int argc, char **argv)
{
	const char *boehm = NULL, *go = NULL;
	bool depths_given = false;
	uint64_t start;
	int opt, d;

	if (argc >= 2 && !strcmp(argv[1], "-x"))
		return child(argc - 2, argv + 2);
	while ((opt = getopt(argc, argv, "mTn:r:p:t:d:B:G:")) != -1) {
		switch (opt) {
		case 'm':
			opt_trees = false;
			break;
		case 'T':
			opt_mark = false;
			break;
		case 'n':
			opt_nodes = atol(optarg);
			break;
		case 'r':
			opt_reps = atoi(optarg);
			break;
		case 'p':
			opt_mark_runs = atoi(optarg);
			break;
		case 't':
			opt_tree_runs = atoi(optarg);
			break;
		case 'd':
			if (!depths_given)
				opt_ndepths = 0;
			depths_given = true;
			if (opt_ndepths == MAX_DEPTHS)
				usage(argv[0]);
			opt_depths[opt_ndepths++] = atoi(optarg);
			break;
		case 'B':
			boehm = optarg;
			break;
		case 'G':
			go = optarg;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc || opt_nodes < 2 || opt_nodes >= 1l << 31 || opt_reps < 1 ||
	    opt_reps > GCB_MAX_REPS || opt_mark_runs < 1 || opt_mark_runs > MAX_RUNS ||
	    opt_tree_runs < 1 || opt_tree_runs > MAX_RUNS ||
	    (!opt_mark && !opt_trees))
		usage(argv[0]);
	for (d = 0; d < opt_ndepths; d++)
		if (opt_depths[d] < 4 || opt_depths[d] >= TREES_MAX_DEPTH)
			usage(argv[0]);
	find_impls(boehm, go);
	start = gcb_now_ns();
	printf("gomem_gc_bench: each figure from a process of its own;");
	if (opt_mark)
		printf(" mark: %ld nodes, %d collections, %d processes;", opt_nodes, opt_reps,
		       opt_mark_runs);
	if (opt_trees) {
		printf(" binary-trees depths");
		for (d = 0; d < opt_ndepths; d++)
			printf(" %d", opt_depths[d]);
		printf(", median of %d runs", opt_tree_runs);
	}
	printf("\n");
	if (opt_mark) {
		run_mark();
		print_mark();
	}
	if (opt_trees) {
		run_trees();
		print_trees();
	}
	print_targets();
	printf("\ndone in %.1f s\n", (gcb_now_ns() - start) / 1e9);
	return 0;
}
