/* SPDX-License-Identifier: MIT */
/*
 * tun-stack.c — lwIP on our event loop: one netif whose output is the TUN
 * device, TCP terminated for every destination, each accepted connection
 * a struct tun_flow the flow sink drives like a non-blocking socket. No
 * UDP or ICMP reaches lwIP (tun.c answers those); this file sees only TCP
 * segments tun-pkt.c has already checked.
 *
 * lwIP is built by Debian for the Hurd's network translator (NO_SYS=0,
 * core locking, the unix port's pthread sys_arch), but its raw API works
 * from one thread when tcpip_init is never called: lwip_init sets up the
 * stack, sys_check_timeouts runs its timers from an ev timer, and the
 * core-lock check passes because no tcpip thread exists.
 *
 * Terminating every destination. lwIP accepts a packet only for an
 * address of its netif and a segment only for a port something listens
 * on. So before each segment goes in, the netif's address is set to the
 * segment's destination (the struct field, not netif_set_ipaddr, which
 * would abort every connection bound to the old address), and a SYN for
 * a port without a listener creates one (any address, both families,
 * SO_REUSEADDR; listeners stay until the stack stops: SYN_RCVD
 * connections need theirs to be accepted). A new connection's local
 * address is the destination the application asked for, and lwIP sends
 * from a connection's local address, so answers leave with the right
 * source. Between segments the IPv4 address is 0.0.0.1 and the IPv6 one
 * invalid: no peer can have either (tun-pkt.c drops such sources), so
 * lwIP never takes an outgoing segment for one to itself (its loopback
 * path needs the tcpip thread and would abort).
 *
 * Flow events are never delivered from inside lwIP: its callbacks only
 * record state and queue the flow; a zero-delay timer then calls the
 * sink's callbacks (level-triggered, as epoll), and flows the sink closed
 * are freed there too, so no callback ever sees a freed flow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <lwip/init.h>
#include <lwip/ip.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h> /* tcp_active_pcbs, tcp_tw_pcbs */
#include <lwip/tcp.h>
#include <lwip/timeouts.h>

#include "engine/tun-int.h"

enum flow_state { FLOW_NEW, FLOW_OPEN, FLOW_DEAD };

struct tun_flow {
	struct tun_stack *k;
	struct tcp_pcb *pcb; /* NULL once lwIP is done with it */
	struct pbuf *rx;     /* received, not read yet */
	enum flow_state state;
	int err;	      /* errno recv/send report, 0: none */
	unsigned rx_eof : 1;  /* the application's FIN arrived */
	unsigned shut_wr : 1; /* we sent (or queued) our FIN */
	unsigned queued : 1;  /* on the ready list */
	int mask;
	tun_flow_io_cb *cb;
	void *cbarg;
	union net_addr src, dst;
	struct tun_flow *rnext;	      /* ready or dead list */
	struct tun_flow *prev, *next; /* every live flow */
};

struct tun_stack {
	struct tun *t;
	struct netif netif;
	struct tcp_pcb **listen; /* by port */
	size_t nlisten;
	struct tun_flow *flows;
	size_t nflows;
	struct tun_flow *ready, *dead;
	struct tun_flow **batch;
	size_t batch_cap;
	uint64_t dispatch_timer;
	uint64_t lwip_timer;
	uint64_t lwip_due_us;
	uint8_t out[TUN_PKT_MAX];
};

static int lwip_ready;
static struct tun_stack *the_stack;

static void dispatch(struct ev_loop *loop, uint64_t id, void *arg);
static void arm_lwip(struct tun_stack *k);

/* ---- lwIP's timers ---- */

static void
lwip_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct tun_stack *k = arg;

	(void)loop;
	(void)id;
	k->lwip_timer = 0;
	sys_check_timeouts();
	/* lwIP's timers are cyclic (TCP's every 250 ms while connections
	 * exist, IPv6 neighbour and reassembly ones every second). */
	arm_lwip(k);
}

/* Run lwIP's timers when its next one is due: called after everything
 * that may start a timer (input, a write, a close). */
static void
arm_lwip(struct tun_stack *k)
{
	struct ev_loop *loop = k->t->loop;
	uint32_t ms = sys_timeouts_sleeptime();
	uint64_t now = ev_now_us(loop), due;

	if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		ms = 1000;
	due = now + (uint64_t)ms * 1000;
	if (k->lwip_timer != 0 && k->lwip_due_us <= due)
		return;
	if (k->lwip_timer != 0)
		ev_timer_cancel(loop, k->lwip_timer);
	k->lwip_due_us = due;
	k->lwip_timer = ev_timer_add(loop, (uint64_t)ms * 1000, lwip_tick, k);
}

/* ---- the flow list and the ready queue ---- */

static void
mark(struct tun_flow *f)
{
	struct tun_stack *k = f->k;

	if (!f->queued && f->state != FLOW_DEAD) {
		f->queued = 1;
		f->rnext = k->ready;
		k->ready = f;
	}
	if (k->dispatch_timer == 0)
		k->dispatch_timer = ev_timer_add(k->t->loop, 0, dispatch, k);
}

static int
ready_events(const struct tun_flow *f)
{
	int ev = 0;

	if (f->rx != NULL || f->rx_eof || f->err != 0 || f->pcb == NULL)
		ev |= EV_READ;
	if (f->err != 0 || f->pcb == NULL ||
	    (!f->shut_wr && tcp_sndbuf(f->pcb) >= TCP_MSS &&
		tcp_sndqueuelen(f->pcb) < TCP_SND_QUEUELEN / 2))
		ev |= EV_WRITE;
	return ev;
}

static void
detach_pcb(struct tun_flow *f)
{
	struct tcp_pcb *pcb = f->pcb;

	if (pcb == NULL)
		return;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	f->pcb = NULL;
}

/* Off the live list, onto the dead one (freed by dispatch). */
static void
bury(struct tun_flow *f)
{
	struct tun_stack *k = f->k;

	if (f->state == FLOW_DEAD)
		return;
	if (f->state == FLOW_OPEN)
		k->t->st.flows_open--;
	f->state = FLOW_DEAD;
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		k->flows = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	k->nflows--;
	if (f->rx != NULL) {
		pbuf_free(f->rx);
		f->rx = NULL;
	}
	/* Off the ready list is done by dispatch (it skips dead flows). */
	if (!f->queued) {
		f->queued = 1; /* keeps mark() away */
		f->rnext = k->dead;
		k->dead = f;
	}
	if (k->dispatch_timer == 0)
		k->dispatch_timer = ev_timer_add(k->t->loop, 0, dispatch, k);
}

static void
free_dead(struct tun_stack *k)
{
	struct tun_flow *f;

	while ((f = k->dead) != NULL) {
		k->dead = f->rnext;
		free(f);
	}
}

static void
abort_flow(struct tun_flow *f)
{
	struct tcp_pcb *pcb = f->pcb;

	detach_pcb(f);
	if (pcb != NULL)
		tcp_abort(pcb);
	bury(f);
}

static void
dispatch(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct tun_stack *k = arg;
	struct tun *t = k->t;
	struct tun_flow *f;
	size_t n = 0, i;
	int ev;

	(void)loop;
	(void)id;
	k->dispatch_timer = 0;
	for (f = k->ready; f != NULL; f = f->rnext)
		n++;
	if (n > k->batch_cap) {
		k->batch_cap = MAX(n, 2 * k->batch_cap);
		k->batch = xreallocarray(k->batch, k->batch_cap, sizeof f);
	}
	for (i = 0, f = k->ready; f != NULL; f = f->rnext)
		k->batch[i++] = f;
	k->ready = NULL;
	for (i = 0; i < n; i++) {
		f = k->batch[i];
		if (f->state == FLOW_DEAD) {
			/* Queued before it died: now it may be freed. */
			f->rnext = k->dead;
			k->dead = f;
			k->batch[i] = NULL;
			continue;
		}
		f->queued = 0;
		if (f->state == FLOW_NEW) {
			f->state = FLOW_OPEN;
			t->st.flows_open++;
			if (t->fs.open == NULL ||
			    t->fs.open(t->fs.arg, f, &f->src, &f->dst) == -1) {
				t->st.flows_refused++;
				abort_flow(f);
				continue;
			}
			t->st.flows_opened++;
			continue;
		}
		ev = ready_events(f) & f->mask;
		if (ev != 0 && f->cb != NULL)
			f->cb(f, ev, f->cbarg);
	}
	/* Level-triggered: what is still ready and wanted goes again. */
	for (i = 0; i < n; i++) {
		f = k->batch[i];
		if (f != NULL && f->state == FLOW_OPEN && !f->queued &&
		    (ready_events(f) & f->mask) != 0)
			mark(f);
	}
	free_dead(k);
	arm_lwip(k);
}

/* ---- lwIP's callbacks: record and queue, nothing more ---- */

static err_t
on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tun_flow *f = arg;

	(void)pcb;
	(void)err;
	if (f == NULL) {
		if (p != NULL)
			pbuf_free(p);
		return ERR_OK;
	}
	if (p == NULL) {
		f->rx_eof = 1;
		/* Both FINs: lwIP may free the connection (TIME_WAIT) without
		 * telling us, so let go of it now. */
		if (f->shut_wr)
			detach_pcb(f);
	} else {
		f->k->t->st.flow_bytes_up += p->tot_len;
		if (f->rx == NULL)
			f->rx = p;
		else
			pbuf_cat(f->rx, p);
	}
	mark(f);
	return ERR_OK;
}

static err_t
on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct tun_flow *f = arg;

	(void)pcb;
	(void)len;
	if (f != NULL)
		mark(f);
	return ERR_OK;
}

/* lwIP freed the connection. ERR_CLSD: it ended cleanly after both FINs
 * (the application's FIN came first, ours was acknowledged). */
static void
on_err(void *arg, err_t err)
{
	struct tun_flow *f = arg;

	if (f == NULL)
		return;
	f->pcb = NULL;
	if (err != ERR_CLSD) {
		f->err = err == ERR_RST ? ECONNRESET : ECONNABORTED;
		f->k->t->st.flows_reset++;
		if (f->rx != NULL) {
			pbuf_free(f->rx);
			f->rx = NULL;
		}
	}
	if (f->state == FLOW_NEW) {
		bury(f);
		return;
	}
	mark(f);
}

static void
pcb_addr(const ip_addr_t *ip, u16_t port, union net_addr *a)
{
	memset(a, 0, sizeof *a);
	if (IP_IS_V6(ip)) {
		a->in6.sin6_family = AF_INET6;
		memcpy(&a->in6.sin6_addr, ip_2_ip6(ip)->addr, 16);
		a->in6.sin6_port = htons(port);
	} else {
		a->in.sin_family = AF_INET;
		a->in.sin_addr.s_addr = ip_2_ip4(ip)->addr;
		a->in.sin_port = htons(port);
	}
}

static err_t
on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct tun_stack *k = arg;
	struct tun_flow *f;

	if (err != ERR_OK || pcb == NULL || k == NULL)
		return ERR_VAL;
	if (k->nflows >= k->t->cfg.max_flows) {
		k->t->st.drops[TUN_DROP_FLOW_LIMIT]++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	f = xcalloc(1, sizeof *f);
	f->k = k;
	f->pcb = pcb;
	f->state = FLOW_NEW;
	pcb_addr(&pcb->remote_ip, pcb->remote_port, &f->src);
	pcb_addr(&pcb->local_ip, pcb->local_port, &f->dst);
	f->next = k->flows;
	if (k->flows != NULL)
		k->flows->prev = f;
	k->flows = f;
	k->nflows++;
	tcp_arg(pcb, f);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_nagle_disable(pcb);
	mark(f);
	return ERR_OK;
}

/* ---- the netif ---- */

static err_t
netif_out(struct netif *n, struct pbuf *p)
{
	struct tun_stack *k = n->state;
	const uint8_t *data = p->payload;

	/* tot_len is 16 bits: it fits k->out (TUN_PKT_MAX). */
	if (p->next != NULL) {
		pbuf_copy_partial(p, k->out, p->tot_len, 0);
		data = k->out;
	}
	if (tun_write_pkt(k->t, data, p->tot_len) == -1)
		return ERR_IF;
	return ERR_OK;
}

static err_t
out4(struct netif *n, struct pbuf *p, const ip4_addr_t *a)
{
	(void)a;
	return netif_out(n, p);
}

static err_t
out6(struct netif *n, struct pbuf *p, const ip6_addr_t *a)
{
	(void)a;
	return netif_out(n, p);
}

static err_t
netif_setup(struct netif *n)
{
	struct tun_stack *k = n->state;

	n->name[0] = 't';
	n->name[1] = 'u';
	n->output = out4;
	n->output_ip6 = out6;
	n->mtu = (u16_t)k->t->cfg.mtu;
	n->mtu6 = (u16_t)k->t->cfg.mtu;
	n->flags = NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

/* Between segments: addresses no peer can have (see the top). */
static void
idle_addresses(struct tun_stack *k)
{
	ip_2_ip4(&k->netif.ip_addr)->addr = htonl(1);
	k->netif.ip6_addr_state[0] = IP6_ADDR_INVALID;
}

struct tun_stack *
tun_stack_new(struct tun *t, struct err *e)
{
	struct tun_stack *k;
	ip4_addr_t mask;

	if (the_stack != NULL) {
		err_set(e, "tun: lwIP runs one stack per process");
		return NULL;
	}
	if (!lwip_ready) {
		lwip_init();
		lwip_ready = 1;
	}
	k = xcalloc(1, sizeof *k);
	k->t = t;
	k->nlisten = 65536;
	k->listen = xcalloc(k->nlisten, sizeof *k->listen);
	ip4_addr_set_u32(&mask, 0xffffffffu);
	if (netif_add_noaddr(&k->netif, k, netif_setup, ip_input) == NULL) {
		free(k->listen);
		free(k);
		err_set(e, "tun: lwIP refused the interface");
		return NULL;
	}
	netif_set_netmask(&k->netif, &mask);
	IP_SET_TYPE_VAL(k->netif.ip_addr, IPADDR_TYPE_V4);
	IP_SET_TYPE_VAL(k->netif.ip6_addr[0], IPADDR_TYPE_V6);
	idle_addresses(k);
	netif_set_default(&k->netif);
	netif_set_up(&k->netif);
	netif_set_link_up(&k->netif);
	/* No router solicitations, no MLD: the kernel side is no router. */
	k->netif.rs_count = 0;
	the_stack = k;
	arm_lwip(k);
	return k;
}

void
tun_stack_free(struct tun_stack *k)
{
	struct tcp_pcb *pcb, *next;
	size_t i;

	if (k == NULL)
		return;
	while (k->flows != NULL)
		abort_flow(k->flows);
	/* Connections the sink already let go of (closing, TIME_WAIT). */
	for (pcb = tcp_active_pcbs; pcb != NULL; pcb = next) {
		next = pcb->next;
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_abort(pcb);
	}
	for (pcb = tcp_tw_pcbs; pcb != NULL; pcb = next) {
		next = pcb->next;
		tcp_abort(pcb);
	}
	for (i = 0; i < k->nlisten; i++)
		if (k->listen[i] != NULL)
			tcp_close(k->listen[i]);
	/* Flows queued while alive are on the ready list only. */
	while (k->ready != NULL) {
		struct tun_flow *f = k->ready;

		k->ready = f->rnext;
		if (f->state == FLOW_DEAD) {
			f->rnext = k->dead;
			k->dead = f;
		}
	}
	free_dead(k);
	if (k->dispatch_timer != 0)
		ev_timer_cancel(k->t->loop, k->dispatch_timer);
	if (k->lwip_timer != 0)
		ev_timer_cancel(k->t->loop, k->lwip_timer);
	netif_set_down(&k->netif);
	netif_remove(&k->netif);
	free(k->listen);
	free(k->batch);
	free(k);
	the_stack = NULL;
}

static int
ensure_listener(struct tun_stack *k, uint16_t port)
{
	struct tcp_pcb *pcb, *l;

	if (k->listen[port] != NULL)
		return 0;
	if ((pcb = tcp_new_ip_type(IPADDR_TYPE_ANY)) == NULL)
		return -1;
	ip_set_option(pcb, SOF_REUSEADDR);
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		tcp_close(pcb);
		return -1;
	}
	if ((l = tcp_listen_with_backlog(pcb, 255)) == NULL) {
		tcp_close(pcb);
		return -1;
	}
	tcp_arg(l, k);
	tcp_accept(l, on_accept);
	k->listen[port] = l;
	return 0;
}

void
tun_stack_input(struct tun_stack *k, const struct tun_pkt *p)
{
	struct tun *t = k->t;
	struct pbuf *pb;
	ip6_addr_t *a6;

	/* SYN without ACK */
	if ((p->tcp_flags & 0x12) == 0x02 &&
	    ensure_listener(k, p->dport) == -1) {
		t->st.drops[TUN_DROP_STACK]++;
		return;
	}
	if ((pb = pbuf_alloc(PBUF_RAW, (u16_t)p->ip_len, PBUF_RAM)) == NULL) {
		t->st.drops[TUN_DROP_STACK]++;
		return;
	}
	if (pbuf_take(pb, p->ip, (u16_t)p->ip_len) != ERR_OK) {
		pbuf_free(pb);
		t->st.drops[TUN_DROP_STACK]++;
		return;
	}
	if (p->family == AF_INET) {
		memcpy(&ip_2_ip4(&k->netif.ip_addr)->addr, p->dst, 4);
	} else {
		a6 = ip_2_ip6(&k->netif.ip6_addr[0]);
		memcpy(a6->addr, p->dst, 16);
		ip6_addr_clear_zone(a6);
		ip6_addr_assign_zone(a6, IP6_UNICAST, &k->netif);
		k->netif.ip6_addr_state[0] = IP6_ADDR_PREFERRED;
	}
	/* ip_input frees the pbuf whatever happens. */
	(void)k->netif.input(pb, &k->netif);
	idle_addresses(k);
	arm_lwip(k);
}

/* ---- the socket-like side ---- */

void
tun_flow_set_io(struct tun_flow *f, int events, tun_flow_io_cb *cb, void *arg)
{
	f->cb = cb;
	f->cbarg = arg;
	tun_flow_set_mask(f, events);
}

void
tun_flow_set_mask(struct tun_flow *f, int events)
{
	f->mask = events;
	if (f->state == FLOW_OPEN && (ready_events(f) & events) != 0)
		mark(f);
}

ssize_t
tun_flow_recv(struct tun_flow *f, void *buf, size_t len)
{
	u16_t n;

	if (f->rx != NULL && len > 0) {
		n = pbuf_copy_partial(f->rx, buf, (u16_t)MIN(len, 0xffff), 0);
		f->rx = pbuf_free_header(f->rx, n);
		if (f->pcb != NULL) {
			tcp_recved(f->pcb, n);
			arm_lwip(f->k);
		}
		return n;
	}
	if (f->err != 0) {
		errno = f->err;
		return -1;
	}
	if (f->rx_eof || f->pcb == NULL)
		return 0;
	errno = EAGAIN;
	return -1;
}

ssize_t
tun_flow_send(struct tun_flow *f, const void *buf, size_t len)
{
	size_t n;
	err_t r;

	if (f->err != 0) {
		errno = f->err;
		return -1;
	}
	if (f->shut_wr || f->pcb == NULL) {
		errno = EPIPE;
		return -1;
	}
	n = MIN(len, (size_t)tcp_sndbuf(f->pcb));
	n = MIN(n, 0xffffu);
	if (n == 0 || tcp_sndqueuelen(f->pcb) >= TCP_SND_QUEUELEN) {
		errno = EAGAIN;
		return -1;
	}
	r = tcp_write(f->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
	if (r == ERR_MEM) {
		errno = EAGAIN;
		return -1;
	}
	if (r != ERR_OK) {
		errno = EPIPE;
		return -1;
	}
	f->k->t->st.flow_bytes_down += n;
	tcp_output(f->pcb);
	arm_lwip(f->k);
	return (ssize_t)n;
}

int
tun_flow_shutdown_wr(struct tun_flow *f)
{
	if (f->shut_wr)
		return 0;
	f->shut_wr = 1;
	if (f->pcb == NULL)
		return 0;
	if (tcp_shutdown(f->pcb, 0, 1) != ERR_OK) {
		abort_flow(f);
		return -1;
	}
	if (f->rx_eof)
		detach_pcb(f);
	arm_lwip(f->k);
	return 0;
}

void
tun_flow_close(struct tun_flow *f)
{
	struct tcp_pcb *pcb = f->pcb;

	detach_pcb(f);
	if (pcb != NULL && tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
	bury(f);
	arm_lwip(f->k);
}

void
tun_flow_abort(struct tun_flow *f)
{
	abort_flow(f);
}

size_t
tun_flow_pending_in(const struct tun_flow *f)
{
	return f->rx != NULL ? f->rx->tot_len : 0;
}

size_t
tun_flow_pending_out(const struct tun_flow *f)
{
	if (f->pcb == NULL)
		return 0;
	return (size_t)(TCP_SND_BUF - tcp_sndbuf(f->pcb));
}
