// SPDX-License-Identifier: GPL-2.0
/*
 * kserverctl.c - the control tool's command line: the command table, usage,
 * error lines and the option values the commands share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kserverctl.h"
#include "parse.h"

static const char kc_usage[] =
	"Usage: kserverctl COMMAND [OPTION]...\n"
	"Watch kserver and switch it between user and supervisor mode through\n"
	"sakura.ko (" SAKURA_DEVICE ").\n"
	"\n"
	"Commands:\n"
	"  status [--json] [--pid PID]\n"
	"      every registered server (or one): mode, state, connections and\n"
	"      requests in each mode, and a table per core\n"
	"  switch-mode user|supervisor [--pid PID] [--timeout S]\n"
	"              [--repeat N [--interval S] [--duration S]]\n"
	"      ask a server to switch and wait for its acknowledgement (at most\n"
	"      S seconds, default 5); PID may be left out when one server runs.\n"
	"      --repeat N: alternate N times starting with the mode given, one\n"
	"      switch every --interval (default 0.1 s), stopping after\n"
	"      --duration if given; ends with the latency p50/p99/max\n"
	"  daemon --auto --up RPS --down RPS [--interval S] [--samples N]\n"
	"         [--timeout S] [--pid PID] [--verbose]\n"
	"      switch a server by its load: to supervisor once the request rate\n"
	"      is >= --up for N consecutive samples (default 3), back to user\n"
	"      once it is <= --down for N; sample every S seconds (default 1,\n"
	"      at least 0.05); needs 0 <= --down < --up; logs to stdout, one\n"
	"      line per decision (--verbose: per sample); SIGTERM stops it\n"
	"  help, -h, --help    show this help\n"
	"  --version           show the version\n"
	"\n"
	"Exit status: 0 success, 1 the operation failed, 2 usage error.\n";

void kc_print_usage(void)
{
	fputs(kc_usage, stdout);
}

static void kc_verr(const char *fmt, va_list ap)
{
	fputs("kserverctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* One error line on stderr. */
void kc_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kc_verr(fmt, ap);
	va_end(ap);
}

/* One error line on stderr; the usage-error exit status. */
int kc_usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kc_verr(fmt, ap);
	va_end(ap);
	return KC_EXIT_USAGE;
}

int kc_opt_pid(const char *s, pid_t *pid)
{
	unsigned long v;

	if (kc_parse_uint(s, 1, KC_PID_MAX, &v)) {
		kc_err("--pid: '%s' is not a process id (a number from 1 to %lu)",
		       s, KC_PID_MAX);
		return -EINVAL;
	}
	*pid = (pid_t)v;
	return 0;
}

int kc_opt_seconds(const char *name, const char *s, double min, double max,
		   double *sec)
{
	if (kc_parse_decimal(s, min, max, sec)) {
		kc_err("--%s: '%s' is not a number of seconds from %g to %g",
		       name, s, min, max);
		return -EINVAL;
	}
	return 0;
}

/*
 * A getopt_long() error (c is ':' or '?') as a usage error; opt is optopt:
 * 0 for an unknown long option, the option's value for a long one given a
 * value it does not take, the letter for a short one (which may sit inside
 * a cluster such as "-jx", so argv does not name it).
 */
int kc_opt_error(int c, int opt, char **argv, const char *cmd)
{
	const char *arg = argv[optind - 1];
	bool is_long = !strncmp(arg, "--", 2);

	if (c == ':')
		return kc_usage_err("%s: option '%s' needs a value (see --help)",
				    cmd, arg);
	if (is_long && opt)
		return kc_usage_err("%s: option '%.*s' takes no value", cmd,
				    (int)strcspn(arg, "="), arg);
	if (is_long || !opt)
		return kc_usage_err("%s: unknown option '%s' (see --help)", cmd,
				    arg);
	return kc_usage_err("%s: unknown option '-%c' (see --help)", cmd, opt);
}

static const struct kc_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
} kc_cmds[] = {
	{ "status", kc_cmd_status },
	{ "switch-mode", kc_cmd_switch },
	{ "daemon", kc_cmd_daemon },
};

static bool kc_is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help");
}

int main(int argc, char **argv)
{
	const char *cmd;
	size_t i;

	if (argc < 2)
		return kc_usage_err("no command: status, switch-mode or daemon "
				    "(see --help)");
	cmd = argv[1];
	if (kc_is_help(cmd)) {
		kc_print_usage();
		return KC_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("kserverctl %s (sakura ABI %d)\n", KC_VERSION,
		       SAKURA_ABI_VERSION);
		return KC_EXIT_OK;
	}
	for (i = 0; i < sizeof(kc_cmds) / sizeof(kc_cmds[0]); i++)
		if (!strcmp(cmd, kc_cmds[i].name))
			return kc_cmds[i].run(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return kc_usage_err("unknown option '%s': a command comes first "
				    "(see --help)", cmd);
	return kc_usage_err("unknown command '%s': status, switch-mode or "
			    "daemon (see --help)", cmd);
}
