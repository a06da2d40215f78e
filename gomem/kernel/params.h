/* SPDX-License-Identifier: GPL-2.0 */
/*
 * params.c: the module parameters, read through accessors, and the
 * GOMEM_FEATURE_* bits the module provides. It calls no other file of
 * the face: the others read it.
 */
#ifndef _GOMEM_PARAMS_H
#define _GOMEM_PARAMS_H

#include <linux/types.h>

int gomem_param_gogc(void);
int gomem_param_gctrace(void);
int gomem_param_scavenge_percent(void);
int gomem_param_max_heaps_per_user(void);

u64 gomem_features(void);
void gomem_features_set(u64 bits, bool on);

#endif /* _GOMEM_PARAMS_H */
