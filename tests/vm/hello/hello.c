// SPDX-License-Identifier: GPL-2.0
/*
 * vm_hello: trivial out-of-tree module used by tests/vm/selftest.sh to prove the chain
 * "build against Debian's headers on the host -> insmod/rmmod in a QEMU guest" works.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/utsname.h>

static int __init vm_hello_init(void)
{
	pr_info("vm_hello: loaded on %s\n", init_utsname()->release);
	return 0;
}

static void __exit vm_hello_exit(void)
{
	pr_info("vm_hello: unloaded\n");
}

module_init(vm_hello_init);
module_exit(vm_hello_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kserver guest test bench hello-world module");
