/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_common.h - helpers shared by the libFuzzer harnesses (user space).
 *
 * FZ_CHECK() aborts with a message: libFuzzer then keeps the input as a
 * crash. The harnesses never print otherwise.
 */
#ifndef KS_FUZZ_COMMON_H
#define KS_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_port.h"
#include "mime.h"

#define FZ_CHECK(cond, ...)                                                  \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", \
				__FILE__, __LINE__, #cond);                  \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

/*
 * fz_expand - copy data, expanding 0xfe n c into (n + 1) * 64 bytes c, so
 * that a small input reaches the 8 KiB / 16 KiB head limits. "0xfe" not
 * followed by two bytes stays literal. Returns a malloc'd buffer (never
 * NULL; its length in *out_len), at most cap bytes.
 */
static inline size_t fz_expand_to(const u8 *data, size_t len, size_t cap,
				  char *out)
{
	size_t i = 0, o = 0;

	while (i < len && o < cap) {
		if (data[i] == 0xfe && len - i >= 3) {
			size_t n = ((size_t)data[i + 1] + 1) * 64;

			if (n > cap - o)
				n = cap - o;
			if (out)
				memset(out + o, data[i + 2], n);
			o += n;
			i += 3;
		} else {
			if (out)
				out[o] = (char)data[i];
			o++;
			i++;
		}
	}
	return o;
}

static inline char *fz_expand(const u8 *data, size_t len, size_t cap,
			      size_t *out_len)
{
	size_t n = fz_expand_to(data, len, cap, NULL);
	char *out = malloc(n ? n : 1);	/* exact: ASan sees an overread */

	if (!out)
		abort();
	*out_len = fz_expand_to(data, len, cap, out);
	return out;
}

/* a copy in a buffer of exactly len bytes, so ASan sees any overread */
static inline char *fz_exact_copy(const void *src, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		abort();
	if (len)
		memcpy(p, src, len);
	return p;
}

/* --- the URI decoder, written the plain way --- */

static inline int fz_hex(u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * fz_ref_normalize - a plain reference for ks_uri_normalize(): decode all,
 * split at '/', resolve
 * segments. out must hold len + 3 bytes. Returns the length or -EINVAL.
 */
static inline int fz_ref_normalize(const char *raw, u32 len, char *out)
{
	char *dec = malloc(len + 1);
	u32 *segs = malloc(sizeof(u32) * (len + 2));	/* start offsets */
	u32 i, n = 0, nseg = 0, o, s;
	bool dir = false;

	if (!dec || !segs)
		abort();
	for (i = 0; i < len; i++) {
		u8 c = raw[i];

		if (c == '%') {
			if (len - i < 3 || fz_hex(raw[i + 1]) < 0 ||
			    fz_hex(raw[i + 2]) < 0)
				goto bad;
			c = fz_hex(raw[i + 1]) << 4 | fz_hex(raw[i + 2]);
			i += 2;
		}
		if (!c)
			goto bad;
		dec[n++] = c;
	}
	/* segments by their start in dec; resolve with a stack */
	o = 0;
	for (i = 0; i <= n; i = s + 1) {
		u32 slen;

		for (s = i; s < n && dec[s] != '/'; s++)
			;
		slen = s - i;
		if (!slen)
			continue;	/* empty: merged, changes nothing */
		dir = s < n;	/* this segment ended with a '/' */
		if (slen == 1 && dec[i] == '.') {
			dir = true;
		} else if (slen == 2 && dec[i] == '.' && dec[i + 1] == '.') {
			if (!nseg)
				goto bad;
			nseg--;
			dir = true;
		} else {
			segs[nseg++] = i;
		}
	}
	out[o++] = '/';
	for (i = 0; i < nseg; i++) {
		u32 a = segs[i], b = a;

		while (b < n && dec[b] != '/')
			b++;
		memcpy(out + o, dec + a, b - a);
		o += b - a;
		if (i + 1 < nseg)
			out[o++] = '/';
	}
	if (nseg && dir)
		out[o++] = '/';
	out[o] = '\0';
	free(dec);
	free(segs);
	return o;
bad:
	free(dec);
	free(segs);
	return -EINVAL;
}

/* the built-in MIME table, built once per process */
static inline const struct ks_mime_table *fz_mime(void)
{
	static u64 blob[KS_MIME_BLOB_MAX / 8];
	static bool built;

	if (!built) {
		if (ks_mime_build(ks_mime_builtin, strlen(ks_mime_builtin), blob,
				  sizeof(blob)))
			abort();
		built = true;
	}
	return (const struct ks_mime_table *)blob;
}

#endif /* KS_FUZZ_COMMON_H */
