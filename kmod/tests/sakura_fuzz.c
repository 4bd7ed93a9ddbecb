// SPDX-License-Identifier: GPL-2.0
/*
 * sakura_fuzz.c - a fuzzer for everything user space can hand sakura.ko:
 * registrations, ring entries, ring indices and flags, file descriptors of
 * every kind, and every ioctl with random arguments, from several threads.
 * Run as root in a test guest with sakura.ko loaded (tests/vm/fuzz_guest.sh);
 * the guest's dmesg verdict (guest.sh) is the other half of the check.
 *
 *   sakura_fuzz [--seconds N] [--seed N] [--root DIR]
 *
 * Each round is a fresh child process that registers a server with random
 * (mostly valid) parameters, runs a kernel worker per core and, for a random
 * few hundred milliseconds, at once: a client thread opening loopback
 * connections that send requests, junk or nothing and then close, reset or
 * half-close; a submitter handing the accepted sockets to the workers and
 * also listening sockets, pipes, regular files, UDP and UNIX sockets,
 * eventfds, the device itself, closed and random fd numbers, and fds it
 * closes or replaces right after the Sakura Call; a chaos thread calling
 * every ioctl with random arguments and pointers (NULL, unmapped, kernel,
 * read-only, straddling a page end), scribbling on ring indices, flags and
 * entries and on the control page, polling, and forking a process that uses
 * the inherited file. The round ends in one of five ways: UNREGISTER and a
 * clean exit, exit with the workers inside, close of the device with the
 * workers inside, SIGKILL from itself, or SIGKILL from the parent.
 *
 * The parent fails the run when a child does not die within 10 s of
 * SIGKILL (a hang in the kernel), and at the end when the module still holds
 * anything (the "module live_*" line of /proc/sakura) or is still in use.
 * Prints "ok"/"FAIL" lines, "figure: NAME N" lines for tests/RELIABILITY.md
 * and "N passed, N failed"; exits 0 iff none failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mime.h"
#include "../kmod/uapi/sakura.h"

#define MAX_CORES	3
#define UD_ACCEPTED	1	/* user_data of calls giving accepted sockets */
#define MAX_CLIENTS	48	/* client sockets a round keeps open */

struct stats {
	atomic_ulong rounds, ends[5], ioctls, sqes, conns, scribbles, forks;
	atomic_ulong stuck;	/* threads still inside 5 s after UNREGISTER */
};

static struct stats *st;
static void *mime;
static __u32 mime_len;
static const char *root = "/tmp";
static int passed, failed;

static void result(const char *what, int ok)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
	fflush(stdout);
}

/* xorshift64*: one state per thread, seeded from the round's seed */
static __u64 rnd(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

#define chance(s, n) (rnd(s) % (n) == 0)

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- one round: everything below runs in the child ---------------------- */

struct round {
	__u64 seed;
	int dev, dev2, lfd, rootfd;
	__u16 port;
	struct sakura_register reg;
	char *base;			/* the mapping, or NULL */
	__u32 ncores;
	atomic_int stop;
	char *ro_page;			/* PROT_READ: copy_to_user faults */
	char *edge;			/* last bytes of a page before a hole */
	/* the submitter's: accepted sockets handed over, by user_data */
	__u32 sq_tail[MAX_CORES], cq_head[MAX_CORES];
};

static struct sakura_core_hdr *hdr_of(struct round *r, __u32 core)
{
	return (void *)(r->base + r->reg.layout.core_off +
			core * r->reg.layout.core_size);
}

static void random_register(struct round *r, __u64 *s)
{
	struct sakura_register *g = &r->reg;

	memset(g, 0, sizeof(*g));
	g->abi_version = SAKURA_ABI_VERSION;
	g->root_fd = r->rootfd;
	g->ncores = 1 + rnd(s) % MAX_CORES;
	g->sq_entries = 1u << (rnd(s) % 8);
	g->cq_entries = 2u << (rnd(s) % 8);
	g->log_entries = 1u << (rnd(s) % 6);
	g->header_timeout_ms = 10 + rnd(s) % 1000;
	g->keepalive_timeout_ms = 10 + rnd(s) % 1000;
	g->send_timeout_ms = 10 + rnd(s) % 1000;
	g->linger_timeout_ms = 10 + rnd(s) % 500;
	g->flags = rnd(s) & (SAKURA_REG_SERVE_HIDDEN | SAKURA_REG_ACCESS_LOG);
	if (chance(s, 4)) {
		g->flags |= SAKURA_REG_BENCH_FIXED;
		g->bench_body_len = 1 + rnd(s) % SAKURA_BENCH_BODY_MAX;
	}
	g->mode = rnd(s) & 1;
	g->index_len = 10;
	memcpy(g->index, "index.html", 10);
	g->mime_ptr = (__u64)(uintptr_t)mime;
	g->mime_len = mime_len;
	if (chance(s, 8)) {		/* one field anything at all */
		__u32 *w = (__u32 *)g;

		w[rnd(s) % (offsetof(struct sakura_register, index) / 4)] = rnd(s);
	}
}

static void *worker(void *p)
{
	struct round *r = p;
	static atomic_uint next;
	struct sakura_core_arg a = { .core = atomic_fetch_add(&next, 1) % r->ncores };

	while (!atomic_load(&r->stop)) {
		if (ioctl(r->dev, SAKURA_IOC_RUN_WORKER, &a) == 0)
			break;		/* unregistered */
		if (errno != EINTR && errno != EBUSY)
			break;
		usleep(1000);
	}
	return NULL;
}

/* A request, junk, or part of either. */
static size_t random_request(__u64 *s, char *buf, size_t cap)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=5-99999,1-2\r\n\r\n",
		"GET /big.bin HTTP/1.0\r\n\r\n",
		"GET /fifo HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /up/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /dir HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\n",
	};
	const char *req;
	size_t n;

	if (chance(s, 4)) {		/* bytes */
		n = rnd(s) % cap;
		for (size_t i = 0; i < n; i++)
			buf[i] = chance(s, 3) ? "\r\n :/GET%."[rnd(s) % 10] : (char)rnd(s);
		return n;
	}
	req = reqs[rnd(s) % (sizeof(reqs) / sizeof(reqs[0]))];
	n = strlen(req);
	memcpy(buf, req, n);
	if (chance(s, 5))
		n = rnd(s) % (n + 1);	/* cut short */
	return n;
}

static void *client(void *p)
{
	struct round *r = p;
	__u64 s = r->seed ^ 0xc11e47;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(r->port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int open_fds[MAX_CLIENTS], n = 0;
	char buf[1024];

	memset(buf, 0, sizeof(buf));
	while (!atomic_load(&r->stop)) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		size_t len;

		if (fd < 0) {
			usleep(1000);
			continue;
		}
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		usleep(rnd(&s) % 2000);
		len = random_request(&s, buf, sizeof(buf) - 1);
		if (!chance(&s, 8))
			send(fd, buf, len, MSG_NOSIGNAL);
		switch (rnd(&s) % 6) {
		case 0: {		/* reset */
			struct linger l = { 1, 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			close(fd);
			break;
		}
		case 1:
			shutdown(fd, SHUT_WR);
			/* fall through */
		case 2:			/* keep it: read later, or never */
			if (n == MAX_CLIENTS) {
				close(open_fds[0]);
				memmove(open_fds, open_fds + 1, sizeof(int) * --n);
			}
			open_fds[n++] = fd;
			break;
		case 3:
			usleep(rnd(&s) % 5000);
			recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			close(fd);
			break;
		default:
			close(fd);
		}
		for (int i = 0; i < n; i++)	/* drain a little, sometimes */
			if (chance(&s, 4))
				while (recv(open_fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT) > 0)
					;
	}
	while (n)
		close(open_fds[--n]);
	return NULL;
}

/* An fd of some other kind, or a number that is no fd; *tmp: close after. */
static int odd_fd(struct round *r, __u64 *s, int *tmp)
{
	int sv[2], fd = -1;

	*tmp = -1;
	switch (rnd(s) % 12) {
	case 0: return r->lfd;
	case 1: return r->dev;
	case 2: return r->rootfd;
	case 3: fd = open("/dev/null", O_RDWR); break;
	case 4: fd = open("/proc/self/status", O_RDONLY); break;
	case 5: fd = socket(AF_INET, SOCK_DGRAM, 0); break;
	case 6: fd = socket(AF_INET6, SOCK_STREAM, 0); break;	/* unconnected */
	case 7:
		if (!socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
			close(sv[1]);
			fd = sv[0];
		}
		break;
	case 8:
		if (!pipe(sv)) {
			int keep = rnd(s) & 1;

			close(sv[!keep]);
			fd = sv[keep];
		}
		break;
	case 9: fd = eventfd(0, 0); break;
	case 10: return 100000 + rnd(s) % 1000;	/* no such fd */
	default: return (int)rnd(s);
	}
	*tmp = fd;
	return fd;
}

static void submit(struct round *r, __u64 *s, __u32 core, __u32 op, int fd,
		   __u64 ud)
{
	struct sakura_core_hdr *h = hdr_of(r, core);
	struct sakura_sqe *sq = (void *)((char *)h + r->reg.layout.sq_off);
	__u32 t = r->sq_tail[core]++;

	sq[t & (r->reg.sq_entries - 1)] = (struct sakura_sqe){ op, fd, ud };
	__atomic_store_n(&h->sq.tail, r->sq_tail[core], __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if ((h->sq.flags & SAKURA_SQ_NEED_WAKEUP) || chance(s, 8)) {
		struct sakura_core_arg a = { .core = core };

		ioctl(r->dev, SAKURA_IOC_KICK, &a);
	}
	atomic_fetch_add(&st->sqes, 1);
}

/*
 * Take completions: a refused call of ours left its fd with us, a handback
 * gave us a new one; close both. A connection the kernel took out of our
 * table (ABI 4) completes with nothing.
 */
static void reap(struct round *r, __u32 core)
{
	struct sakura_core_hdr *h = hdr_of(r, core);
	struct sakura_cqe *cq = (void *)((char *)h + r->reg.layout.cq_off);
	__u32 t = __atomic_load_n(&h->cq.tail, __ATOMIC_ACQUIRE);
	__u32 n = 0;

	while (r->cq_head[core] != t && n++ < r->reg.cq_entries) {
		struct sakura_cqe e = cq[r->cq_head[core]++ & (r->reg.cq_entries - 1)];

		if (e.fd > 2 && (e.op == SAKURA_CQE_HANDBACK ||
				 (e.op == SAKURA_CQE_CLOSED &&
				  e.user_data == UD_ACCEPTED && e.res != -EBADF)))
			close(e.fd);
	}
	__atomic_store_n(&h->cq.head, r->cq_head[core], __ATOMIC_RELEASE);
	h->log.head = __atomic_load_n(&h->log.tail, __ATOMIC_ACQUIRE);
}

static void *submitter(void *p)
{
	struct round *r = p;
	__u64 s = r->seed ^ 0x5b3177e5;

	while (!atomic_load(&r->stop)) {
		__u32 core = rnd(&s) % r->ncores;
		int fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int tmp;

		if (!chance(&s, 16))
			reap(r, core);
		if (fd >= 0) {
			atomic_fetch_add(&st->conns, 1);
			submit(r, &s, core, chance(&s, 8) ? SAKURA_OP_HTTP_IDLE :
			       SAKURA_OP_HTTP_CONN, fd, UD_ACCEPTED);
			if (chance(&s, 16)) {	/* the contract broken: closed */
				close(fd);	/* after the call gave it away */
			} else if (chance(&s, 16)) {	/* or replaced */
				int other = open("/dev/null", O_RDONLY);

				if (other >= 0) {
					dup2(other, fd);
					close(other);
				}
			}
			continue;
		}
		if (chance(&s, 3)) {
			__u32 op = chance(&s, 4) ? (__u32)rnd(&s) % 6 : SAKURA_OP_HTTP_CONN;
			int ofd = op == SAKURA_OP_MODE ? (int)(rnd(&s) % 3) :
				  odd_fd(r, &s, &tmp);

			if (op == SAKURA_OP_MODE)
				tmp = -1;
			submit(r, &s, core, op, ofd, UD_ACCEPTED + 1 + rnd(&s) % 1000);
			if (tmp >= 0)
				close(tmp);
		}
		usleep(rnd(&s) % 500);
	}
	return NULL;
}

/* A pointer of some class: good, NULL, tiny, unmapped, kernel, read-only, at a page end. */
static void *random_ptr(struct round *r, __u64 *s, void *good, size_t size)
{
	switch (rnd(s) % 10) {
	case 0: return NULL;
	case 1: return (void *)(uintptr_t)(rnd(s) % 4096);
	case 2: return (void *)(uintptr_t)0xffffffff81000000ull;
	case 3: return r->ro_page;
	case 4: return r->edge - size / 2;	/* straddles into a hole */
	case 5: return (void *)(uintptr_t)(rnd(s) & 0x7fffffffffffull);
	default: return good;
	}
}

static void chaos_ioctl(struct round *r, __u64 *s)
{
	union {
		struct sakura_register reg;
		struct sakura_core_arg core;
		struct sakura_status status;
		struct sakura_switch sw;
		struct sakura_ack ack;
		struct sakura_query query;
		unsigned char bytes[512];
	} u;
	static const unsigned long cmds[] = {
		SAKURA_IOC_REGISTER, SAKURA_IOC_RUN_WORKER, SAKURA_IOC_KICK,
		SAKURA_IOC_STATUS, SAKURA_IOC_UNREGISTER, SAKURA_IOC_SWITCH_MODE,
		SAKURA_IOC_ACK_MODE, SAKURA_IOC_QUERY,
	};
	unsigned long cmd = cmds[rnd(s) % 8];
	int fd = chance(s, 4) ? r->dev2 : r->dev;

	for (size_t i = 0; i < sizeof(u); i += 8) {
		__u64 v = rnd(s);

		memcpy(u.bytes + i, &v, 8);
	}
	switch (cmd) {
	case SAKURA_IOC_REGISTER:
		u.reg = r->reg;
		if (chance(s, 2))
			u.reg.ncores = rnd(s) % 5;
		break;
	case SAKURA_IOC_RUN_WORKER:
		/* a second worker on a core: EBUSY; a core past the end: EINVAL.
		 * A good one would stay inside: only when the round's own left. */
		u.core.core = rnd(s) % (r->ncores + 2);
		u.core.flags = chance(s, 4);
		if (!u.core.flags && u.core.core < r->ncores && !chance(s, 64))
			u.core.core = r->ncores;
		break;
	case SAKURA_IOC_KICK:
	case SAKURA_IOC_STATUS:
		u.core.core = rnd(s) % (r->ncores + 2);
		if (chance(s, 8))
			u.status.core = SAKURA_STATUS_ALL;
		u.core.flags = chance(s, 8);
		break;
	case SAKURA_IOC_UNREGISTER:
		if (!chance(s, 200))	/* rare: the round goes on refused */
			cmd = SAKURA_IOC_STATUS;
		break;
	case SAKURA_IOC_SWITCH_MODE:
		u.sw.pid = chance(s, 4) ? (int)rnd(s) % 100 : getpid();
		u.sw.mode = rnd(s) % 3;
		u.sw.timeout_ms = chance(s, 16) ? (__u32)rnd(s) : 1 + rnd(s) % 100;
		u.sw.flags = chance(s, 8);
		break;
	case SAKURA_IOC_ACK_MODE:
		if (r->base && chance(s, 2))
			u.ack.seq = ((struct sakura_ctrl *)r->base)->req_seq;
		break;
	case SAKURA_IOC_QUERY:
		u.query.pid = chance(s, 2) ? getpid() : (int)rnd(s) % 4;
		u.query.index = rnd(s) % 4;
		u.query.core = chance(s, 2) ? SAKURA_STATUS_ALL : rnd(s) % 4;
		u.query.flags = chance(s, 8);
		break;
	}
	if (cmd == SAKURA_IOC_RUN_WORKER)	/* never inside dev2's server */
		fd = r->dev;
	if (chance(s, 16))		/* any command number of our magic */
		cmd = _IOC(rnd(s) % 4, SAKURA_IOC_MAGIC, rnd(s) % 12, rnd(s) % 512);
	ioctl(fd, cmd, random_ptr(r, s, &u, sizeof(u)));
	atomic_fetch_add(&st->ioctls, 1);
}

/* Write garbage where user space may write anything: indices, flags, slots. */
static void chaos_scribble(struct round *r, __u64 *s)
{
	struct sakura_core_hdr *h = hdr_of(r, rnd(s) % r->ncores);
	__u32 *w;

	switch (rnd(s) % 8) {
	case 0: w = &h->sq.tail; break;
	case 1: w = &h->cq.head; break;
	case 2: w = &h->log.head; break;
	case 3: w = &h->sq.flags; break;
	case 4: w = &h->cq.entries; break;
	case 5: w = &h->cq.tail; break;	/* kernel-owned: must not be read back */
	case 6: w = (__u32 *)r->base + rnd(s) % (sizeof(struct sakura_ctrl) / 4);
		break;
	default:
		w = (__u32 *)((char *)h + r->reg.layout.sq_off) +
		    rnd(s) % (r->reg.sq_entries * 4);
	}
	__atomic_store_n(w, chance(s, 2) ? (__u32)rnd(s) : *w + (__u32)(rnd(s) % 8) - 4,
			 __ATOMIC_RELEASE);
	atomic_fetch_add(&st->scribbles, 1);
}

static void *chaos(void *p)
{
	struct round *r = p;
	__u64 s = r->seed ^ 0xc4a05;

	while (!atomic_load(&r->stop)) {
		switch (rnd(&s) % 16) {
		case 0: case 1: case 2:
			if (r->base)
				chaos_scribble(r, &s);
			break;
		case 3: {
			struct pollfd pf = { .fd = r->dev, .events = POLLIN | POLLPRI };

			poll(&pf, 1, rnd(&s) % 3);
			break;
		}
		case 4: {		/* odd mappings, read and write */
			void *m = mmap(NULL, 4096 * (1 + rnd(&s) % 4),
				       chance(&s, 2) ? PROT_READ : PROT_READ | PROT_WRITE,
				       chance(&s, 8) ? MAP_PRIVATE : MAP_SHARED,
				       r->dev, 4096 * (rnd(&s) % 8));
			char b[8];

			if (m != MAP_FAILED)
				munmap(m, 4096);	/* the rest stays: exit unmaps */
			if (read(r->dev, b, sizeof(b)) < 0 && write(r->dev, b, 1) < 0)
				break;
			break;
		}
		case 5:
			if (chance(&s, 8)) {	/* the file in another process */
				pid_t pid = fork();

				if (!pid) {
					__u64 cs = s;

					for (int i = 0; i < 20; i++)
						chaos_ioctl(r, &cs);
					_exit(0);
				}
				if (pid > 0) {
					waitpid(pid, NULL, 0);
					atomic_fetch_add(&st->forks, 1);
				}
			}
			break;
		default:
			chaos_ioctl(r, &s);
		}
		if (chance(&s, 4))
			usleep(rnd(&s) % 300);
	}
	return NULL;
}

static int make_listener(struct round *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);

	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(r->lfd, 256) ||
	    getsockname(r->lfd, (struct sockaddr *)&sin, &len))
		return -1;
	r->port = ntohs(sin.sin_port);
	return 0;
}

static void run_round(__u64 seed, __u32 ms)
{
	static struct round rr;
	struct round *r = &rr;
	pthread_t th[MAX_CORES + 3];
	int nth = 0, end;
	__u64 s = seed;
	char *pages;

	memset(r, 0, sizeof(*r));
	r->seed = seed;
	r->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	r->dev = open(SAKURA_DEVICE, O_RDWR | O_CLOEXEC);
	r->dev2 = open(SAKURA_DEVICE, O_RDWR | O_CLOEXEC);
	pages = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->rootfd < 0 || r->dev < 0 || r->dev2 < 0 || pages == MAP_FAILED ||
	    make_listener(r))
		_exit(3);
	r->ro_page = pages;
	mprotect(pages, 4096, PROT_READ);
	munmap(pages + 2 * 4096, 4096);
	r->edge = pages + 2 * 4096;

	random_register(r, &s);
	if (ioctl(r->dev, SAKURA_IOC_REGISTER, &r->reg) == 0) {
		r->ncores = r->reg.ncores;
		r->base = mmap(NULL, r->reg.layout.mmap_size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, r->dev, 0);
		if (r->base == MAP_FAILED)
			r->base = NULL;
	}
	if (r->base) {
		for (__u32 i = 0; i < r->ncores; i++)
			pthread_create(&th[nth++], NULL, worker, r);
		pthread_create(&th[nth++], NULL, client, r);
		pthread_create(&th[nth++], NULL, submitter, r);
	}
	pthread_create(&th[nth++], NULL, chaos, r);
	usleep(ms * 1000);

	end = rnd(&s) % 4;
	switch (end) {
	case 0:			/* clean: unregister, the workers leave */
		atomic_store(&r->stop, 1);
		ioctl(r->dev, SAKURA_IOC_UNREGISTER);
		ioctl(r->dev2, SAKURA_IOC_UNREGISTER);	/* chaos may have */
		for (int i = nth - 1; i >= 0; i--) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 5;
			if (pthread_timedjoin_np(th[i], NULL, &ts))
				atomic_fetch_add(&st->stuck, 1);
		}
		close(r->dev);
		close(r->dev2);
		break;
	case 1:			/* exit with the workers inside */
		break;
	case 2:			/* the device closed under the workers */
		close(r->dev);
		usleep(20000);
		break;
	case 3:
		atomic_fetch_add(&st->ends[3], 1);
		raise(SIGKILL);
		break;
	}
	atomic_fetch_add(&st->ends[end], 1);
	_exit(0);
}

/* ---- the parent ---------------------------------------------------------- */

static int reap_child(pid_t pid, __u64 deadline)
{
	int status;

	while (now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return 0;
		usleep(5000);
	}
	return -1;
}

/*
 * Everything a round forked is in its process group, and comes back to us
 * when orphaned (we are a child subreaper): a chaos child may have
 * registered its own server on the inherited file and sit in RUN_WORKER,
 * which by design waits until UNREGISTER or a signal. Kill the group and
 * reap it; -1 if some of it outlives SIGKILL past @deadline.
 */
static int reap_group(pid_t pgid, __u64 deadline, unsigned long *strays)
{
	kill(-pgid, SIGKILL);
	for (;;) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p > 0) {
			(*strays)++;
			continue;
		}
		if (p < 0 && errno == ECHILD)
			return 0;
		if (now_ms() >= deadline)
			return -1;
		usleep(5000);
	}
}

static void dump_stacks(pid_t pid)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd),
		 "for t in /proc/%d/task/*; do echo \"$t\"; cat \"$t/stack\"; done", pid);
	if (system(cmd))
		fprintf(stderr, "cannot dump stacks of %d\n", pid);
}

/* The "module live_*" counts of /proc/sakura, all zero within 10 s. */
static int module_idle(char *line, size_t cap)
{
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen("/proc/sakura", "r");
		long a = -1, b = -1, c = -1, d = -1, e = -1;

		if (!f)
			return 0;
		if (!fgets(line, cap, f))
			line[0] = 0;
		fclose(f);
		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "module live_servers %ld live_conns %ld live_buffers %ld live_file_refs %ld live_socks %ld",
			   &a, &b, &c, &d, &e) == 5 && !a && !b && !c && !d &&
		    !e)
			return 1;
		usleep(100000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char blob[KS_MIME_BLOB_MAX];
	__u64 seconds = 20, seed = (__u64)time(NULL), deadline, s;
	int hangs = 0, late = 0;
	unsigned long strays = 0;
	char line[256], buf[64];
	FILE *f;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			seconds = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--root"))
			root = argv[i + 1];
		else {
			fprintf(stderr, "usage: %s [--seconds N] [--seed N] [--root DIR]\n",
				argv[0]);
			return 2;
		}
	}
	if (argc % 2 == 0) {
		fprintf(stderr, "usage: %s [--seconds N] [--seed N] [--root DIR]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (ks_mime_build(ks_mime_builtin, strlen(ks_mime_builtin), blob, sizeof(blob)))
		return 1;
	mime = blob;
	mime_len = ((struct ks_mime_table *)blob)->size;
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		return 1;
	printf("sakura_fuzz: seed %llu, %llu s, root %s\n", (unsigned long long)seed,
	       (unsigned long long)seconds, root);
	fflush(stdout);

	/* orphans of a round are reparented to us, to be reaped */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		return 1;
	s = seed | 1;
	deadline = now_ms() + seconds * 1000;
	while (now_ms() < deadline && !hangs) {
		__u64 rseed = rnd(&s) | 1;
		__u32 ms = 50 + rnd(&s) % 700;
		/* one round in five is killed by us, at any moment */
		__u64 kill_at = chance(&s, 5) ? rnd(&s) % (ms + 1) : ms + 5000;
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (!pid) {
			setpgid(0, 0);
			run_round(rseed, ms);
		}
		setpgid(pid, pid);	/* whichever of us runs first */
		atomic_fetch_add(&st->rounds, 1);
		if (reap_child(pid, now_ms() + kill_at)) {
			if (kill_at < ms)
				atomic_fetch_add(&st->ends[4], 1);
			else
				late++;	/* its clean end took long: see stuck */
			kill(pid, SIGKILL);
			if (reap_child(pid, now_ms() + 10000)) {
				printf("round seed %llu: the child outlives SIGKILL by 10 s\n",
				       (unsigned long long)rseed);
				dump_stacks(pid);
				hangs++;
				continue;
			}
		}
		if (reap_group(pid, now_ms() + 10000, &strays)) {
			printf("round seed %llu: a process it forked outlives SIGKILL by 10 s\n",
			       (unsigned long long)rseed);
			if (system("ps -eo pid,ppid,pgid,stat,wchan:30,comm | grep -E 'PID|sakura_fuzz'"))
				fprintf(stderr, "cannot list the processes\n");
			hangs++;
		}
	}

	snprintf(buf, sizeof(buf),
		 "no round hung (a process of its group that outlives SIGKILL)");
	result(buf, !hangs);
	result("rounds ran", atomic_load(&st->rounds) > 0 && atomic_load(&st->sqes) > 0);
	snprintf(line, sizeof(line),
		 "UNREGISTER ends every thread's wait within 5 s (%lu stuck, %d late rounds)",
		 atomic_load(&st->stuck), late);
	result(line, !atomic_load(&st->stuck));
	result("the module holds nothing once every round is gone",
	       module_idle(line, sizeof(line)));
	printf("  /proc/sakura: %s\n", line);
	f = fopen("/sys/module/sakura/refcnt", "r");
	result("the module's use count is back to 0",
	       f && fgets(buf, sizeof(buf), f) && atoi(buf) == 0);
	if (f)
		fclose(f);
	printf("  ends: clean %lu, exit %lu, close %lu, SIGKILL self %lu, killed %lu; forked processes left by rounds, killed: %lu\n",
	       atomic_load(&st->ends[0]), atomic_load(&st->ends[1]),
	       atomic_load(&st->ends[2]), atomic_load(&st->ends[3]),
	       atomic_load(&st->ends[4]), strays);
	printf("figure: kernel_fuzz_rounds %lu\n", atomic_load(&st->rounds));
	printf("figure: kernel_fuzz_ioctls %lu\n", atomic_load(&st->ioctls));
	printf("figure: kernel_fuzz_sakura_calls %lu\n", atomic_load(&st->sqes));
	printf("figure: kernel_fuzz_connections %lu\n", atomic_load(&st->conns));
	printf("figure: kernel_fuzz_ring_scribbles %lu\n", atomic_load(&st->scribbles));
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
