// SPDX-License-Identifier: GPL-2.0
#include "../kserver/uri.c"
