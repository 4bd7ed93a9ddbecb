// SPDX-License-Identifier: GPL-2.0
/*
 * daemon.c - `kserverctl daemon --auto --up RPS --down RPS ...`: sample one
 * server's request rate every interval and switch its mode by the
 * hysteresis of policy.c. Logs to stdout, one line per decision.
 *
 * The mode is read from QUERY at every sample, so switches made by others
 * count; a failed switch is retried at the next qualifying sample. SIGTERM
 * and SIGINT end the wait for the next sample (ppoll) or a switch in
 * progress (no SA_RESTART: the ioctl returns EINTR), so it stops at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kserverctl.h"
#include "parse.h"
#include "policy.h"

#define KC_RATE_MAX 1e9
#define KC_SAMPLES_MAX 10000
#define KC_RATES_SHOWN 8	/* a decision's line names at most so many */

struct kc_daemon_opts {
	bool auto_policy;
	const char *up_arg, *down_arg;
	double up, down;
	double interval;	/* seconds between samples */
	double timeout;		/* seconds a switch waits for its ack */
	unsigned int samples;
	pid_t pid;		/* 0: the only registered server */
	bool verbose;
};

struct kc_daemon {
	struct kc_daemon_opts o;
	struct kc_policy policy;
	int fd;
	pid_t pid;
	unsigned int mode;	/* the mode as last seen */
	__u64 switches;		/* the server's count as last seen */
	__u64 requests;		/* both modes' requests at the last sample */
	double at;		/* CLOCK_MONOTONIC seconds of the last sample */
	double rates[KC_RATES_SHOWN];	/* the latest samples, a ring */
	unsigned int nrates;	/* samples taken, ever */
};

/* One log line on stdout: a UTC ISO-8601 timestamp, then the message. */
static void kc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void kc_log(const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ",
		 gmtime_r(&now, &tm));
	printf("%s ", stamp);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* a rate as people read it: "1520", "12.5", "0.0" */
static const char *kc_fmt_rate(double rate, char *buf, size_t len)
{
	snprintf(buf, len, rate >= 100 ? "%.0f" : "%.1f", rate);
	return buf;
}

/* The last min(samples, KC_RATES_SHOWN) rates, oldest first: "1480, 1520". */
static void kc_fmt_streak(const struct kc_daemon *d, char *buf, size_t len)
{
	unsigned int n = d->policy.samples, i;
	size_t off = 0;
	char r[32];

	if (n > KC_RATES_SHOWN) {
		n = KC_RATES_SHOWN;
		off += snprintf(buf, len, "..., ");
	}
	if (n > d->nrates)
		n = d->nrates;
	buf[off] = '\0';
	for (i = d->nrates - n; i < d->nrates && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s",
				i > d->nrates - n ? ", " : "",
				kc_fmt_rate(d->rates[i % KC_RATES_SHOWN], r,
					    sizeof(r)));
}

/* --- one sample --- */

static void kc_log_exited(const struct kc_daemon *d)
{
	kc_log("pid %d exited", (int)d->pid);
	kc_err("pid %d exited", (int)d->pid);
}

/*
 * Act on a decision: switch to @to and log why and how it went. Returns 0,
 * or -ESRCH when the server is gone.
 */
static int kc_daemon_switch(struct kc_daemon *d, unsigned int to)
{
	struct sakura_switch sw = {
		.pid = d->pid,
		.mode = to,
		.timeout_ms = kc_seconds_to_ms(d->o.timeout),
	};
	char rates[160], why[256], msg[256];
	int err;

	kc_fmt_streak(d, rates, sizeof(rates));
	snprintf(why, sizeof(why), "%s rps %s %.15g for %u sample%s", rates,
		 to == SAKURA_MODE_SUPERVISOR ? ">= up" : "<= down",
		 to == SAKURA_MODE_SUPERVISOR ? d->o.up : d->o.down,
		 d->policy.samples, d->policy.samples == 1 ? "" : "s");
	err = kc_switch(d->fd, &sw);
	if (err == -ESRCH) {
		kc_log_exited(d);
		return err;
	}
	if (err) {
		kc_switch_error(d->fd, &sw, err, msg, sizeof(msg));
		kc_log("pid %d: %s: switch to %s failed: %s%s", (int)d->pid,
		       why, kc_mode_name(to), msg,
		       kc_stop_signal ? "" : "; retrying at the next "
					     "qualifying sample");
		return 0;
	}
	kc_switch_result(&sw, msg, sizeof(msg));
	kc_log("pid %d: %s: %s", (int)d->pid, why, msg);
	if (sw.from_mode != sw.mode)
		d->switches++;
	d->mode = to;
	return 0;
}

static void kc_log_sample(const struct kc_daemon *d, unsigned int mode,
			  double rate)
{
	bool user = mode == SAKURA_MODE_USER;
	char r[32];

	kc_log("pid %d: sample: %s rps in %s mode (%u/%u samples %s %.15g)",
	       (int)d->pid, kc_fmt_rate(rate, r, sizeof(r)), kc_mode_name(mode),
	       d->policy.streak, d->policy.samples, user ? ">= up" : "<= down",
	       user ? d->o.up : d->o.down);
}

/*
 * A mode or switch count this daemon did not bring about: a switch by
 * someone else, or a timed-out one of ours that the server applied late.
 */
static void kc_daemon_seen(struct kc_daemon *d, const struct sakura_query *q)
{
	if (q->mode == d->mode && q->switches == d->switches)
		return;
	kc_log("pid %d: now in %s mode (the server's switch count is %llu); "
	       "the streak restarts", (int)d->pid, kc_mode_name(q->mode),
	       q->switches);
	kc_policy_reset(&d->policy);
	d->mode = q->mode;
	d->switches = q->switches;
}

/* One sample and the decision it leads to; 0, or -errno: stop (logged). */
static int kc_daemon_sample(struct kc_daemon *d)
{
	struct sakura_query q;
	enum kc_action act;
	double now, rate;
	__u64 total;
	int err;

	err = kc_query(d->fd, d->pid, 0, SAKURA_STATUS_ALL, &q);
	now = kc_now();
	if (err == -ENOENT) {
		kc_log_exited(d);
		return err;
	}
	if (err) {
		kc_log("pid %d: QUERY failed: %s", (int)d->pid, strerror(-err));
		kc_err("pid %d: QUERY failed: %s", (int)d->pid, strerror(-err));
		return err;
	}
	kc_daemon_seen(d, &q);
	total = q.user.requests + q.kernel.requests;
	if (total < d->requests || now <= d->at) {
		if (d->o.verbose)
			kc_log("pid %d: the request counters went back: sample "
			       "skipped", (int)d->pid);
		d->requests = total;
		d->at = now;
		return 0;
	}
	rate = (total - d->requests) / (now - d->at);
	d->requests = total;
	d->at = now;
	d->rates[d->nrates++ % KC_RATES_SHOWN] = rate;
	act = kc_policy_sample(&d->policy, q.mode, rate);
	if (d->o.verbose)
		kc_log_sample(d, q.mode, rate);
	if (act == KC_STAY)
		return 0;
	return kc_daemon_switch(d, act == KC_TO_SUPERVISOR ?
					   SAKURA_MODE_SUPERVISOR :
					   SAKURA_MODE_USER);
}

/* Sample every interval until a stop signal or the server's exit. */
static int kc_daemon_loop(struct kc_daemon *d)
{
	double next = d->at + d->o.interval;

	while (kc_sleep_until(next)) {
		if (kc_daemon_sample(d))
			return KC_EXIT_FAIL;
		next += d->o.interval;
		if (next <= kc_now())	/* a slow switch: start afresh */
			next = kc_now() + d->o.interval;
	}
	kc_log("pid %d: daemon stopped by %s", (int)d->pid,
	       kc_stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	return KC_EXIT_OK;
}

/* --- the command --- */

enum {
	KC_OPT_AUTO = 256,
	KC_OPT_UP,
	KC_OPT_DOWN,
};

static const struct option kc_daemon_long[] = {
	{ "auto", no_argument, NULL, KC_OPT_AUTO },
	{ "up", required_argument, NULL, KC_OPT_UP },
	{ "down", required_argument, NULL, KC_OPT_DOWN },
	{ "interval", required_argument, NULL, 'i' },
	{ "samples", required_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 't' },
	{ "pid", required_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int kc_opt_rate(const char *name, const char *s, double *rate)
{
	if (kc_parse_decimal(s, 0, KC_RATE_MAX, rate)) {
		kc_err("--%s: '%s' is not a rate in requests per second (a "
		       "number from 0 to %.0f)", name, s, KC_RATE_MAX);
		return -EINVAL;
	}
	return 0;
}

static int kc_opt_samples(const char *s, unsigned int *n)
{
	unsigned long v;

	if (kc_parse_uint(s, 1, KC_SAMPLES_MAX, &v)) {
		kc_err("--samples: '%s' is not a number from 1 to %d", s,
		       KC_SAMPLES_MAX);
		return -EINVAL;
	}
	*n = v;
	return 0;
}

/* One option; 0, or -EINVAL (said). */
static int kc_daemon_opt(int c, struct kc_daemon_opts *o)
{
	switch (c) {
	case KC_OPT_AUTO:
		o->auto_policy = true;
		return 0;
	case KC_OPT_UP:
		o->up_arg = optarg;
		return kc_opt_rate("up", optarg, &o->up);
	case KC_OPT_DOWN:
		o->down_arg = optarg;
		return kc_opt_rate("down", optarg, &o->down);
	case 'i':
		return kc_opt_seconds("interval", optarg, 0.05, 86400,
				      &o->interval);
	case 'n':
		return kc_opt_samples(optarg, &o->samples);
	case 't':
		return kc_opt_seconds("timeout", optarg, 0.001,
				      SAKURA_TIMEOUT_MAX_MS / 1000.0,
				      &o->timeout);
	case 'p':
		return kc_opt_pid(optarg, &o->pid);
	case 'v':
		o->verbose = true;
		return 0;
	}
	kc_err("daemon: option %d is not handled (a bug)", c);
	return -EINVAL;
}

/* What must be there, and down < up; an exit status, or -1: go on. */
static int kc_daemon_check(const struct kc_daemon_opts *o)
{
	if (!o->auto_policy)
		return kc_usage_err("daemon: --auto is required (switching by "
				    "load is the only policy there is)");
	if (!o->up_arg)
		return kc_usage_err("daemon: --up RPS is required");
	if (!o->down_arg)
		return kc_usage_err("daemon: --down RPS is required");
	if (!(o->down < o->up))
		return kc_usage_err("daemon: --down %s must be below --up %s "
				    "(the gap keeps it from flapping)",
				    o->down_arg, o->up_arg);
	return -1;
}

/* -1: go on; an exit status: stop with it */
static int kc_daemon_parse(int argc, char **argv, struct kc_daemon_opts *o)
{
	int c;

	o->interval = 1;
	o->timeout = 5;
	o->samples = 3;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", kc_daemon_long,
				NULL)) != -1) {
		if (c == 'h') {
			kc_print_usage();
			return KC_EXIT_OK;
		}
		if (c == ':' || c == '?')
			return kc_opt_error(c, optopt, argv, "daemon");
		if (kc_daemon_opt(c, o))
			return KC_EXIT_USAGE;
	}
	if (optind < argc)
		return kc_usage_err("daemon: unexpected argument '%s' (see "
				    "--help)", argv[optind]);
	return kc_daemon_check(o);
}

/* Find the server and take the first sample; an exit status, or -1. */
static int kc_daemon_start(struct kc_daemon *d)
{
	struct sakura_query q;
	const char *path;
	int err;

	d->fd = kc_dev_open(&path);
	if (d->fd == -ENOENT)
		kc_err_not_loaded(path);
	if (d->fd < 0)
		return KC_EXIT_FAIL;
	d->pid = d->o.pid;
	if (!d->pid && kc_pick_server(d->fd, &d->pid))
		return KC_EXIT_FAIL;
	err = kc_query(d->fd, d->pid, 0, SAKURA_STATUS_ALL, &q);
	if (err == -ENOENT) {
		kc_err("pid %d: no kserver with that pid is registered with "
		       "sakura.ko", (int)d->pid);
		return KC_EXIT_FAIL;
	}
	if (err) {
		kc_err_query(path, err);
		return KC_EXIT_FAIL;
	}
	d->at = kc_now();
	d->mode = q.mode;
	d->switches = q.switches;
	d->requests = q.user.requests + q.kernel.requests;
	kc_policy_init(&d->policy, d->o.up, d->o.down, d->o.samples);
	return -1;
}

static void kc_log_start(const struct kc_daemon *d)
{
	const struct kc_daemon_opts *o = &d->o;

	kc_log("pid %d: daemon started, policy auto: to supervisor at >= "
	       "%.15g rps for %u sample%s, to user at <= %.15g rps for as "
	       "many, one sample every %g s; now in %s mode", (int)d->pid,
	       o->up, o->samples, o->samples == 1 ? "" : "s", o->down,
	       o->interval, kc_mode_name(d->mode));
}

int kc_cmd_daemon(int argc, char **argv)
{
	struct kc_daemon d = { .fd = -1 };
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);	/* before any output */
	ret = kc_daemon_parse(argc, argv, &d.o);
	if (ret >= 0)
		return ret;
	ret = kc_daemon_start(&d);
	if (ret < 0 && kc_signals_init()) {
		kc_err("cannot catch SIGTERM: %s", strerror(errno));
		ret = KC_EXIT_FAIL;
	}
	if (ret < 0) {
		kc_log_start(&d);
		ret = kc_daemon_loop(&d);
	}
	if (d.fd >= 0)
		close(d.fd);
	return ret;
}
