/* SPDX-License-Identifier: GPL-2.0 */
/* http_cond.h - conditional requests and byte ranges (RFC 9110 13, 14). */
#ifndef KS_HTTP_COND_H
#define KS_HTTP_COND_H

#include "ks_port.h"
#include "http_parse.h"

#define KS_ETAG_MAX 40	/* "\"" hex(mtime) "-" hex(size) "\"" */

/* ks_etag_format - nginx's ETag: "<hex mtime>-<hex size>". Returns length. */
u32 ks_etag_format(s64 mtime, u64 size, char out[KS_ETAG_MAX]);

/*
 * ks_cond_eval - evaluate preconditions in RFC 9110 13.2.2 order:
 * If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
 * Returns 0 (serve), 304 (not modified) or 412 (precondition failed).
 */
int ks_cond_eval(const struct ks_request *req, const char *etag, u32 etag_len,
		 s64 mtime);

enum ks_range_result {
	KS_RANGE_NONE = 0,	/* serve the whole representation (200) */
	KS_RANGE_OK,		/* serve [*first, *last] (206) */
	KS_RANGE_UNSATISFIABLE,	/* 416 */
};

/*
 * ks_range_eval - one "bytes=" range against a size; If-Range honoured.
 * Missing, malformed or multiple ranges, or a failed If-Range, give
 * KS_RANGE_NONE.
 */
enum ks_range_result ks_range_eval(const struct ks_request *req, u64 size,
				   const char *etag, u32 etag_len, s64 mtime,
				   u64 *first, u64 *last);

#endif /* KS_HTTP_COND_H */
