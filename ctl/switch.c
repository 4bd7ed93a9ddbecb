// SPDX-License-Identifier: GPL-2.0
/*
 * switch.c - `kserverctl switch-mode user|supervisor [--pid PID]
 * [--timeout S] [--repeat N [--interval S] [--duration S]]`: ask one server
 * to switch and wait for its acknowledgement; with --repeat, alternate the
 * mode N times, one switch every --interval, and sum up the latencies (a
 * soak test of live switching, measuring the server rather than process
 * start-ups).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kserverctl.h"
#include "parse.h"

#define KC_TIMEOUT_MAX_S (SAKURA_TIMEOUT_MAX_MS / 1000.0)
#define KC_REPEAT_MAX 1000000

struct kc_switch_opts {
	unsigned int mode;
	pid_t pid;		/* 0: the only registered server */
	double timeout;		/* seconds */
	unsigned long repeat;	/* switches, alternating */
	double interval;	/* seconds from one switch's start to the next */
	double duration;	/* 0, or stop starting switches after it */
};

static const struct option kc_switch_long[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "timeout", required_argument, NULL, 't' },
	{ "repeat", required_argument, NULL, 'r' },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* -1: go on; an exit status: stop with it */
static int kc_switch_parse(int argc, char **argv, struct kc_switch_opts *o)
{
	int c;

	o->timeout = 5;
	o->repeat = 1;
	o->interval = 0.1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", kc_switch_long,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			if (kc_opt_pid(optarg, &o->pid))
				return KC_EXIT_USAGE;
			break;
		case 't':
			if (kc_opt_seconds("timeout", optarg, 0.001,
					   KC_TIMEOUT_MAX_S, &o->timeout))
				return KC_EXIT_USAGE;
			break;
		case 'r':
			if (kc_parse_uint(optarg, 1, KC_REPEAT_MAX,
					  &o->repeat))
				return kc_usage_err("--repeat: '%s' is not a "
						    "count from 1 to %d",
						    optarg, KC_REPEAT_MAX);
			break;
		case 'i':
			if (kc_opt_seconds("interval", optarg, 0, 3600,
					   &o->interval))
				return KC_EXIT_USAGE;
			break;
		case 'd':
			if (kc_opt_seconds("duration", optarg, 0.001, 604800,
					   &o->duration))
				return KC_EXIT_USAGE;
			break;
		case 'h':
			kc_print_usage();
			return KC_EXIT_OK;
		default:
			return kc_opt_error(c, optopt, argv, "switch-mode");
		}
	}
	if (optind == argc)
		return kc_usage_err("switch-mode: which mode? 'user' or "
				    "'supervisor' (see --help)");
	if (kc_parse_mode(argv[optind], &o->mode))
		return kc_usage_err("switch-mode: '%s' is neither 'user' nor "
				    "'supervisor'", argv[optind]);
	if (optind + 1 < argc)
		return kc_usage_err("switch-mode: unexpected argument '%s' (see "
				    "--help)", argv[optind + 1]);
	return -1;
}

/* Switch, and say how it went: on stdout, or one error line. */
static int kc_switch_one(int fd, const struct kc_switch_opts *o,
			 unsigned int mode, struct sakura_switch *sw)
{
	char msg[256];
	int err;

	*sw = (struct sakura_switch){
		.pid = o->pid,
		.mode = mode,
		.timeout_ms = kc_seconds_to_ms(o->timeout),
	};
	err = kc_switch(fd, sw);
	if (err) {
		kc_switch_error(fd, sw, err, msg, sizeof(msg));
		kc_err("pid %d: %s", (int)o->pid, msg);
		return err;
	}
	kc_switch_result(sw, msg, sizeof(msg));
	printf("pid %d: %s\n", (int)o->pid, msg);
	return 0;
}

static int kc_cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static double kc_pct_ms(const __u64 *v, unsigned long n, unsigned int p)
{
	return n ? v[(n - 1) * p / 100] / 1e6 : 0;
}

/* --repeat: alternate, one switch every interval; a summary at the end. */
static int kc_switch_repeat(int fd, const struct kc_switch_opts *o)
{
	__u64 *lat = calloc(o->repeat, sizeof(*lat));
	double start = kc_now(), next = start;
	unsigned long i, n = 0, failed = 0;
	unsigned int mode = o->mode;
	struct sakura_switch sw;
	int err;

	if (!lat) {
		kc_err("out of memory");
		return KC_EXIT_FAIL;
	}
	kc_signals_init();	/* stop early, then sum up */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < o->repeat && !kc_stop_signal; i++) {
		if (o->duration && kc_now() - start >= o->duration)
			break;
		err = kc_switch_one(fd, o, mode, &sw);
		if (err) {
			if (kc_stop_signal)
				break;	/* interrupted, not failed */
			failed++;
			if (err == -ESRCH)
				break;	/* the server is gone */
		} else if (sw.from_mode != sw.mode) {
			lat[n++] = sw.latency_ns;
		}
		mode = mode == SAKURA_MODE_USER ? SAKURA_MODE_SUPERVISOR :
						  SAKURA_MODE_USER;
		next += o->interval;
		if (next < kc_now())
			next = kc_now();	/* late: the next one at once */
		else if (!kc_sleep_until(next))
			break;
	}
	qsort(lat, n, sizeof(*lat), kc_cmp_u64);
	printf("pid %d: %lu switches, %lu failed, in %.1f s; latency p50 %.2f "
	       "ms, p99 %.2f ms, max %.2f ms\n", (int)o->pid, n, failed,
	       kc_now() - start, kc_pct_ms(lat, n, 50), kc_pct_ms(lat, n, 99),
	       kc_pct_ms(lat, n, 100));
	free(lat);
	return failed ? KC_EXIT_FAIL : KC_EXIT_OK;
}

int kc_cmd_switch(int argc, char **argv)
{
	struct kc_switch_opts o = { 0 };
	const char *path;
	int fd, ret;

	ret = kc_switch_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	fd = kc_dev_open(&path);
	if (fd == -ENOENT)
		kc_err_not_loaded(path);
	if (fd < 0)
		return KC_EXIT_FAIL;
	ret = KC_EXIT_FAIL;
	if (o.pid || !kc_pick_server(fd, &o.pid)) {
		struct sakura_switch sw;

		if (o.repeat > 1 || o.duration)
			ret = kc_switch_repeat(fd, &o);
		else if (!kc_switch_one(fd, &o, o.mode, &sw))
			ret = KC_EXIT_OK;
	}
	close(fd);
	return ret;
}
