/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h - the daemon's load policy: hysteresis on the request rate.
 *
 * In user mode, switch to supervisor once the rate is >= up for `samples`
 * consecutive samples; in supervisor mode, switch to user once it is <= down
 * for as many. A sample in between resets the streak, and so does a change
 * of mode (ours or anyone's), so a switch is never followed by a quick one
 * back. Pure: no I/O, no clock; the caller feeds the samples.
 */
#ifndef KC_POLICY_H
#define KC_POLICY_H

#include "../kmod/uapi/sakura.h"	/* SAKURA_MODE_*: the modes it takes */

enum kc_action {
	KC_STAY,
	KC_TO_SUPERVISOR,
	KC_TO_USER,
};

struct kc_policy {
	double up;		/* requests/s: to supervisor at or above */
	double down;		/* requests/s: to user at or below; < up */
	unsigned int samples;	/* consecutive samples needed, >= 1 */
	unsigned int streak;	/* consecutive qualifying samples, <= samples */
	unsigned int mode;	/* the SAKURA_MODE_* the streak was counted in */
};

void kc_policy_init(struct kc_policy *p, double up, double down,
		    unsigned int samples);
enum kc_action kc_policy_sample(struct kc_policy *p, unsigned int mode,
				double rate);
void kc_policy_reset(struct kc_policy *p);

#endif /* KC_POLICY_H */
