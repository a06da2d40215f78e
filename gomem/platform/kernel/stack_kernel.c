// SPDX-License-Identifier: GPL-2.0
/*
 * Call stacks for gomem's heap profiles (gm_stack_save() of platform.h):
 * the kernel's own stack for kernel heaps, the allocating thread's user
 * stack for the heaps of /dev/gomem.
 */
#include <linux/compat.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/stacktrace.h>
#include <linux/uaccess.h>

#include "heap.h"

/*
 * The user stack by its frame pointers, as the kernel's
 * stack_trace_save_user() walks it on x86; that function is not exported
 * to modules. The first frame is where the thread entered the kernel; the
 * caller of the function that made the system call comes next (that
 * function's own frame has only the return address into the syscall
 * wrapper, which frame pointers do not reach). Programs built without
 * frame pointers give their innermost frames only.
 */
static unsigned int user_stack(uintptr_t *pcs, unsigned int max)
{
	struct pt_regs *regs;
	unsigned long frame[2], fp, sp;
	unsigned int n = 0;

	if (!max || !in_task() || !current->mm || (current->flags & PF_KTHREAD))
		return 0;
	regs = task_pt_regs(current);
	if (!user_mode(regs))
		return 0;
	pcs[n++] = instruction_pointer(regs);
	if (!IS_ENABLED(CONFIG_X86_64) || in_compat_syscall())
		return n;
	sp = user_stack_pointer(regs);
#ifdef CONFIG_X86_64
	fp = regs->bp;
#else
	fp = 0;
#endif
	while (n < max && fp >= sp && !(fp & (sizeof(long) - 1))) {
		if (copy_from_user_nofault(frame, (const void __user *)fp, sizeof(frame)))
			break;
		if (!frame[1])
			break;
		pcs[n++] = frame[1];
		/* Callers' frames lie above: a chain that does not climb is not one. */
		if (frame[0] <= fp)
			break;
		fp = frame[0];
	}
	return n;
}

/**
 * gm_stack_save() - the call stack of a sampled allocation
 * @pcs: where to store it, innermost frame first
 * @max: room in @pcs
 * @skip: innermost frames of the kernel stack to leave out (the caller's own)
 * @user: the user stack of the calling task instead of the kernel's
 *
 * Any context; a user stack outside a task is empty.
 *
 * Return: frames stored.
 */
unsigned int gm_stack_save(uintptr_t *pcs, unsigned int max, unsigned int skip, bool user)
{
	if (user)
		return user_stack(pcs, max);
	/* Leave this function out too. */
	return stack_trace_save((unsigned long *)pcs, max, skip + 1);
}
