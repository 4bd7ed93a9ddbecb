// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - `kserverctl status [--json] [--pid PID]`: every registered
 * server (or one), as text or as one JSON document.
 *
 * Everything is read first and printed after, so a server that exits half
 * way is left out whole and the JSON stays valid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kserverctl.h"
#include "parse.h"

#define KC_SERVERS_MAX 1024

struct kc_server {
	struct sakura_query all;	/* SAKURA_STATUS_ALL: the sums */
	struct sakura_query *cores;	/* all.ncores entries */
};

struct kc_status {
	struct kc_server *v;
	unsigned int n;
};

/* struct sakura_counters by name, in its order (the JSON field names) */
static const struct kc_counter_field {
	const char *name;
	size_t off;
} kc_counter_fields[] = {
#define KC_FIELD(f) { #f, offsetof(struct sakura_counters, f) }
	KC_FIELD(conns),	  KC_FIELD(accepted),
	KC_FIELD(requests),	  KC_FIELD(bytes),
	KC_FIELD(parks),	  KC_FIELD(handovers),
	KC_FIELD(timeouts),	  KC_FIELD(rejected),
	KC_FIELD(closed),	  KC_FIELD(sleeps),
	KC_FIELD(log_dropped),	  KC_FIELD(zerocopy_bytes),
	KC_FIELD(copied_bytes),	  KC_FIELD(adopted),
	KC_FIELD(fcache_hits),	  KC_FIELD(fcache_misses),
#undef KC_FIELD
};

#define KC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static __u64 kc_counter(const struct sakura_counters *c,
			const struct kc_counter_field *f)
{
	return *(const __u64 *)((const char *)c + f->off);
}

/* --- reading --- */

/* One server's sums and per-core counters; -ENOENT when it is gone. */
static int kc_server_read(int fd, pid_t pid, struct kc_server *s)
{
	unsigned int i;
	int err;

	err = kc_query(fd, pid, 0, SAKURA_STATUS_ALL, &s->all);
	if (err)
		return err;
	s->cores = calloc(s->all.ncores ? s->all.ncores : 1,
			  sizeof(*s->cores));
	if (!s->cores)
		return -ENOMEM;
	for (i = 0; i < s->all.ncores; i++) {
		err = kc_query(fd, pid, 0, i, &s->cores[i]);
		if (err) {
			free(s->cores);
			return err;
		}
	}
	return 0;
}

/* The servers of @pids that are still there; -errno on another failure. */
static int kc_status_read(int fd, const pid_t *pids, unsigned int n,
			  struct kc_status *st)
{
	unsigned int i;
	int err;

	st->n = 0;
	st->v = calloc(n ? n : 1, sizeof(*st->v));
	if (!st->v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = kc_server_read(fd, pids[i], &st->v[st->n]);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		st->n++;
	}
	return 0;
}

static void kc_status_free(struct kc_status *st)
{
	unsigned int i;

	for (i = 0; i < st->n; i++)
		free(st->v[i].cores);
	free(st->v);
}

/* --- text --- */

static void kc_print_uptime(__u64 ms)
{
	__u64 s = ms / 1000;

	if (s < 60)
		printf("%.1f s\n", ms / 1000.0);
	else if (s < 3600)
		printf("%llum %02llus\n", s / 60, s % 60);
	else if (s < 86400)
		printf("%lluh %02llum %02llus\n", s / 3600, s / 60 % 60, s % 60);
	else
		printf("%llud %02lluh %02llum %02llus\n", s / 86400,
		       s / 3600 % 24, s / 60 % 60, s % 60);
}

static void kc_print_mode(const struct sakura_query *q)
{
	printf("  mode:             %s", kc_mode_name(q->mode));
	if (q->pending && q->req_mode != q->mode)
		printf(" (switching to %s)", kc_mode_name(q->req_mode));
	else if (q->pending)
		printf(" (a switch request is pending)");
	putchar('\n');
}

static const char *const kc_core_heads[] = {
	"core", "user conns", "user requests", "supervisor conns",
	"supervisor requests", "handovers", "adopted",
};

/* One row of the per-core table, in kc_core_heads' order. */
static void kc_core_row(const struct sakura_query *q, unsigned int core,
			__u64 *row)
{
	row[0] = core;
	row[1] = q->user.conns;
	row[2] = q->user.requests;
	row[3] = q->kernel.conns;
	row[4] = q->kernel.requests;
	row[5] = q->user.handovers + q->kernel.handovers;
	row[6] = q->user.adopted + q->kernel.adopted;
}

static void kc_print_cores(const struct kc_server *s)
{
	__u64 row[KC_ARRAY_SIZE(kc_core_heads)];
	unsigned int i, j;

	for (j = 0; j < KC_ARRAY_SIZE(kc_core_heads); j++)
		printf("  %s", kc_core_heads[j]);
	putchar('\n');
	for (i = 0; i < s->all.ncores; i++) {
		kc_core_row(&s->cores[i], i, row);
		for (j = 0; j < KC_ARRAY_SIZE(row); j++)
			printf("  %*llu", (int)strlen(kc_core_heads[j]), row[j]);
		putchar('\n');
	}
}

static void kc_print_server(const struct kc_server *s)
{
	const struct sakura_query *q = &s->all;

	printf("pid %d\n", q->server_pid);
	printf("  uid:              %u\n", q->uid);
	kc_print_mode(q);
	printf("  state:            %s\n",
	       q->state == SAKURA_STATE_RUNNING ? "running" : "stopped");
	printf("  uptime:           ");
	kc_print_uptime(q->uptime_ms);
	printf("  cores:            %u (kernel workers running: %u)\n",
	       q->ncores, q->workers);
	printf("  switches:         %llu", q->switches);
	if (q->switches)
		printf(" (the last took %.2f ms)", q->last_switch_ns / 1e6);
	printf("\n  connections now:  user %llu, supervisor %llu\n",
	       q->user.conns, q->kernel.conns);
	printf("  requests served:  user %llu, supervisor %llu\n",
	       q->user.requests, q->kernel.requests);
	printf("  bytes sent:       user %llu, supervisor %llu\n",
	       q->user.bytes, q->kernel.bytes);
	kc_print_cores(s);
}

static void kc_print_text(const struct kc_status *st)
{
	unsigned int i;

	if (!st->n)
		printf("no kserver is registered with sakura.ko\n");
	for (i = 0; i < st->n; i++) {
		if (i)
			putchar('\n');
		kc_print_server(&st->v[i]);
	}
}

/* --- JSON --- */

static void kc_json_counters(const struct sakura_counters *c)
{
	size_t i;

	putchar('{');
	for (i = 0; i < KC_ARRAY_SIZE(kc_counter_fields); i++)
		printf("%s\"%s\": %llu", i ? ", " : "",
		       kc_counter_fields[i].name,
		       kc_counter(c, &kc_counter_fields[i]));
	putchar('}');
}

static void kc_json_core(const struct sakura_query *q, unsigned int core)
{
	printf("{\"core\": %u, \"user\": ", core);
	kc_json_counters(&q->user);
	printf(", \"supervisor\": ");
	kc_json_counters(&q->kernel);
	putchar('}');
}

static void kc_json_server(const struct kc_server *s)
{
	const struct sakura_query *q = &s->all;
	unsigned int i;

	printf("{\"pid\": %d, \"uid\": %u, \"mode\": \"%s\", "
	       "\"requested_mode\": \"%s\", \"pending\": %s, \"state\": \"%s\", "
	       "\"uptime_ms\": %llu, \"cores\": %u, \"workers\": %u, "
	       "\"switches\": %llu, \"last_switch_ms\": %.3f, ",
	       q->server_pid, q->uid, kc_mode_name(q->mode),
	       kc_mode_name(q->req_mode), q->pending ? "true" : "false",
	       q->state == SAKURA_STATE_RUNNING ? "running" : "stopped",
	       q->uptime_ms, q->ncores, q->workers, q->switches,
	       q->last_switch_ns / 1e6);
	printf("\"connections\": {\"user\": %llu, \"supervisor\": %llu}, "
	       "\"requests\": {\"user\": %llu, \"supervisor\": %llu}, "
	       "\"bytes\": {\"user\": %llu, \"supervisor\": %llu}, "
	       "\"per_core\": [",
	       q->user.conns, q->kernel.conns, q->user.requests,
	       q->kernel.requests, q->user.bytes, q->kernel.bytes);
	for (i = 0; i < q->ncores; i++) {
		printf(i ? ",\n    " : "\n    ");
		kc_json_core(&s->cores[i], i);
	}
	printf("]}");
}

static void kc_print_json(bool loaded, const struct kc_status *st)
{
	unsigned int i;

	printf("{\"module_loaded\": %s, \"servers\": [",
	       loaded ? "true" : "false");
	for (i = 0; i < st->n; i++) {
		printf(i ? ",\n  " : "\n  ");
		kc_json_server(&st->v[i]);
	}
	printf("]}\n");
}

/* --- the command --- */

struct kc_status_opts {
	bool json;
	pid_t pid;		/* 0: every server */
};

static const struct option kc_status_long[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "pid", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* -1: go on; an exit status: stop with it */
static int kc_status_parse(int argc, char **argv, struct kc_status_opts *o)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", kc_status_long,
				NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'p':
			if (kc_opt_pid(optarg, &o->pid))
				return KC_EXIT_USAGE;
			break;
		case 'h':
			kc_print_usage();
			return KC_EXIT_OK;
		default:
			return kc_opt_error(c, optopt, argv, "status");
		}
	}
	if (optind < argc)
		return kc_usage_err("status: unexpected argument '%s' (see "
				    "--help)", argv[optind]);
	return -1;
}

/* Read what was asked for; an exit status, error lines said. */
static int kc_status_collect(int fd, const char *path,
			     const struct kc_status_opts *o,
			     struct kc_status *st)
{
	pid_t pids[KC_SERVERS_MAX];
	unsigned int n = 1;
	int err;

	pids[0] = o->pid;
	err = o->pid ? 0 : kc_list_pids(fd, pids, KC_SERVERS_MAX, &n);
	if (!err)
		err = kc_status_read(fd, pids, n, st);
	if (err == -ENOMEM) {
		kc_err("out of memory");
		return KC_EXIT_FAIL;
	}
	if (err) {
		kc_err_query(path, err);
		return KC_EXIT_FAIL;
	}
	if (o->pid && !st->n) {
		kc_err("pid %d: no kserver with that pid is registered with "
		       "sakura.ko", (int)o->pid);
		return KC_EXIT_FAIL;
	}
	return KC_EXIT_OK;
}

static int kc_status_flush(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		kc_err("cannot write the status: %s", strerror(errno));
		return KC_EXIT_FAIL;
	}
	return KC_EXIT_OK;
}

int kc_cmd_status(int argc, char **argv)
{
	struct kc_status_opts o = { 0 };
	struct kc_status st = { 0 };
	const char *path;
	int fd, ret;

	ret = kc_status_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	fd = kc_dev_open(&path);
	if (fd == -ENOENT) {
		if (o.json)
			kc_print_json(false, &st);
		else
			printf("sakura.ko is not loaded (no %s): no server can "
			       "switch modes; kserver runs in user mode only\n",
			       path);
		return kc_status_flush();
	}
	if (fd < 0)
		return KC_EXIT_FAIL;
	ret = kc_status_collect(fd, path, &o, &st);
	close(fd);
	if (ret == KC_EXIT_OK) {
		if (o.json)
			kc_print_json(true, &st);
		else
			kc_print_text(&st);
		ret = kc_status_flush();
	}
	kc_status_free(&st);
	return ret;
}
