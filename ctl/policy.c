// SPDX-License-Identifier: GPL-2.0
/* policy.c - the daemon's hysteresis (see policy.h). */
#include <stdbool.h>
#include "policy.h"

#define KC_MODE_NONE (~0u)	/* before the first sample */

void kc_policy_init(struct kc_policy *p, double up, double down,
		    unsigned int samples)
{
	p->up = up;
	p->down = down;
	p->samples = samples ? samples : 1;
	p->streak = 0;
	p->mode = KC_MODE_NONE;
}

/* Forget the streak: the next decision needs `samples` new samples. */
void kc_policy_reset(struct kc_policy *p)
{
	p->streak = 0;
}

/* Does @rate, seen in @mode, count toward leaving @mode? */
static bool kc_policy_qualifies(const struct kc_policy *p, unsigned int mode,
				double rate)
{
	switch (mode) {
	case SAKURA_MODE_USER:
		return rate >= p->up;
	case SAKURA_MODE_SUPERVISOR:
		return rate <= p->down;
	default:
		return false;
	}
}

/*
 * One sample: @mode is the server's acknowledged mode now, @rate its request
 * rate over the last interval. The action to take; while the streak holds,
 * every further qualifying sample asks again, so a failed switch is retried.
 */
enum kc_action kc_policy_sample(struct kc_policy *p, unsigned int mode,
				double rate)
{
	if (mode != p->mode) {
		p->mode = mode;
		p->streak = 0;
	}
	if (!kc_policy_qualifies(p, mode, rate)) {
		p->streak = 0;
		return KC_STAY;
	}
	if (p->streak < p->samples)
		p->streak++;
	if (p->streak < p->samples)
		return KC_STAY;
	return mode == SAKURA_MODE_USER ? KC_TO_SUPERVISOR : KC_TO_USER;
}
