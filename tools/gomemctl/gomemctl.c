// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl: look at gomem's heaps and show what they do.
 *
 *   gomemctl sizeclasses       Go's size class table, as gomem built it
 *   gomemctl stats [-v] [PID]  MemStats of the heaps (of PID), from debugfs
 *   gomemctl top [...]         live per-size-class view of all heaps
 *   gomemctl demo [--scale N]  the 600 MiB experiment on a heap of its own
 *
 * debugfs is read from $GOMEMCTL_DEBUGFS, /sys/kernel/debug/gomem by
 * default, so that the parsers can be tried on a copy. The program is
 * built static for the busybox test guest; its terminal handling is
 * termios and ANSI escapes.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "libgomem.h"
#include "sizeclasses.h"

#define DEBUGFS_DEFAULT	"/sys/kernel/debug/gomem"
#define DEVICE		"/dev/gomem"
#define MIB		(1024ULL * 1024)

/* ---- output helpers ---- */

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("gomemctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A size for people: "0 B", "512 B", "8 KiB", "37.5 MiB", "1.2 GiB". */
struct hsize {
	char s[24];
};

static struct hsize hsize(u64 bytes)
{
	static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	struct hsize h;
	unsigned int u = 0;
	u64 div = 1;

	while (u + 1 < ARRAY_SIZE(units) && bytes >= div * 1024) {
		div *= 1024;
		u++;
	}
	if (bytes % div == 0)
		snprintf(h.s, sizeof(h.s), "%" PRIu64 " %s", bytes / div, units[u]);
	else
		snprintf(h.s, sizeof(h.s), "%.1f %s", (double)bytes / div, units[u]);
	return h;
}

/* "123", "8K", "4M", "1G" (powers of 1024), or -1 if not a size. */
static long long parse_size(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || v > LLONG_MAX >> 30)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'G':
		v <<= 10;
		/* fall through */
	case 'M':
		v <<= 10;
		/* fall through */
	case 'K':
		v <<= 10;
		end++;
		break;
	}
	return *end ? -1 : (long long)v;
}

/* A whole file, NUL-terminated, or NULL with errno set. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nbuf;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f || !buf) {
		int err = errno;

		free(buf);
		if (f)
			fclose(f);
		errno = err;
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len > 1)
			continue;
		nbuf = realloc(buf, cap * 2);
		if (!nbuf) {
			free(buf);
			fclose(f);
			errno = ENOMEM;
			return NULL;
		}
		buf = nbuf;
		cap *= 2;
	}
	if (ferror(f)) {
		int err = errno ? errno : EIO;

		free(buf);
		fclose(f);
		errno = err;
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/*
 * Split off the next line of *text (modified in place).
 * Return: the line without its newline, or NULL at the end.
 */
static char *next_line(char **text)
{
	char *line = *text, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*text = nl + 1;
	} else {
		*text = line + strlen(line);
	}
	return line;
}

/* Split @line at whitespace into at most @max words; return how many. */
static int split_words(char *line, char **words, int max)
{
	char *save, *w;
	int n = 0;

	for (w = strtok_r(line, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	return n;
}

/* "<Name> <number>" lines: the number after @name, if there is one. */
static bool find_value(const char *text, const char *name, u64 *v)
{
	size_t len = strlen(name);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ' ' || p[len] == '\t')) {
			char *end;

			*v = strtoull(p + len, &end, 0);
			return end != p + len;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* ---- debugfs ---- */

static const char *debugfs_dir(void)
{
	const char *dir = getenv("GOMEMCTL_DEBUGFS");

	return dir && *dir ? dir : DEBUGFS_DEFAULT;
}

static _Noreturn void die_debugfs(const char *path, int err)
{
	if (err == EACCES || err == EPERM)
		die("%s: %s: gomem's debugfs files are root-only, run as root",
		    path, strerror(err));
	if (err == ENOENT)
		die("%s: not found: is gomem.ko loaded and debugfs mounted (mount -t debugfs none /sys/kernel/debug)?",
		    path);
	die("%s: %s", path, strerror(err));
}

/* One heap's debugfs directory, read at one moment. */
struct heap {
	unsigned int id;
	long pid;
	char comm[64];
	char *memstats;		/* the file's text */
	char *classes;
	char *arenas;
};

struct heap_list {
	struct heap *v;
	size_t n;
};

static char *heap_file(unsigned int id, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/heaps/%u/%s", debugfs_dir(), id, name);
	return slurp(path);
}

static void heap_path(char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s/heaps%s%s", debugfs_dir(), name ? "/" : "", name ? name : "");
}

static int cmp_heap(const void *a, const void *b)
{
	const struct heap *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Parse the owner file: "pid <pid>" and "comm <comm>" lines. */
static void parse_owner(struct heap *hp, char *text)
{
	char *line, *w[2];

	hp->pid = -1;
	while ((line = next_line(&text))) {
		if (split_words(line, w, 2) < 2)
			continue;
		if (!strcmp(w[0], "pid"))
			hp->pid = strtol(w[1], NULL, 10);
		else if (!strcmp(w[0], "comm"))
			snprintf(hp->comm, sizeof(hp->comm), "%s", w[1]);
	}
}

/*
 * Read every heap under heaps/ (those of @pid only, if it is >= 0): its
 * owner and memstats, and if asked its classes and arenas. A heap that goes
 * away while it is read is left out. Dies with a clear message when
 * debugfs cannot be read.
 */
static void read_heaps(struct heap_list *hl, long pid, bool classes, bool arenas)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	hl->v = NULL;
	hl->n = 0;
	heap_path(path, sizeof(path), NULL);
	d = opendir(path);
	if (!d) {
		int err = errno;
		struct stat st;

		/* Tell "no gomem/debugfs" from "gomem without heaps". */
		if (err == ENOENT && stat(debugfs_dir(), &st) == 0)
			die("%s: not found: this gomem module has no per-process heaps", path);
		die_debugfs(err == ENOENT ? debugfs_dir() : path, err);
	}
	while ((de = readdir(d))) {
		struct heap hp = { 0 };
		char *end, *owner;
		unsigned long id;

		id = strtoul(de->d_name, &end, 10);
		if (end == de->d_name || *end || id > UINT_MAX)
			continue;
		hp.id = id;
		owner = heap_file(hp.id, "owner");
		if (!owner) {
			if (errno == EACCES || errno == EPERM) {
				heap_path(path, sizeof(path), de->d_name);
				die_debugfs(path, errno);
			}
			continue;
		}
		parse_owner(&hp, owner);
		free(owner);
		if (pid >= 0 && hp.pid != pid)
			continue;
		hp.memstats = heap_file(hp.id, "memstats");
		if (!hp.memstats)
			continue;
		if (classes)
			hp.classes = heap_file(hp.id, "classes");
		if (arenas)
			hp.arenas = heap_file(hp.id, "arenas");
		hl->v = realloc(hl->v, (hl->n + 1) * sizeof(*hl->v));
		if (!hl->v)
			die("out of memory");
		hl->v[hl->n++] = hp;
	}
	closedir(d);
	if (hl->n)
		qsort(hl->v, hl->n, sizeof(*hl->v), cmp_heap);
}

static void free_heaps(struct heap_list *hl)
{
	size_t i;

	for (i = 0; i < hl->n; i++) {
		free(hl->v[i].memstats);
		free(hl->v[i].classes);
		free(hl->v[i].arenas);
	}
	free(hl->v);
	hl->v = NULL;
	hl->n = 0;
}

/* One size class summed over heaps; class 0 holds the large objects. */
struct class_row {
	unsigned int class;
	u64 size;		/* bytes per object, 0 for class 0 */
	u64 spans, inuse, allocs, frees, fast, slow;
	u64 bytes;		/* bytes of live objects */
};

enum { COL_CLASS, COL_SIZE, COL_SPANS, COL_INUSE, COL_ALLOCS, COL_FREES,
	COL_FAST, COL_SLOW, NR_COLS };

static const char * const class_cols[NR_COLS] = {
	"class", "bytes/obj", "spans", "inuse", "allocs", "frees", "fast", "slow",
};

/*
 * Add a heap's classes file into @rows (GOMEM_NUM_SIZE_CLASSES entries).
 * Columns are found by the header's names, so that new ones do no harm.
 * Return: bytes of the heap's small objects, or -1 if the text is not a
 * classes table.
 */
static long long add_classes(struct class_row *rows, const char *classes)
{
	char *copy = strdup(classes), *text = copy, *line, *w[32];
	int col[NR_COLS], i, j, nhdr;
	long long small = 0;

	if (!copy)
		die("out of memory");
	line = next_line(&text);
	if (!line) {
		free(copy);
		return -1;
	}
	nhdr = split_words(line, w, ARRAY_SIZE(w));
	for (i = 0; i < NR_COLS; i++) {
		col[i] = -1;
		for (j = 0; j < nhdr; j++)
			if (!strcmp(w[j], class_cols[i]))
				col[i] = j;
	}
	if (col[COL_CLASS] < 0) {
		free(copy);
		return -1;
	}
	while ((line = next_line(&text))) {
		int n = split_words(line, w, ARRAY_SIZE(w));
		u64 v[NR_COLS] = { 0 };
		struct class_row *r;
		unsigned long cls;

		if (col[COL_CLASS] >= n)
			continue;
		cls = strtoul(w[col[COL_CLASS]], NULL, 10);
		if (cls >= GOMEM_NUM_SIZE_CLASSES)
			continue;
		for (i = 1; i < NR_COLS; i++)
			if (col[i] >= 0 && col[i] < n)
				v[i] = strtoull(w[col[i]], NULL, 10);	/* "large" reads 0 */
		r = &rows[cls];
		r->class = cls;
		r->size = v[COL_SIZE];
		r->spans += v[COL_SPANS];
		r->inuse += v[COL_INUSE];
		r->allocs += v[COL_ALLOCS];
		r->frees += v[COL_FREES];
		r->fast += v[COL_FAST];
		r->slow += v[COL_SLOW];
		r->bytes += v[COL_INUSE] * v[COL_SIZE];
		small += v[COL_INUSE] * v[COL_SIZE];
	}
	free(copy);
	return small;
}

/* ---- gomemctl sizeclasses ---- */

static int cmd_sizeclasses(void)
{
	unsigned int k, prev = 0;

	puts("class  bytes/obj  bytes/span  objects  tail waste  max waste  min align");
	for (k = 1; k < GM_NUM_SIZE_CLASSES; k++) {
		unsigned int size = gm_class_to_size[k];
		unsigned int span = gm_class_to_npages[k] * GM_PAGE_SIZE;
		unsigned int objects = span / size, tail = span % size;
		/* The worst request is one byte over the previous class. */
		unsigned int worst = (size - prev - 1) * objects + tail;
		unsigned int align = min(size & -size, (unsigned int)GM_PAGE_SIZE);

		printf("%5u  %9u  %10u  %7u  %10u  %8.2f%%  %9u\n", k, size, span,
		       objects, tail, 100.0 * worst / span, align);
		prev = size;
	}
	return 0;
}

/* ---- gomemctl stats ---- */

/* MemStats names whose values are bytes (the others are counts). */
static bool is_bytes_stat(const char *name)
{
	static const char * const names[] = {
		"HeapAlloc", "HeapSys", "HeapIdle", "HeapInuse", "HeapReleased",
		"Reserved", "Resident", "Cap", "Lost", "Scavenged", "TotalAlloc", "Sys",
	};
	size_t i, len = strlen(name);

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return (len > 5 && !strcmp(name + len - 5, "Bytes")) ||
	       (len > 3 && !strcmp(name + len - 3, "Sys"));
}

static void print_memstats(const char *memstats)
{
	char *copy = strdup(memstats), *text = copy, *line, *w[2];

	if (!copy)
		die("out of memory");
	while ((line = next_line(&text))) {
		u64 v;
		char *end;

		if (split_words(line, w, 2) < 2)
			continue;
		v = strtoull(w[1], &end, 0);
		if (*end || !is_bytes_stat(w[0]))
			printf("  %-14s %12s\n", w[0], w[1]);
		else if (!v && !strcmp(w[0], "Cap"))
			printf("  %-14s %12s\n", w[0], "none");
		else if (v < 1024)
			printf("  %-14s %12s\n", w[0], hsize(v).s);
		else
			printf("  %-14s %12s  (%" PRIu64 " bytes)\n", w[0], hsize(v).s, v);
	}
	free(copy);
}

/* Free-form debugfs text, indented under a heading. */
static void print_indented(const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchrnul(p, '\n');
		printf("  %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static void print_class_header(void)
{
	printf("%5s  %9s  %6s  %9s  %10s  %9s  %9s  %5s\n", "class", "bytes/obj",
	       "spans", "inuse", "bytes", "allocs", "frees", "fast%");
}

static void print_class_row(const struct class_row *r)
{
	char size[16], fast[8];

	if (r->class)
		snprintf(size, sizeof(size), "%" PRIu64, r->size);
	else
		snprintf(size, sizeof(size), "large");
	if (r->fast + r->slow)
		snprintf(fast, sizeof(fast), "%.0f", 100.0 * r->fast / (r->fast + r->slow));
	else
		snprintf(fast, sizeof(fast), "-");
	printf("%5u  %9s  %6" PRIu64 "  %9" PRIu64 "  %10s  %9" PRIu64 "  %9" PRIu64 "  %5s\n",
	       r->class, size, r->spans, r->inuse, hsize(r->bytes).s, r->allocs, r->frees, fast);
}

static bool class_active(const struct class_row *r)
{
	return r->spans || r->inuse || r->allocs;
}

/* The large objects' bytes: what HeapAlloc has beyond the small ones. */
static void set_large_bytes(struct class_row *large, const char *memstats, long long small)
{
	u64 alloc;

	if (small >= 0 && find_value(memstats, "HeapAlloc", &alloc) && alloc > (u64)small)
		large->bytes += alloc - small;
}

static void print_heap_classes(struct heap *hp)
{
	struct class_row rows[GOMEM_NUM_SIZE_CLASSES] = { 0 };
	long long small = hp->classes ? add_classes(rows, hp->classes) : -1;
	unsigned int i;

	if (small < 0) {
		printf("  (no classes table)\n");
		return;
	}
	set_large_bytes(&rows[0], hp->memstats, small);
	print_class_header();
	for (i = 1; i <= GOMEM_NUM_SIZE_CLASSES; i++)
		if (class_active(&rows[i % GOMEM_NUM_SIZE_CLASSES]))
			print_class_row(&rows[i % GOMEM_NUM_SIZE_CLASSES]);
}

static long parse_pid(const char *s)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(s, &end, 10);
	if (errno || end == s || *end || pid <= 0)
		die("'%s' is not a process id", s);
	return pid;
}

static int cmd_stats(int argc, char **argv)
{
	struct heap_list hl;
	bool verbose = false;
	long pid = -1;
	size_t i;
	int opt;

	while ((opt = getopt(argc, argv, "+v")) != -1) {
		if (opt != 'v')
			die("usage: gomemctl stats [-v] [PID]");
		verbose = true;
	}
	if (optind + 1 < argc)
		die("usage: gomemctl stats [-v] [PID]");
	if (optind < argc)
		pid = parse_pid(argv[optind]);

	read_heaps(&hl, pid, verbose, verbose);
	if (!hl.n) {
		if (pid >= 0)
			printf("no gomem heap owned by pid %ld\n", pid);
		else
			printf("no gomem heap\n");
		return 0;
	}
	for (i = 0; i < hl.n; i++) {
		struct heap *hp = &hl.v[i];

		printf("%sheap %u: pid %ld (%s)\n", i ? "\n" : "", hp->id, hp->pid,
		       hp->comm[0] ? hp->comm : "?");
		print_memstats(hp->memstats);
		if (!verbose)
			continue;
		printf("\n  size classes in use:\n");
		print_heap_classes(hp);
		if (hp->arenas) {
			printf("\n  arenas:\n");
			print_indented(hp->arenas);
		}
	}
	free_heaps(&hl);
	if (pid < 0) {
		char path[PATH_MAX], *total;

		heap_path(path, sizeof(path), "total");
		total = slurp(path);
		if (total) {
			printf("\nall heaps:\n");
			print_indented(total);
			free(total);
		}
	}
	return 0;
}

/* ---- gomemctl top ---- */

enum sort_key { SORT_INUSE, SORT_ALLOCS, SORT_FREES, SORT_BYTES, SORT_SPANS };

static const struct {
	const char *name;
	char key;
} sort_keys[] = {
	[SORT_INUSE] = { "inuse", 'i' },
	[SORT_ALLOCS] = { "allocs", 'a' },
	[SORT_FREES] = { "frees", 'f' },
	[SORT_BYTES] = { "bytes", 'b' },
	[SORT_SPANS] = { "spans", 's' },
};

struct snapshot {
	unsigned int heaps;
	u64 heap_alloc, heap_sys, resident;
	struct class_row rows[GOMEM_NUM_SIZE_CLASSES];
};

static void take_snapshot(struct snapshot *s)
{
	struct heap_list hl;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++) {
		s->rows[i].class = i;
		s->rows[i].size = i ? gm_class_to_size[i] : 0;
	}
	read_heaps(&hl, -1, true, false);
	for (i = 0; i < hl.n; i++) {
		struct heap *hp = &hl.v[i];
		long long small;
		u64 v;

		s->heaps++;
		if (find_value(hp->memstats, "HeapAlloc", &v))
			s->heap_alloc += v;
		if (find_value(hp->memstats, "HeapSys", &v))
			s->heap_sys += v;
		if (find_value(hp->memstats, "Resident", &v))
			s->resident += v;
		small = hp->classes ? add_classes(s->rows, hp->classes) : -1;
		set_large_bytes(&s->rows[0], hp->memstats, small);
	}
	free_heaps(&hl);
}

static u64 sort_value(const struct class_row *r, enum sort_key key)
{
	switch (key) {
	case SORT_INUSE:
		return r->inuse;
	case SORT_ALLOCS:
		return r->allocs;
	case SORT_FREES:
		return r->frees;
	case SORT_SPANS:
		return r->spans;
	default:
		return r->bytes;
	}
}

static enum sort_key cur_sort;

static int cmp_rows(const void *a, const void *b)
{
	const struct class_row *x = a, *y = b;
	u64 vx = sort_value(x, cur_sort), vy = sort_value(y, cur_sort);

	if (vx != vy)
		return vx < vy ? 1 : -1;
	return (x->class > y->class) - (x->class < y->class);
}

/* Print one snapshot; at most @max_rows classes (0: all). */
static void print_snapshot(struct snapshot *s, enum sort_key key, double delay,
			   bool interactive, unsigned int max_rows)
{
	struct class_row rows[GOMEM_NUM_SIZE_CLASSES];
	unsigned int i, n = 0;
	char when[32];
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	printf("gomem top - %s  %u heap%s  HeapAlloc %s  HeapSys %s  Resident %s\n",
	       when, s->heaps, s->heaps == 1 ? "" : "s", hsize(s->heap_alloc).s,
	       hsize(s->heap_sys).s, hsize(s->resident).s);
	if (interactive)
		printf("sorted by %s, every %gs; keys: i inuse, a allocs, f frees, b bytes, s spans, q quit\n",
		       sort_keys[key].name, delay);
	else
		printf("sorted by %s\n", sort_keys[key].name);
	printf("\n");

	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++)
		if (class_active(&s->rows[i]))
			rows[n++] = s->rows[i];
	if (!n) {
		printf(s->heaps ? "(no objects allocated)\n" : "(no gomem heap)\n");
		return;
	}
	cur_sort = key;
	qsort(rows, n, sizeof(rows[0]), cmp_rows);
	if (max_rows && n > max_rows)
		n = max_rows;
	print_class_header();
	for (i = 0; i < n; i++)
		print_class_row(&rows[i]);
}

static struct termios saved_tio;
static bool raw_on, screen_on;
static atomic_int got_signal;

static void restore_terminal(void)
{
	if (screen_on) {
		/* Show the cursor, leave the alternate screen. */
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		screen_on = false;
	}
	if (raw_on) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		raw_on = false;
	}
}

/* SIGWINCH only interrupts poll(), so that the view is redrawn at once. */
static void on_signal(int sig)
{
	if (sig != SIGWINCH)
		got_signal = sig;
}

static void setup_terminal(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: poll() returns EINTR and the loop looks. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	atexit(restore_terminal);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios tio = saved_tio;

		tio.c_lflag &= ~(ICANON | ECHO);
		tio.c_cc[VMIN] = 0;
		tio.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) == 0)
			raw_on = true;
	}
	/* Alternate screen, hidden cursor. */
	fputs("\033[?1049h\033[?25l", stdout);
	screen_on = true;
}

static unsigned int screen_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || ws.ws_row < 8)
		return 24;
	return ws.ws_row;
}

/*
 * Wait up to @delay seconds for a key; return it, 0 on timeout, -1 when
 * a signal says stop. Without a terminal on stdin, just sleep.
 */
static int wait_key(double delay)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	int ms = delay * 1000;
	char c;

	if (got_signal)
		return -1;
	if (!raw_on) {
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		return got_signal ? -1 : 0;
	}
	if (poll(&pfd, 1, ms) <= 0)
		return got_signal ? -1 : 0;
	if (read(STDIN_FILENO, &c, 1) != 1)
		return 0;
	return (unsigned char)c;
}

static bool parse_sort_key(const char *s, enum sort_key *key)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sort_keys); i++) {
		if (!strcmp(s, sort_keys[i].name)) {
			*key = i;
			return true;
		}
	}
	return false;
}

#define TOP_USAGE "usage: gomemctl top [-d SECONDS] [-s inuse|allocs|frees|bytes|spans] [-n ITERATIONS] [--once]"

static int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "sort", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	enum sort_key key = SORT_BYTES;
	struct snapshot snap;
	long iterations = 0;	/* 0: until q */
	double delay = 1.0;
	bool interactive;
	char *end;
	int opt, c;
	long i;

	while ((opt = getopt_long(argc, argv, "+d:s:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			delay = strtod(optarg, &end);
			if (*end || end == optarg || !(delay > 0) || delay > 86400)
				die("-d wants seconds, more than 0: '%s'", optarg);
			break;
		case 's':
			if (!parse_sort_key(optarg, &key))
				die("-s wants inuse, allocs, frees, bytes or spans: '%s'", optarg);
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (*end || end == optarg || iterations < 1)
				die("-n wants a count of at least 1: '%s'", optarg);
			break;
		case '1':
			iterations = 1;
			break;
		default:
			die(TOP_USAGE);
		}
	}
	if (optind < argc)
		die(TOP_USAGE);

	/* Read once before touching the terminal, so that errors read well. */
	take_snapshot(&snap);
	interactive = !iterations && isatty(STDOUT_FILENO);
	if (!interactive) {
		for (i = 0; !iterations || i < iterations; i++) {
			if (i) {
				if (wait_key(delay) < 0)
					break;
				take_snapshot(&snap);
				printf("\n");
			}
			print_snapshot(&snap, key, delay, false, 0);
			fflush(stdout);
		}
		return 0;
	}

	setup_terminal();
	for (;;) {
		/* Home, clear; the header takes 4 lines. */
		fputs("\033[H\033[2J", stdout);
		print_snapshot(&snap, key, delay, true, screen_rows() - 5);
		fflush(stdout);
		c = wait_key(delay);
		if (c < 0 || c == 'q' || c == 'Q')
			break;
		for (i = 0; i < (long)ARRAY_SIZE(sort_keys); i++)
			if (tolower(c) == sort_keys[i].key)
				key = i;
		take_snapshot(&snap);
	}
	restore_terminal();
	return 0;
}

/* ---- gomemctl demo ---- */

/* This process's VSZ, from /proc/self/status. */
static u64 vsz_bytes(void)
{
	char *text = slurp("/proc/self/status"), *p = text, *line;
	u64 kb = 0;

	if (!text)
		die("/proc/self/status: %s", strerror(errno));
	while ((line = next_line(&p)))
		if (sscanf(line, "VmSize: %" SCNu64, &kb) == 1)
			break;
	free(text);
	return kb * 1024;
}

struct mapping {
	u64 start, end;
	char perms[8];
};

/* The heap's mappings in this process and the sum of their Rss. */
struct arena_maps {
	struct mapping v[64];
	unsigned int n;
	u64 rss;
};

/*
 * Find the mappings of the heap's device in /proc/self/smaps: by pathname,
 * or by device and inode should the path be another name of it.
 */
static void read_arena_maps(struct gomem_heap *h, struct arena_maps *am)
{
	char *text = slurp("/proc/self/smaps"), *p = text, *line;
	bool ours = false;
	struct stat st;

	if (!text)
		die("/proc/self/smaps: %s", strerror(errno));
	if (fstat(gomem_fd(h), &st))
		die("fstat: %s", strerror(errno));
	memset(am, 0, sizeof(*am));
	while ((line = next_line(&p))) {
		unsigned int maj, min;
		unsigned long long start, end, off, ino;
		char perms[8];
		int pos = 0;
		u64 kb;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms,
			   &off, &maj, &min, &ino, &pos) == 7 && pos) {
			ours = !strcmp(line + pos, DEVICE) ||
			       (makedev(maj, min) == st.st_dev && ino == st.st_ino);
			if (ours && am->n < ARRAY_SIZE(am->v)) {
				am->v[am->n].start = start;
				am->v[am->n].end = end;
				snprintf(am->v[am->n].perms, sizeof(am->v[am->n].perms), "%s", perms);
				am->n++;
			}
			continue;
		}
		if (ours && sscanf(line, "Rss: %" SCNu64, &kb) == 1)
			am->rss += kb * 1024;
	}
	free(text);
}

static const struct mapping *mapping_of(const struct arena_maps *am, const void *p)
{
	u64 a = (uintptr_t)p;
	unsigned int i;

	for (i = 0; i < am->n; i++)
		if (a >= am->v[i].start && a < am->v[i].end)
			return &am->v[i];
	return NULL;
}

static void demo_row(struct gomem_heap *h, const char *step)
{
	struct gomem_memstats st;
	struct arena_maps am;
	int err = gomem_stats(h, &st);

	if (err)
		die("GOMEM_IOC_STATS: %s", strerror(-err));
	read_arena_maps(h, &am);
	printf("%-24s %10s %10s %10s %10s %13s\n", step, hsize(vsz_bytes()).s,
	       hsize(am.rss).s, hsize(st.heap_sys).s, hsize(st.heap_alloc).s,
	       hsize(st.heap_released).s);
	fflush(stdout);
}

static struct gomem_heap *open_heap(void)
{
	struct gomem_heap *h = gomem_open(NULL);

	if (h)
		return h;
	switch (errno) {
	case ENOENT:
		die("%s: no such device: load gomem.ko (insmod gomem.ko)", DEVICE);
	case EPROTO:
		die("%s: the loaded gomem module speaks another ABI than gomemctl (%d)",
		    DEVICE, GOMEM_ABI_VERSION);
	case ENOTSUP:
		die("%s: the loaded gomem module has no per-process heaps", DEVICE);
	default:
		die("%s: %s", DEVICE, strerror(errno));
	}
}

static void *alloc_or_die(struct gomem_heap *h, size_t size)
{
	void *p = gomem_alloc(h, size, GOMEM_ALLOC_NOSCAN);

	if (!p)
		die("allocating %s: %s", hsize(size).s, strerror(errno));
	return p;
}

static int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scale", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mapping *m1, *m2;
	struct gomem_memstats st;
	struct arena_maps am;
	size_t big, half;
	struct gomem_heap *h;
	u64 released = 0;
	char step[64];
	long scale = 1;
	unsigned int i;
	char *p, *q, *end;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (opt != 'S')
			die("usage: gomemctl demo [--scale N]");
		scale = strtol(optarg, &end, 10);
		if (*end || end == optarg || scale < 1 || scale > 1024)
			die("--scale wants a divisor from 1 to 1024: '%s'", optarg);
	}
	if (optind < argc)
		die("usage: gomemctl demo [--scale N]");
	big = 600 * MIB / scale;
	half = 300 * MIB / scale;

	h = open_heap();
	err = gomem_stats(h, &st);
	if (err)
		die("GOMEM_IOC_STATS: %s", strerror(-err));
	printf("Go's memory experiment on gomem heap %u (pid %d), sizes divided by %ld\n\n",
	       st.heap_id, (int)getpid(), scale);
	p = alloc_or_die(h, big);
	read_arena_maps(h, &am);
	printf("a %s object at %p; the heap's mappings of %s:\n", hsize(big).s, p, DEVICE);
	for (i = 0; i < am.n; i++)
		printf("  %010" PRIx64 "-%010" PRIx64 " %s %10s\n", am.v[i].start, am.v[i].end,
		       am.v[i].perms, hsize(am.v[i].end - am.v[i].start).s);
	if (!am.n)
		printf("  (none found in /proc/self/smaps)\n");
	printf("\n%-24s %10s %10s %10s %10s %13s\n", "step", "VSZ", "RSS(heap)", "HeapSys",
	       "HeapAlloc", "HeapReleased");

	snprintf(step, sizeof(step), "allocated %s", hsize(big).s);
	demo_row(h, step);

	p[0] = 1;
	p[big / 2] = 1;
	p[big - 1] = 1;
	demo_row(h, "touched 3 bytes");

	memset(p, 0xa5, big);
	demo_row(h, "touched every byte");

	m1 = mapping_of(&am, p);
	if (gomem_free(h, p))
		die("gomem_free: %s", strerror(errno));
	err = gomem_scavenge(h, 0, &released);
	if (err)
		die("GOMEM_IOC_SCAVENGE: %s", strerror(-err));
	demo_row(h, "freed + scavenged");

	q = alloc_or_die(h, half);
	snprintf(step, sizeof(step), "allocated %s", hsize(half).s);
	demo_row(h, step);

	memset(q, 0x5a, half);
	snprintf(step, sizeof(step), "touched %s", hsize(half).s);
	demo_row(h, step);

	read_arena_maps(h, &am);
	m2 = mapping_of(&am, q);
	printf("\nVSZ: this process's address space; RSS(heap): resident pages of the heap's\n"
	       "mappings (/proc/self/smaps); Heap*: the heap's MemStats (GOMEM_IOC_STATS).\n");
	printf("the scavenger gave back %s; the address space stayed reserved.\n",
	       hsize(released).s);
	printf("the %s object is at %p, %s\n", hsize(half).s, q,
	       !m2 ? "outside the heap's mappings (unexpected)" :
	       m1 && m1->start == m2->start ? "in the same mapping as the first one" :
	       "in another mapping than the first one");
	gomem_close(h);
	return 0;
}

/*
 * gomemctl hold SECONDS SIZE: keep a heap with objects of several classes
 * and SIZE bytes in all alive for a while, for looking at it from outside
 * (the guest's demo script, tests). Not in the usage text.
 */
static int cmd_hold(int argc, char **argv)
{
	static const unsigned int sizes[] = { 16, 128, 1024, 8192 };
	struct gomem_memstats st;
	long long size, seconds;
	struct gomem_heap *h;
	unsigned int i;
	void *big;
	int err;

	seconds = argc == 3 ? parse_size(argv[1]) : -1;
	size = argc == 3 ? parse_size(argv[2]) : -1;
	if (seconds < 0 || seconds > UINT_MAX || size < 16)
		die("usage: gomemctl hold SECONDS SIZE (SIZE at least 16, K/M/G allowed)");
	h = open_heap();
	/* Half the bytes in one large object, the rest in small ones. */
	big = alloc_or_die(h, size / 2);
	memset(big, 1, size / 2);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = size / 2 / ARRAY_SIZE(sizes) / sizes[i];
		void **objs;

		if (!n)
			continue;
		objs = calloc(n, sizeof(*objs));
		if (!objs)
			die("out of memory");
		err = gomem_alloc_bulk(h, sizes[i], GOMEM_ALLOC_ZERO, objs, n);
		if (err)
			die("allocating %zu objects of %u bytes: %s", n, sizes[i], strerror(-err));
		free(objs);
	}
	err = gomem_stats(h, &st);
	if (err)
		die("GOMEM_IOC_STATS: %s", strerror(-err));
	printf("gomemctl hold: heap %u, pid %d, HeapAlloc %s, for %llds\n", st.heap_id,
	       (int)getpid(), hsize(st.heap_alloc).s, seconds);
	fflush(stdout);
	sleep((unsigned int)seconds);
	gomem_close(h);
	return 0;
}

/* ---- main ---- */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: gomemctl COMMAND [ARGS]\n"
		"\n"
		"  sizeclasses            Go's size class table, as gomem uses it\n"
		"  stats [-v] [PID]       MemStats of every heap, or of PID's heaps (-v: size\n"
		"                         classes and arenas too); from debugfs, as root\n"
		"  top [-d SECONDS] [-s inuse|allocs|frees|bytes|spans] [-n N] [--once]\n"
		"                         live per-size-class view of all heaps, as root;\n"
		"                         keys i a f b s sort, q quits; -n/--once or no\n"
		"                         terminal: N plain snapshots (--once: one)\n"
		"  demo [--scale N]       allocate 600 MiB (/N) in a heap, touch it, free,\n"
		"                         scavenge, allocate 300 MiB (/N): VSZ, RSS, HeapSys\n"
		"  help                   this text\n"
		"\n"
		"debugfs is read from $GOMEMCTL_DEBUGFS (default %s).\n",
		DEBUGFS_DEFAULT);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} cmds[] = {
		{ "stats", cmd_stats },
		{ "top", cmd_top },
		{ "demo", cmd_demo },
		{ "hold", cmd_hold },
	};
	unsigned int i;

	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "sizeclasses")) {
		if (argc > 2)
			die("usage: gomemctl sizeclasses");
		return cmd_sizeclasses();
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			optind = 1;
			return cmds[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "gomemctl: unknown command '%s'\n\n", argv[1]);
	print_usage(stderr);
	return 2;
}
