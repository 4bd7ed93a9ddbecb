// SPDX-License-Identifier: GPL-2.0
/*
 * sakura_abi.c - /dev/sakura misuse: every bad ioctl argument, mapping and
 * Sakura Call must be refused with the documented errno, and the module must
 * survive garbage in the shared rings. Run as root with sakura.ko loaded.
 * Prints one line per case and "N passed, N failed"; exits 0 iff none failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mime.h"
#include "../kmod/uapi/sakura.h"

static int passed, failed;
static void *mime;
static __u32 mime_len;
static int rootfd;

static void result(const char *what, bool ok, const char *why)
{
	printf("%s %s%s%s\n", ok ? "ok" : "FAIL", what, ok ? "" : ": ",
	       ok ? "" : why);
	if (ok)
		passed++;
	else
		failed++;
}

/* ret must be -1 with errno want (or 0 when want is 0) */
static void expect(const char *what, int ret, int want)
{
	char why[128];
	int got = ret < 0 ? errno : 0;

	snprintf(why, sizeof(why), "got %s, want %s",
		 got ? strerror(got) : "success", want ? strerror(want) : "success");
	result(what, got == want && (want || ret >= 0), why);
}

static int dev_open(void)
{
	int fd = open(SAKURA_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror(SAKURA_DEVICE);
		exit(1);
	}
	return fd;
}

static struct sakura_register good_reg(void)
{
	struct sakura_register r = {
		.abi_version = SAKURA_ABI_VERSION,
		.root_fd = rootfd,
		.ncores = 2,
		.sq_entries = 16,
		.cq_entries = 64,
		.log_entries = 4,
		.header_timeout_ms = 2000,
		.keepalive_timeout_ms = 2000,
		.send_timeout_ms = 2000,
		.linger_timeout_ms = 1000,
		.index_len = 10,
		.mime_ptr = (__u64)(uintptr_t)mime,
		.mime_len = mime_len,
		.mode = SAKURA_MODE_SUPERVISOR,
	};

	memcpy(r.index, "index.html", 10);
	return r;
}

/* REGISTER with one field broken by fn on a fresh file */
static void reg_case(const char *what, void (*fn)(struct sakura_register *),
		     int want)
{
	struct sakura_register r = good_reg();
	int fd = dev_open();

	fn(&r);
	expect(what, ioctl(fd, SAKURA_IOC_REGISTER, &r), want);
	close(fd);
}

static void b_abi(struct sakura_register *r) { r->abi_version = 99; }
static void b_flags(struct sakura_register *r) { r->flags = 1u << 31; }
static void b_mode(struct sakura_register *r) { r->mode = 2; }
static void b_reserved(struct sakura_register *r) { r->reserved = 1; }
static void b_bench0(struct sakura_register *r) { r->flags |= SAKURA_REG_BENCH_FIXED; }
static void b_bench_big(struct sakura_register *r) { r->flags |= SAKURA_REG_BENCH_FIXED; r->bench_body_len = SAKURA_BENCH_BODY_MAX + 1; }
static void b_bench_noflag(struct sakura_register *r) { r->bench_body_len = 1024; }
static void b_ncores0(struct sakura_register *r) { r->ncores = 0; }
static void b_ncores_big(struct sakura_register *r) { r->ncores = SAKURA_MAX_CORES + 1; }
static void b_sq_pow2(struct sakura_register *r) { r->sq_entries = 24; }
static void b_sq0(struct sakura_register *r) { r->sq_entries = 0; }
static void b_sq_big(struct sakura_register *r) { r->sq_entries = SAKURA_SQ_MAX * 2; }
static void b_cq1(struct sakura_register *r) { r->cq_entries = 1; }
static void b_log_big(struct sakura_register *r) { r->log_entries = SAKURA_LOG_MAX * 2; }
static void b_timeout0(struct sakura_register *r) { r->send_timeout_ms = 0; }
static void b_timeout_big(struct sakura_register *r) { r->header_timeout_ms = ~0u; }
static void b_index_slash(struct sakura_register *r) { memcpy(r->index, "a/b", 3); r->index_len = 3; }
static void b_index_dotdot(struct sakura_register *r) { memcpy(r->index, "..", 2); r->index_len = 2; }
static void b_index_len0(struct sakura_register *r) { r->index_len = 0; }
static void b_index_long(struct sakura_register *r) { r->index_len = SAKURA_INDEX_MAX; }
static void b_index_nul(struct sakura_register *r) { r->index[3] = 0; }
static void b_mime_small(struct sakura_register *r) { r->mime_len = 4; }
static void b_mime_big(struct sakura_register *r) { r->mime_len = SAKURA_MIME_MAX + 1; }
static void b_mime_ptr(struct sakura_register *r) { r->mime_ptr = 16; }
static void b_mime_len(struct sakura_register *r) { r->mime_len -= 1; }
static void b_root_bad(struct sakura_register *r) { r->root_fd = -1; }
static void b_root_closed(struct sakura_register *r) { r->root_fd = 999; }
static void b_root_file(struct sakura_register *r) { r->root_fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC); }
static void b_huge(struct sakura_register *r)
{
	r->ncores = SAKURA_MAX_CORES;
	r->log_entries = SAKURA_LOG_MAX;
}

static void b_mime_magic(struct sakura_register *r)
{
	static char copy[KS_MIME_BLOB_MAX];

	memcpy(copy, mime, mime_len);
	((struct ks_mime_table *)copy)->magic ^= 1;
	r->mime_ptr = (__u64)(uintptr_t)copy;
}

static void b_mime_entry(struct sakura_register *r)
{
	static char copy[KS_MIME_BLOB_MAX];

	memcpy(copy, mime, mime_len);
	((struct ks_mime_table *)copy)->e[0].type_off = 0x7fffffff;
	r->mime_ptr = (__u64)(uintptr_t)copy;
}

static void register_cases(void)
{
	static const struct {
		const char *what;
		void (*fn)(struct sakura_register *);
		int want;
	} cases[] = {
		{ "REGISTER bad abi_version", b_abi, EPROTO },
		{ "REGISTER unknown flag", b_flags, EINVAL },
		{ "REGISTER unknown mode", b_mode, EINVAL },
		{ "REGISTER reserved field set", b_reserved, EINVAL },
		{ "REGISTER bench-fixed with 0 bytes", b_bench0, EINVAL },
		{ "REGISTER bench-fixed over the maximum", b_bench_big, EINVAL },
		{ "REGISTER bench length without its flag", b_bench_noflag, EINVAL },
		{ "REGISTER 0 cores", b_ncores0, EINVAL },
		{ "REGISTER too many cores", b_ncores_big, EINVAL },
		{ "REGISTER sq not a power of two", b_sq_pow2, EINVAL },
		{ "REGISTER sq 0", b_sq0, EINVAL },
		{ "REGISTER sq too big", b_sq_big, EINVAL },
		{ "REGISTER cq 1", b_cq1, EINVAL },
		{ "REGISTER log too big", b_log_big, EINVAL },
		{ "REGISTER timeout 0", b_timeout0, EINVAL },
		{ "REGISTER timeout too long", b_timeout_big, EINVAL },
		{ "REGISTER index with /", b_index_slash, EINVAL },
		{ "REGISTER index ..", b_index_dotdot, EINVAL },
		{ "REGISTER index empty", b_index_len0, EINVAL },
		{ "REGISTER index too long", b_index_long, EINVAL },
		{ "REGISTER index with NUL", b_index_nul, EINVAL },
		{ "REGISTER mime blob too small", b_mime_small, EINVAL },
		{ "REGISTER mime blob too big", b_mime_big, EINVAL },
		{ "REGISTER mime pointer bad", b_mime_ptr, EFAULT },
		{ "REGISTER mime length != blob size", b_mime_len, EINVAL },
		{ "REGISTER mime bad magic", b_mime_magic, EINVAL },
		{ "REGISTER mime entry out of the blob", b_mime_entry, EINVAL },
		{ "REGISTER root fd -1", b_root_bad, EBADF },
		{ "REGISTER root fd not open", b_root_closed, EBADF },
		{ "REGISTER root not a directory", b_root_file, ENOTDIR },
		{ "REGISTER shared area too large", b_huge, E2BIG },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		reg_case(cases[i].what, cases[i].fn, cases[i].want);
}

static struct sakura_switch good_switch(pid_t pid, __u32 mode, __u32 ms)
{
	return (struct sakura_switch){ .pid = pid, .mode = mode,
				       .timeout_ms = ms };
}

/* SWITCH_MODE, ACK_MODE and QUERY with bad arguments or no such server */
static void unregistered_switch_cases(int fd)
{
	struct sakura_switch sw = good_switch(1, SAKURA_MODE_USER, 100);
	struct sakura_query q = { .pid = 1, .core = SAKURA_STATUS_ALL };
	struct sakura_ack ack = { .seq = 1 };

	expect("SWITCH_MODE no such server", ioctl(fd, SAKURA_IOC_SWITCH_MODE, &sw), ESRCH);
	sw.pid = 0;
	expect("SWITCH_MODE pid 0", ioctl(fd, SAKURA_IOC_SWITCH_MODE, &sw), EINVAL);
	sw = good_switch(1, 2, 100);
	expect("SWITCH_MODE unknown mode", ioctl(fd, SAKURA_IOC_SWITCH_MODE, &sw), EINVAL);
	sw = good_switch(1, SAKURA_MODE_USER, 0);
	expect("SWITCH_MODE timeout 0", ioctl(fd, SAKURA_IOC_SWITCH_MODE, &sw), EINVAL);
	sw = good_switch(1, SAKURA_MODE_USER, SAKURA_TIMEOUT_MAX_MS + 1);
	expect("SWITCH_MODE timeout too long", ioctl(fd, SAKURA_IOC_SWITCH_MODE, &sw), EINVAL);
	sw = good_switch(1, SAKURA_MODE_USER, 100);
	sw.flags = 1;
	expect("SWITCH_MODE flags", ioctl(fd, SAKURA_IOC_SWITCH_MODE, &sw), EINVAL);
	expect("SWITCH_MODE bad pointer", ioctl(fd, SAKURA_IOC_SWITCH_MODE, 8), EFAULT);
	expect("ACK_MODE unregistered", ioctl(fd, SAKURA_IOC_ACK_MODE, &ack), ENXIO);
	expect("QUERY no such server", ioctl(fd, SAKURA_IOC_QUERY, &q), ENOENT);
	q.pid = -1;
	expect("QUERY pid -1", ioctl(fd, SAKURA_IOC_QUERY, &q), EINVAL);
	q.pid = 1;
	q.flags = 1;
	expect("QUERY flags", ioctl(fd, SAKURA_IOC_QUERY, &q), EINVAL);
	expect("QUERY bad pointer", ioctl(fd, SAKURA_IOC_QUERY, 8), EFAULT);
}

static void unregistered_cases(void)
{
	struct sakura_core_arg a = { 0 };
	struct sakura_status st = { .core = SAKURA_STATUS_ALL };
	int fd = dev_open();
	void *p;

	expect("unknown ioctl", ioctl(fd, _IO(SAKURA_IOC_MAGIC, 99)), ENOTTY);
	expect("foreign ioctl", ioctl(fd, FIONREAD, &a), ENOTTY);
	expect("RUN_WORKER unregistered", ioctl(fd, SAKURA_IOC_RUN_WORKER, &a), ENXIO);
	expect("KICK unregistered", ioctl(fd, SAKURA_IOC_KICK, &a), ENXIO);
	expect("UNREGISTER unregistered", ioctl(fd, SAKURA_IOC_UNREGISTER), ENXIO);
	expect("STATUS unregistered", ioctl(fd, SAKURA_IOC_STATUS, &st), 0);
	result("STATUS unregistered says so", !st.registered &&
	       st.abi_version == SAKURA_ABI_VERSION, "fields");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	expect("mmap unregistered", p == MAP_FAILED ? -1 : 0, ENXIO);
	expect("REGISTER bad pointer", ioctl(fd, SAKURA_IOC_REGISTER, 8), EFAULT);
	expect("STATUS bad pointer", ioctl(fd, SAKURA_IOC_STATUS, 8), EFAULT);
	expect("lseek", (int)lseek(fd, 0, SEEK_SET), ESPIPE);
	unregistered_switch_cases(fd);
	close(fd);
}

/* Drop CAP_NET_ADMIN in a child, then open and REGISTER: EPERM. */
static void capability_case(void)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		struct sakura_register r = good_reg();
		int fd;

		if (syscall(SYS_capget, &h, d))
			_exit(2);
		d[0].effective &= ~(1u << CAP_NET_ADMIN);
		d[0].permitted &= ~(1u << CAP_NET_ADMIN);
		if (syscall(SYS_capset, &h, d))
			_exit(3);
		fd = dev_open();
		_exit(ioctl(fd, SAKURA_IOC_REGISTER, &r) == -1 && errno == EPERM ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	result("REGISTER without CAP_NET_ADMIN", WIFEXITED(status) &&
	       !WEXITSTATUS(status), "not refused with EPERM");
}

struct switch_arg {
	int fd;
	struct sakura_switch sw;
	int ret, err;
};

static void *switcher(void *p)
{
	struct switch_arg *s = p;

	s->ret = ioctl(s->fd, SAKURA_IOC_SWITCH_MODE, &s->sw);
	s->err = s->ret ? errno : 0;
	return NULL;
}

/* Wait (at most 2 s) until the control page shows request seq. */
static bool req_seen(struct sakura_ctrl *ctrl, __u64 seq)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (__atomic_load_n(&ctrl->req_seq, __ATOMIC_ACQUIRE) >= seq)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * The DMSM handshake on a registered server (this process, supervisor
 * mode): requests recorded in the control page and signalled by poll(),
 * acknowledged only by the server, superseded by a later request, refused
 * to another uid, ended by UNREGISTER.
 */
static void switch_cases(int fd, struct sakura_ctrl *ctrl)
{
	struct sakura_switch sw = good_switch(getpid(), SAKURA_MODE_SUPERVISOR, 100);
	struct sakura_query q = { .pid = getpid(), .core = SAKURA_STATUS_ALL };
	struct sakura_ack ack = { .seq = 0 };
	struct switch_arg a = { 0 }, b = { 0 };
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLPRI };
	pthread_t ta, tb;
	int other = dev_open(), status;
	pid_t pid;

	expect("QUERY this server", ioctl(other, SAKURA_IOC_QUERY, &q), 0);
	result("QUERY fields", q.server_pid == getpid() && q.uid == getuid() &&
	       q.mode == SAKURA_MODE_SUPERVISOR && q.ncores == 2 &&
	       q.workers == 1 && !q.pending && q.state == SAKURA_STATE_RUNNING,
	       "fields");
	q.core = 7;
	expect("QUERY core out of range", ioctl(other, SAKURA_IOC_QUERY, &q), EINVAL);
	expect("SWITCH_MODE to the mode it has", ioctl(other, SAKURA_IOC_SWITCH_MODE, &sw), 0);
	result("... answers at once", sw.latency_ns == 0 && sw.from_mode ==
	       SAKURA_MODE_SUPERVISOR, "fields");
	expect("ACK_MODE of no request", ioctl(fd, SAKURA_IOC_ACK_MODE, &ack), ESTALE);
	ack.seq = 12345;
	expect("ACK_MODE of a future request", ioctl(fd, SAKURA_IOC_ACK_MODE, &ack), ESTALE);

	/* nobody acknowledges: the caller times out, the request stays */
	sw = good_switch(getpid(), SAKURA_MODE_USER, 200);
	expect("SWITCH_MODE unacknowledged times out",
	       ioctl(other, SAKURA_IOC_SWITCH_MODE, &sw), ETIMEDOUT);
	poll(&pf, 1, 0);
	q.core = SAKURA_STATUS_ALL;
	ioctl(other, SAKURA_IOC_QUERY, &q);
	result("request in the control page, poll says POLLPRI",
	       ctrl->req_seq == 1 && ctrl->req_mode == SAKURA_MODE_USER &&
	       ctrl->mode == SAKURA_MODE_SUPERVISOR && (pf.revents & POLLPRI) &&
	       q.pending && q.req_mode == SAKURA_MODE_USER, "fields");
	expect("ACK_MODE from another file", ioctl(other, SAKURA_IOC_ACK_MODE, &ack), ENXIO);
	ack.seq = 1;
	expect("ACK_MODE", ioctl(fd, SAKURA_IOC_ACK_MODE, &ack), 0);
	expect("ACK_MODE twice", ioctl(fd, SAKURA_IOC_ACK_MODE, &ack), EALREADY);
	ioctl(other, SAKURA_IOC_QUERY, &q);
	result("acknowledged: mode user, one switch", ctrl->mode == SAKURA_MODE_USER &&
	       ctrl->ack_seq == 1 && q.mode == SAKURA_MODE_USER && !q.pending &&
	       q.switches == 1, "fields");

	/* a waiting request completes on the acknowledgement */
	a.fd = other;
	a.sw = good_switch(getpid(), SAKURA_MODE_SUPERVISOR, 5000);
	pthread_create(&ta, NULL, switcher, &a);
	if (req_seen(ctrl, 2)) {
		usleep(20000);
		ack.seq = 2;
		ioctl(fd, SAKURA_IOC_ACK_MODE, &ack);
	}
	pthread_join(ta, NULL);
	result("SWITCH_MODE waits for and returns with the acknowledgement",
	       !a.ret && a.sw.seq == 2 && a.sw.from_mode == SAKURA_MODE_USER &&
	       a.sw.latency_ns >= 10000000, strerror(a.err));

	/* a later request to the other mode supersedes a waiting one */
	a.sw = good_switch(getpid(), SAKURA_MODE_USER, 5000);
	b.fd = other;
	b.sw = good_switch(getpid(), SAKURA_MODE_SUPERVISOR, 5000);
	pthread_create(&ta, NULL, switcher, &a);
	req_seen(ctrl, 3);
	pthread_create(&tb, NULL, switcher, &b);
	if (req_seen(ctrl, 4)) {
		ack.seq = 3;
		expect("ACK_MODE of a superseded request",
		       ioctl(fd, SAKURA_IOC_ACK_MODE, &ack), ESTALE);
		ack.seq = 4;
		ioctl(fd, SAKURA_IOC_ACK_MODE, &ack);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	result("superseded request: ECANCELED, the later one succeeds",
	       a.ret && a.err == ECANCELED && !b.ret &&
	       ctrl->mode == SAKURA_MODE_SUPERVISOR, "results");

	/* another uid may look, not switch (the node opened to all for it) */
	chmod(SAKURA_DEVICE, 0666);
	pid = fork();
	if (!pid) {
		struct sakura_switch s2 = good_switch(getppid(), SAKURA_MODE_USER, 100);
		struct sakura_query q2 = { .pid = getppid(), .core = SAKURA_STATUS_ALL };
		int f;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		f = open(SAKURA_DEVICE, O_RDWR);
		if (f < 0 || ioctl(f, SAKURA_IOC_QUERY, &q2))
			_exit(3);
		_exit(ioctl(f, SAKURA_IOC_SWITCH_MODE, &s2) == -1 &&
		      errno == EPERM ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	chmod(SAKURA_DEVICE, 0600);
	result("another uid: QUERY yes, SWITCH_MODE EPERM", WIFEXITED(status) &&
	       !WEXITSTATUS(status), "exit status");

	/* UNREGISTER ends a waiting request with ESRCH */
	a.sw = good_switch(getpid(), SAKURA_MODE_USER, 5000);
	pthread_create(&ta, NULL, switcher, &a);
	req_seen(ctrl, 5);
	ioctl(fd, SAKURA_IOC_UNREGISTER);
	pthread_join(ta, NULL);
	result("UNREGISTER ends a waiting SWITCH_MODE with ESRCH",
	       a.ret && a.err == ESRCH, strerror(a.err));
	close(other);
}

struct worker_arg {
	int fd;
	unsigned int core;
	int ret, err;
};

static void *worker(void *p)
{
	struct worker_arg *w = p;
	struct sakura_core_arg a = { .core = w->core };

	do {
		w->ret = ioctl(w->fd, SAKURA_IOC_RUN_WORKER, &a);
		w->err = errno;
	} while (w->ret && w->err == EINTR);
	return NULL;
}

/* Wait (at most 5 s) for n completions on core 0; store them in out. */
static int completions(struct sakura_core_hdr *hdr, struct sakura_cqe *cq,
		       __u32 entries, struct sakura_cqe *out, int n)
{
	int got = 0, i;

	for (i = 0; i < 500 && got < n; i++) {
		__u32 h = hdr->cq.head;
		__u32 t = __atomic_load_n(&hdr->cq.tail, __ATOMIC_ACQUIRE);

		while (h != t && got < n)
			out[got++] = cq[h++ & (entries - 1)];
		__atomic_store_n(&hdr->cq.head, h, __ATOMIC_RELEASE);
		if (got < n)
			usleep(10000);
	}
	return got;
}

static void call(struct sakura_core_hdr *hdr, struct sakura_sqe *sq, int devfd,
		 __u32 op, int fd, __u64 ud)
{
	__u32 t = hdr->sq.tail;
	struct sakura_core_arg a = { 0 };

	sq[t & 15] = (struct sakura_sqe){ op, fd, ud };
	__atomic_store_n(&hdr->sq.tail, t + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (hdr->sq.flags & SAKURA_SQ_NEED_WAKEUP)
		ioctl(devfd, SAKURA_IOC_KICK, &a);
}

/* Is fd open in this process? */
static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Wait (at most 2 s) for the worker to take fd out of our table. */
static bool fd_taken(int fd)
{
	for (int i = 0; i < 200; i++) {
		if (!fd_open(fd))
			return true;
		usleep(10000);
	}
	return false;
}

/* A connected pair over listener lfd: the client, and *srv accepted. */
static int tcp_pair(int lfd, int *srv)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct timeval tv = { .tv_sec = 5 };
	int c = socket(AF_INET, SOCK_STREAM, 0);

	getsockname(lfd, (struct sockaddr *)&sin, &len);
	if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*srv = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	return *srv < 0 ? -1 : c;
}

/* Same local and peer address on both? (a handed-back fd is the socket) */
static bool same_conn(int client, int srv)
{
	struct sockaddr_in a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);

	return !getsockname(client, (struct sockaddr *)&a, &la) &&
	       !getpeername(srv, (struct sockaddr *)&b, &lb) &&
	       a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
}

/*
 * ABI 4: a connection given to the kernel leaves our fd table; it is served
 * and closed with no completion; in user mode it comes back under a new fd.
 */
static void given_cases(int devfd, struct sakura_core_hdr *hdr,
			struct sakura_sqe *sq, struct sakura_cqe *cq, int lfd)
{
	static const char req[] = "GET /no-such-file-here HTTP/1.1\r\n"
				  "Host: t\r\nConnection: close\r\n\r\n";
	struct sakura_cqe got[4];
	char buf[4096];
	size_t have = 0;
	ssize_t r = -1;
	int c, s, n;

	c = tcp_pair(lfd, &s);
	if (c < 0) {
		result("a connection to give", false, strerror(errno));
		return;
	}
	call(hdr, sq, devfd, SAKURA_OP_HTTP_CONN, s, 20);
	result("a given fd leaves the table", fd_taken(s), "still open after 2 s");
	if (write(c, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		result("request written", false, strerror(errno));
	while (have < sizeof(buf) - 1 &&
	       (r = read(c, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)r;
	buf[have] = 0;
	result("... is served and closed by the kernel",
	       !strncmp(buf, "HTTP/1.1 404 ", 13) && r == 0, buf);
	close(c);
	usleep(100000);
	result("... with no completion",
	       __atomic_load_n(&hdr->cq.tail, __ATOMIC_ACQUIRE) == hdr->cq.head,
	       "a completion was posted");

	c = tcp_pair(lfd, &s);
	if (c < 0) {
		result("a connection to hand back", false, strerror(errno));
		return;
	}
	call(hdr, sq, devfd, SAKURA_OP_HTTP_CONN, s, 21);
	fd_taken(s);
	call(hdr, sq, devfd, SAKURA_OP_MODE, SAKURA_MODE_USER, 44);
	n = completions(hdr, cq, 64, got, 2);
	result("user mode hands it back under a new fd", n == 2 &&
	       got[0].op == SAKURA_CQE_MODE && got[1].op == SAKURA_CQE_HANDBACK &&
	       got[1].user_data == 21 && !got[1].res && got[1].fd >= 0 &&
	       same_conn(c, got[1].fd) &&
	       (fcntl(got[1].fd, F_GETFD) & FD_CLOEXEC), "completions");
	if (n == 2 && got[1].op == SAKURA_CQE_HANDBACK && got[1].fd >= 0)
		close(got[1].fd);
	close(c);
	call(hdr, sq, devfd, SAKURA_OP_MODE, SAKURA_MODE_SUPERVISOR, 45);
	completions(hdr, cq, 64, got, 1);
}

static void registered_cases(void)
{
	struct sakura_register r = good_reg();
	struct sakura_core_arg a = { 0 };
	struct sakura_status st = { .core = SAKURA_STATUS_ALL };
	struct worker_arg w0 = { .core = 0 }, w0b = { .core = 0 };
	struct sakura_core_hdr *hdr;
	struct sakura_ctrl *ctrl;
	struct sakura_sqe *sq;
	struct sakura_cqe *cq, got[8];
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	pthread_t t0, t0b;
	int fd = dev_open(), lfd, udp, unx, reg, status, n, i;
	char *base;
	void *p;
	pid_t pid;

	expect("REGISTER", ioctl(fd, SAKURA_IOC_REGISTER, &r), 0);
	result("layout sane", r.layout.mmap_size >= 4096 * 3 &&
	       r.layout.sqe_size == sizeof(struct sakura_sqe) &&
	       r.layout.cqe_size == sizeof(struct sakura_cqe) &&
	       !r.layout.reserved, "fields");
	expect("REGISTER twice", ioctl(fd, SAKURA_IOC_REGISTER, &r), EBUSY);

	p = mmap(NULL, r.layout.mmap_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	expect("mmap private", p == MAP_FAILED ? -1 : 0, EINVAL);
	p = mmap(NULL, r.layout.mmap_size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	expect("mmap exec", p == MAP_FAILED ? -1 : 0, EPERM);
	p = mmap(NULL, r.layout.mmap_size + 4096, PROT_READ, MAP_SHARED, fd, 0);
	expect("mmap too long", p == MAP_FAILED ? -1 : 0, EINVAL);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, r.layout.mmap_size);
	expect("mmap offset past the end", p == MAP_FAILED ? -1 : 0, EINVAL);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 1ull << 60);
	expect("mmap huge offset", p == MAP_FAILED ? -1 : 0, EINVAL);
	base = mmap(NULL, r.layout.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect("mmap", base == MAP_FAILED ? -1 : 0, 0);
	if (base == MAP_FAILED)
		return;
	p = mremap(base, r.layout.mmap_size, r.layout.mmap_size + 4096, 0);
	expect("mremap grow", p == MAP_FAILED ? -1 : 0, EFAULT);
	expect("mprotect exec", mprotect(base, 4096, PROT_READ | PROT_EXEC), EACCES);
	ctrl = (void *)base;
	result("control page", ctrl->abi_version == SAKURA_ABI_VERSION &&
	       ctrl->ncores == 2 && ctrl->mode == SAKURA_MODE_SUPERVISOR &&
	       ctrl->state == SAKURA_STATE_RUNNING, "fields");
	hdr = (void *)(base + r.layout.core_off);
	sq = (void *)((char *)hdr + r.layout.sq_off);
	cq = (void *)((char *)hdr + r.layout.cq_off);
	result("rings", hdr->sq.entries == 16 && hdr->cq.entries == 64 &&
	       (hdr->sq.flags & SAKURA_SQ_NEED_WAKEUP), "fields");

	a.core = 2;
	expect("RUN_WORKER core out of range", ioctl(fd, SAKURA_IOC_RUN_WORKER, &a), EINVAL);
	a.core = ~0u;
	expect("KICK core out of range", ioctl(fd, SAKURA_IOC_KICK, &a), EINVAL);
	a.core = 0;
	a.flags = 1;
	expect("RUN_WORKER flags", ioctl(fd, SAKURA_IOC_RUN_WORKER, &a), EINVAL);
	a.flags = 0;
	expect("RUN_WORKER bad pointer", ioctl(fd, SAKURA_IOC_RUN_WORKER, 8), EFAULT);
	st.core = 7;
	expect("STATUS core out of range", ioctl(fd, SAKURA_IOC_STATUS, &st), EINVAL);
	st.core = SAKURA_STATUS_ALL;
	st.flags = 1;
	expect("STATUS flags", ioctl(fd, SAKURA_IOC_STATUS, &st), EINVAL);
	st.flags = 0;

	/* another process may not become a worker, even sharing the file */
	pid = fork();
	if (!pid)
		_exit(ioctl(fd, SAKURA_IOC_RUN_WORKER, &a) == -1 && errno == EPERM ? 0 : 1);
	waitpid(pid, &status, 0);
	result("RUN_WORKER from another process", WIFEXITED(status) &&
	       !WEXITSTATUS(status), "not refused with EPERM");

	w0.fd = w0b.fd = fd;
	pthread_create(&t0, NULL, worker, &w0);
	usleep(200000);
	pthread_create(&t0b, NULL, worker, &w0b);
	pthread_join(t0b, NULL);
	result("RUN_WORKER twice on one core", w0b.ret == -1 && w0b.err == EBUSY,
	       strerror(w0b.err));
	expect("STATUS", ioctl(fd, SAKURA_IOC_STATUS, &st), 0);
	result("STATUS counts the worker", st.registered && st.workers == 1 &&
	       st.ncores == 2, "fields");

	/* Sakura Calls that must be refused, each with its completion */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	bind(lfd, (struct sockaddr *)&sin, sizeof(sin));
	listen(lfd, 4);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	unx = socket(AF_UNIX, SOCK_STREAM, 0);
	reg = open("/etc/hostname", O_RDONLY);
	call(hdr, sq, fd, 77, lfd, 1);
	call(hdr, sq, fd, SAKURA_OP_HTTP_CONN, -5, 2);
	call(hdr, sq, fd, SAKURA_OP_HTTP_CONN, 9999, 3);
	call(hdr, sq, fd, SAKURA_OP_HTTP_CONN, reg, 4);
	call(hdr, sq, fd, SAKURA_OP_HTTP_CONN, udp, 5);
	call(hdr, sq, fd, SAKURA_OP_HTTP_CONN, unx, 6);
	call(hdr, sq, fd, SAKURA_OP_HTTP_CONN, lfd, 7);
	call(hdr, sq, fd, SAKURA_OP_HTTP_CONN, fd, 8);
	n = completions(hdr, cq, 64, got, 8);
	{
		static const int want[] = { -EINVAL, -EBADF, -EBADF, -ENOTSOCK,
					    -EPROTONOSUPPORT, -EPROTONOSUPPORT,
					    -EINVAL, -ENOTSOCK };
		bool ok = n == 8;
		char why[256] = "";

		for (i = 0; ok && i < 8; i++) {
			if (got[i].op != SAKURA_CQE_CLOSED || got[i].res != want[i] ||
			    got[i].user_data != (__u64)i + 1) {
				snprintf(why, sizeof(why), "entry %d: op %u res %d ud %llu",
					 i, got[i].op, got[i].res,
					 (unsigned long long)got[i].user_data);
				ok = false;
			}
		}
		if (n != 8)
			snprintf(why, sizeof(why), "%d completions", n);
		result("refused Sakura Calls complete with -errno", ok, why);
	}
	result("... and leave their fds open", fd_open(reg) && fd_open(udp) &&
	       fd_open(unx) && fd_open(lfd) && fd_open(fd), "one was closed");
	close(reg);
	close(udp);
	close(unx);

	/* SAKURA_OP_MODE: a bad mode is refused, a good one answered */
	call(hdr, sq, fd, SAKURA_OP_MODE, 7, 41);
	call(hdr, sq, fd, SAKURA_OP_MODE, SAKURA_MODE_USER, 42);
	call(hdr, sq, fd, SAKURA_OP_MODE, SAKURA_MODE_SUPERVISOR, 43);
	n = completions(hdr, cq, 64, got, 3);
	result("SAKURA_OP_MODE answered by SAKURA_CQE_MODE", n == 3 &&
	       got[0].op == SAKURA_CQE_MODE && got[0].res == -EINVAL &&
	       got[0].user_data == 41 && got[1].op == SAKURA_CQE_MODE &&
	       !got[1].res && got[1].user_data == 42 && !got[2].res &&
	       got[2].fd == SAKURA_MODE_SUPERVISOR, "completions");
	given_cases(fd, hdr, sq, cq, lfd);

	/* garbage indices: the worker must survive and stay bounded */
	__atomic_store_n(&hdr->cq.head, hdr->cq.tail + 12345, __ATOMIC_RELEASE);
	__atomic_store_n(&hdr->sq.tail, hdr->sq.tail + 1000000000u, __ATOMIC_RELEASE);
	ioctl(fd, SAKURA_IOC_KICK, &a);
	usleep(300000);
	hdr->sq.flags = 0;	/* user space may scribble on kernel-owned fields */
	hdr->sq.entries = 1u << 30;
	expect("STATUS after ring garbage", ioctl(fd, SAKURA_IOC_STATUS, &st), 0);
	result("worker still inside after ring garbage", st.workers == 1, "left");

	switch_cases(fd, ctrl);	/* ends with UNREGISTER */
	expect("UNREGISTER again", ioctl(fd, SAKURA_IOC_UNREGISTER), 0);
	pthread_join(t0, NULL);
	result("worker leaves on UNREGISTER with 0", w0.ret == 0, strerror(w0.err));
	result("control page says stopped", ctrl->state == SAKURA_STATE_STOPPED, "state");
	{
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		poll(&pf, 1, 0);
		result("poll says EPOLLHUP after UNREGISTER", pf.revents & POLLHUP, "revents");
	}
	expect("RUN_WORKER after UNREGISTER returns 0",
	       ioctl(fd, SAKURA_IOC_RUN_WORKER, &a), 0);
	/* the mapping outlives the file */
	close(fd);
	result("mapping readable after close", ctrl->abi_version == SAKURA_ABI_VERSION,
	       "abi");
	expect("munmap", munmap(base, r.layout.mmap_size), 0);
	close(lfd);
	close(udp);
	close(unx);
	close(reg);
}

int main(void)
{
	static char blob[KS_MIME_BLOB_MAX];

	signal(SIGPIPE, SIG_IGN);
	if (ks_mime_build(ks_mime_builtin, strlen(ks_mime_builtin), blob,
			  sizeof(blob))) {
		fprintf(stderr, "cannot build the MIME table\n");
		return 1;
	}
	mime = blob;
	mime_len = ((struct ks_mime_table *)blob)->size;
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	unregistered_cases();
	register_cases();
	capability_case();
	registered_cases();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
