/* SPDX-License-Identifier: GPL-2.0 */
/* uri.h - percent-decoding and path normalisation (freestanding, shared). */
#ifndef KS_URI_H
#define KS_URI_H

#include "ks_port.h"

/*
 * ks_uri_normalize - decode the raw path (%XX), then resolve "." and ".."
 * and merge repeated slashes.
 * out receives a path that starts with '/' and is NUL-terminated; a trailing
 * slash in the input (or a final "." / ".." segment) is kept as a trailing
 * slash, because it asks for a directory. Returns the output length, or
 * -EINVAL for a bad escape, an escaped NUL (%00), a raw NUL or a path that
 * would climb above the root; -ENAMETOOLONG when out (cap bytes) is too small.
 */
int ks_uri_normalize(const char *raw, u32 len, char *out, u32 cap);

/* ks_path_is_hidden - does any segment of a normalised path start with '.'? */
bool ks_path_is_hidden(const char *path, u32 len);

#endif /* KS_URI_H */
