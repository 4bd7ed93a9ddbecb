/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sakura.h - the one interface between kserver and sakura.ko.
 *
 * A server opens /dev/sakura, registers (SAKURA_IOC_REGISTER) and maps the
 * shared area it is given back:
 *
 *   offset 0                      struct sakura_ctrl (one page)
 *   core_off + i * core_size      core i:
 *       + 0                           struct sakura_core_hdr (one page)
 *       + sq_off                      sq_entries x struct sakura_sqe
 *       + cq_off                      cq_entries x struct sakura_cqe
 *       + log_off                     log_entries x struct sakura_log_rec
 *
 * One thread per core calls SAKURA_IOC_RUN_WORKER and stays in the kernel as
 * that core's worker. A Sakura Call hands a connection to a worker:
 *
 *   t = sq.tail;  sqe[t & (sq_entries - 1)] = { SAKURA_OP_HTTP_CONN, fd, ud };
 *   __atomic_store_n(&sq.tail, t + 1, __ATOMIC_RELEASE);
 *   __atomic_thread_fence(__ATOMIC_SEQ_CST);
 *   if (__atomic_load_n(&sq.flags, __ATOMIC_RELAXED) & SAKURA_SQ_NEED_WAKEUP)
 *           ioctl(dev, SAKURA_IOC_KICK, &(struct sakura_core_arg){ .core = i });
 *
 * The call gives the connection away: the worker checks fd, then takes it out
 * of the server's fd table (as close() would, in the server's own process),
 * serves the connection and closes it itself, with no completion. User space
 * must not touch fd after the call: the number is reused once it is taken.
 * Of a connection only two things come back on the completion ring: a
 * refused call, { SAKURA_CQE_CLOSED, fd, ud, -errno }, whose fd was left
 * where it was (user space close()s it), and, when the server left
 * supervisor mode, a connection between requests, { SAKURA_CQE_HANDBACK,
 * newfd, ud }, under a new number the worker installed in the server's
 * table (user space serves it again). ABI 3 left the fd in the table and
 * completed every connection with a SAKURA_CQE_CLOSED for user space to
 * close it.
 *
 * Mode switches (DMSM): SAKURA_IOC_SWITCH_MODE, from any process allowed to,
 * records the request in the server's control page and wakes it (poll()
 * reports EPOLLPRI). The server applies it on every core at request
 * boundaries -- to leave supervisor mode it submits SAKURA_OP_MODE on each
 * core's ring and waits for each SAKURA_CQE_MODE -- and then acknowledges
 * it with SAKURA_IOC_ACK_MODE, which completes the waiting SWITCH_MODE.
 * Consumers advance head with a release store after reading an entry;
 * producers publish tail with a release store after writing one. Every value
 * the kernel reads from the shared area is read once and validated.
 *
 * A core owns at most cq_entries - 1 connections: a Sakura Call is taken only
 * when a completion for it (a refusal, a handback) is sure to fit, so
 * completions are never dropped; the bound also stands in for RLIMIT_NOFILE,
 * which connections the kernel owns no longer count against.
 * poll() on the device file reports EPOLLIN while any completion or log ring
 * has entries; waiters are woken for new completions, and for log records
 * when a log ring is a quarter full or its worker goes idle.
 */
#ifndef _UAPI_LINUX_SAKURA_H
#define _UAPI_LINUX_SAKURA_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SAKURA_ABI_VERSION	4
#define SAKURA_DEVICE		"/dev/sakura"

#define SAKURA_MAX_CORES	256
#define SAKURA_SQ_MAX		32768	/* entries, each a power of two */
#define SAKURA_CQ_MAX		65536
#define SAKURA_LOG_MAX		8192
#define SAKURA_INDEX_MAX	128	/* index file name, NUL included */
#define SAKURA_MIME_MAX		(256 * 1024)
#define SAKURA_TIMEOUT_MAX_MS	(7u * 24 * 3600 * 1000)
#define SAKURA_MMAP_MAX		(1ull << 30)	/* whole shared area */

/* struct sakura_register.flags */
#define SAKURA_REG_SERVE_HIDDEN	(1u << 0)	/* serve dot files */
#define SAKURA_REG_ACCESS_LOG	(1u << 1)	/* fill the log rings */
/*
 * Benchmark only (kserver --bench-fixed, the "limit" line of make bench):
 * answer every GET/HEAD with a 200 of bench_body_len bytes from memory, no
 * file work, so the cost of the real handler can be set against TCP's.
 */
#define SAKURA_REG_BENCH_FIXED	(1u << 2)
#define SAKURA_REG_FLAGS	(SAKURA_REG_SERVE_HIDDEN | SAKURA_REG_ACCESS_LOG | \
				 SAKURA_REG_BENCH_FIXED)
#define SAKURA_BENCH_BODY_MAX	4096

/* Where things are in the mapping; all offsets in bytes, page aligned. */
struct sakura_layout {
	__u64 mmap_size;
	__u64 ctrl_off;
	__u64 core_off;
	__u64 core_size;	/* stride between cores */
	__u64 sq_off;		/* within a core's area */
	__u64 cq_off;
	__u64 log_off;
	__u32 sqe_size;
	__u32 cqe_size;
	__u32 log_rec_size;
	__u32 reserved;
};

struct sakura_register {
	/* in */
	__u32 abi_version;	/* SAKURA_ABI_VERSION */
	__u32 flags;		/* SAKURA_REG_* */
	__s32 root_fd;		/* the docroot: an O_PATH directory fd */
	__u32 ncores;		/* 1..SAKURA_MAX_CORES */
	__u32 sq_entries;	/* powers of two */
	__u32 cq_entries;
	__u32 log_entries;
	__u32 header_timeout_ms;
	__u32 keepalive_timeout_ms;
	__u32 send_timeout_ms;
	__u32 linger_timeout_ms;
	__u32 index_len;	/* strlen(index), no '/' */
	__u64 mime_ptr;		/* struct ks_mime_table blob (kserver/mime.h) */
	__u32 mime_len;
	__u32 mode;		/* SAKURA_MODE_*: the mode the server starts in */
	__u32 bench_body_len;	/* with SAKURA_REG_BENCH_FIXED: 1..BODY_MAX */
	__u32 reserved;		/* 0 */
	char index[SAKURA_INDEX_MAX];
	/* out */
	struct sakura_layout layout;
};

/* struct sakura_ctrl.mode */
#define SAKURA_MODE_USER	0
#define SAKURA_MODE_SUPERVISOR	1

/* struct sakura_ctrl.state */
#define SAKURA_STATE_RUNNING	1
#define SAKURA_STATE_STOPPED	2	/* unregistered: workers leave */

/* The control page. Written by the kernel only. */
struct sakura_ctrl {
	__u32 abi_version;
	__u32 ncores;
	__u32 mode;		/* the mode last acknowledged */
	__u32 state;
	__u32 req_mode;		/* the mode last requested */
	__u32 reserved0;
	__u64 req_seq;		/* that request's number, 0 before the first */
	__u64 ack_seq;		/* the last request acknowledged */
	__u64 reserved[27];
};

/* One ring's indices, each on its own cache line. */
struct sakura_ring {
	__u32 head;		/* written by the consumer */
	__u32 pad0[15];
	__u32 tail;		/* written by the producer */
	__u32 pad1[15];
	__u32 flags;		/* written by the kernel: SAKURA_SQ_* */
	__u32 entries;		/* informational: the kernel keeps its own */
	__u32 dropped;		/* log ring: records lost to a full ring */
	__u32 pad2[13];
};

/* struct sakura_ring.flags of the submission ring */
#define SAKURA_SQ_NEED_WAKEUP	(1u << 0)	/* worker sleeps: KICK it */

/*
 * Per-core counters of one mode: the kernel worker's (supervisor mode,
 * written by the worker) or the server's event loop (user mode, written by
 * the server, which the kernel only reports). Relaxed stores.
 */
struct sakura_counters {
	__u64 conns;		/* connections owned now */
	__u64 accepted;		/* new connections taken */
	__u64 requests;
	__u64 bytes;		/* response body bytes */
	__u64 parks;		/* waits for a socket */
	__u64 handovers;	/* connections given to the other mode */
	__u64 timeouts;
	__u64 rejected;		/* Sakura Calls refused (bad op or fd) */
	__u64 closed;
	__u64 sleeps;
	__u64 log_dropped;
	__u64 zerocopy_bytes;	/* body bytes sent from page-cache pages */
	__u64 copied_bytes;	/* body bytes read and copied (cache misses) */
	__u64 adopted;		/* connections taken from the other mode */
	__u64 fcache_hits;	/* files served from the open-file cache */
	__u64 fcache_misses;	/* files opened (and cached) */
};

struct sakura_core_hdr {
	struct sakura_ring sq;
	struct sakura_ring cq;
	struct sakura_ring log;
	struct sakura_counters counters;	/* the kernel worker's */
	struct sakura_counters ucounters;	/* the event loop's (user) */
};

/* struct sakura_sqe.op */
#define SAKURA_OP_HTTP_CONN	1	/* serve this new connected TCP socket */
#define SAKURA_OP_HTTP_IDLE	2	/* serve this kept-alive one, between
					 * requests (keep-alive timeout) */
#define SAKURA_OP_MODE		3	/* fd: SAKURA_MODE_*; the core's mode
					 * from now on: USER hands connections
					 * back at request boundaries. Answered
					 * by a SAKURA_CQE_MODE. */

struct sakura_sqe {
	__u32 op;
	__s32 fd;		/* in the server's own fd table: taken */
	__u64 user_data;	/* returned in the completion */
};

/* struct sakura_cqe.op */
#define SAKURA_CQE_CLOSED	1	/* call refused (res): close() fd */
#define SAKURA_CQE_HANDBACK	2	/* fd, new in the server's table, is
					 * between requests, nothing of the
					 * next one read: serve it */
#define SAKURA_CQE_MODE		3	/* a SAKURA_OP_MODE applied (res 0) or
					 * refused (-errno); fd: the mode */

struct sakura_cqe {
	__u32 op;
	__s32 fd;
	__u64 user_data;
	__s32 res;		/* 0, or -errno: the call was refused */
	__u32 flags;
	__u64 reserved;
};

#define SAKURA_LOG_REQUEST_MAX	1024
#define SAKURA_LOG_REFERER_MAX	512
#define SAKURA_LOG_UA_MAX	464

/* struct sakura_log_rec.flags */
#define SAKURA_LOG_TRUNCATED	(1u << 0)	/* a string did not fit */

/* One access-log record (struct ks_log_rec), strings cut to fit. */
struct sakura_log_rec {
	__s64 time;		/* wall clock, seconds */
	__u64 body_bytes;
	__u16 status;
	__u8 family;		/* 4, 6, or 0 */
	__u8 flags;
	__u16 port;
	__u16 request_len;
	__u16 referer_len;
	__u16 user_agent_len;
	__u32 reserved;
	__u8 addr[16];
	char request[SAKURA_LOG_REQUEST_MAX];
	char referer[SAKURA_LOG_REFERER_MAX];
	char user_agent[SAKURA_LOG_UA_MAX];
};

/* Argument of RUN_WORKER and KICK. */
struct sakura_core_arg {
	__u32 core;		/* 0..ncores-1 */
	__u32 flags;		/* 0 */
};

#define SAKURA_STATUS_ALL	0xffffffffu

struct sakura_status {
	/* in */
	__u32 core;		/* a core, or SAKURA_STATUS_ALL for the sum */
	__u32 flags;		/* 0 */
	/* out */
	__u32 abi_version;
	__u32 registered;	/* 0 or 1 */
	__u32 mode;
	__u32 state;
	__u32 ncores;
	__u32 workers;		/* cores with a worker inside RUN_WORKER */
	struct sakura_counters counters;
};

/* Argument of SWITCH_MODE: any process, on any open /dev/sakura. */
struct sakura_switch {
	/* in */
	__s32 pid;		/* the server's process id */
	__u32 mode;		/* SAKURA_MODE_* */
	__u32 timeout_ms;	/* wait for the acknowledgement at most this
				 * long: 1..SAKURA_TIMEOUT_MAX_MS */
	__u32 flags;		/* 0 */
	/* out */
	__u32 from_mode;	/* the mode before */
	__u32 reserved;
	__u64 seq;		/* the request's number */
	__u64 latency_ns;	/* from the request to the acknowledgement */
};

/* Argument of ACK_MODE: the server, on its own registered file. */
struct sakura_ack {
	__u64 seq;		/* struct sakura_ctrl.req_seq, applied */
};

/* Argument of QUERY: any process, on any open /dev/sakura. */
struct sakura_query {
	/* in */
	__s32 pid;		/* a server's pid, or 0: the index-th server */
	__u32 index;
	__u32 core;		/* a core, or SAKURA_STATUS_ALL for the sums */
	__u32 flags;		/* 0 */
	/* out */
	__s32 server_pid;
	__u32 uid;		/* the server's effective uid */
	__u32 mode;		/* acknowledged */
	__u32 state;
	__u32 ncores;
	__u32 workers;		/* cores with a worker inside RUN_WORKER */
	__u32 req_mode;
	__u32 pending;		/* 1: a switch waits for its acknowledgement */
	__u64 req_seq;
	__u64 ack_seq;
	__u64 uptime_ms;	/* since REGISTER */
	__u64 switches;		/* acknowledged switches */
	__u64 last_switch_ns;	/* the last one's request-to-ack latency */
	struct sakura_counters kernel;	/* supervisor mode */
	struct sakura_counters user;	/* user mode, as the server reports */
};

#define SAKURA_IOC_MAGIC	0xE5
#define SAKURA_IOC_REGISTER	_IOWR(SAKURA_IOC_MAGIC, 1, struct sakura_register)
#define SAKURA_IOC_RUN_WORKER	_IOW(SAKURA_IOC_MAGIC, 2, struct sakura_core_arg)
#define SAKURA_IOC_KICK		_IOW(SAKURA_IOC_MAGIC, 3, struct sakura_core_arg)
#define SAKURA_IOC_STATUS	_IOWR(SAKURA_IOC_MAGIC, 4, struct sakura_status)
#define SAKURA_IOC_UNREGISTER	_IO(SAKURA_IOC_MAGIC, 5)
#define SAKURA_IOC_SWITCH_MODE	_IOWR(SAKURA_IOC_MAGIC, 6, struct sakura_switch)
#define SAKURA_IOC_ACK_MODE	_IOW(SAKURA_IOC_MAGIC, 7, struct sakura_ack)
#define SAKURA_IOC_QUERY	_IOWR(SAKURA_IOC_MAGIC, 8, struct sakura_query)

/* Fixed sizes: the same ABI for every compiler and for 32-bit callers. */
_Static_assert(sizeof(struct sakura_layout) == 72, "sakura_layout");
_Static_assert(sizeof(struct sakura_register) == 72 + SAKURA_INDEX_MAX + 72,
	       "sakura_register");
_Static_assert(sizeof(struct sakura_ctrl) == 256, "sakura_ctrl");
_Static_assert(sizeof(struct sakura_ring) == 192, "sakura_ring");
_Static_assert(sizeof(struct sakura_counters) == 128, "sakura_counters");
_Static_assert(sizeof(struct sakura_core_hdr) == 3 * 192 + 2 * 128,
	       "sakura_core_hdr");
_Static_assert(sizeof(struct sakura_sqe) == 16, "sakura_sqe");
_Static_assert(sizeof(struct sakura_cqe) == 32, "sakura_cqe");
_Static_assert(sizeof(struct sakura_log_rec) == 2048, "sakura_log_rec");
_Static_assert(sizeof(struct sakura_core_arg) == 8, "sakura_core_arg");
_Static_assert(sizeof(struct sakura_status) == 32 + 128, "sakura_status");
_Static_assert(sizeof(struct sakura_switch) == 40, "sakura_switch");
_Static_assert(sizeof(struct sakura_ack) == 8, "sakura_ack");
_Static_assert(sizeof(struct sakura_query) == 88 + 2 * 128, "sakura_query");

#endif /* _UAPI_LINUX_SAKURA_H */
