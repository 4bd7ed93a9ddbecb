// SPDX-License-Identifier: GPL-2.0
/* main.c - kserver's command line, start-up checks and the MIME table. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "server.h"

#define KS_MIME_TYPES_FILE "/etc/mime.types"

void ks_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kserver: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static const char ks_usage[] =
	"Usage: kserver [OPTION]...\n"
	"Serve a directory over HTTP/1.1, in user mode or (with the sakura\n"
	"kernel module) in supervisor mode.\n"
	"\n"
	"  -r, --root DIR             document root (default: www)\n"
	"  -l, --listen ADDR:PORT     address to listen on (default: 127.0.0.1:8080;\n"
	"                             IPv6 as [::1]:8080)\n"
	"  -w, --workers N            event-loop threads, one per core\n"
	"                             (default: online CPUs)\n"
	"  -m, --mode user|supervisor where the handler starts (default: user;\n"
	"                             kserverctl switch-mode changes it live)\n"
	"  -a, --access-log FILE      nginx 'combined' access log ('-': stdout)\n"
	"  -i, --index NAME           directory index file (default: index.html)\n"
	"  -k, --keepalive-timeout S  idle keep-alive timeout, seconds (default: 75)\n"
	"  -t, --header-timeout S     time to receive a request head (default: 60)\n"
	"  -s, --send-timeout S       time a send may wait for the client (default: 60)\n"
	"      --serve-hidden         serve files and directories starting with '.'\n"
	"      --bench-fixed BYTES    BENCHMARK ONLY: answer every GET/HEAD with a\n"
	"                             200 of BYTES (1-4096) bytes from memory, no\n"
	"                             file work (the 'limit' line of make bench)\n"
	"  -h, --help                 show this help and exit\n"
	"  -V, --version              show the version and exit\n"
	"\n"
	"SIGTERM or SIGINT stops accepting, finishes responses in flight (at most\n"
	"10 s) and exits 0.\n";

enum { KS_OPT_SERVE_HIDDEN = 256, KS_OPT_BENCH_FIXED };

static const struct option ks_long_opts[] = {
	{ "root", required_argument, NULL, 'r' },
	{ "listen", required_argument, NULL, 'l' },
	{ "workers", required_argument, NULL, 'w' },
	{ "mode", required_argument, NULL, 'm' },
	{ "access-log", required_argument, NULL, 'a' },
	{ "index", required_argument, NULL, 'i' },
	{ "keepalive-timeout", required_argument, NULL, 'k' },
	{ "header-timeout", required_argument, NULL, 't' },
	{ "send-timeout", required_argument, NULL, 's' },
	{ "serve-hidden", no_argument, NULL, KS_OPT_SERVE_HIDDEN },
	{ "bench-fixed", required_argument, NULL, KS_OPT_BENCH_FIXED },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* seconds, possibly fractional, into milliseconds: (0, 1 day] */
static int ks_parse_seconds(const char *name, const char *s, u32 *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400) {
		ks_err("--%s: '%s' is not a number of seconds in (0, 86400]",
		       name, s);
		return -EINVAL;
	}
	*ms = v * 1000 < 1 ? 1 : (u32)(v * 1000);
	return 0;
}

/* a whole number in [1, max] for --name; @what names it in the error */
static int ks_parse_count(const char *name, const char *what, const char *s,
			  long max, u32 *n)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max) {
		ks_err("--%s: '%s' is not %s from 1 to %ld", name, s, what, max);
		return -EINVAL;
	}
	*n = v;
	return 0;
}

static int ks_parse_index(struct ks_config *cfg, const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= KS_INDEX_MAX || strchr(s, '/') || s[0] == '.') {
		ks_err("--index: '%s' must be a plain file name under %d bytes",
		       s, KS_INDEX_MAX);
		return -EINVAL;
	}
	memcpy(cfg->index, s, len + 1);
	cfg->index_len = len;
	return 0;
}

static int ks_parse_mode(const char *s, enum ks_mode *mode)
{
	if (!strcmp(s, "user")) {
		*mode = KS_MODE_USER;
	} else if (!strcmp(s, "supervisor")) {
		*mode = KS_MODE_SUPERVISOR;
	} else {
		ks_err("--mode: '%s' is neither 'user' nor 'supervisor'", s);
		return -EINVAL;
	}
	return 0;
}

int ks_options_parse(struct ks_options *opt, struct ks_config *cfg, int argc,
		     char **argv)
{
	int c, err = 0;

	opt->root = "www";
	opt->listen = "127.0.0.1:8080";
	cfg->header_timeout_ms = 60000;
	cfg->keepalive_timeout_ms = 75000;
	cfg->send_timeout_ms = 60000;
	cfg->linger_timeout_ms = 5000;
	ks_parse_index(cfg, "index.html");
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, ":r:l:w:m:a:i:k:t:s:hV",
					ks_long_opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			opt->root = optarg;
			break;
		case 'l':
			opt->listen = optarg;
			break;
		case 'w':
			err = ks_parse_count("workers", "a number", optarg,
					     KS_MAX_WORKERS, &opt->workers);
			break;
		case 'm':
			err = ks_parse_mode(optarg, &opt->mode);
			break;
		case 'a':
			opt->access_log = optarg;
			break;
		case 'i':
			err = ks_parse_index(cfg, optarg);
			break;
		case 'k':
			err = ks_parse_seconds("keepalive-timeout", optarg,
					       &cfg->keepalive_timeout_ms);
			break;
		case 't':
			err = ks_parse_seconds("header-timeout", optarg,
					       &cfg->header_timeout_ms);
			break;
		case 's':
			err = ks_parse_seconds("send-timeout", optarg,
					       &cfg->send_timeout_ms);
			break;
		case KS_OPT_SERVE_HIDDEN:
			cfg->serve_hidden = true;
			break;
		case KS_OPT_BENCH_FIXED:
			err = ks_parse_count("bench-fixed", "a number of bytes",
					     optarg, KS_BENCH_BODY_MAX,
					     &cfg->bench_body_len);
			break;
		case 'h':
			fputs(ks_usage, stdout);
			exit(0);
		case 'V':
			printf("kserver %s\n", KS_VERSION);
			exit(0);
		case ':':
			ks_err("option '%s' needs a value (see --help)",
			       argv[optind - 1]);
			return -EINVAL;
		default:
			ks_err("unknown option '%s' (see --help)",
			       argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (!err && optind < argc) {
		ks_err("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	return err;
}

/* "host:port", "[v6]:port" or ":port" into a socket address */
static int ks_resolve_listen(struct ks_server *srv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					      AI_PASSIVE };
	char host[256];
	const char *s = srv->opt.listen, *colon = strrchr(s, ':');
	struct addrinfo *ai;
	size_t hl;
	int err;

	if (!colon || !colon[1] || (size_t)(colon - s) >= sizeof(host))
		goto bad;
	hl = colon - s;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	err = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
	if (err)
		goto bad;
	memcpy(&srv->addr, ai->ai_addr, ai->ai_addrlen);
	srv->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	ks_err("--listen: '%s' is not ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)",
	       s);
	return -EINVAL;
}

/* /etc/mime.types when readable, the built-in table otherwise */
static int ks_load_mime(struct ks_server *srv)
{
	static char text[KS_MIME_BLOB_MAX];
	const char *src = ks_mime_builtin;
	size_t len = strlen(ks_mime_builtin);
	FILE *f = fopen(KS_MIME_TYPES_FILE, "r");
	int err;

	if (f) {
		size_t n = fread(text, 1, sizeof(text), f);

		fclose(f);
		if (n > 0 && n < sizeof(text)) {
			src = text;
			len = n;
		}
	}
	srv->mime_blob = malloc(KS_MIME_BLOB_MAX);
	if (!srv->mime_blob)
		return -ENOMEM;
	err = ks_mime_build(src, len, srv->mime_blob, KS_MIME_BLOB_MAX);
	if (err && src != ks_mime_builtin)
		err = ks_mime_build(ks_mime_builtin, strlen(ks_mime_builtin),
				    srv->mime_blob, KS_MIME_BLOB_MAX);
	srv->cfg.mime = srv->mime_blob;
	return err;
}

static int ks_open_root(struct ks_server *srv)
{
	struct stat st;

	srv->rootfd = open(srv->opt.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (srv->rootfd < 0) {
		ks_err("--root %s: %s", srv->opt.root, strerror(errno));
		return -errno;
	}
	if (fstat(srv->rootfd, &st) || !S_ISDIR(st.st_mode)) {
		ks_err("--root %s: not a directory", srv->opt.root);
		return -ENOTDIR;
	}
	return 0;
}

static int ks_open_access_log(struct ks_server *srv)
{
	const char *path = srv->opt.access_log;

	srv->logfd = -1;
	srv->cfg.access_log = path != NULL;
	if (!path)
		return 0;
	if (!strcmp(path, "-")) {
		srv->logfd = STDOUT_FILENO;
		return 0;
	}
	srv->logfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (srv->logfd < 0) {
		ks_err("--access-log %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct ks_server srv;
	const char *why = NULL;
	long ncpu;

	if (ks_options_parse(&srv.opt, &srv.cfg, argc, argv))
		return 1;
	if (ks_resolve_listen(&srv) || ks_open_root(&srv) ||
	    ks_open_access_log(&srv))
		return 1;
	if (ks_load_mime(&srv)) {
		ks_err("cannot build the MIME table");
		return 1;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	srv.nthreads = srv.opt.workers ? srv.opt.workers :
		       ncpu > 0 ? (ncpu > KS_MAX_WORKERS ? KS_MAX_WORKERS : ncpu) : 1;
	/*
	 * Register first: the event loops watch the kernel's completions. In
	 * user mode this only makes the server switchable (kserverctl).
	 */
	if (ks_sup_register(&srv, srv.opt.mode == KS_MODE_SUPERVISOR, &why) &&
	    srv.opt.mode == KS_MODE_SUPERVISOR)
		return 1;
	if (ks_server_setup(&srv))
		return 1;
	fprintf(stderr, "kserver %s: serving %s on http://%s/ (%s mode, %u "
		"cores; %s%s)\n", KS_VERSION, srv.opt.root, srv.opt.listen,
		srv.opt.mode == KS_MODE_SUPERVISOR ? "supervisor" : "user",
		srv.nthreads, srv.sup ? "switchable with kserverctl" :
		"user mode only: ", srv.sup ? "" : why ? why : "no module");
	if (srv.cfg.bench_body_len)
		fprintf(stderr, "kserver: BENCHMARK ONLY: every GET/HEAD gets "
			"a fixed %u-byte 200 from memory, no files are "
			"served\n", srv.cfg.bench_body_len);
	return ks_server_run(&srv);
}
