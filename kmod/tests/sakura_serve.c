// SPDX-License-Identifier: GPL-2.0
/*
 * sakura_serve.c - a minimal supervisor-mode server over /dev/sakura, for
 * testing sakura.ko before kserver drives it. It takes kserver's flags, so
 * the HTTP suites can run against it (KSERVER=build/kmod/sakura_serve):
 *
 *   sakura_serve --root DIR [--listen ADDR:PORT] [--workers N]
 *                [--access-log FILE] [--index NAME] [--serve-hidden]
 *                [--header-timeout S] [--keepalive-timeout S]
 *                [--send-timeout S] [--mode supervisor]
 *
 * Per core: one thread inside SAKURA_IOC_RUN_WORKER, one acceptor thread
 * with its own SO_REUSEPORT listener that hands each connection over with a
 * Sakura Call, closes fds as completions arrive and formats the log ring
 * with kserver's access_log.c. SIGTERM/SIGINT: UNREGISTER, wait for every
 * completion (at most 10 s), exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "../kmod/uapi/sakura.h"

#define SS_SQ_ENTRIES 1024
#define SS_CQ_ENTRIES 16384
#define SS_LOG_ENTRIES 512
#define SS_DRAIN_MS 10000

struct ss_core {
	unsigned int idx;
	int cpu;
	int lfd;
	pthread_t worker, acceptor;
	struct sakura_core_hdr *hdr;
	struct sakura_sqe *sq;
	struct sakura_cqe *cq;
	struct sakura_log_rec *log;
	unsigned long inflight;
	struct ks_log *alog;
	int worker_ret;
};

static int devfd = -1;
static atomic_bool stopping;
static struct sockaddr_storage laddr;
static socklen_t laddrlen;
static unsigned int ncores;
static struct ss_core *cores;

void ks_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sakura_serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void kick(struct ss_core *c)
{
	struct sakura_core_arg a = { .core = c->idx };

	if (ioctl(devfd, SAKURA_IOC_KICK, &a))
		ks_err("KICK %u: %s", c->idx, strerror(errno));
}

/* A Sakura Call; false when the submission ring is full. */
static bool submit(struct ss_core *c, int fd)
{
	struct sakura_ring *r = &c->hdr->sq;
	__u32 t = r->tail;
	__u32 h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	struct sakura_sqe *e;

	if (t - h >= SS_SQ_ENTRIES)
		return false;
	e = &c->sq[t & (SS_SQ_ENTRIES - 1)];
	e->op = SAKURA_OP_HTTP_CONN;
	e->fd = fd;
	e->user_data = (__u64)fd;
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->flags, __ATOMIC_RELAXED) & SAKURA_SQ_NEED_WAKEUP)
		kick(c);
	return true;
}

static void drain_cq(struct ss_core *c)
{
	struct sakura_ring *r = &c->hdr->cq;
	__u32 h = r->head;
	__u32 t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	while (h != t) {
		struct sakura_cqe *e = &c->cq[h & (SS_CQ_ENTRIES - 1)];

		if (e->op == SAKURA_CQE_CLOSED) {
			if (e->res)
				ks_err("core %u refused fd %d: %s", c->idx,
				       e->fd, strerror(-e->res));
			close(e->fd);
			c->inflight--;
		}
		h++;
	}
	__atomic_store_n(&r->head, h, __ATOMIC_RELEASE);
}

static void drain_log(struct ss_core *c)
{
	struct sakura_ring *r = &c->hdr->log;
	__u32 h = r->head;
	__u32 t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	while (h != t) {
		const struct sakura_log_rec *e = &c->log[h & (SS_LOG_ENTRIES - 1)];
		struct ks_log_rec rec = {
			.time = e->time,
			.status = e->status,
			.body_bytes = e->body_bytes,
			.peer = { .family = e->family, .port = e->port },
			.request = { e->request, e->request_len },
			.referer = { e->referer, e->referer_len },
			.user_agent = { e->user_agent, e->user_agent_len },
		};

		memcpy(rec.peer.addr, e->addr, sizeof(rec.peer.addr));
		ks_log_write(c->alog, &rec);
		h++;
	}
	__atomic_store_n(&r->head, h, __ATOMIC_RELEASE);
	ks_log_flush(c->alog);
}

static void accept_some(struct ss_core *c)
{
	int i, one = 1;

	for (i = 0; i < 64; i++) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (!submit(c, fd)) {	/* ring full: let the worker run */
			drain_cq(c);
			usleep(100);
		}
		c->inflight++;
	}
}

static void *acceptor_main(void *arg)
{
	struct ss_core *c = arg;
	unsigned long long deadline = 0;

	pin(c->cpu);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = devfd, .events = POLLIN },
			{ .fd = c->lfd, .events = POLLIN },
		};

		poll(p, c->lfd >= 0 ? 2 : 1, 20);
		if (c->lfd >= 0 && (p[1].revents & POLLIN))
			accept_some(c);
		drain_cq(c);
		drain_log(c);
		if (atomic_load(&stopping)) {
			if (!deadline) {
				close(c->lfd);
				c->lfd = -1;
				deadline = now_ms() + SS_DRAIN_MS;
			}
			if (!c->inflight || now_ms() > deadline)
				break;
		}
	}
	return NULL;
}

static void *worker_main(void *arg)
{
	struct ss_core *c = arg;
	struct sakura_core_arg a = { .core = c->idx };

	pin(c->cpu);
	for (;;) {
		if (!ioctl(devfd, SAKURA_IOC_RUN_WORKER, &a))
			break;		/* unregistered */
		if (errno != EINTR) {
			c->worker_ret = errno;
			ks_err("RUN_WORKER %u: %s", c->idx, strerror(errno));
			break;
		}
	}
	return NULL;
}

static int nth_cpu(unsigned int i)
{
	cpu_set_t set;
	int cpu, seen = 0;

	if (sched_getaffinity(0, sizeof(set), &set) || !CPU_COUNT(&set))
		return -1;
	i %= CPU_COUNT(&set);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && (unsigned int)seen++ == i)
			return cpu;
	return -1;
}

static int listener(void)
{
	int one = 1, fd = socket(laddr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
				 SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&laddr, laddrlen) || listen(fd, 4096)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int resolve(const char *s)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST }, *ai;
	size_t n;

	if (!colon)
		return -1;
	n = colon - s;
	if (s[0] == '[' && n >= 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = 0;
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -1;
	memcpy(&laddr, ai->ai_addr, ai->ai_addrlen);
	laddrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void *load_mime(__u32 *len)
{
	static char text[KS_MIME_BLOB_MAX];
	void *blob = malloc(KS_MIME_BLOB_MAX);
	FILE *f = fopen("/etc/mime.types", "r");
	const char *src = ks_mime_builtin;
	size_t n = strlen(ks_mime_builtin);

	if (f) {
		size_t m = fread(text, 1, sizeof(text), f);

		fclose(f);
		if (m > 0 && m < sizeof(text)) {
			src = text;
			n = m;
		}
	}
	if (!blob || ks_mime_build(src, n, blob, KS_MIME_BLOB_MAX))
		return NULL;
	*len = ((struct ks_mime_table *)blob)->size;
	return blob;
}

static unsigned int seconds(const char *name, const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 86400) {
		ks_err("--%s: bad number of seconds '%s'", name, s);
		exit(1);
	}
	return v * 1000;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "mode", required_argument, NULL, 'm' },
		{ "access-log", required_argument, NULL, 'a' },
		{ "index", required_argument, NULL, 'i' },
		{ "keepalive-timeout", required_argument, NULL, 'k' },
		{ "header-timeout", required_argument, NULL, 't' },
		{ "send-timeout", required_argument, NULL, 's' },
		{ "serve-hidden", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct sakura_register reg = {
		.abi_version = SAKURA_ABI_VERSION,
		.sq_entries = SS_SQ_ENTRIES,
		.cq_entries = SS_CQ_ENTRIES,
		.log_entries = SS_LOG_ENTRIES,
		.header_timeout_ms = 60000,
		.keepalive_timeout_ms = 75000,
		.send_timeout_ms = 60000,
		.linger_timeout_ms = 5000,
	};
	const char *root = "www", *listen_at = "127.0.0.1:8080", *logpath = NULL;
	const char *index = "index.html";
	int opt, rootfd, logfd = -1, sig;
	unsigned int i, failed = 0;
	sigset_t set;
	void *shm;

	while ((opt = getopt_long(argc, argv, "r:l:w:m:a:i:k:t:s:", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'r': root = optarg; break;
		case 'l': listen_at = optarg; break;
		case 'w': ncores = atoi(optarg); break;
		case 'm': break;	/* always supervisor */
		case 'a': logpath = optarg; break;
		case 'i': index = optarg; break;
		case 'k': reg.keepalive_timeout_ms = seconds("keepalive-timeout", optarg); break;
		case 't': reg.header_timeout_ms = seconds("header-timeout", optarg); break;
		case 's': reg.send_timeout_ms = seconds("send-timeout", optarg); break;
		case 'H': reg.flags |= SAKURA_REG_SERVE_HIDDEN; break;
		default: return 1;
		}
	}
	if (!ncores) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		ncores = n > 0 ? (n > SAKURA_MAX_CORES ? SAKURA_MAX_CORES : n) : 1;
	}
	reg.ncores = ncores;
	if (resolve(listen_at)) {
		ks_err("--listen: bad address '%s'", listen_at);
		return 1;
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		ks_err("--root %s: %s", root, strerror(errno));
		return 1;
	}
	if (logpath) {
		logfd = !strcmp(logpath, "-") ? STDOUT_FILENO :
			open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (logfd < 0) {
			ks_err("--access-log %s: %s", logpath, strerror(errno));
			return 1;
		}
		reg.flags |= SAKURA_REG_ACCESS_LOG;
	}
	reg.root_fd = rootfd;
	reg.index_len = strlen(index);
	if (reg.index_len >= SAKURA_INDEX_MAX)
		return 1;
	memcpy(reg.index, index, reg.index_len);
	reg.mime_ptr = (__u64)(uintptr_t)load_mime(&reg.mime_len);
	if (!reg.mime_ptr) {
		ks_err("cannot build the MIME table");
		return 1;
	}
	devfd = open(SAKURA_DEVICE, O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		ks_err("%s: %s (is sakura.ko loaded?)", SAKURA_DEVICE,
		       strerror(errno));
		return 1;
	}
	if (ioctl(devfd, SAKURA_IOC_REGISTER, &reg)) {
		ks_err("REGISTER: %s", strerror(errno));
		return 1;
	}
	shm = mmap(NULL, reg.layout.mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, devfd, 0);
	if (shm == MAP_FAILED) {
		ks_err("mmap: %s", strerror(errno));
		return 1;
	}
	cores = calloc(ncores, sizeof(*cores));
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < ncores; i++) {
		struct ss_core *c = &cores[i];
		char *base = (char *)shm + reg.layout.core_off +
			     i * reg.layout.core_size;

		c->idx = i;
		c->cpu = nth_cpu(i);
		c->hdr = (void *)base;
		c->sq = (void *)(base + reg.layout.sq_off);
		c->cq = (void *)(base + reg.layout.cq_off);
		c->log = (void *)(base + reg.layout.log_off);
		c->alog = logfd >= 0 ? ks_log_new(logfd) : NULL;
		c->lfd = listener();
		if (c->lfd < 0) {
			ks_err("cannot listen on %s: %s", listen_at,
			       strerror(errno));
			return 1;
		}
		pthread_create(&c->worker, NULL, worker_main, c);
		pthread_create(&c->acceptor, NULL, acceptor_main, c);
	}
	fprintf(stderr, "sakura_serve: serving %s on http://%s/ (supervisor mode, %u cores)\n",
		root, listen_at, ncores);
	if (sigwait(&set, &sig))
		sig = SIGTERM;
	atomic_store(&stopping, true);
	if (ioctl(devfd, SAKURA_IOC_UNREGISTER))
		ks_err("UNREGISTER: %s", strerror(errno));
	for (i = 0; i < ncores; i++) {
		pthread_join(cores[i].worker, NULL);
		pthread_join(cores[i].acceptor, NULL);
		ks_log_free(cores[i].alog);
		if (cores[i].worker_ret || cores[i].inflight)
			failed++;
	}
	return failed ? 1 : 0;
}
