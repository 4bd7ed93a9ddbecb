// SPDX-License-Identifier: GPL-2.0
/*
 * http_cond.c - preconditions (RFC 9110 13) and single byte ranges (14).
 */
#include "http_cond.h"
#include "http_date.h"

static u32 ks_put_hex(char *out, u64 v)
{
	char tmp[16];
	u32 n = 0, i;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

u32 ks_etag_format(s64 mtime, u64 size, char out[KS_ETAG_MAX])
{
	u32 n = 0;

	out[n++] = '"';
	n += ks_put_hex(out + n, (u64)mtime);
	out[n++] = '-';
	n += ks_put_hex(out + n, size);
	out[n++] = '"';
	return n;
}

enum ks_tag_match {
	KS_TAG_NONE = 0,
	KS_TAG_WEAK,		/* same opaque tag, one side weak */
	KS_TAG_STRONG,		/* byte-identical strong tags, or '*' */
};

/*
 * Best match of etag (a strong tag, quotes included) within an
 * If-Match / If-None-Match list. A malformed member ends the scan.
 */
static enum ks_tag_match ks_etag_list_match(struct ks_str list,
					    const char *etag, u32 etag_len)
{
	const char *p = list.p, *end = list.p + list.len;

	while (p < end) {
		const char *open;
		bool weak = false;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p >= end)
			break;
		if (*p == '*')
			return KS_TAG_STRONG;
		if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
			weak = true;
			p += 2;
		}
		if (p >= end || *p != '"')
			break;
		open = p++;
		while (p < end && *p != '"')
			p++;
		if (p >= end)
			break;
		p++;
		if ((u32)(p - open) == etag_len && !memcmp(open, etag, etag_len))
			return weak ? KS_TAG_WEAK : KS_TAG_STRONG;
	}
	return KS_TAG_NONE;
}

static bool ks_date_header(struct ks_str h, s64 *t)
{
	return h.len && !ks_http_date_parse(h.p, h.len, t);
}

int ks_cond_eval(const struct ks_request *req, const char *etag, u32 etag_len,
		 s64 mtime)
{
	s64 t;

	if (req->if_match.p) {
		if (ks_etag_list_match(req->if_match, etag, etag_len) !=
		    KS_TAG_STRONG)
			return 412;
	} else if (ks_date_header(req->if_unmodified_since, &t) && mtime > t) {
		return 412;
	}
	if (req->if_none_match.p) {
		if (ks_etag_list_match(req->if_none_match, etag, etag_len))
			return 304;
	} else if (ks_date_header(req->if_modified_since, &t) && mtime <= t) {
		return 304;
	}
	return 0;
}

/* digits at *pp into *v, saturating; false when there are none */
static bool ks_range_num(const char **pp, const char *end, u64 *v, bool *big)
{
	const char *p = *pp;

	*v = 0;
	*big = false;
	while (p < end && *p >= '0' && *p <= '9') {
		if (*v > (~0ull - 9) / 10)
			*big = true;
		else
			*v = *v * 10 + (*p - '0');
		p++;
	}
	if (p == *pp)
		return false;
	*pp = p;
	return true;
}

/*
 * The one range-spec of a range-set at *pp (past "bytes="): a list, so
 * blanks around members and empty members are allowed (RFC 9110 5.6.1),
 * as nginx does. False when there is none or more than one (several
 * ranges are ignored: the whole file is sent).
 */
static bool ks_range_single(const char **pp, const char **endp)
{
	const char *p = *pp + 6, *end = *endp, *spec = NULL, *spec_end = NULL;

	while (p < end) {
		const char *e;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p >= end)
			break;
		if (spec)
			return false;
		spec = p;
		while (p < end && *p != ',')
			p++;
		for (e = p; e[-1] == ' ' || e[-1] == '\t'; e--)
			;
		spec_end = e;
	}
	if (!spec)
		return false;
	*pp = spec;
	*endp = spec_end;
	return true;
}

/* If-Range: a strong ETag equal to ours, or a date equal to mtime */
static bool ks_if_range_holds(struct ks_str ir, const char *etag, u32 etag_len,
			      s64 mtime)
{
	s64 t;

	if (ir.len && ir.p[0] == '"')
		return ir.len == etag_len && !memcmp(ir.p, etag, etag_len);
	if (ir.len >= 2 && ir.p[0] == 'W' && ir.p[1] == '/')
		return false;
	return ks_date_header(ir, &t) && t == mtime;
}

enum ks_range_result ks_range_eval(const struct ks_request *req, u64 size,
				   const char *etag, u32 etag_len, s64 mtime,
				   u64 *first, u64 *last)
{
	const char *p = req->range.p, *end;
	struct ks_str unit = { p, 6 };
	u64 a, b;
	bool big_a, big_b;

	/* no Range: p is NULL, and NULL + 0 is undefined behaviour */
	if (req->range.len < 7 || !ks_str_ieq(unit, "bytes=", 6))
		return KS_RANGE_NONE;
	end = p + req->range.len;
	if (req->if_range.p &&
	    !ks_if_range_holds(req->if_range, etag, etag_len, mtime))
		return KS_RANGE_NONE;
	if (!ks_range_single(&p, &end))
		return KS_RANGE_NONE;
	if (*p == '-') {				/* suffix: -n */
		p++;
		if (!ks_range_num(&p, end, &b, &big_b) || p != end)
			return KS_RANGE_NONE;
		if (!b || !size)
			return KS_RANGE_UNSATISFIABLE;
		*first = (big_b || b >= size) ? 0 : size - b;
		*last = size - 1;
		return KS_RANGE_OK;
	}
	if (!ks_range_num(&p, end, &a, &big_a) || p >= end || *p++ != '-')
		return KS_RANGE_NONE;
	if (p == end) {					/* a- */
		b = ~0ull;
		big_b = true;
	} else if (!ks_range_num(&p, end, &b, &big_b) || p != end) {
		return KS_RANGE_NONE;		/* malformed or several ranges */
	}
	/* reversed ranges are invalid, hence ignored (RFC 9110 14.1.1) */
	if ((big_a && !big_b) || (!big_a && !big_b && a > b))
		return KS_RANGE_NONE;
	if (big_a || a >= size)
		return KS_RANGE_UNSATISFIABLE;
	*first = a;
	*last = (big_b || b >= size) ? size - 1 : b;
	return KS_RANGE_OK;
}
