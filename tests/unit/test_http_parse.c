// SPDX-License-Identifier: GPL-2.0
/*
 * test_http_parse.c - tests for kserver/http_parse.c.
 *
 * Every case runs from a copy that ends right before a guard page, whole and
 * byte by byte through ks_http_head_end(), then through ks_http_parse().
 */
#include "ks_test.h"
#include "http_parse.h"

#define F_HOST (1u << 0)
#define F_CL (1u << 1)
#define F_TE (1u << 2)
#define F_CLOSE (1u << 3)
#define F_KA (1u << 4)
#define F_EXPECT (1u << 5)
#define F_LINEOK (1u << 6)	/* on error: req.line and minor still usable */

struct parse_case {
	const char *desc;
	const char *in;
	u32 len;		/* 0: strlen(in) */
	int head;		/* ks_http_head_end(): 0 means the whole input */
	int ret;		/* ks_http_parse() */
	enum ks_method method;
	enum ks_target_form form;
	int minor;
	unsigned int flags;	/* exact set of the request's booleans, */
	unsigned int more;	/* with these too */
	u64 cl;
	int nf;			/* nfields; 0: not checked */
	/* NULL: not checked */
	const char *method_str, *target, *path, *query;
	/* NULL: must be absent (len 0) */
	const char *host, *inm, *ims, *im, *ius, *range, *ifr, *ref, *ua;
};

/* a literal that holds a NUL: the input and its length */
#define S(lit) lit, sizeof(lit) - 1

#define GET11 "GET / HTTP/1.1\r\nHost: a\r\n"
#define POST5 "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
#define OK11 .method = KS_M_GET, .minor = 1, .flags = F_HOST, .host = "a"

static const struct parse_case parse_cases[] = {
	/* request line */
	{ "minimal 1.1", GET11 "\r\n", OK11, .nf = 1, .method_str = "GET",
	  .target = "/", .path = "/", .query = "" },
	{ "minimal 1.0 without Host", "GET / HTTP/1.0\r\n\r\n",
	  .method = KS_M_GET, .minor = 0, .path = "/" },
	{ "HEAD", "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", .method = KS_M_HEAD,
	  .minor = 1, .flags = F_HOST, .host = "a", .method_str = "HEAD" },
	{ "POST", "POST /x HTTP/1.0\r\n\r\n", .method = KS_M_POST },
	{ "PUT", "PUT /x HTTP/1.0\r\n\r\n", .method = KS_M_PUT },
	{ "DELETE", "DELETE /x HTTP/1.0\r\n\r\n", .method = KS_M_DELETE },
	{ "PATCH", "PATCH /x HTTP/1.0\r\n\r\n", .method = KS_M_PATCH },
	{ "OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	  .method = KS_M_OPTIONS, .form = KS_TF_ASTERISK, .minor = 1,
	  .flags = F_HOST, .host = "a", .target = "*" },
	{ "lowercase get is OTHER", "get / HTTP/1.0\r\n\r\n",
	  .method = KS_M_OTHER, .method_str = "get" },
	{ "unknown token method", "BREW /pot HTTP/1.0\r\n\r\n",
	  .method = KS_M_OTHER, .method_str = "BREW" },
	{ "method with all tchar kinds", "X!#$%&'*+-.^_`|~9 / HTTP/1.0\r\n\r\n",
	  .method = KS_M_OTHER, .method_str = "X!#$%&'*+-.^_`|~9" },
	{ "GETX is not GET", "GETX / HTTP/1.0\r\n\r\n", .method = KS_M_OTHER },
	{ "GE is not GET", "GE / HTTP/1.0\r\n\r\n", .method = KS_M_OTHER },
	{ "CONNECT authority form", "CONNECT example.com:443 HTTP/1.1\r\n"
	  "Host: example.com:443\r\n\r\n", .method = KS_M_OTHER,
	  .form = KS_TF_AUTHORITY, .minor = 1, .flags = F_HOST,
	  .host = "example.com:443", .target = "example.com:443" },
	{ "path and query", "GET /a/b?x=1&y HTTP/1.1\r\nHost: a\r\n\r\n",
	  OK11, .target = "/a/b?x=1&y", .path = "/a/b", .query = "x=1&y" },
	{ "empty query", "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n", OK11,
	  .path = "/a", .query = "" },
	{ "query holds the second ?", "GET /?a?b HTTP/1.1\r\nHost: a\r\n\r\n",
	  OK11, .path = "/", .query = "a?b" },
	{ "raw escapes stay in path", "GET /a%20b HTTP/1.1\r\nHost: a\r\n\r\n",
	  OK11, .path = "/a%20b" },
	{ "obs-text in target", "GET /\x80\xff HTTP/1.1\r\nHost: a\r\n\r\n",
	  OK11, .path = "/\x80\xff" },
	{ "absolute form", "GET http://example.com/x?y HTTP/1.1\r\n"
	  "Host: example.com\r\n\r\n", .method = KS_M_GET,
	  .form = KS_TF_ABSOLUTE, .minor = 1, .flags = F_HOST,
	  .host = "example.com", .target = "http://example.com/x?y",
	  .path = "/x", .query = "y" },
	{ "absolute https with port", "GET https://h:8080/p/q HTTP/1.1\r\n"
	  "Host: h\r\n\r\n", .method = KS_M_GET, .form = KS_TF_ABSOLUTE,
	  .minor = 1, .flags = F_HOST, .host = "h", .path = "/p/q",
	  .query = "" },
	{ "absolute scheme case-insensitive", "GET HtTp://h/z HTTP/1.0\r\n\r\n",
	  .method = KS_M_GET, .form = KS_TF_ABSOLUTE, .path = "/z" },
	{ "absolute without path gives /", "GET http://h HTTP/1.0\r\n\r\n",
	  .method = KS_M_GET, .form = KS_TF_ABSOLUTE, .path = "/" },
	{ "HTTPS:// without path gives /", "GET HTTPS://h HTTP/1.0\r\n\r\n",
	  .method = KS_M_GET, .form = KS_TF_ABSOLUTE, .path = "/" },
	{ "absolute form, IPv6 authority", "GET http://[::1]:80/x HTTP/1.0"
	  "\r\n\r\n", .method = KS_M_GET, .form = KS_TF_ABSOLUTE,
	  .path = "/x" },
	{ "absolute form, userinfo", "GET http://u:p@h/x HTTP/1.1\r\n"
	  "Host: h\r\n\r\n", .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "absolute form, empty host", "GET http:///x HTTP/1.1\r\n"
	  "Host: h\r\n\r\n", .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "absolute form, empty host, query", "GET http://?x HTTP/1.0\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK },
	{ "fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "fragment in query", "GET /a?b#c HTTP/1.1\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "space before version twice", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "trailing space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "missing version", "GET /\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "missing target and version", "GET\r\n\r\n", .ret = -400 },
	{ "empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "method with separator", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "tab instead of space", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "NUL in target", S("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .ret = -400 },
	{ "NUL in method", S("G\0T / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .ret = -400 },
	{ "DEL in target", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "CTL in target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "extra token after version", "GET / HTTP/1.1 x\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	/* version */
	{ "HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .ret = -505 },
	{ "HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", .ret = -505 },
	{ "HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .ret = -505 },
	{ "HTTP/9.9", "GET / HTTP/9.9\r\nHost: a\r\n\r\n", .ret = -505 },
	{ "HTTP/1.11", "GET / HTTP/1.11\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "http/1.1 lowercase", "GET / http/1.1\r\nHost: a\r\n\r\n",
	  .ret = -400 },
	{ "HTTP/1", "GET / HTTP/1\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "HTTP/1.", "GET / HTTP/1.\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "HTTP/1.a", "GET / HTTP/1.a\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "HTTP/11", "GET / HTTP/11\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "HTTPS/1.1", "GET / HTTPS/1.1\r\nHost: a\r\n\r\n", .ret = -400 },
	{ "HTTP/ 1.1", "GET / HTTP/ 1.1\r\nHost: a\r\n\r\n", .ret = -400 },
	/* line endings and leading empty lines */
	{ "leading CRLFs skipped", "\r\n\r\n" GET11 "\r\n", OK11, .nf = 1 },
	{ "leading LFs skipped", "\n\n\n" GET11 "\r\n", OK11 },
	{ "leading mixed empty lines", "\r\n\n\r\n" GET11 "\r\n", OK11 },
	{ "bare LF everywhere", "GET /lf HTTP/1.1\nHost: a\nUser-Agent: u\n\n",
	  OK11, .path = "/lf", .ua = "u", .nf = 2 },
	{ "mixed CRLF and LF", "GET / HTTP/1.1\nHost: a\r\nX: y\n\r\n", OK11,
	  .nf = 2 },
	{ "bare CR ends request line", "GET / HTTP/1.1\rHost: a\r\n\r\n",
	  .ret = -400 },
	{ "bare CR inside value", GET11 "X: a\rb\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "bare CR inside name", GET11 "X\rY: b\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	/* header fields */
	{ "OWS trimmed", GET11 "User-Agent: \t curl/8 \t \r\n\r\n", OK11,
	  .ua = "curl/8" },
	{ "no OWS", GET11 "User-Agent:x\r\n\r\n", OK11, .ua = "x" },
	{ "inner spaces kept", GET11 "User-Agent: a b\t c\r\n\r\n", OK11,
	  .ua = "a b\t c" },
	{ "empty value", GET11 "Referer:\r\n\r\n", OK11, .ref = "", .nf = 2 },
	{ "obs-text in value", GET11 "User-Agent: \x80\xfe\r\n\r\n", OK11,
	  .ua = "\x80\xfe" },
	{ "names are case-insensitive", "GET / HTTP/1.1\r\nHOST: h\r\n"
	  "if-none-match: \"e\"\r\nIF-MODIFIED-SINCE: d1\r\n"
	  "iF-mAtCh: \"m\"\r\nif-unmodified-since: d2\r\nRANGE: bytes=0-1\r\n"
	  "if-range: \"r\"\r\nreferer: /ref\r\nuser-agent: ua\r\n\r\n",
	  .method = KS_M_GET, .minor = 1, .flags = F_HOST, .host = "h",
	  .inm = "\"e\"", .ims = "d1", .im = "\"m\"", .ius = "d2",
	  .range = "bytes=0-1", .ifr = "\"r\"", .ref = "/ref", .ua = "ua",
	  .nf = 9 },
	{ "unknown fields counted", GET11 "X-A: 1\r\nX-B: 2\r\n\r\n", OK11,
	  .nf = 3 },
	{ "tchar name", GET11 "X!#$%&'*+-.^_`|~9: v\r\n\r\n", OK11, .nf = 2 },
	{ "Host-like name is not Host", "GET / HTTP/1.0\r\nHostx: a\r\n"
	  "Hos: b\r\n\r\n", .method = KS_M_GET },
	{ "space before colon", GET11 "X : y\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "space before colon on Host", "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "empty name", GET11 ": y\r\n\r\n", .ret = -400, .flags = F_LINEOK,
	  .minor = 1 },
	{ "no colon", GET11 "Xy\r\n\r\n", .ret = -400, .flags = F_LINEOK,
	  .minor = 1 },
	{ "separator in name", GET11 "X(y): z\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "obs-fold SP", GET11 "X: a\r\n b\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "obs-fold HTAB", GET11 "X: a\r\n\tb\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "first field line folded", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "NUL in value", S(GET11 "X: a\0b\r\n\r\n"), .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "DEL in value", GET11 "X: a\x7f\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "CTL in value", GET11 "X: a\x1b[0m\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "NUL in name", S(GET11 "X\0: b\r\n\r\n"), .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	/* Host */
	{ "1.1 without Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "1.1 with no fields", "GET / HTTP/1.1\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "duplicate Host", GET11 "Host: a\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "duplicate Host 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 0 },
	{ "Host in 1.0", "GET / HTTP/1.0\r\nHost: h:80\r\n\r\n",
	  .method = KS_M_GET, .flags = F_HOST, .host = "h:80" },
	/* Host must be uri-host [":" port] (RFC 9112 3.2: else 400) */
	{ "Host [::1]:8080", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
	  .method = KS_M_GET, .minor = 1, .flags = F_HOST,
	  .host = "[::1]:8080" },
	{ "Host sub-delims and escapes", "GET / HTTP/1.1\r\n"
	  "Host: a-b_c~d!$&'()*+,;=%2E:\r\n\r\n", .method = KS_M_GET,
	  .minor = 1, .flags = F_HOST, .host = "a-b_c~d!$&'()*+,;=%2E:" },
	{ "Host empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
	  .method = KS_M_GET, .minor = 1, .flags = F_HOST, .host = NULL },
	{ "Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Host with userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Host port not digits", "GET / HTTP/1.1\r\nHost: h:8x\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Host two colons", "GET / HTTP/1.1\r\nHost: h:1:2\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Host bad escape", "GET / HTTP/1.1\r\nHost: %zz\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Host unclosed literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Host obs-text", "GET / HTTP/1.1\r\nHost: \xc3\xa9\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	/* Connection */
	{ "Connection close", GET11 "Connection: close\r\n\r\n", OK11,
	  .more = F_CLOSE },
	{ "Connection CLOSE", GET11 "Connection: CLOSE\r\n\r\n", OK11,
	  .more = F_CLOSE },
	{ "Connection keep-alive", "GET / HTTP/1.0\r\n"
	  "Connection: Keep-Alive\r\n\r\n", .method = KS_M_GET, .flags = F_KA },
	{ "Connection list with close", GET11 "Connection: Upgrade ,  close\r\n"
	  "\r\n", OK11, .more = F_CLOSE },
	{ "Connection list keep-alive first", GET11 "Connection: keep-alive,"
	  "Upgrade\r\n\r\n", OK11, .more = F_KA },
	{ "Connection both", GET11 "Connection: close, keep-alive\r\n\r\n",
	  OK11, .more = F_CLOSE | F_KA },
	{ "Connection closed is not close", GET11 "Connection: closed, xclose"
	  "\r\n\r\n", OK11 },
	{ "Connection keep-alive-x", GET11 "Connection: keep-alive-x\r\n\r\n",
	  OK11 },
	{ "two Connection fields", GET11 "Connection: keep-alive\r\n"
	  "Connection: close\r\n\r\n", OK11, .more = F_CLOSE | F_KA },
	/* Content-Length and Transfer-Encoding */
	{ "Content-Length", POST5 "hello", .head = sizeof(POST5) - 1,
	  .method = KS_M_POST, .minor = 1, .flags = F_HOST | F_CL, .cl = 5, .host = "a" },
	{ "Content-Length 0", GET11 "Content-Length: 0\r\n\r\n", OK11,
	  .more = F_CL, .cl = 0 },
	{ "Content-Length OWS", GET11 "Content-Length:  12 \r\n\r\n", OK11,
	  .more = F_CL, .cl = 12 },
	{ "Content-Length leading zeros", GET11 "content-length: 007\r\n\r\n",
	  OK11, .more = F_CL, .cl = 7 },
	{ "Content-Length at the limit", GET11 "Content-Length: 1048576\r\n\r\n",
	  OK11, .more = F_CL, .cl = 1048576 },
	{ "Content-Length over the limit", GET11 "Content-Length: 1048577\r\n"
	  "\r\n", .ret = -413, .flags = F_LINEOK, .minor = 1 },
	{ "Content-Length huge", GET11 "Content-Length: "
	  "99999999999999999999999\r\n\r\n", .ret = -413, .flags = F_LINEOK,
	  .minor = 1 },
	{ "Content-Length 2^64", GET11 "Content-Length: "
	  "18446744073709551616\r\n\r\n", .ret = -413, .flags = F_LINEOK,
	  .minor = 1 },
	{ "413 only when the head is valid", GET11 "Content-Length: 2000000\r\n"
	  "Bad Field\r\n\r\n", .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "413 only with Host", "GET / HTTP/1.1\r\nContent-Length: 2000000\r\n"
	  "\r\n", .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Content-Length empty", GET11 "Content-Length:\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "Content-Length sign", GET11 "Content-Length: +5\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Content-Length negative", GET11 "Content-Length: -1\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Content-Length two numbers", GET11 "Content-Length: 5 5\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Content-Length list", GET11 "Content-Length: 5,5\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Content-Length hex", GET11 "Content-Length: 0x10\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "duplicate equal Content-Length", GET11 "Content-Length: 3\r\n"
	  "Content-Length: 3\r\n\r\n", OK11, .more = F_CL, .cl = 3 },
	{ "duplicate differing Content-Length", GET11 "Content-Length: 3\r\n"
	  "Content-Length: 4\r\n\r\n", .ret = -400, .flags = F_LINEOK,
	  .minor = 1 },
	{ "Transfer-Encoding", GET11 "Transfer-Encoding: chunked\r\n\r\n", OK11,
	  .more = F_TE },
	{ "Transfer-Encoding Chunked, OWS", GET11 "Transfer-Encoding: , "
	  "Chunked \r\n\r\n", OK11, .more = F_TE },
	{ "Transfer-Encoding gzip, chunked: unknown coding", GET11
	  "Transfer-Encoding: gzip, chunked\r\n\r\n", .ret = -501,
	  .flags = F_LINEOK, .minor = 1 },
	{ "Transfer-Encoding on two lines", GET11 "Transfer-Encoding: gzip\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", .ret = -501,
	  .flags = F_LINEOK, .minor = 1 },
	{ "Transfer-Encoding gzip: chunked not last", GET11
	  "Transfer-Encoding: gzip\r\n\r\n", .ret = -400, .flags = F_LINEOK,
	  .minor = 1 },
	{ "Transfer-Encoding chunked, gzip", GET11
	  "Transfer-Encoding: chunked, gzip\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "Transfer-Encoding chunked twice", GET11
	  "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Transfer-Encoding chunked x3 in one line", GET11
	  "Transfer-Encoding: chunked,chunked,chunked\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "Transfer-Encoding empty", GET11 "Transfer-Encoding:\r\n\r\n",
	  .ret = -400, .flags = F_LINEOK, .minor = 1 },
	{ "Transfer-Encoding chunked x: not a coding", GET11
	  "Transfer-Encoding: chunked x\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "Transfer-Encoding in HTTP/1.0", "GET / HTTP/1.0\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK },
	{ "Transfer-Encoding and Content-Length", GET11 "Transfer-Encoding: "
	  "chunked\r\nContent-Length: 3\r\n\r\n", .ret = -400,
	  .flags = F_LINEOK, .minor = 1 },
	{ "Content-Length and Transfer-Encoding", GET11 "Content-Length: 3\r\n"
	  "transfer-encoding: chunked\r\n\r\n", .ret = -400, .flags = F_LINEOK,
	  .minor = 1 },
	/* Expect */
	{ "Expect 100-continue", GET11 "Expect: 100-Continue\r\n\r\n", OK11,
	  .more = F_EXPECT },
	{ "Expect other", GET11 "Expect: 200-ok\r\n\r\n", OK11 },
	/* a realistic browser request */
	{ "browser request", "GET /index.html?v=2 HTTP/1.1\r\n"
	  "Host: www.example.com:8080\r\n"
	  "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko\r\n"
	  "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\n"
	  "Accept-Language: en-US,en;q=0.5\r\n"
	  "Accept-Encoding: gzip, deflate, br\r\n"
	  "Referer: http://www.example.com/\r\n"
	  "Connection: keep-alive\r\n"
	  "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	  "If-None-Match: W/\"5f5e1000-d\"\r\n"
	  "Cache-Control: max-age=0\r\n\r\n",
	  .method = KS_M_GET, .minor = 1, .flags = F_HOST | F_KA, .nf = 10,
	  .host = "www.example.com:8080", .path = "/index.html", .query = "v=2",
	  .ua = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko",
	  .ref = "http://www.example.com/",
	  .ims = "Sun, 06 Nov 1994 08:49:37 GMT", .inm = "W/\"5f5e1000-d\"" },
};

static u32 case_len(const struct parse_case *c)
{
	return c->len ? c->len : (u32)strlen(c->in);
}

static u32 case_head(const struct parse_case *c)
{
	return c->head ? (u32)c->head : case_len(c);
}

/* the request line of a head: the first non-empty line, without its EOL */
static struct ks_str expected_line(const char *buf, u32 len)
{
	struct ks_str s;
	u32 i = 0, e;

	while (i < len && (buf[i] == '\n' || (buf[i] == '\r' && i + 1 < len &&
					       buf[i + 1] == '\n')))
		i += buf[i] == '\r' ? 2 : 1;
	for (e = i; e < len && buf[e] != '\n'; e++)
		;
	if (e > i && buf[e - 1] == '\r')
		e--;
	s.p = buf + i;
	s.len = e - i;
	return s;
}

static bool str_is(struct ks_str s, const char *want)
{
	size_t n = strlen(want);

	return s.len == n && (n == 0 || memcmp(s.p, want, n) == 0);
}

static bool str_inside(struct ks_str s, const char *buf, u32 len)
{
	if (s.len == 0)
		return true;
	return s.p >= buf && s.p <= buf + len && s.len <= (u32)(buf + len - s.p);
}

static void check_str(const char *desc, const char *what, struct ks_str got,
		      const char *want, bool absent_if_null)
{
	if (!want) {
		if (absent_if_null)
			ck_assert_msg(got.len == 0, "%s: %s present: %.*s", desc,
				      what, (int)got.len, got.p);
		return;
	}
	ck_assert_msg(str_is(got, want), "%s: %s is '%.*s', want '%s'", desc,
		      what, (int)got.len, got.p ? got.p : "", want);
}

static void check_request(const struct parse_case *c, const char *buf,
			  const struct ks_request *r)
{
	const char *d = c->desc;
	unsigned int f = 0;

	f |= r->has_host ? F_HOST : 0;
	f |= r->has_cl ? F_CL : 0;
	f |= r->has_te ? F_TE : 0;
	f |= r->conn_close ? F_CLOSE : 0;
	f |= r->conn_keepalive ? F_KA : 0;
	f |= r->expect_continue ? F_EXPECT : 0;
	ck_assert_msg(r->method == c->method, "%s: method %d, want %d", d,
		      r->method, c->method);
	ck_assert_msg(r->form == c->form, "%s: form %d, want %d", d, r->form,
		      c->form);
	ck_assert_msg(r->minor == c->minor, "%s: minor %d", d, r->minor);
	ck_assert_msg(f == (c->flags | c->more), "%s: flags %#x, want %#x", d, f,
		      c->flags | c->more);
	ck_assert_msg(r->head_len == case_head(c), "%s: head_len %u", d,
		      r->head_len);
	if (c->flags & F_CL)
		ck_assert_msg(r->content_length == c->cl,
			      "%s: content_length %llu", d,
			      (unsigned long long)r->content_length);
	if (c->nf)
		ck_assert_msg(r->nfields == c->nf, "%s: nfields %u, want %d", d,
			      r->nfields, c->nf);
	if (r->form == KS_TF_ORIGIN || r->form == KS_TF_ABSOLUTE)
		ck_assert_msg(r->path.len >= 1 && r->path.p[0] == '/',
			      "%s: path does not start with /", d);
	check_str(d, "method_str", r->method_str, c->method_str, false);
	check_str(d, "target", r->target, c->target, false);
	check_str(d, "path", r->path, c->path, false);
	check_str(d, "query", r->query, c->query, false);
	check_str(d, "host", r->host, c->host, true);
	check_str(d, "if_none_match", r->if_none_match, c->inm, true);
	check_str(d, "if_modified_since", r->if_modified_since, c->ims, true);
	check_str(d, "if_match", r->if_match, c->im, true);
	check_str(d, "if_unmodified_since", r->if_unmodified_since, c->ius,
		  true);
	check_str(d, "range", r->range, c->range, true);
	check_str(d, "if_range", r->if_range, c->ifr, true);
	check_str(d, "referer", r->referer, c->ref, true);
	check_str(d, "user_agent", r->user_agent, c->ua, true);
	(void)buf;
}

static void check_line(const struct parse_case *c, const char *buf, u32 len,
		       const struct ks_request *r)
{
	struct ks_str want = expected_line(buf, len);

	ck_assert_msg(r->line.p == want.p && r->line.len == want.len,
		      "%s: line is '%.*s' (len %u), want len %u", c->desc,
		      (int)r->line.len, r->line.p ? r->line.p : "", r->line.len,
		      want.len);
	ck_assert_msg(r->minor == c->minor, "%s: minor %d after error",
		      c->desc, r->minor);
}

/* whole input at once, from a guarded copy */
START_TEST(test_parse_table)
{
	const struct parse_case *c = &parse_cases[_i];
	u32 len = case_len(c), head = case_head(c);
	struct ks_head_scan scan = { 0 };
	struct ks_request req;
	char *buf;
	int ret;

	KS_ROW(c->desc);
	buf = guarded_copy(c->in, len);
	ret = ks_http_head_end(&scan, buf, len);
	ck_assert_msg(ret == (int)head, "%s: head_end %d, want %u", c->desc,
		      ret, head);
	guarded_free(buf, len);

	/* parse sees only the head, so the guard sits right after it */
	buf = guarded_copy(c->in, head);
	memset(&req, 0x5a, sizeof(req));
	ret = ks_http_parse(buf, head, &req);
	ck_assert_msg(ret == c->ret, "%s: parse %d, want %d", c->desc, ret,
		      c->ret);
	if (ret == 0) {
		check_request(c, buf, &req);
		check_line(c, buf, head, &req);
	} else if (c->flags & F_LINEOK) {
		check_line(c, buf, head, &req);
	}
	guarded_free(buf, head);
}
END_TEST

/* byte by byte: -EAGAIN for every proper prefix, then the head length */
START_TEST(test_head_end_bytewise)
{
	const struct parse_case *c = &parse_cases[_i];
	u32 head = case_head(c), n;
	struct ks_head_scan scan = { 0 };
	int ret;

	KS_ROW(c->desc);
	for (n = 1; n <= head; n++) {
		char *buf = guarded_copy(c->in, n);

		ret = ks_http_head_end(&scan, buf, n);
		guarded_free(buf, n);
		if (n < head)
			ck_assert_msg(ret == -EAGAIN,
				      "%s: prefix %u gave %d, want -EAGAIN",
				      c->desc, n, ret);
		else
			ck_assert_msg(ret == (int)head,
				      "%s: full head gave %d, want %u",
				      c->desc, ret, head);
	}
}
END_TEST

/* two chunks, split at every point, one persistent scan */
START_TEST(test_head_end_split)
{
	const struct parse_case *c = &parse_cases[_i];
	u32 len = case_len(c), head = case_head(c), cut;

	KS_ROW(c->desc);
	for (cut = 0; cut <= len; cut++) {
		struct ks_head_scan scan = { 0 };
		int ret;

		ret = ks_http_head_end(&scan, c->in, cut);
		if (cut < head)
			ck_assert_msg(ret == -EAGAIN, "%s: cut %u gave %d",
				      c->desc, cut, ret);
		else
			ck_assert_msg(ret == (int)head, "%s: cut %u gave %d",
				      c->desc, cut, ret);
		if (cut >= head)
			continue;
		ret = ks_http_head_end(&scan, c->in, len);
		ck_assert_msg(ret == (int)head, "%s: after cut %u: %d, want %u",
			      c->desc, cut, ret, head);
	}
}
END_TEST

/* ks_str_ieq */
struct ieq_case {
	const char *desc;
	const char *s;
	const char *lower;
	bool want;
};

static const struct ieq_case ieq_cases[] = {
	{ "equal", "close", "close", true },
	{ "upper", "CLOSE", "close", true },
	{ "mixed", "Keep-Alive", "keep-alive", true },
	{ "shorter", "clos", "close", false },
	{ "longer", "closed", "close", false },
	{ "differs", "closf", "close", false },
	{ "empty", "", "", true },
	{ "@ is not `", "@", "`", false },
	{ "[ is not {", "[", "{", false },
	{ "digits", "100-continue", "100-continue", true },
	{ "high byte", "\xc1", "\xe1", false },
};

START_TEST(test_str_ieq)
{
	const struct ieq_case *c = &ieq_cases[_i];
	u32 n = (u32)strlen(c->s);
	char *buf = guarded_copy(c->s, n);
	struct ks_str s = { buf, n };

	KS_ROW(c->desc);
	ck_assert_msg(ks_str_ieq(s, c->lower, (u32)strlen(c->lower)) == c->want,
		      "%s", c->desc);
	guarded_free(buf, n);
}
END_TEST

/*
 * Limits. A generated request: blank leading lines, a request line of
 * exactly line_len bytes (EOL excluded), header bytes of exactly hdr_len
 * (after the request line's CRLF, final empty line included, or, when not
 * terminated, that many bytes of field lines).
 */
struct limit_case {
	const char *desc;
	u32 blank;		/* leading "\r\n" pairs */
	u32 line_len;
	u32 hdr_len;		/* 0: just "Host: a\r\n\r\n" */
	bool unterminated;	/* cut the input before the final CRLF */
	bool line_only;		/* only the request line bytes, no EOL */
	const char *tail;	/* appended after the request line instead */
	int head_end;		/* 0: the whole input */
	int parse;
	u16 nfields;		/* 0: not checked */
};

#define HOSTLINE "Host: a\r\n"

static u32 build_limit(const struct limit_case *c, char *out)
{
	u32 n = 0, i;
	u32 plen = c->line_len - (u32)strlen("GET  HTTP/1.1");

	for (i = 0; i < c->blank; i++) {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	memcpy(out + n, "GET /", 5);
	n += 5;
	for (i = 1; i < plen; i++)
		out[n++] = 'a';
	memcpy(out + n, " HTTP/1.1", 9);
	n += 9;
	if (c->line_only)
		return n;
	out[n++] = '\r';
	out[n++] = '\n';
	if (c->tail) {
		memcpy(out + n, c->tail, strlen(c->tail));
		return n + (u32)strlen(c->tail);
	}
	memcpy(out + n, HOSTLINE, strlen(HOSTLINE));
	n += (u32)strlen(HOSTLINE);
	if (c->hdr_len) {
		/* fill with "X: vvv\r\n" lines (>= 10 bytes each) */
		u32 left = c->hdr_len - (u32)strlen(HOSTLINE) - 2;

		while (left) {
			u32 l = left > 1000 ? 1000 : left;

			if (left - l && left - l < 10)
				l = left - 10;
			memcpy(out + n, "X: ", 3);
			n += 3;
			memset(out + n, 'v', l - 5);
			n += l - 5;
			out[n++] = '\r';
			out[n++] = '\n';
			left -= l;
		}
	}
	if (!c->unterminated) {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	return n;
}

static char fields_100[100 * 16], fields_101[101 * 16];

static const struct limit_case limit_cases[] = {
	{ "line of 8192 bytes", .line_len = 8192 },
	/* leading blank lines share the request line's budget (KS_HEAD_MAX) */
	{ "blank lines and line of 8186", .blank = 3, .line_len = 8186 },
	{ "blank lines and line of 8187", .blank = 3, .line_len = 8187,
	  .head_end = -414 },
	{ "line of 8193 bytes", .line_len = 8193, .head_end = -414 },
	{ "line of 9000 bytes", .line_len = 9000, .head_end = -414 },
	{ "unended line of 8192", .line_len = 8192, .line_only = true,
	  .head_end = -EAGAIN },
	{ "unended line of 8192 and CR", .line_len = 8192, .tail = "",
	  .head_end = -EAGAIN },
	{ "unended line of 8193", .line_len = 8193, .line_only = true,
	  .head_end = -414 },
	{ "headers of 16384 bytes", .line_len = 100, .hdr_len = 16384 },
	{ "headers of 16384 after 8192 line", .line_len = 8192,
	  .hdr_len = 16384 },
	{ "headers of 16385 bytes", .line_len = 100, .hdr_len = 16385,
	  .head_end = -431 },
	{ "unterminated headers of 16385", .line_len = 100, .hdr_len = 16385 + 2,
	  .unterminated = true, .head_end = -431 },
	{ "unterminated headers of 30000", .line_len = 100, .hdr_len = 30000,
	  .unterminated = true, .head_end = -431 },
	{ "unterminated headers of 16000", .line_len = 100, .hdr_len = 16000,
	  .unterminated = true, .head_end = -EAGAIN },
	{ "100 fields", .line_len = 100, .tail = fields_100, .nfields = 100 },
	{ "101 fields", .line_len = 100, .tail = fields_101, .parse = -431 },
};

static void fill_fields(void)
{
	char *p;
	int i;

	p = fields_100;
	p += sprintf(p, HOSTLINE);
	for (i = 1; i < 100; i++)
		p += sprintf(p, "X-%d: v\r\n", i);
	sprintf(p, "\r\n");
	p = fields_101;
	p += sprintf(p, HOSTLINE);
	for (i = 1; i < 101; i++)
		p += sprintf(p, "X-%d: v\r\n", i);
	sprintf(p, "\r\n");
}

START_TEST(test_limits)
{
	const struct limit_case *c = &limit_cases[_i];
	static char tmp[64 * 1024];
	struct ks_head_scan scan = { 0 };
	struct ks_request req;
	u32 len, want;
	char *buf;
	int ret;

	KS_ROW(c->desc);
	fill_fields();
	len = build_limit(c, tmp);
	if (c->tail && !*c->tail)	/* "and CR": a CR without its LF */
		len--;
	want = c->head_end ? (u32)c->head_end : len;
	buf = guarded_copy(tmp, len);
	ret = ks_http_head_end(&scan, buf, len);
	ck_assert_msg(ret == (int)want, "%s: head_end %d, want %d (len %u)",
		      c->desc, ret, (int)want, len);
	guarded_free(buf, len);

	/* the same, in 512-byte steps with one scan */
	memset(&scan, 0, sizeof(scan));
	for (u32 n = 512; n < len + 512; n += 512) {
		u32 m = n < len ? n : len;

		ret = ks_http_head_end(&scan, tmp, m);
		if (m < len && ret != -EAGAIN)
			break;
	}
	ck_assert_msg(ret == (int)want, "%s: stepwise head_end %d, want %d",
		      c->desc, ret, (int)want);
	if (c->head_end)
		return;
	buf = guarded_copy(tmp, len);
	ret = ks_http_parse(buf, len, &req);
	ck_assert_msg(ret == c->parse, "%s: parse %d, want %d", c->desc, ret,
		      c->parse);
	if (ret == 0) {
		ck_assert_msg(req.line.len == c->line_len, "%s: line %u",
			      c->desc, req.line.len);
		ck_assert_msg(req.head_len == len, "%s", c->desc);
		if (c->nfields)
			ck_assert_msg(req.nfields == c->nfields,
				      "%s: nfields %u", c->desc, req.nfields);
	}
	guarded_free(buf, len);
}
END_TEST

/* a flood of empty lines may not keep the scan waiting forever */
START_TEST(test_blank_flood)
{
	static char tmp[64 * 1024];
	struct ks_head_scan scan = { 0 };
	u32 i, len = sizeof(tmp);
	int ret;

	for (i = 0; i < len; i += 2) {
		tmp[i] = '\r';
		tmp[i + 1] = '\n';
	}
	ret = ks_http_head_end(&scan, tmp, len);
	ck_assert_msg(ret < 0 && ret != -EAGAIN,
		      "64 KiB of CRLF gave %d, want an error", ret);
	memset(&scan, 0, sizeof(scan));
	memset(tmp, '\n', len);
	ret = ks_http_head_end(&scan, tmp, len);
	ck_assert_msg(ret < 0 && ret != -EAGAIN,
		      "64 KiB of LF gave %d, want an error", ret);
}
END_TEST

/*
 * Robustness: deterministic mutations of every table input through
 * head_end and parse. Nothing may crash or read outside the buffer; the
 * results must stay within the contract.
 */
static const char interesting[] = { '\r', '\n', ' ', '\t', ':', '\0', '/',
				    '?', '%', '.', ',', '"', '*', 0x7f,
				    (char)0x80, (char)0xff, '0', '9', 'H' };

static u32 mutate(u64 *rng, char *b, u32 len, u32 cap)
{
	u32 ops = 1 + xorshift64(rng) % 4, k;

	for (k = 0; k < ops; k++) {
		u32 pos = len ? (u32)(xorshift64(rng) % len) : 0;
		char ib = interesting[xorshift64(rng) % sizeof(interesting)];

		switch (xorshift64(rng) % 7) {
		case 0:
			if (len)
				b[pos] = (char)xorshift64(rng);
			break;
		case 1:
			if (len)
				b[pos] = ib;
			break;
		case 2:
			if (len < cap) {
				memmove(b + pos + 1, b + pos, len - pos);
				b[pos] = ib;
				len++;
			}
			break;
		case 3:
			if (len) {
				memmove(b + pos, b + pos + 1, len - pos - 1);
				len--;
			}
			break;
		case 4:
			len = pos;
			break;
		case 5: {
			u32 from = len ? (u32)(xorshift64(rng) % len) : 0;
			u32 n = (u32)(xorshift64(rng) % 16);

			if (n > len - from)
				n = len - from;
			if (len + n <= cap) {
				memmove(b + pos + n, b + pos, len - pos);
				memmove(b + pos, b + (from >= pos ? from + n : from),
					n);
				len += n;
			}
			break;
		}
		default:
			if (len + 2 <= cap) {
				memmove(b + pos + 2, b + pos, len - pos);
				b[pos] = '\r';
				b[pos + 1] = '\n';
				len += 2;
			}
			break;
		}
	}
	return len;
}

static void check_invariants(const char *buf, u32 head, const struct ks_request *r,
			     u32 iter)
{
	const struct ks_str *all[] = {
		&r->line, &r->method_str, &r->target, &r->query, &r->host,
		&r->if_none_match, &r->if_modified_since, &r->if_match,
		&r->if_unmodified_since, &r->range, &r->if_range, &r->referer,
		&r->user_agent,
	};
	size_t i;

	for (i = 0; i < KS_ARRAY_SIZE(all); i++)
		ck_assert_msg(str_inside(*all[i], buf, head),
			      "iter %u: field %zu outside the buffer", iter, i);
	ck_assert_msg(str_inside(r->path, buf, head) ||
		      (r->form == KS_TF_ABSOLUTE && r->path.len == 1 &&
		       r->path.p[0] == '/'),
		      "iter %u: path outside the buffer", iter);
	ck_assert_msg(r->head_len == head, "iter %u: head_len %u != %u", iter,
		      r->head_len, head);
	ck_assert_msg(r->minor <= 1, "iter %u: minor %u", iter, r->minor);
	ck_assert_msg(r->method_str.len > 0 && r->target.len > 0, "iter %u",
		      iter);
	if (r->form == KS_TF_ORIGIN || r->form == KS_TF_ABSOLUTE)
		ck_assert_msg(r->path.len >= 1 && r->path.p[0] == '/',
			      "iter %u: path without /", iter);
	if (r->form == KS_TF_ORIGIN)
		ck_assert_msg(r->target.p[0] == '/', "iter %u", iter);
	if (r->query.len)
		ck_assert_msg(r->query.p > buf && r->query.p[-1] == '?',
			      "iter %u: query", iter);
	ck_assert_msg(!(r->has_cl && r->has_te), "iter %u: CL and TE", iter);
	if (r->has_cl)
		ck_assert_msg(r->content_length <= KS_BODY_DISCARD_MAX,
			      "iter %u: content_length", iter);
	ck_assert_msg(r->nfields <= KS_HEADER_FIELDS_MAX, "iter %u", iter);
	if (r->minor == 1)
		ck_assert_msg(r->has_host, "iter %u: 1.1 without Host", iter);
}

#define FUZZ_ITERS 20000
#define FUZZ_CAP 1024

START_TEST(test_fuzz)
{
	static char tmp[FUZZ_CAP], row[128];
	u64 rng = 0x9e3779b97f4a7c15ull;
	u32 iter, nseeds = KS_ARRAY_SIZE(parse_cases);

	for (iter = 0; iter < FUZZ_ITERS; iter++) {
		const struct parse_case *seed = &parse_cases[iter % nseeds];
		u32 len = case_len(seed);
		struct ks_head_scan scan = { 0 }, step = { 0 };
		struct ks_request req;
		int he, he2 = -EAGAIN, ret;
		u32 n;
		char *buf;

		snprintf(row, sizeof(row), "mutation %u of '%s'", iter,
			 seed->desc);
		KS_ROW(row);
		memcpy(tmp, seed->in, len);
		len = mutate(&rng, tmp, len, FUZZ_CAP);
		buf = guarded_copy(tmp, len);
		he = ks_http_head_end(&scan, buf, len);
		ck_assert_msg(he == -EAGAIN || he == -414 || he == -431 ||
			      (he > 0 && (u32)he <= len),
			      "iter %u: head_end %d (len %u)", iter, he, len);
		/* resuming in random steps gives the same answer */
		for (n = 0; n < len;) {
			n += 1 + (u32)(xorshift64(&rng) % 7);
			if (n > len)
				n = len;
			he2 = ks_http_head_end(&step, buf, n);
			if (he2 != -EAGAIN)
				break;
		}
		if (len)
			ck_assert_msg(he2 == he, "iter %u: stepwise %d, whole %d",
				      iter, he2, he);
		if (he > 0) {
			ck_assert_msg(buf[he - 1] == '\n',
				      "iter %u: head does not end in LF", iter);
			guarded_free(buf, len);
			buf = guarded_copy(tmp, (u32)he);
			ret = ks_http_parse(buf, (u32)he, &req);
			ck_assert_msg(ret == 0 || ret == -400 || ret == -505 ||
				      ret == -431 || ret == -413 ||
				      ret == -501,
				      "iter %u: parse %d", iter, ret);
			if (ret == 0)
				check_invariants(buf, (u32)he, &req, iter);
			len = (u32)he;
		}
		guarded_free(buf, len);
	}
}
END_TEST

/* parse on bytes that head_end did not approve must still be safe */
START_TEST(test_fuzz_parse_raw)
{
	static char tmp[FUZZ_CAP], row[128];
	u64 rng = 0x2545f4914f6cdd1dull;
	u32 iter, nseeds = KS_ARRAY_SIZE(parse_cases);

	for (iter = 0; iter < FUZZ_ITERS; iter++) {
		const struct parse_case *seed = &parse_cases[iter % nseeds];
		u32 len = case_len(seed);
		struct ks_request req;
		char *buf;
		int ret;

		snprintf(row, sizeof(row), "mutation %u of '%s'", iter,
			 seed->desc);
		KS_ROW(row);
		memcpy(tmp, seed->in, len);
		len = mutate(&rng, tmp, len, FUZZ_CAP);
		buf = guarded_copy(tmp, len);
		ret = ks_http_parse(buf, len, &req);
		ck_assert_msg(ret == 0 || ret == -400 || ret == -505 ||
			      ret == -431 || ret == -413 || ret == -501,
			      "iter %u: parse %d", iter, ret);
		if (ret == 0)
			check_invariants(buf, len, &req, iter);
		guarded_free(buf, len);
	}
}
END_TEST

static Suite *http_parse_suite(void)
{
	Suite *s = suite_create("http_parse");
	TCase *tc;

	tc = tcase_create("table");
	KS_TABLE_TEST(tc, test_parse_table, parse_cases);
	KS_TABLE_TEST(tc, test_str_ieq, ieq_cases);
	suite_add_tcase(s, tc);

	tc = tcase_create("partial");
	tcase_set_timeout(tc, 60);
	KS_TABLE_TEST(tc, test_head_end_bytewise, parse_cases);
	KS_TABLE_TEST(tc, test_head_end_split, parse_cases);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	KS_TABLE_TEST(tc, test_limits, limit_cases);
	tcase_add_test(tc, test_blank_flood);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_fuzz);
	tcase_add_test(tc, test_fuzz_parse_raw);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ks_test_run(http_parse_suite());
}
