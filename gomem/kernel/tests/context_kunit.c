// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of gomem_alloc() and gomem_free() in every context a kmalloc
 * user calls from: a spinlock held, interrupts off, a timer (softirq), a
 * hard interrupt (an hrtimer in hard mode), and a task interrupted by
 * both on its own CPU. In the debug kernel lockdep and DEBUG_ATOMIC_SLEEP
 * watch every case; the checks here are that nothing sleeps, that callers
 * that may not sleep get memory from what the heap holds (or NULL), and
 * that no object is handed out twice.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/gomem.h>

/* Sizes that cover the tiny allocator, small classes and the largest one. */
static const size_t sizes[] = { 8, 24, 64, 200, 1000, 4096, 12288, 32768 };

static unsigned int size_flags(size_t size)
{
	return size < 16 ? GOMEM_NOSCAN : 0;
}

/*
 * The object's first word holds its address and its last (from 16 bytes
 * on) the complement: overlap shows.
 */
static void stamp(void *p, size_t size)
{
	uintptr_t *w = p;

	w[0] = (uintptr_t)p;
	if (size >= 2 * sizeof(*w))
		w[size / sizeof(*w) - 1] = ~(uintptr_t)p;
}

static bool stamped(const void *p, size_t size)
{
	const uintptr_t *w = p;

	return w[0] == (uintptr_t)p &&
	       (size < 2 * sizeof(*w) || w[size / sizeof(*w) - 1] == ~(uintptr_t)p);
}

/*
 * Every class of sizes[] gets spans of its own that no cache holds: a few
 * spans' worth of objects, freed again, leave emptied spans that the
 * classes keep (and the caller's CPU caches one more, and holds up to 31
 * frees in its batch).
 */
static void warm(struct kunit *test, struct gomem_heap *heap)
{
	size_t i, j, n;
	void **p;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		/*
		 * A few spans' worth, and more than two batches of frees (a
		 * CPU applies its frees into uncached spans 32 at a time), so
		 * that the frees reach the spans now.
		 */
		n = max_t(size_t, 3 * (32768 / sizes[i]) + 3, 80);
		p = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p);
		for (j = 0; j < n; j++) {
			p[j] = gomem_alloc(heap, sizes[i], size_flags(sizes[i]), GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, p[j]);
		}
		for (j = 0; j < n; j++)
			KUNIT_ASSERT_EQ(test, gomem_free(heap, p[j]), 0);
		kunit_kfree(test, p);
	}
}

/*
 * One object of every size with @gfp, stamped, checked and freed; the
 * caller's context is whatever it is. Return: objects not served.
 */
static int round_trip(struct gomem_heap *heap, gfp_t gfp)
{
	void *p[ARRAY_SIZE(sizes)];
	int missing = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = gomem_alloc(heap, sizes[i], size_flags(sizes[i]), gfp);
		if (p[i])
			stamp(p[i], sizes[i]);
		else
			missing++;
	}
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		if (!p[i])
			continue;
		if (!stamped(p[i], sizes[i]) || gomem_free(heap, p[i]))
			missing += 100;
	}
	return missing;
}

static int context_init(struct kunit *test)
{
	struct gomem_heap *heap = gomem_heap_create("kunit-context");

	if (!heap)
		return -ENOMEM;
	test->priv = heap;
	return 0;
}

static void context_exit(struct kunit *test)
{
	gomem_heap_destroy(test->priv);
}

static DEFINE_SPINLOCK(test_lock);

/* With a spinlock held: warm classes serve, large objects are refused. */
static void atomic_under_spinlock(struct kunit *test)
{
	struct gomem_heap *heap = test->priv;
	void *big;
	int missing;

	migrate_disable();
	warm(test, heap);
	big = gomem_alloc(heap, 256 * 1024, 0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, big);
	spin_lock(&test_lock);
	missing = round_trip(heap, GFP_ATOMIC);
	missing += round_trip(heap, GFP_NOWAIT | __GFP_ZERO);
	KUNIT_EXPECT_NULL(test, gomem_alloc(heap, 64 * 1024, 0, GFP_ATOMIC));
	/* A large object's pages need the heap lock: its span waits for it. */
	KUNIT_EXPECT_EQ(test, gomem_free(heap, big), 0);
	KUNIT_EXPECT_EQ(test, gomem_free(heap, big), -EINVAL);
	spin_unlock(&test_lock);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, missing, 0);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, big), 0);
}

/* Interrupts off: the same. */
static void atomic_irqs_off(struct kunit *test)
{
	struct gomem_heap *heap = test->priv;
	unsigned long flags;
	int missing;

	migrate_disable();
	warm(test, heap);
	local_irq_save(flags);
	missing = round_trip(heap, GFP_ATOMIC);
	local_irq_restore(flags);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, missing, 0);
}

/*
 * A class that holds nothing: GFP_ATOMIC gets NULL at once, and the work
 * item the heap queued gives the class a span that serves the next try.
 */
static void atomic_cold_class_refilled(struct kunit *test)
{
	struct gomem_heap *heap = test->priv;
	void *p = NULL;
	int tries;

	spin_lock(&test_lock);
	p = gomem_alloc(heap, 3000, 0, GFP_ATOMIC);
	spin_unlock(&test_lock);
	KUNIT_EXPECT_NULL(test, p);
	for (tries = 0; tries < 100 && !p; tries++) {
		msleep(20);
		spin_lock(&test_lock);
		p = gomem_alloc(heap, 3000, 0, GFP_ATOMIC);
		spin_unlock(&test_lock);
	}
	KUNIT_ASSERT_NOT_NULL_MSG(test, p, "no spare span after %d tries", tries);
	stamp(p, 3000);
	KUNIT_EXPECT_TRUE(test, stamped(p, 3000));
	KUNIT_EXPECT_EQ(test, gomem_free(heap, p), 0);
}

/* === timers and interrupts ============================================== */

#define IRQ_ROUNDS	20

struct irq_ctx {
	struct gomem_heap *heap;
	struct timer_list timer;
	struct hrtimer hrtimer;
	atomic_t rounds;
	atomic_t missing;
	atomic_t bad;
	void *kept[IRQ_ROUNDS];	/* allocated in the interrupt, freed by the task */
	struct completion done;
};

/* One round in an interrupt: a round trip, and an object left for the task. */
static void irq_round(struct irq_ctx *ic)
{
	int r = atomic_read(&ic->rounds);
	void *p;

	if (!in_interrupt())
		atomic_inc(&ic->bad);
	atomic_add(round_trip(ic->heap, GFP_ATOMIC), &ic->missing);
	p = gomem_alloc(ic->heap, 64, 0, GFP_ATOMIC);
	if (p)
		stamp(p, 64);
	ic->kept[r] = p;
	if (atomic_inc_return(&ic->rounds) == IRQ_ROUNDS)
		complete(&ic->done);
}

static void softirq_fn(struct timer_list *t)
{
	struct irq_ctx *ic = from_timer(ic, t, timer);

	irq_round(ic);
	if (atomic_read(&ic->rounds) < IRQ_ROUNDS)
		mod_timer(&ic->timer, jiffies + 1);
}

static enum hrtimer_restart hardirq_fn(struct hrtimer *t)
{
	struct irq_ctx *ic = container_of(t, struct irq_ctx, hrtimer);

	if (!in_hardirq())
		atomic_inc(&ic->bad);
	irq_round(ic);
	if (atomic_read(&ic->rounds) >= IRQ_ROUNDS)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ms_to_ktime(1));
	return HRTIMER_RESTART;
}

static struct irq_ctx *irq_ctx_new(struct kunit *test)
{
	struct irq_ctx *ic = kunit_kzalloc(test, sizeof(*ic), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ic);
	ic->heap = test->priv;
	init_completion(&ic->done);
	return ic;
}

/* The task frees what the interrupts allocated: objects cross contexts. */
static void irq_ctx_check(struct kunit *test, struct irq_ctx *ic)
{
	int i;

	KUNIT_EXPECT_EQ(test, atomic_read(&ic->bad), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ic->missing), 0);
	for (i = 0; i < IRQ_ROUNDS; i++) {
		KUNIT_EXPECT_NOT_NULL(test, ic->kept[i]);
		if (!ic->kept[i])
			continue;
		KUNIT_EXPECT_TRUE(test, stamped(ic->kept[i], 64));
		KUNIT_EXPECT_EQ(test, gomem_free(ic->heap, ic->kept[i]), 0);
	}
}

/* From a timer (softirq), on the CPU whose classes the task warmed. */
static void atomic_from_softirq(struct kunit *test)
{
	struct irq_ctx *ic = irq_ctx_new(test);

	migrate_disable();
	warm(test, ic->heap);
	timer_setup(&ic->timer, softirq_fn, TIMER_PINNED);
	mod_timer(&ic->timer, jiffies + 1);
	migrate_enable();
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&ic->done, 10 * HZ), 0);
	del_timer_sync(&ic->timer);
	irq_ctx_check(test, ic);
}

/* From a hard interrupt (an hrtimer in hard mode). */
static void atomic_from_hardirq(struct kunit *test)
{
	struct irq_ctx *ic = irq_ctx_new(test);

	migrate_disable();
	warm(test, ic->heap);
	hrtimer_init(&ic->hrtimer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	ic->hrtimer.function = hardirq_fn;
	hrtimer_start(&ic->hrtimer, ms_to_ktime(1), HRTIMER_MODE_REL_PINNED_HARD);
	migrate_enable();
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&ic->done, 10 * HZ), 0);
	hrtimer_cancel(&ic->hrtimer);
	irq_ctx_check(test, ic);
}

/*
 * A task allocating and freeing on its CPU while a timer and a hard
 * interrupt do the same there: each context has its own cache slot, so
 * an interrupt never meets the cache it interrupted half-changed. A
 * shared slot shows up as an object handed out twice (a broken stamp).
 */
static void contexts_interleave(struct kunit *test)
{
	struct irq_ctx *soft = irq_ctx_new(test), *hard = irq_ctx_new(test);
	struct gomem_heap *heap = test->priv;
	void *p[ARRAY_SIZE(sizes)];
	unsigned long end;
	int bad = 0, loops = 0;
	size_t i;

	migrate_disable();
	warm(test, heap);
	timer_setup(&soft->timer, softirq_fn, TIMER_PINNED);
	hrtimer_init(&hard->hrtimer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	hard->hrtimer.function = hardirq_fn;
	mod_timer(&soft->timer, jiffies + 1);
	hrtimer_start(&hard->hrtimer, ms_to_ktime(1), HRTIMER_MODE_REL_PINNED_HARD);
	end = jiffies + 2 * HZ;
	while (time_before(jiffies, end) &&
	       (atomic_read(&soft->rounds) < IRQ_ROUNDS ||
		atomic_read(&hard->rounds) < IRQ_ROUNDS)) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			p[i] = gomem_alloc(heap, sizes[i], size_flags(sizes[i]), GFP_KERNEL);
			if (p[i])
				stamp(p[i], sizes[i]);
		}
		for (i = 0; i < ARRAY_SIZE(sizes); i++)
			if (!p[i] || !stamped(p[i], sizes[i]) || gomem_free(heap, p[i]))
				bad++;
		loops++;
	}
	migrate_enable();
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&soft->done, 10 * HZ), 0);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&hard->done, 10 * HZ), 0);
	del_timer_sync(&soft->timer);
	hrtimer_cancel(&hard->hrtimer);
	kunit_info(test, "%d task loops", loops);
	KUNIT_EXPECT_EQ(test, bad, 0);
	irq_ctx_check(test, soft);
	irq_ctx_check(test, hard);
}

static struct kunit_case gomem_context_cases[] = {
	KUNIT_CASE(atomic_under_spinlock),
	KUNIT_CASE(atomic_irqs_off),
	KUNIT_CASE(atomic_cold_class_refilled),
	KUNIT_CASE(atomic_from_softirq),
	KUNIT_CASE(atomic_from_hardirq),
	KUNIT_CASE(contexts_interleave),
	{}
};

static struct kunit_suite gomem_context_suite = {
	.name = "gomem_context",
	.init = context_init,
	.exit = context_exit,
	.test_cases = gomem_context_cases,
};
kunit_test_suite(gomem_context_suite);
