// SPDX-License-Identifier: GPL-2.0
#include "../kserver/http_date.c"
