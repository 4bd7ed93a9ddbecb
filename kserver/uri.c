// SPDX-License-Identifier: GPL-2.0
/*
 * uri.c - percent-decoding and dot-segment removal, freestanding.
 *
 * Decoding comes first, so "%2e%2e" is a ".." like any other and "%2f" a
 * separator: the string check sees what the file system will see. The kernel
 * still enforces confinement on its own (RESOLVE_BENEATH / LOOKUP_BENEATH);
 * this pass only lets us answer 400 instead of handing it a climbing path.
 */
#include "uri.h"

static int ks_hexval(u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ks_uri_normalize(const char *raw, u32 len, char *out, u32 cap)
{
	u32 i = 0, o = 0;

	if (cap < 2)
		return -ENAMETOOLONG;
	out[o++] = '/';
	while (i < len) {
		u32 seg = o;	/* output index where this segment starts */
		bool slash = false;	/* the segment ended with a '/' */

		/* one segment: decode up to the next '/' (decoded or not) */
		while (i < len) {
			u8 c = raw[i];

			if (c == '%') {
				int hi, lo;

				if (len - i < 3)
					return -EINVAL;
				hi = ks_hexval(raw[i + 1]);
				lo = ks_hexval(raw[i + 2]);
				if (hi < 0 || lo < 0)
					return -EINVAL;
				c = hi << 4 | lo;
				i += 3;
			} else {
				i++;
			}
			if (c == 0)
				return -EINVAL;
			if (c == '/') {
				slash = true;
				break;
			}
			if (o + 1 >= cap)
				return -ENAMETOOLONG;
			out[o++] = c;
		}
		if (o == seg)	/* empty: merge slashes */
			continue;
		if (o - seg == 1 && out[seg] == '.') {
			o = seg;
		} else if (o - seg == 2 && out[seg] == '.' && out[seg + 1] == '.') {
			if (seg == 1)
				return -EINVAL;
			o = seg - 1;	/* the '/' before the parent */
			while (out[o - 1] != '/')
				o--;
		} else if (slash) {
			if (o + 1 >= cap)
				return -ENAMETOOLONG;
			out[o++] = '/';
		}
	}
	out[o] = '\0';
	return o;
}

bool ks_path_is_hidden(const char *path, u32 len)
{
	u32 i;

	for (i = 0; i + 1 < len; i++)
		if (path[i] == '/' && path[i + 1] == '.')
			return true;
	return false;
}
