// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_parse.c - libFuzzer harness for the request-head scanner and parser
 * (http_parse.c), the URI decoder (uri.c), preconditions and ranges
 * (http_cond.c), HTTP dates (http_date.c) and response heads (response.c).
 *
 * Input: flags (1 byte), cap (1 byte), size (8 bytes, little endian), then
 * the bytes of a request (0xfe n c expands: see fz_expand()).
 *
 * Checked beyond "no sanitizer report":
 *   - the head scan gives the same answer fed in pieces as in one go;
 *   - a parsed request's strings lie inside the head, its fields agree with
 *     the limits (Host on 1.1, one framing, Content-Length cap);
 *   - ks_uri_normalize() equals a plain reference implementation, and its
 *     output never holds a "." / ".." / empty segment or a NUL;
 *   - ranges lie inside the file, preconditions give 0/304/412;
 *   - a parsed date formats and parses back to itself;
 *   - a built head starts with a status line and ends with CRLFCRLF.
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "http_cond.h"
#include "http_date.h"
#include "http_parse.h"
#include "mime.h"
#include "response.h"
#include "uri.h"

#define FZ_DATA_MAX (64u * 1024)

/* --- the head scanner: in one go versus in pieces --- */

static int fz_scan(const char *buf, u32 len, u32 seed)
{
	struct ks_head_scan whole = { 0 }, parts = { 0 };
	int one = ks_http_head_end(&whole, buf, len), r = -EAGAIN;
	u32 have = 0;

	FZ_CHECK(one == -EAGAIN || one == -414 || one == -431 ||
		 (one > 0 && (u32)one <= len), "head_end %d of %u", one, len);
	if (one > 0) {
		FZ_CHECK(buf[one - 1] == '\n', "head ends with %02x",
			 (u8)buf[one - 1]);
		FZ_CHECK((u32)one <= KS_HEAD_MAX, "head %d > KS_HEAD_MAX", one);
	}
	/* the same bytes arriving in pieces, as recv would deliver them */
	while (have < len) {
		u32 step = 1 + (seed % 97);

		seed = seed * 1103515245u + 12345u;
		have = have + step > len ? len : have + step;
		r = ks_http_head_end(&parts, buf, have);
		if (r != -EAGAIN)
			break;
	}
	if (!len)
		r = ks_http_head_end(&parts, buf, 0);
	FZ_CHECK(r == one, "head_end in pieces %d, in one go %d", r, one);
	return one;
}

/* --- the parser --- */

static void fz_str_inside(struct ks_str s, const char *buf, u32 len,
			  const char *what)
{
	if (!s.p) {
		FZ_CHECK(!s.len, "%s: NULL with length %u", what, s.len);
		return;
	}
	FZ_CHECK(s.p >= buf && s.p + s.len <= buf + len,
		 "%s lies outside the head", what);
}

static void fz_check_request(const struct ks_request *r, const char *buf,
			     u32 len)
{
	fz_str_inside(r->line, buf, len, "line");
	fz_str_inside(r->method_str, buf, len, "method");
	fz_str_inside(r->target, buf, len, "target");
	fz_str_inside(r->query, buf, len, "query");
	fz_str_inside(r->host, buf, len, "host");
	fz_str_inside(r->range, buf, len, "range");
	fz_str_inside(r->if_range, buf, len, "if-range");
	fz_str_inside(r->if_match, buf, len, "if-match");
	fz_str_inside(r->if_none_match, buf, len, "if-none-match");
	fz_str_inside(r->if_modified_since, buf, len, "if-modified-since");
	fz_str_inside(r->if_unmodified_since, buf, len, "if-unmodified-since");
	fz_str_inside(r->referer, buf, len, "referer");
	fz_str_inside(r->user_agent, buf, len, "user-agent");
	FZ_CHECK(r->head_len == len, "head_len %u of %u", r->head_len, len);
	FZ_CHECK(r->minor <= 1, "minor %u", r->minor);
	FZ_CHECK(r->minor == 0 || r->has_host, "HTTP/1.1 without Host");
	FZ_CHECK(!(r->has_cl && r->has_te), "both Content-Length and TE");
	FZ_CHECK(!r->has_cl || r->content_length <= KS_BODY_DISCARD_MAX,
		 "Content-Length %llu accepted",
		 (unsigned long long)r->content_length);
	FZ_CHECK(r->nfields <= KS_HEADER_FIELDS_MAX, "%u fields", r->nfields);
	FZ_CHECK(r->line.len <= KS_REQ_LINE_MAX, "request line %u", r->line.len);
	if (r->form == KS_TF_ORIGIN || r->form == KS_TF_ABSOLUTE) {
		FZ_CHECK(r->path.len && r->path.p[0] == '/',
			 "path does not start with '/'");
		if (r->form == KS_TF_ORIGIN)
			fz_str_inside(r->path, buf, len, "path");
	}
}

/* --- the URI decoder against a plain reference --- */

static void fz_check_normalized(const char *out, int n, u32 cap)
{
	int i, seg = 1;

	FZ_CHECK((u32)n < cap, "output %d does not fit cap %u", n, cap);
	FZ_CHECK(n >= 1 && out[0] == '/' && out[n] == '\0',
		 "output not '/'-led and NUL-terminated");
	for (i = 1; i <= n; i++) {
		if (i < n && out[i] != '/') {
			FZ_CHECK(out[i], "NUL inside the output");
			continue;
		}
		/* a segment [seg, i) ended */
		FZ_CHECK(i - seg > 0 || i == n, "empty segment in output");
		FZ_CHECK(!(i - seg == 1 && out[seg] == '.'), "'.' in output");
		FZ_CHECK(!(i - seg == 2 && out[seg] == '.' &&
			   out[seg + 1] == '.'), "'..' in output");
		seg = i + 1;
	}
}

static void fz_uri(const char *raw, u32 len, u32 small_cap)
{
	u32 big = len + 3;
	char *out = malloc(big), *ref = malloc(big), *tight;
	int n, rn, h;

	if (!out || !ref)
		abort();
	n = ks_uri_normalize(raw, len, out, big);
	rn = fz_ref_normalize(raw, len, ref);
	FZ_CHECK(n == rn, "normalize %d, reference %d", n, rn);
	if (n >= 0) {
		fz_check_normalized(out, n, big);
		FZ_CHECK(!memcmp(out, ref, n + 1), "normalize '%s', reference '%s'",
			 out, ref);
		/* hidden: some segment starts with '.' */
		h = ks_path_is_hidden(out, n);
		FZ_CHECK(h == (strstr(out, "/.") != NULL), "is_hidden %d", h);
		(void)ks_mime_lookup(fz_mime(), out, n);
	}
	/* a tight output buffer: same answer or -ENAMETOOLONG, never more */
	tight = malloc(small_cap ? small_cap : 1);
	if (!tight)
		abort();
	rn = ks_uri_normalize(raw, len, tight, small_cap);
	if (rn >= 0) {
		FZ_CHECK(rn == n && !memcmp(tight, out, n + 1),
			 "cap %u changed the answer", small_cap);
		fz_check_normalized(tight, rn, small_cap);
	} else {
		FZ_CHECK(rn == -ENAMETOOLONG || rn == n,
			 "cap %u: %d, uncapped %d", small_cap, rn, n);
	}
	free(tight);
	free(out);
	free(ref);
}

/* --- dates, preconditions, ranges --- */

static void fz_date(struct ks_str s)
{
	char buf[KS_HTTP_DATE_LEN];
	char *copy;
	s64 t, t2;

	if (!s.p)
		return;
	copy = fz_exact_copy(s.p, s.len);
	if (!ks_http_date_parse(copy, s.len, &t)) {
		FZ_CHECK(t >= 0 && t <= 253402300799ll + 1, "date %lld",
			 (long long)t);
		ks_http_date_format(t, buf);
		FZ_CHECK(!ks_http_date_parse(buf, sizeof(buf), &t2) && t2 == t,
			 "date %lld does not round-trip", (long long)t);
	}
	free(copy);
}

static void fz_cond(const struct ks_request *req, u64 size, s64 mtime)
{
	char etag[KS_ETAG_MAX];
	u32 elen = ks_etag_format(mtime, size, etag);
	u64 first = 7, last = 7;
	int cond;
	enum ks_range_result rr;

	FZ_CHECK(elen <= KS_ETAG_MAX && etag[0] == '"' && etag[elen - 1] == '"',
		 "etag");
	cond = ks_cond_eval(req, etag, elen, mtime);
	FZ_CHECK(cond == 0 || cond == 304 || cond == 412, "cond %d", cond);
	rr = ks_range_eval(req, size, etag, elen, mtime, &first, &last);
	FZ_CHECK(rr <= KS_RANGE_UNSATISFIABLE, "range result %d", rr);
	if (rr == KS_RANGE_OK)
		FZ_CHECK(size && first <= last && last < size,
			 "range %llu-%llu of %llu", (unsigned long long)first,
			 (unsigned long long)last, (unsigned long long)size);
	if (rr == KS_RANGE_NONE && !req->if_range.p)
		/* "bytes=0-" always holds on a non-empty file */
		FZ_CHECK(!(req->range.len == 8 && !memcmp(req->range.p, "bytes=0-", 8) &&
			   size), "bytes=0- ignored");
}

/* the request's fields, each in a buffer of its own exact size */
static void fz_cond_exact(const struct ks_request *req, u64 size, s64 mtime)
{
	struct ks_request r = *req;
	struct ks_str *f[] = { &r.range, &r.if_range, &r.if_match,
			       &r.if_none_match, &r.if_modified_since,
			       &r.if_unmodified_since };
	u32 i;

	for (i = 0; i < KS_ARRAY_SIZE(f); i++)
		if (f[i]->p)
			f[i]->p = fz_exact_copy(f[i]->p, f[i]->len);
	fz_cond(&r, size, mtime);
	for (i = 0; i < KS_ARRAY_SIZE(f); i++)
		if (f[i]->p)
			free((void *)f[i]->p);
}

static void fz_head_build(const struct ks_request *req, u16 status, u32 cap)
{
	static const char date[] = "Sun, 06 Nov 1994 08:49:37 GMT";
	char last_modified[KS_HTTP_DATE_LEN];
	struct ks_resp_head h = {
		.status = status,
		.keepalive = status & 1,
		.has_length = true,
		.content_length = req->content_length,
		.has_file = status & 2,
		.last_modified = last_modified,
		.date = date,
		.etag = { "\"1-2\"", 5 },	/* the handler always has one */
		.content_type = { "text/html", 9 },
		.location = req->path,
		.query = req->query,
		.has_range = status & 4,
		.first = 1, .last = 2, .total = 3,
	};
	char *out = malloc(cap ? cap : 1);
	u32 n;

	if (!out)
		abort();
	/* what the handler does: any mtime a stat may give, formatted */
	ks_http_date_format((s64)req->content_length, last_modified);
	n = ks_resp_head_build(out, cap, &h);
	if (n) {
		FZ_CHECK(n <= cap && n >= 13 && !memcmp(out, "HTTP/1.1 ", 9),
			 "head start");
		FZ_CHECK(!memcmp(out + n - 4, "\r\n\r\n", 4), "head end");
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_request req;
	char *buf, *head;
	size_t len;
	u8 flags, capsel;
	u64 fsize = 0;
	s64 mtime;
	int n, err;
	u32 i;

	if (size < 10)
		return 0;
	flags = data[0];
	capsel = data[1];
	for (i = 0; i < 8; i++)
		fsize |= (u64)data[2 + i] << (8 * i);
	data += 10;
	size -= 10;
	/* small sizes matter most; sometimes keep all 64 bits */
	if (!(flags & 0x80))
		fsize &= 0xffffff;
	mtime = (s64)(fsize * 2654435761u % 4102444800u);
	buf = fz_expand(data, size, FZ_DATA_MAX, &len);
	head = fz_exact_copy(buf, len);

	n = fz_scan(head, len, flags | (u32)capsel << 8);
	if (n > 0) {
		char *h = fz_exact_copy(buf, n);

		err = ks_http_parse(h, n, &req);
		FZ_CHECK(err == 0 || err == -400 || err == -505 ||
			 err == -431 || err == -413 || err == -501, "parse %d", err);
		if (!err) {
			fz_check_request(&req, h, n);
			if (req.path.p)
				fz_uri(req.path.p, req.path.len, capsel);
			fz_date(req.if_modified_since);
			fz_date(req.if_unmodified_since);
			fz_date(req.if_range);
			fz_cond_exact(&req, fsize, mtime);
			fz_head_build(&req, 200 + (flags & 7),
				      KS_REQ_LINE_MAX + 1024);
			fz_head_build(&req, 301, capsel * 4);
		}
		free(h);
	}
	/* the raw bytes as a path, a date, a range */
	if (len <= KS_REQ_LINE_MAX) {
		struct ks_str s = { head, (u32)len };

		fz_uri(head, len, capsel);
		fz_date(s);
		memset(&req, 0, sizeof(req));
		if (flags & 1)
			req.range = s;
		else
			req.if_range = s;
		if (flags & 2)
			req.if_match = s;
		if (flags & 4)
			req.if_none_match = s;
		if (flags & 8)
			req.if_modified_since = s;
		if (flags & 16)
			req.if_unmodified_since = s;
		fz_cond(&req, fsize, mtime);
	}
	free(head);
	free(buf);
	return 0;
}
