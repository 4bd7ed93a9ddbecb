/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ks_port.h - the one portability header of the shared handler.
 *
 * Shared sources (http_parse.c, uri.c, mime.c, http_date.c, http_cond.c,
 * response.c, handler.c) include only this header and their own. It supplies
 * fixed-width integers, bool, size_t, memcpy/memset/memcmp/memmove,
 * errno values and likely()/unlikely() for three builds:
 *
 *   __KERNEL__        the sakura module: everything from linux/ headers
 *   KS_FREESTANDING   the compile check: nothing but the compiler itself
 *                     (-ffreestanding -fno-builtin -nostdinc)
 *   otherwise         kserver in user space: libc
 *
 * Need: u8 u16 u32 u64 s32 s64 size_t bool, memcpy memset memcmp memmove,
 * EINVAL ENOENT ENOTDIR EACCES EPERM ELOOP EXDEV EAGAIN ENOMEM ENAMETOOLONG
 * EFBIG EISDIR ENXIO EMFILE ENFILE EIO EPIPE ECONNRESET ESPIPE ENOSYS EBADF.
 */
#ifndef KS_PORT_H
#define KS_PORT_H

#if defined(__KERNEL__)

#include <linux/types.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/compiler.h>

#elif defined(KS_FREESTANDING)

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT32_TYPE__ s32;
typedef __INT64_TYPE__ s64;
typedef __SIZE_TYPE__ size_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
#define offsetof(t, m) __builtin_offsetof(t, m)

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* Linux's values: the same numbers the kernel and glibc use. */
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define ENXIO 6
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define EFBIG 27
#define ESPIPE 29
#define EPIPE 32
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ELOOP 40
#define EXDEV 18
#define ECONNRESET 104

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#else /* user space */

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#endif

/* a counted string pointing into someone else's buffer */
struct ks_str {
	const char *p;
	u32 len;
};

#ifndef fallthrough	/* the kernel has its own */
#define fallthrough __attribute__((__fallthrough__))
#endif
#define KS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define KS_BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)

#endif /* KS_PORT_H */
