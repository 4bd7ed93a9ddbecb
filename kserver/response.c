// SPDX-License-Identifier: GPL-2.0
/*
 * response.c - status table, error pages and response heads, freestanding.
 * Header order follows nginx so that answers look familiar on the wire.
 */
#include "response.h"
#include "http_date.h"
#include "handler.h"

struct ks_status_line {
	u16 status;
	const char *reason;
};

static const struct ks_status_line ks_statuses[] = {
	{ 200, "OK" },
	{ 206, "Partial Content" },
	{ 301, "Moved Permanently" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 416, "Range Not Satisfiable" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 503, "Service Unavailable" },
	{ 505, "HTTP Version Not Supported" },
};

struct ks_str ks_status_reason(u16 status)
{
	struct ks_str s = { "", 0 };
	u32 i;

	for (i = 0; i < KS_ARRAY_SIZE(ks_statuses); i++) {
		if (ks_statuses[i].status == status) {
			s.p = ks_statuses[i].reason;
			s.len = __builtin_strlen(s.p);
			break;
		}
	}
	return s;
}

struct ks_errno_status {
	int err;
	u16 status;
};

static const struct ks_errno_status ks_errno_statuses[] = {
	{ ENOENT, 404 },	{ ENOTDIR, 404 },	{ ENXIO, 404 },
	{ EACCES, 403 },	{ EPERM, 403 },		{ ELOOP, 403 },
	{ EXDEV, 403 },		{ ENAMETOOLONG, 404 },	{ EINVAL, 400 },
	{ EMFILE, 503 },	{ ENFILE, 503 },	{ ENOMEM, 503 },
	{ EAGAIN, 503 },
};

u16 ks_status_from_errno(int err)
{
	u32 i;

	if (err < 0)
		err = -err;
	for (i = 0; i < KS_ARRAY_SIZE(ks_errno_statuses); i++)
		if (ks_errno_statuses[i].err == err)
			return ks_errno_statuses[i].status;
	return 500;
}

/* An append-only writer that remembers running out of room. */
struct ks_wr {
	char *p;
	u32 len, cap;
	bool full;
};

static void ks_put(struct ks_wr *w, const char *s, u32 n)
{
	if (w->full || w->cap - w->len < n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

#define KS_PUT_LIT(w, lit) ks_put(w, lit, sizeof(lit) - 1)

static void ks_put_str(struct ks_wr *w, struct ks_str s)
{
	ks_put(w, s.p, s.len);
}

static void ks_put_u64(struct ks_wr *w, u64 v)
{
	char tmp[20];
	u32 n = sizeof(tmp);

	do {
		tmp[--n] = '0' + v % 10;
		v /= 10;
	} while (v);
	ks_put(w, tmp + n, sizeof(tmp) - n);
}

static void ks_put_status(struct ks_wr *w, u16 status)
{
	ks_put_u64(w, status);
	KS_PUT_LIT(w, " ");
	ks_put_str(w, ks_status_reason(status));
}

u32 ks_resp_head_build(char *out, u32 cap, const struct ks_resp_head *h)
{
	struct ks_wr w = { out, 0, cap, false };

	KS_PUT_LIT(&w, "HTTP/1.1 ");
	ks_put_status(&w, h->status);
	KS_PUT_LIT(&w, "\r\nServer: " KS_SERVER_NAME "\r\nDate: ");
	ks_put(&w, h->date, KS_HTTP_DATE_LEN);
	if (h->content_type.len) {
		KS_PUT_LIT(&w, "\r\nContent-Type: ");
		ks_put_str(&w, h->content_type);
	}
	if (h->has_length) {
		KS_PUT_LIT(&w, "\r\nContent-Length: ");
		ks_put_u64(&w, h->content_length);
	}
	if (h->has_file) {
		KS_PUT_LIT(&w, "\r\nLast-Modified: ");
		ks_put(&w, h->last_modified, KS_HTTP_DATE_LEN);
	}
	if (h->location.len) {
		KS_PUT_LIT(&w, "\r\nLocation: ");
		ks_put_str(&w, h->location);
		KS_PUT_LIT(&w, "/");
		if (h->query.len) {
			KS_PUT_LIT(&w, "?");
			ks_put_str(&w, h->query);
		}
	}
	if (h->keepalive)
		KS_PUT_LIT(&w, "\r\nConnection: keep-alive");
	else
		KS_PUT_LIT(&w, "\r\nConnection: close");
	if (h->has_file) {
		KS_PUT_LIT(&w, "\r\nETag: ");
		ks_put_str(&w, h->etag);
	}
	if (h->allow)
		KS_PUT_LIT(&w, "\r\nAllow: GET, HEAD");
	if (h->has_file && h->status == 200)
		KS_PUT_LIT(&w, "\r\nAccept-Ranges: bytes");
	if (h->has_range || h->unsatisfiable) {
		KS_PUT_LIT(&w, "\r\nContent-Range: bytes ");
		if (h->has_range) {
			ks_put_u64(&w, h->first);
			KS_PUT_LIT(&w, "-");
			ks_put_u64(&w, h->last);
		} else {
			KS_PUT_LIT(&w, "*");
		}
		KS_PUT_LIT(&w, "/");
		ks_put_u64(&w, h->total);
	}
	KS_PUT_LIT(&w, "\r\n\r\n");
	return w.full ? 0 : w.len;
}

u32 ks_error_body(char *out, u32 cap, u16 status)
{
	struct ks_wr w = { out, 0, cap, false };

	KS_PUT_LIT(&w, "<html>\r\n<head><title>");
	ks_put_status(&w, status);
	KS_PUT_LIT(&w, "</title></head>\r\n<body>\r\n<center><h1>");
	ks_put_status(&w, status);
	KS_PUT_LIT(&w, "</h1></center>\r\n<hr><center>" KS_SERVER_NAME
		   "</center>\r\n</body>\r\n</html>\r\n");
	return w.full ? 0 : w.len;
}
