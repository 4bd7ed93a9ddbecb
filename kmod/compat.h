/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the only place where sakura.ko looks at the kernel version.
 * Targets: Debian 12's 6.1 and bookworm-backports' 6.12.
 *
 * Need: vm_flags_set (6.3+), zero-copy send of page-cache pages
 * (tcp_sendpage_locked up to 6.4, sendmsg(MSG_SPLICE_PAGES) from 6.5), the
 * prototype of vfs_path_lookup (exported on both, declared in
 * <linux/namei.h> only by newer kernels), taking an fd out of the caller's
 * table with its reference (close_fd_get_file, file_close_fd from 6.8).
 */
#ifndef SAKURA_COMPAT_H
#define SAKURA_COMPAT_H

#include <linux/bvec.h>
#include <linux/fdtable.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/version.h>
#include <net/sock.h>
#include <net/tcp.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
/* fs/internal.h on 6.1; repeating an identical prototype is harmless */
int vfs_path_lookup(struct dentry *dentry, struct vfsmount *mnt,
		    const char *name, unsigned int flags, struct path *path);
#endif

/*
 * Take @fd out of the caller's fd table and return the file it named, with
 * the reference the table held (NULL if none): close() without the final
 * fput, which is the caller's.
 */
static inline struct file *sakura_fd_take(unsigned int fd)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
	return close_fd_get_file(fd);
#else
	return file_close_fd(fd);
#endif
}

/*
 * May the caller search directory @inode of @mnt, as a path walk in RCU mode
 * asks it (MAY_NOT_BLOCK: -ECHILD where it would have to sleep)? Call under
 * rcu_read_lock(). 6.3 turned the mount's user namespace into its idmap.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline int sakura_may_search_rcu(struct vfsmount *mnt,
					struct inode *inode)
{
	return inode_permission(mnt_user_ns(mnt), inode,
				MAY_EXEC | MAY_NOT_BLOCK);
}
#else
static inline int sakura_may_search_rcu(struct vfsmount *mnt,
					struct inode *inode)
{
	return inode_permission(mnt_idmap(mnt), inode,
				MAY_EXEC | MAY_NOT_BLOCK);
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void sakura_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void sakura_vm_flags_clear(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#else
static inline void sakura_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}

static inline void sakura_vm_flags_clear(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
	vm_flags_clear(vma, flags);
}
#endif

/*
 * sakura_send_pages - send nr page-cache pages described by bv (len bytes in
 * all) without copying them; TCP takes its own page references. @flags:
 * MSG_DONTWAIT | MSG_NOSIGNAL [| MSG_MORE]. Returns bytes sent or -errno.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
/*
 * 6.1 takes one page per call. Through kernel_sendpage() each page would
 * lock and release the socket (tcp_sendpage()); for plain TCP the pages go
 * to tcp_sendpage_locked() under one lock, as tcp_sendpage() does for one
 * page, so a 64-page send is one lock round, and the ACKs that came
 * meanwhile are processed once, by release_sock(). A socket whose
 * protocol's sendpage is another's (kTLS, a sockmap) goes page by page
 * through its own.
 */
static inline long sakura_send_pages(struct socket *sock, struct bio_vec *bv,
				     unsigned int nr, size_t len, int flags)
{
	struct sock *sk = sock->sk;
	bool plain = READ_ONCE(sk->sk_prot)->sendpage == tcp_sendpage;
	long sent = 0;
	unsigned int i;

	if (plain) {
		sock_rps_record_flow(sk);	/* as inet_sendpage() does */
		lock_sock(sk);
	}
	for (i = 0; i < nr; i++) {
		int fl = flags;
		int n;

		if (i + 1 < nr)
			fl |= MSG_MORE | MSG_SENDPAGE_NOTLAST;
		n = plain ? tcp_sendpage_locked(sk, bv[i].bv_page,
						bv[i].bv_offset,
						bv[i].bv_len, fl) :
			    kernel_sendpage(sock, bv[i].bv_page,
					    bv[i].bv_offset, bv[i].bv_len, fl);
		if (n < 0) {
			if (!sent)
				sent = n;
			break;
		}
		sent += n;
		if (n < bv[i].bv_len)
			break;
	}
	if (plain)
		release_sock(sk);
	return sent;
}
#else
static inline long sakura_send_pages(struct socket *sock, struct bio_vec *bv,
				     unsigned int nr, size_t len, int flags)
{
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, nr, len);
	return sock_sendmsg(sock, &msg);
}
#endif

#endif /* SAKURA_COMPAT_H */
