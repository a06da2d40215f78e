/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chardev.c: /dev/gomem, its opens and its ioctl table.
 */
#ifndef _GOMEM_CHARDEV_H
#define _GOMEM_CHARDEV_H

struct gomem_file;
struct gomem_version;

/**
 * struct gomem_ioctl_desc - one entry of the ioctl table
 * @cmd: the full command number, checked against the caller's
 * @func: handler; works on a kernel copy of the argument
 * @undo: if not NULL, takes back what a successful @func did when its
 *	answer cannot be copied back (the call then fails and must have
 *	changed nothing)
 * @name: the command's name, for diagnostics
 */
struct gomem_ioctl_desc {
	unsigned int cmd;
	long (*func)(struct gomem_file *gf, void *arg);
	void (*undo)(struct gomem_file *gf, void *arg);
	const char *name;
};

/* Largest ioctl argument structure; arguments are copied to the stack. */
#define GOMEM_IOCTL_MAX_ARG	128

int gomem_chardev_init(void);
void gomem_chardev_exit(void);
const struct gomem_ioctl_desc *gomem_ioctl_lookup(unsigned int cmd);
long gomem_version_get(struct gomem_version *v);

#endif /* _GOMEM_CHARDEV_H */
