/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kserverctl.h - what kserverctl's files share: exit statuses, the error
 * line, the device and its two ioctls (dev.c), and the three commands.
 */
#ifndef KSERVERCTL_H
#define KSERVERCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "../kmod/uapi/sakura.h"

#define KC_VERSION "0.1.0"

/* Exit statuses. */
enum {
	KC_EXIT_OK = 0,
	KC_EXIT_FAIL = 1,	/* the operation failed */
	KC_EXIT_USAGE = 2,	/* the command line is wrong */
};

#define KC_PID_MAX 0x7fffffffUL

/* a --timeout in seconds (0.001 to SAKURA_TIMEOUT_MAX_MS / 1000) for ioctl */
static inline unsigned int kc_seconds_to_ms(double s)
{
	return (unsigned int)(s * 1000 + 0.5);
}

void kc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kc_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* option helpers shared by the commands (kserverctl.c) */
int kc_opt_pid(const char *s, pid_t *pid);
int kc_opt_seconds(const char *name, const char *s, double min, double max,
		   double *sec);
int kc_opt_error(int c, int opt, char **argv, const char *cmd);
void kc_print_usage(void);

/* dev.c */
int kc_dev_open(const char **path);
void kc_err_not_loaded(const char *path);
int kc_query(int fd, pid_t pid, unsigned int index, unsigned int core,
	     struct sakura_query *q);
void kc_err_query(const char *path, int err);
int kc_list_pids(int fd, pid_t *pids, unsigned int max, unsigned int *n);
int kc_pick_server(int fd, pid_t *pid);
int kc_switch(int fd, struct sakura_switch *sw);
void kc_switch_result(const struct sakura_switch *sw, char *buf, size_t len);
void kc_switch_error(int fd, const struct sakura_switch *sw, int err,
		     char *buf, size_t len);

/* the commands: argv[0] is the command's name; an exit status */
int kc_cmd_status(int argc, char **argv);
int kc_cmd_switch(int argc, char **argv);
int kc_cmd_daemon(int argc, char **argv);

/* wait.c */
extern volatile sig_atomic_t kc_stop_signal;	/* SIGTERM or SIGINT came */
int kc_signals_init(void);
double kc_now(void);			/* CLOCK_MONOTONIC seconds */
bool kc_sleep_until(double deadline);	/* false: a stop signal came */

#endif /* KSERVERCTL_H */
