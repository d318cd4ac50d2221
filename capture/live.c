/*
 * live.c - live capture on one interface (see cap.h).
 *
 * Opening follows libpcap's two-step API, as tcpdump does:
 *
 *   pcap_create(iface) -> snaplen, promiscuous, immediate mode, buffer
 *   size, read timeout -> pcap_activate (a positive return is a warning,
 *   kept in the input's `warning`) -> the BPF filter.
 *
 * Then privileges go (cap_drop_privs: initgroups, setgid, setuid, a
 * check that none of it can be undone, and PR_SET_NO_NEW_PRIVS so no
 * setuid or file-capability program it could run gives any back) before a
 * single packet is parsed; installed with file capabilities instead of
 * setuid, the capabilities go (cap_drop_caps, capset(2) directly: no
 * libcap). Offline runs started as root drop to -Z USER the same way once
 * the inputs and outputs are open.
 *
 * The loop: pselect() on pcap_get_selectable_fd() for at most one tick,
 * then pcap_dispatch() in non-blocking mode hands every waiting packet to
 * cap_packet(), the path offline files take too. After each round the
 * flow table is told the time (flow_tick) so that a handshake that went
 * silent is diagnosed even when no packet arrives at all. (A blocking
 * pcap_dispatch() with a read timeout does not do: libpcap 1.10 on Linux
 * keeps polling through its timeouts until a packet comes.)
 *
 * Time. Packet timestamps are the kernel's; between packets, "now" is the
 * last packet's timestamp plus the monotonic time elapsed since it was
 * read, so a wall-clock step cannot expire every flow at once, and time
 * never runs ahead of what a late packet could carry by more than the
 * read latency.
 *
 * Signals. SIGINT and SIGTERM only call pcap_breakloop() (async-signal
 * safe by libpcap's contract). They are blocked except inside pselect(),
 * which unblocks them atomically: a signal that comes while packets are
 * processed is delivered at the next pselect(), which then fails with
 * EINTR - and only our two handlers can make it do that. So the loop
 * learns of the signal at once, with or without traffic, even though a
 * non-blocking pcap_dispatch() only notices pcap_breakloop() while it has
 * packets. The loop then ends normally and the caller reports the pending
 * handshakes and closes the report. The handler stays installed after the
 * loop, doing nothing, so a second signal cannot cut the report short.
 *
 * Limits: one interface per run; -c counts every frame the filter passed.
 */
#include "capture/cap.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

struct cap_live {
	pcap_t *pc;
};

/* The one pcap_t the signal handler may touch. */
static pcap_t *volatile live_pc;

static void on_signal(int sig)
{
	(void)sig;
	if (live_pc)
		pcap_breakloop(live_pc);
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cap_live_opts_default(struct cap_live_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->snaplen = CAP_DEFAULT_SNAPLEN;
	o->promisc = 1;
	o->immediate = 1;
	o->tick_us = CAP_TICK_US;
	o->buffer_kib = CAP_DEFAULT_BUFFER_KIB;
}

int cap_list_interfaces(FILE *out, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_if_t *all = NULL, *d;
	int n = 0;
	if (pcap_findalldevs(&all, ebuf) < 0) {
		snprintf(err, errlen, "cannot list interfaces: %s", ebuf);
		return -1;
	}
	for (d = all; d; d = d->next) {
		const char *sep = "";
		fprintf(out, "%d.%s", ++n, d->name);
		if (d->description)
			fprintf(out, " (%s)", d->description);
		fputs(" [", out);
		if (d->flags & PCAP_IF_UP) {
			fputs("Up", out);
			sep = ", ";
		}
		if (d->flags & PCAP_IF_RUNNING) {
			fprintf(out, "%sRunning", sep);
			sep = ", ";
		}
		if (d->flags & PCAP_IF_LOOPBACK) {
			fprintf(out, "%sLoopback", sep);
			sep = ", ";
		}
		if (!*sep)
			fputs("Down", out);
		fputs("]\n", out);
	}
	pcap_freealldevs(all);
	if (n == 0) {
		snprintf(err, errlen, "no interface to capture on (permissions?)");
		return -1;
	}
	return 0;
}

enum cap_err cap_live_open(struct cap_live **out, struct cap_input *in, const struct cap_live_opts *o,
			   const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct cap_live *lv;
	pcap_t *pc;
	int rc;
	const char *name;

	*out = NULL;
	pc = pcap_create(o->iface, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		return CAP_ERR_LIVE;
	}
	if (pcap_set_snaplen(pc, o->snaplen > 0 ? o->snaplen : CAP_DEFAULT_SNAPLEN) ||
	    pcap_set_promisc(pc, o->promisc) || pcap_set_immediate_mode(pc, o->immediate) ||
	    pcap_set_timeout(pc, (int)(o->tick_us / 1000) > 0 ? (int)(o->tick_us / 1000) : 1) ||
	    (o->buffer_kib > 0 && pcap_set_buffer_size(pc, o->buffer_kib * 1024))) {
		snprintf(err, errlen, "%s: cannot set capture options", o->iface);
		pcap_close(pc);
		return CAP_ERR_LIVE;
	}
	rc = pcap_activate(pc);
	if (rc < 0) {
		const char *why = pcap_geterr(pc);
		switch (rc) {
		case PCAP_ERROR_NO_SUCH_DEVICE:
			snprintf(err, errlen, "%s: no such interface (tlswhy -D lists them)%s%s", o->iface,
				 *why ? ": " : "", why);
			break;
		case PCAP_ERROR_PERM_DENIED:
			snprintf(err, errlen, "%s: permission denied: capturing needs root or CAP_NET_RAW%s%s",
				 o->iface, *why ? ": " : "", why);
			break;
		default:
			snprintf(err, errlen, "%s: %s%s%s", o->iface, pcap_statustostr(rc), *why ? ": " : "", why);
			break;
		}
		pcap_close(pc);
		return CAP_ERR_LIVE;
	}
	if (rc > 0) {
		/* a warning: the capture works, perhaps not as asked */
		const char *why = rc == PCAP_WARNING ? pcap_geterr(pc) : pcap_statustostr(rc);
		snprintf(in->warning, sizeof(in->warning), "%s", why);
	}
	if (filter && *filter) {
		bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
		if (pcap_lookupnet(o->iface, &net, &mask, ebuf) < 0)
			mask = PCAP_NETMASK_UNKNOWN;
		if (cap_set_filter(pc, filter, mask, err, errlen, NULL, 0) != CAP_OK) {
			pcap_close(pc);
			return CAP_ERR_FILTER;
		}
	}
	if (pcap_get_selectable_fd(pc) < 0 || pcap_get_selectable_fd(pc) >= FD_SETSIZE ||
	    pcap_setnonblock(pc, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s: no selectable descriptor for this capture%s%s", o->iface,
			 *ebuf ? ": " : "", ebuf);
		pcap_close(pc);
		return CAP_ERR_LIVE;
	}
	lv = calloc(1, sizeof(*lv));
	if (!lv) {
		snprintf(err, errlen, "out of memory");
		pcap_close(pc);
		return CAP_ERR_LIVE;
	}
	lv->pc = pc;
	in->path = o->iface;
	in->live = 1;
	in->dlt = pcap_datalink(pc);
	name = pcap_datalink_val_to_name(in->dlt);
	in->link_name = strdup(name ? name : "unknown");
	in->link_supported = pkt_dlt_supported(in->dlt);
	*out = lv;
	return CAP_OK;
}

enum cap_err cap_drop_privs(const char *user, const char *const *give, int ngive, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;
	int i;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "-Z %s: no such user%s%s", user, errno ? ": " : "", errno ? strerror(errno) : "");
		return CAP_ERR_PRIVS;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0)
		return CAP_OK;   /* -Z root: stay as we are */
	if (geteuid() != 0) {
		if (geteuid() == uid && getuid() == uid)
			return CAP_OK;   /* already that user */
		snprintf(err, errlen, "-Z %s: only root can switch users", user);
		return CAP_ERR_PRIVS;
	}
	for (i = 0; i < ngive; i++) {
		/* written later, as the user: create it now and hand it over */
		int fd = open(give[i], O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || fchown(fd, uid, gid) != 0) {
			snprintf(err, errlen, "%s: cannot create it for user %s: %s", give[i], user, strerror(errno));
			if (fd >= 0)
				close(fd);
			return CAP_ERR_PRIVS;
		}
		close(fd);
	}
	if (initgroups(pw->pw_name, gid) != 0) {
		snprintf(err, errlen, "-Z %s: initgroups: %s", user, strerror(errno));
		return CAP_ERR_PRIVS;
	}
	if (setgid(gid) != 0) {
		snprintf(err, errlen, "-Z %s: setgid(%lu): %s", user, (unsigned long)gid, strerror(errno));
		return CAP_ERR_PRIVS;
	}
	if (setuid(uid) != 0) {
		snprintf(err, errlen, "-Z %s: setuid(%lu): %s", user, (unsigned long)uid, strerror(errno));
		return CAP_ERR_PRIVS;
	}
	/* verify: the ids stuck, and root cannot be had back */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
		snprintf(err, errlen, "-Z %s: the user and group ids did not change", user);
		return CAP_ERR_PRIVS;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "-Z %s: root privileges could be regained", user);
		return CAP_ERR_PRIVS;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "-Z %s: PR_SET_NO_NEW_PRIVS: %s", user, strerror(errno));
		return CAP_ERR_PRIVS;
	}
	return CAP_OK;
}

int cap_privs_check(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "-Z %s: no such user%s%s", user, errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid && getuid() == pw->pw_uid)
			return 0;
		snprintf(err, errlen, "-Z %s: only root can switch users", user);
		return -1;
	}
	return 1;
}

int cap_drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	int i, held = 0;
	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &h, d) != 0) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		held |= d[i].permitted || d[i].effective || d[i].inheritable;
	if (!held)
		return 0;
	memset(d, 0, sizeof(d));
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &h, d) != 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	return 1;
}

struct loop_ctx {
	struct cap_run *run;
	struct cap_input *in;
};

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct loop_ctx *c = (struct loop_ctx *)arg;
	int64_t ts = pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL);
	cap_packet(c->run, c->in, ts, data, h->caplen, h->len);
}

void cap_live_stats(struct cap_live *lv, struct cap_run *run)
{
	struct pcap_stat st;
	if (pcap_stats(lv->pc, &st) == 0) {
		run->have_kstats = 1;
		run->kernel_drops = st.ps_drop;
		run->if_drops = st.ps_ifdrop;
	}
}

enum cap_err cap_live_run(struct cap_live *lv, struct cap_run *run, struct cap_input *in,
			  const struct cap_live_opts *o, int64_t *end_us, char *err, size_t errlen)
{
	struct loop_ctx ctx = { run, in };
	struct sigaction sa;
	sigset_t block, waitmask;
	int64_t start = mono_us(), base_ts = wall_us(), base_mono = start, next_status, now;
	int fd = pcap_get_selectable_fd(lv->pc);
	enum cap_err rc = CAP_OK;

	run->live = 1;
	in->first_frame = run->frame + 1;
	next_status = start + o->status_us;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;   /* no SA_RESTART: a signal cuts poll() short */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	live_pc = lv->pc;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (;;) {
		int n, cnt = -1;
		int64_t m, wait = o->tick_us > 0 ? o->tick_us : CAP_TICK_US;
		fd_set rd;
		struct timespec ts;
		if (o->duration_us) {
			int64_t left = start + o->duration_us - mono_us();
			if (left < wait)
				wait = left > 0 ? left : 0;
		}
		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		ts.tv_sec = (time_t)(wait / 1000000);
		ts.tv_nsec = (long)(wait % 1000000) * 1000;
		if (pselect(fd + 1, &rd, NULL, NULL, &ts, &waitmask) < 0 && errno == EINTR)
			break;   /* SIGINT or SIGTERM: pcap_breakloop() was called */
		if (o->count) {
			uint64_t left = o->count - in->packets;
			cnt = left > 0x7fffffff ? 0x7fffffff : (int)left;
		}
		n = pcap_dispatch(lv->pc, cnt, on_packet, (u_char *)&ctx);
		m = mono_us();
		if (n > 0) {
			base_ts = run->last_ts_us;
			base_mono = m;
		}
		now = base_ts + (m - base_mono);
		if (now < run->last_ts_us)
			now = run->last_ts_us;
		if (n == PCAP_ERROR_BREAK)
			break;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", in->path, pcap_geterr(lv->pc));
			snprintf(in->error, sizeof(in->error), "%s", pcap_geterr(lv->pc));
			rc = CAP_ERR_LIVE;
			break;
		}
		if (now > run->now_us)
			run->now_us = now;
		flow_tick(run->ft, now);
		if (o->status && o->status_us && m >= next_status) {
			cap_live_stats(lv, run);
			o->status(o->arg, run);
			next_status = m + o->status_us;
		}
		if (o->count && in->packets >= o->count)
			break;
		if (o->duration_us && m - start >= o->duration_us)
			break;
	}
	/* the handler stays: a second ^C while the report is written is ignored,
	 * so the report is never cut short */
	live_pc = NULL;
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	cap_frag_release(run);
	cap_live_stats(lv, run);
	*end_us = base_ts + (mono_us() - base_mono);
	if (*end_us < run->last_ts_us)
		*end_us = run->last_ts_us;
	if (*end_us > run->now_us)
		run->now_us = *end_us;
	return rc;
}

void cap_live_close(struct cap_live *lv)
{
	if (!lv)
		return;
	pcap_close(lv->pc);
	free(lv);
}
