// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - kserverctl's side of /dev/sakura: open it, QUERY servers, choose
 * the one to act on, SWITCH_MODE, and say in words what an answer means.
 *
 * KSERVERCTL_DEVICE names another device node (the host tests use it to
 * stand in for a machine without the module or with a stranger file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "kserverctl.h"
#include "parse.h"

static const char *kc_dev_path(void)
{
	const char *p = getenv("KSERVERCTL_DEVICE");

	return p && *p ? p : SAKURA_DEVICE;
}

static bool kc_errno_not_loaded(int err)
{
	return err == ENOENT || err == ENODEV || err == ENXIO;
}

/*
 * The device's fd, -ENOENT when the module is not loaded (nothing printed:
 * that is an answer for some commands), or another -errno, said on stderr.
 */
int kc_dev_open(const char **path)
{
	int fd, err;

	*path = kc_dev_path();
	fd = open(*path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	err = errno;
	if (kc_errno_not_loaded(err))
		return -ENOENT;
	if (err == EACCES || err == EPERM)
		kc_err("cannot open %s: permission denied: it is root-only "
		       "(mode 0600); run kserverctl as root", *path);
	else
		kc_err("cannot open %s: %s", *path, strerror(err));
	return -err;
}

void kc_err_not_loaded(const char *path)
{
	struct utsname u;

	if (uname(&u))
		strcpy(u.release, "$(uname -r)");
	kc_err("sakura.ko is not loaded (no %s): load it with 'insmod "
	       "build/kmod/%s/sakura.ko'", path, u.release);
}

int kc_query(int fd, pid_t pid, unsigned int index, unsigned int core,
	     struct sakura_query *q)
{
	memset(q, 0, sizeof(*q));
	q->pid = pid;
	q->index = index;
	q->core = core;
	return ioctl(fd, SAKURA_IOC_QUERY, q) ? -errno : 0;
}

/* The pids of the registered servers, at most @max, in the module's order. */
int kc_list_pids(int fd, pid_t *pids, unsigned int max, unsigned int *n)
{
	struct sakura_query q;
	unsigned int i, j;
	int err;

	*n = 0;
	for (i = 0; *n < max; i++) {
		err = kc_query(fd, 0, i, SAKURA_STATUS_ALL, &q);
		if (err == -ENOENT)
			break;
		if (err)
			return err;
		/* a server that left between two calls shifts the rest */
		for (j = 0; j < *n && pids[j] != q.server_pid; j++)
			;
		if (j == *n)
			pids[(*n)++] = q.server_pid;
	}
	return 0;
}

/* Say on stderr what a failed QUERY means. */
void kc_err_query(const char *path, int err)
{
	if (err == -ENOTTY || err == -EINVAL)
		kc_err("%s does not answer QUERY (%s): load the sakura.ko built "
		       "from this tree (ABI %d)", path, strerror(-err),
		       SAKURA_ABI_VERSION);
	else
		kc_err("%s: QUERY failed: %s", path, strerror(-err));
}

#define KC_PICK_MAX 8	/* pids named in the "choose one" error */

/* The only registered server, or one error line: none, or several. */
int kc_pick_server(int fd, pid_t *pid)
{
	pid_t pids[KC_PICK_MAX];
	char list[KC_PICK_MAX * 12 + 8];
	unsigned int n, i;
	size_t len = 0;
	int err;

	err = kc_list_pids(fd, pids, KC_PICK_MAX, &n);
	if (err) {
		kc_err_query(kc_dev_path(), err);
		return err;
	}
	if (n == 1) {
		*pid = pids[0];
		return 0;
	}
	if (!n) {
		kc_err("no kserver is registered with sakura.ko");
		return -ESRCH;
	}
	for (i = 0; i < n; i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%d",
				i ? ", " : "", (int)pids[i]);
	if (n == KC_PICK_MAX)
		snprintf(list + len, sizeof(list) - len, ", ...");
	kc_err("%s%u servers are registered (pids %s): choose one with --pid",
	       n == KC_PICK_MAX ? "at least " : "", n, list);
	return -EEXIST;
}

int kc_switch(int fd, struct sakura_switch *sw)
{
	return ioctl(fd, SAKURA_IOC_SWITCH_MODE, sw) ? -errno : 0;
}

/* A successful switch in words: "user -> supervisor in 0.42 ms". */
void kc_switch_result(const struct sakura_switch *sw, char *buf, size_t len)
{
	const char *to = kc_mode_name(sw->mode);
	double ms = sw->latency_ns / 1e6;

	if (sw->from_mode != sw->mode)
		snprintf(buf, len, "%s -> %s in %.2f ms",
			 kc_mode_name(sw->from_mode), to, ms);
	else if (!sw->latency_ns)
		snprintf(buf, len, "already in %s mode", to);
	else	/* a pending switch away was superseded by ours */
		snprintf(buf, len, "stays in %s mode (a pending switch away "
			 "was cancelled) in %.2f ms", to, ms);
}

/* What a failed SWITCH_MODE (-errno @err) means, without the "pid N: ". */
void kc_switch_error(int fd, const struct sakura_switch *sw, int err,
		     char *buf, size_t len)
{
	const char *to = kc_mode_name(sw->mode);
	double secs = sw->timeout_ms / 1000.0;
	struct sakura_query q;

	switch (-err) {
	case ETIMEDOUT:
		snprintf(buf, len, "no acknowledgement within %g s (the request "
			 "stays pending; the server applies it when it can)",
			 secs);
		break;
	case ECANCELED:
		snprintf(buf, len, "the switch to %s was superseded by a later "
			 "request to switch to %s", to,
			 kc_mode_name(!sw->mode));
		break;
	case ESRCH:
		snprintf(buf, len, "no kserver with that pid is registered with "
			 "sakura.ko (or it exited)");
		break;
	case EPERM:
		if (!kc_query(fd, sw->pid, 0, SAKURA_STATUS_ALL, &q))
			snprintf(buf, len, "permission denied: the server runs "
				 "as uid %u; switching it needs that uid or "
				 "CAP_SYS_ADMIN", q.uid);
		else
			snprintf(buf, len, "permission denied: switching needs "
				 "the server's uid or CAP_SYS_ADMIN");
		break;
	case EINTR:
		snprintf(buf, len, "interrupted by a signal (the request stays "
			 "pending; the server applies it when it can)");
		break;
	case EINVAL:
	case ENOTTY:
		snprintf(buf, len, "sakura.ko refused SWITCH_MODE (%s): load the "
			 "one built from this tree (ABI %d)", strerror(-err),
			 SAKURA_ABI_VERSION);
		break;
	default:
		snprintf(buf, len, "switch to %s failed: %s", to,
			 strerror(-err));
		break;
	}
}
