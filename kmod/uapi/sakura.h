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
 * The worker owns the connection until it posts { SAKURA_CQE_CLOSED, fd, ud }
 * to the core's completion ring; user space then close()s fd. The kernel
 * never closes a user fd, and the fd must stay open until that completion.
 * Consumers advance head with a release store after reading an entry;
 * producers publish tail with a release store after writing one. Every value
 * the kernel reads from the shared area is read once and validated.
 *
 * A core owns at most cq_entries - 1 connections: a Sakura Call is taken only
 * when its completion is sure to fit, so completions are never dropped.
 * poll() on the device file reports EPOLLIN while any completion or log ring
 * has entries; waiters are woken for new completions, and for log records
 * when a log ring is a quarter full or its worker goes idle.
 */
#ifndef _UAPI_LINUX_SAKURA_H
#define _UAPI_LINUX_SAKURA_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SAKURA_ABI_VERSION	1
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
#define SAKURA_REG_FLAGS	(SAKURA_REG_SERVE_HIDDEN | SAKURA_REG_ACCESS_LOG)

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
	__u32 reserved_in;	/* 0 */
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
	__u32 mode;
	__u32 state;
	__u64 reserved[30];
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

/* Per-core counters, written by the core's worker (relaxed). */
struct sakura_counters {
	__u64 conns;		/* connections owned now */
	__u64 accepted;		/* Sakura Calls taken */
	__u64 requests;
	__u64 bytes;		/* response body bytes */
	__u64 parks;		/* waits for a socket */
	__u64 handbacks;	/* connections handed back to user mode */
	__u64 timeouts;
	__u64 rejected;		/* Sakura Calls refused (bad op or fd) */
	__u64 closed;
	__u64 sleeps;
	__u64 log_dropped;
	__u64 zerocopy_bytes;	/* body bytes sent from page-cache pages */
	__u64 copied_bytes;	/* body bytes read and copied (cache misses) */
	__u64 reserved[3];
};

struct sakura_core_hdr {
	struct sakura_ring sq;
	struct sakura_ring cq;
	struct sakura_ring log;
	struct sakura_counters counters;
};

/* struct sakura_sqe.op */
#define SAKURA_OP_HTTP_CONN	1	/* serve this connected TCP socket */

struct sakura_sqe {
	__u32 op;
	__s32 fd;		/* in the server's own fd table */
	__u64 user_data;	/* returned in the completion */
};

/* struct sakura_cqe.op */
#define SAKURA_CQE_CLOSED	1	/* done with fd: close() it */

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

#define SAKURA_IOC_MAGIC	0xE5
#define SAKURA_IOC_REGISTER	_IOWR(SAKURA_IOC_MAGIC, 1, struct sakura_register)
#define SAKURA_IOC_RUN_WORKER	_IOW(SAKURA_IOC_MAGIC, 2, struct sakura_core_arg)
#define SAKURA_IOC_KICK		_IOW(SAKURA_IOC_MAGIC, 3, struct sakura_core_arg)
#define SAKURA_IOC_STATUS	_IOWR(SAKURA_IOC_MAGIC, 4, struct sakura_status)
#define SAKURA_IOC_UNREGISTER	_IO(SAKURA_IOC_MAGIC, 5)

/* Fixed sizes: the same ABI for every compiler and for 32-bit callers. */
_Static_assert(sizeof(struct sakura_layout) == 72, "sakura_layout");
_Static_assert(sizeof(struct sakura_register) == 64 + SAKURA_INDEX_MAX + 72,
	       "sakura_register");
_Static_assert(sizeof(struct sakura_ctrl) == 256, "sakura_ctrl");
_Static_assert(sizeof(struct sakura_ring) == 192, "sakura_ring");
_Static_assert(sizeof(struct sakura_counters) == 128, "sakura_counters");
_Static_assert(sizeof(struct sakura_core_hdr) == 3 * 192 + 128,
	       "sakura_core_hdr");
_Static_assert(sizeof(struct sakura_sqe) == 16, "sakura_sqe");
_Static_assert(sizeof(struct sakura_cqe) == 32, "sakura_cqe");
_Static_assert(sizeof(struct sakura_log_rec) == 2048, "sakura_log_rec");
_Static_assert(sizeof(struct sakura_core_arg) == 8, "sakura_core_arg");
_Static_assert(sizeof(struct sakura_status) == 32 + 128, "sakura_status");

#endif /* _UAPI_LINUX_SAKURA_H */
