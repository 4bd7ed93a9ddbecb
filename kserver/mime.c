// SPDX-License-Identifier: GPL-2.0
/*
 * mime.c - extension to Content-Type, as one flat pointer-free blob.
 *
 * Layout: struct ks_mime_table, n entries sorted by (lowercase) extension,
 * then the string pool. Built once at start-up from mime.types text; the
 * kernel receives the same bytes and only runs ks_mime_check() over them.
 */
#include "mime.h"

const char ks_mime_default[] = "application/octet-stream";

/* Used when /etc/mime.types is missing; same format. */
const char ks_mime_builtin[] =
	"text/html html htm shtml\n"
	"text/css css\n"
	"text/xml xml\n"
	"text/plain txt text conf log\n"
	"text/markdown md markdown\n"
	"text/csv csv\n"
	"text/javascript js mjs\n"
	"application/json json map\n"
	"application/wasm wasm\n"
	"application/pdf pdf\n"
	"application/zip zip\n"
	"application/gzip gz\n"
	"application/x-tar tar\n"
	"application/rss+xml rss\n"
	"application/atom+xml atom\n"
	"application/xhtml+xml xhtml\n"
	"image/png png\n"
	"image/jpeg jpg jpeg\n"
	"image/gif gif\n"
	"image/webp webp\n"
	"image/avif avif\n"
	"image/svg+xml svg svgz\n"
	"image/vnd.microsoft.icon ico\n"
	"image/bmp bmp\n"
	"font/woff woff\n"
	"font/woff2 woff2\n"
	"font/ttf ttf\n"
	"font/otf otf\n"
	"audio/mpeg mp3\n"
	"audio/ogg ogg\n"
	"video/mp4 mp4\n"
	"video/webm webm\n";

static inline u8 ks_lc(u8 c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static inline bool ks_is_space(u8 c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* lexical compare of a (lowercased on the fly) against b (lowercase) */
static int ks_ext_cmp(const char *a, u32 alen, const char *b, u32 blen)
{
	u32 i, n = KS_MIN(alen, blen);

	for (i = 0; i < n; i++) {
		u8 x = ks_lc(a[i]), y = b[i];

		if (x != y)
			return x < y ? -1 : 1;
	}
	return alen == blen ? 0 : alen < blen ? -1 : 1;
}

struct ks_mime_builder {
	struct ks_mime_table *t;
	char *pool;		/* NULL while counting */
	u32 n, pool_len;
};

/* Walk every "type ext..." line; count, or fill when b->pool is set. */
static void ks_mime_walk(struct ks_mime_builder *b, const char *text, u32 len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *type, *tok;
		u32 type_len, type_off = 0;
		bool type_stored = false;

		while (p < end && (ks_is_space(*p) || *p == '\n'))
			p++;
		if (p < end && *p == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		type = p;
		while (p < end && !ks_is_space(*p) && *p != '\n')
			p++;
		type_len = p - type;
		for (;;) {
			u32 ext_len;

			while (p < end && ks_is_space(*p))
				p++;
			if (p >= end || *p == '\n' || *p == '#')
				break;
			tok = p;
			while (p < end && !ks_is_space(*p) && *p != '\n')
				p++;
			ext_len = p - tok;
			if (!type_len || type_len > KS_MIME_TYPE_MAX ||
			    ext_len > KS_MIME_EXT_MAX)
				continue;
			if (!type_stored) {
				type_off = b->pool_len;
				if (b->pool)
					memcpy(b->pool + type_off, type, type_len);
				b->pool_len += type_len;
				type_stored = true;
			}
			if (b->pool) {
				struct ks_mime_entry *e = &b->t->e[b->n];
				u32 i;

				e->ext_off = b->pool_len;
				e->ext_len = ext_len;
				e->type_off = type_off;
				e->type_len = type_len;
				for (i = 0; i < ext_len; i++)
					b->pool[b->pool_len + i] = ks_lc(tok[i]);
			}
			b->pool_len += ext_len;
			b->n++;
		}
		while (p < end && *p != '\n')
			p++;
	}
}

/* by extension, then by creation order (pool offset): first mapping wins */
static bool ks_entry_less(const struct ks_mime_table *t, u32 a, u32 b)
{
	const char *pool = (const char *)t + t->pool_off;
	const struct ks_mime_entry *x = &t->e[a], *y = &t->e[b];
	int c = ks_ext_cmp(pool + x->ext_off, x->ext_len, pool + y->ext_off,
			   y->ext_len);

	return c ? c < 0 : x->ext_off < y->ext_off;
}

static void ks_entry_swap(struct ks_mime_table *t, u32 a, u32 b)
{
	struct ks_mime_entry tmp = t->e[a];

	t->e[a] = t->e[b];
	t->e[b] = tmp;
}

static void ks_sift_down(struct ks_mime_table *t, u32 root, u32 n)
{
	for (;;) {
		u32 child = 2 * root + 1;

		if (child >= n)
			return;
		if (child + 1 < n && ks_entry_less(t, child, child + 1))
			child++;
		if (!ks_entry_less(t, root, child))
			return;
		ks_entry_swap(t, root, child);
		root = child;
	}
}

/* heapsort: no recursion, no allocation, O(n log n) */
static void ks_mime_sort(struct ks_mime_table *t)
{
	u32 i, n = t->n;

	for (i = n / 2; i-- > 0;)
		ks_sift_down(t, i, n);
	for (i = n; i-- > 1;) {
		ks_entry_swap(t, 0, i);
		ks_sift_down(t, 0, i);
	}
}

int ks_mime_build(const char *text, u32 len, void *blob, u32 cap)
{
	struct ks_mime_builder b = { .t = blob };
	struct ks_mime_table *t = blob;
	const char *pool;
	u32 i, n;
	u64 need;

	ks_mime_walk(&b, text, len);
	if (!b.n)
		return -EINVAL;
	need = sizeof(*t) + (u64)b.n * sizeof(t->e[0]) + b.pool_len;
	if (need > cap || need > KS_MIME_BLOB_MAX)
		return -ENOMEM;
	t->magic = KS_MIME_MAGIC;
	t->pool_off = sizeof(*t) + b.n * sizeof(t->e[0]);
	b.pool = (char *)blob + t->pool_off;
	b.n = 0;
	b.pool_len = 0;
	ks_mime_walk(&b, text, len);
	t->n = b.n;
	t->size = t->pool_off + b.pool_len;
	ks_mime_sort(t);
	pool = (const char *)t + t->pool_off;
	for (i = 1, n = 1; i < t->n; i++) {
		const struct ks_mime_entry *prev = &t->e[n - 1], *e = &t->e[i];

		if (ks_ext_cmp(pool + e->ext_off, e->ext_len,
			       pool + prev->ext_off, prev->ext_len))
			t->e[n++] = *e;
	}
	t->n = n;
	return 0;
}

int ks_mime_check(const struct ks_mime_table *t, u32 size)
{
	const char *pool;
	u32 i, pool_len;

	if (size < sizeof(*t) || size > KS_MIME_BLOB_MAX ||
	    t->magic != KS_MIME_MAGIC || t->size != size ||
	    t->n > (size - sizeof(*t)) / sizeof(t->e[0]) ||
	    t->pool_off < sizeof(*t) + t->n * sizeof(t->e[0]) ||
	    t->pool_off > size)
		return -EINVAL;
	pool = (const char *)t + t->pool_off;
	pool_len = size - t->pool_off;
	for (i = 0; i < t->n; i++) {
		const struct ks_mime_entry *e = &t->e[i];
		u32 j;

		if (!e->ext_len || e->ext_len > KS_MIME_EXT_MAX ||
		    !e->type_len || e->type_len > KS_MIME_TYPE_MAX ||
		    e->ext_off > pool_len || e->ext_len > pool_len - e->ext_off ||
		    e->type_off > pool_len ||
		    e->type_len > pool_len - e->type_off)
			return -EINVAL;
		/* types go into response headers: no CTLs, no spaces */
		for (j = 0; j < e->type_len; j++) {
			u8 c = pool[e->type_off + j];

			if (c <= 0x20 || c >= 0x7f)
				return -EINVAL;
		}
		if (i && ks_ext_cmp(pool + t->e[i - 1].ext_off,
				    t->e[i - 1].ext_len, pool + e->ext_off,
				    e->ext_len) >= 0)
			return -EINVAL;
	}
	return 0;
}

struct ks_str ks_mime_lookup(const struct ks_mime_table *t, const char *path,
			     u32 len)
{
	struct ks_str def = { ks_mime_default, sizeof(ks_mime_default) - 1 };
	const char *pool = (const char *)t + t->pool_off, *ext;
	u32 i = len, lo = 0, hi = t->n;

	while (i && path[i - 1] != '.' && path[i - 1] != '/')
		i--;
	if (!i || path[i - 1] != '.' || i == len || len - i > KS_MIME_EXT_MAX)
		return def;
	ext = path + i;
	len -= i;
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct ks_mime_entry *e = &t->e[mid];
		int c = ks_ext_cmp(ext, len, pool + e->ext_off, e->ext_len);

		if (!c) {
			struct ks_str r = { pool + e->type_off, e->type_len };

			return r;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return def;
}
