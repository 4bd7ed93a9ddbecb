// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - sakura.ko: module init and exit, and /proc/sakura.
 *
 * /proc/sakura starts with what the module holds in all (struct sakura_live),
 * then lists each registered server: its pid, mode and state, then one line
 * per core with the connections it owns and what its worker did.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "sakura.h"

DEFINE_PER_CPU(struct sakura_live, sakura_live);

/* a moment's sum: exact once nothing runs (unload, the tests' idle checks) */
void sakura_live_sum(struct sakura_live *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct sakura_live *l = per_cpu_ptr(&sakura_live, cpu);

		sum->servers += READ_ONCE(l->servers);
		sum->conns += READ_ONCE(l->conns);
		sum->buffers += READ_ONCE(l->buffers);
		sum->file_refs += READ_ONCE(l->file_refs);
		sum->socks += READ_ONCE(l->socks);
	}
}

static const char *const sakura_mode_names[] = {
	[SAKURA_MODE_USER] = "user",
	[SAKURA_MODE_SUPERVISOR] = "supervisor",
};

static void sakura_proc_core(struct seq_file *m, struct sakura_core *core)
{
	struct sakura_counters c = {};

	sakura_core_counters(core, &c);
	seq_printf(m,
		   "  core %u worker %s conns %llu accepted %llu requests %llu bytes %llu parks %llu handovers %llu adopted %llu timeouts %llu rejected %llu sleeps %llu log_dropped %llu zerocopy_bytes %llu copied_bytes %llu fcache_hits %llu fcache_misses %llu recvs %llu recvs_skipped %llu sends %llu sends_again %llu sends_full %llu names_hits %llu names_misses %llu loans %llu loans_refused %llu lent %u debts %u\n",
		   core->idx, READ_ONCE(core->task) ? "running" : "none",
		   c.conns, c.accepted, c.requests, c.bytes, c.parks,
		   c.handovers, c.adopted, c.timeouts, c.rejected, c.sleeps,
		   c.log_dropped, c.zerocopy_bytes, c.copied_bytes,
		   c.fcache_hits, c.fcache_misses, READ_ONCE(core->recvs),
		   READ_ONCE(core->recvs_skipped), READ_ONCE(core->sends),
		   READ_ONCE(core->sends_again), READ_ONCE(core->sends_full),
		   READ_ONCE(core->names_hits), READ_ONCE(core->names_misses),
		   READ_ONCE(core->loans), READ_ONCE(core->loans_refused),
		   READ_ONCE(core->lent), READ_ONCE(core->ndebts));
}

static int sakura_proc_show(struct seq_file *m, void *v)
{
	struct sakura_server *srv;
	struct sakura_live live;
	u32 i;

	sakura_live_sum(&live);
	seq_printf(m, "module live_servers %ld live_conns %ld live_buffers %ld live_file_refs %ld live_socks %ld\n",
		   live.servers, live.conns, live.buffers, live.file_refs,
		   live.socks);
	mutex_lock(&sakura_lock);
	list_for_each_entry(srv, &sakura_servers, node) {
		seq_printf(m, "server pid %d mode %s state %s cores %u switches %llu\n",
			   pid_nr(srv->tgid),
			   sakura_mode_names[READ_ONCE(srv->mode) & 1],
			   READ_ONCE(srv->stopped) ? "stopped" : "running",
			   srv->ncores, READ_ONCE(srv->switches));
		for (i = 0; i < srv->ncores; i++)
			sakura_proc_core(m, &srv->cores[i]);
	}
	mutex_unlock(&sakura_lock);
	return 0;
}

static int __init sakura_init(void)
{
	int err;

	err = sakura_conn_cache_init();
	if (err)
		return err;
	if (!proc_create_single("sakura", 0444, NULL, sakura_proc_show)) {
		err = -ENOMEM;
		goto err_cache;
	}
	err = sakura_dev_init();
	if (err)
		goto err_proc;
	pr_info("sakura: ABI %d, /dev/sakura ready\n", SAKURA_ABI_VERSION);
	return 0;

err_proc:
	remove_proc_entry("sakura", NULL);
err_cache:
	sakura_conn_cache_exit();
	return err;
}

static void __exit sakura_exit(void)
{
	struct sakura_live live;

	sakura_dev_exit();
	remove_proc_entry("sakura", NULL);
	sakura_conn_cache_exit();
	/* every server is gone by now: anything still counted leaked */
	sakura_live_sum(&live);
	if (live.servers || live.conns || live.buffers || live.file_refs ||
	    live.socks)
		pr_err("sakura: leak at unload: servers %ld conns %ld buffers %ld file_refs %ld socks %ld\n",
		       live.servers, live.conns, live.buffers, live.file_refs,
		       live.socks);
	pr_info("sakura: unloaded\n");
}

module_init(sakura_init);
module_exit(sakura_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kserver's supervisor mode: per-core in-kernel HTTP workers fed by Sakura Calls");
MODULE_AUTHOR("kserver project");
