// SPDX-License-Identifier: GPL-2.0
/*
 * wait.c - time and stop signals for the commands that run a while (daemon,
 * switch-mode --repeat): SIGTERM/SIGINT set kc_stop_signal and end a wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include "kserverctl.h"

volatile sig_atomic_t kc_stop_signal;

static void kc_on_stop(int sig)
{
	kc_stop_signal = sig;
}

int kc_signals_init(void)
{
	/* no SA_RESTART: a SWITCH_MODE waiting for its ack returns EINTR */
	struct sigaction sa = { .sa_handler = kc_on_stop };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -errno;
	return 0;
}

double kc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Sleep until @deadline (kc_now() seconds); false: a stop signal came.
 * The stop signals are blocked except inside ppoll(), so one that comes
 * between the check of the flag and the wait still ends the wait.
 */
bool kc_sleep_until(double deadline)
{
	sigset_t stop, old;
	struct timespec ts;
	double left;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	while (!kc_stop_signal && (left = deadline - kc_now()) > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		ppoll(NULL, 0, &ts, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return !kc_stop_signal;
}
