/* A small rtnetlink client: builds RTM_NEWLINK/DELLINK/NEWADDR/NEWROUTE requests and waits for
 * each ACK (rtnetlink(7), netlink(7)). Sockets inside a container netns are opened by a
 * short-lived thread that setns()es there; the calling thread never changes namespace. Owns no
 * policy (names, addresses and routes come from the engine). */
#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NL_BUF 4096

struct nl_msg {
  union {
    struct nlmsghdr h;
    uint8_t raw[NL_BUF];
  } u;
};

struct nl_sock {
  int fd;
  uint32_t seq;
};

static void set_step(struct tsc_nl_result *res, const char *step) {
  snprintf(res->step, sizeof res->step, "%s", step);
}

static int fail(struct tsc_nl_result *res, int err, const char *step) {
  if (res->err == 0) {
    res->err = err;
    set_step(res, step);
  }
  return -err;
}

static void *msg_tail(struct nl_msg *m) { return m->u.raw + NLMSG_ALIGN(m->u.h.nlmsg_len); }

static void msg_init(struct nl_msg *m, uint16_t type, uint16_t flags) {
  memset(m, 0, sizeof *m);
  m->u.h.nlmsg_len = NLMSG_LENGTH(0);
  m->u.h.nlmsg_type = type;
  m->u.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
}

/* Appends len bytes of payload (a family header) to the message. */
static void *msg_put(struct nl_msg *m, const void *data, size_t len) {
  void *at = msg_tail(m);
  memcpy(at, data, len);
  m->u.h.nlmsg_len = NLMSG_ALIGN(m->u.h.nlmsg_len) + (uint32_t)NLMSG_ALIGN(len);
  return at;
}

static struct rtattr *attr_put(struct nl_msg *m, uint16_t type, const void *data, size_t len) {
  struct rtattr *rta = msg_tail(m);
  rta->rta_type = type;
  rta->rta_len = (uint16_t)RTA_LENGTH(len);
  if (len > 0) memcpy(RTA_DATA(rta), data, len);
  m->u.h.nlmsg_len = NLMSG_ALIGN(m->u.h.nlmsg_len) + (uint32_t)RTA_ALIGN(rta->rta_len);
  return rta;
}

static void attr_u32(struct nl_msg *m, uint16_t type, uint32_t v) { attr_put(m, type, &v, 4); }
static void attr_u16(struct nl_msg *m, uint16_t type, uint16_t v) { attr_put(m, type, &v, 2); }
static void attr_str(struct nl_msg *m, uint16_t type, const char *s) {
  attr_put(m, type, s, strlen(s) + 1);
}
static struct rtattr *nest_start(struct nl_msg *m, uint16_t type) {
  return attr_put(m, type, NULL, 0);
}
static void nest_end(struct nl_msg *m, struct rtattr *nest) {
  nest->rta_len = (uint16_t)((uint8_t *)msg_tail(m) - (uint8_t *)nest);
}

static int sock_open(struct nl_sock *s) {
  s->seq = 0;
  s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s->fd < 0) return -errno;
  int one = 1;
  /* Best effort: the kernel's error text, and ACKs without a copy of the request. */
  (void)setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  (void)setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(s->fd, (struct sockaddr *)&local, sizeof local) < 0) {
    int e = errno;
    close(s->fd);
    s->fd = -1;
    return -e;
  }
  return 0;
}

static void sock_close(struct nl_sock *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

/* Copies the extended-ack message text (NLMSGERR_ATTR_MSG) of an error into res. */
static void ext_ack_message(const struct nlmsghdr *h, struct tsc_nl_result *res) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
  const struct nlmsgerr *e = NLMSG_DATA(h);
  size_t off = NLMSG_HDRLEN + sizeof *e;
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  if (off >= h->nlmsg_len) return;
  const struct rtattr *rta = (const struct rtattr *)((const uint8_t *)h + NLMSG_ALIGN(off));
  int len = (int)(h->nlmsg_len - NLMSG_ALIGN(off));
  for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    if (rta->rta_type == NLMSGERR_ATTR_MSG) {
      snprintf(res->message, sizeof res->message, "%.*s", (int)RTA_PAYLOAD(rta),
               (const char *)RTA_DATA(rta));
      return;
    }
  }
}

/* Sends one request and reads until its ACK. A RTM_NEWLINK reply (to RTM_GETLINK) stores the
 * ifindex in *ifindex when given. Returns 0 or -errno; on error fills res with step. */
static int talk(struct nl_sock *s, struct nl_msg *m, int *ifindex, struct tsc_nl_result *res,
                const char *step) {
  m->u.h.nlmsg_seq = ++s->seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do {
    n = sendto(s->fd, m->u.raw, m->u.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(res, errno, step);
  uint8_t buf[8192] __attribute__((aligned(4)));
  for (;;) {
    n = recv(s->fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(res, errno, step);
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != s->seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error == 0) return 0;
        if (res->err == 0) ext_ack_message(h, res);
        return fail(res, -e->error, step);
      }
      if (h->nlmsg_type == RTM_NEWLINK && ifindex != NULL) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        *ifindex = ifi->ifi_index;
      }
    }
  }
}

/* ---- requests ---- */

static int link_index(struct nl_sock *s, const char *name, int *index, struct tsc_nl_result *res,
                      const char *step) {
  struct nl_msg m;
  msg_init(&m, RTM_GETLINK, 0);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  msg_put(&m, &ifi, sizeof ifi);
  attr_str(&m, IFLA_IFNAME, name);
  *index = 0;
  int r = talk(s, &m, index, res, step);
  if (r == 0 && *index == 0) return fail(res, ENODEV, step);
  return r;
}

static int link_up(struct nl_sock *s, int index, struct tsc_nl_result *res, const char *step) {
  struct nl_msg m;
  msg_init(&m, RTM_NEWLINK, 0);
  struct ifinfomsg ifi = {
      .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  msg_put(&m, &ifi, sizeof ifi);
  return talk(s, &m, NULL, res, step);
}

static int link_del(struct nl_sock *s, const char *name, struct tsc_nl_result *res,
                    const char *step) {
  struct nl_msg m;
  msg_init(&m, RTM_DELLINK, 0);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  msg_put(&m, &ifi, sizeof ifi);
  attr_str(&m, IFLA_IFNAME, name);
  return talk(s, &m, NULL, res, step);
}

static int addr_len(int family) { return family == AF_INET6 ? 16 : 4; }

static int addr_add(struct nl_sock *s, int index, const struct tsc_nl_addr *a,
                    struct tsc_nl_result *res, const char *step) {
  struct nl_msg m;
  msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg ifa = {.ifa_family = (uint8_t)a->family,
                          .ifa_prefixlen = (uint8_t)a->prefix,
                          .ifa_flags = a->family == AF_INET6 ? IFA_F_NODAD : 0,
                          .ifa_scope = RT_SCOPE_UNIVERSE,
                          .ifa_index = (uint32_t)index};
  msg_put(&m, &ifa, sizeof ifa);
  int alen = addr_len(a->family);
  attr_put(&m, IFA_LOCAL, a->addr, (size_t)alen);
  attr_put(&m, IFA_ADDRESS, a->addr, (size_t)alen);
  if (a->family == AF_INET && a->prefix < 31) {
    /* The broadcast address, as Docker's netlink library sets it. */
    uint8_t brd[4];
    uint32_t host = a->prefix == 0 ? 0xffffffffu : (0xffffffffu >> a->prefix);
    for (int i = 0; i < 4; i++) brd[i] = a->addr[i] | (uint8_t)(host >> (24 - 8 * i));
    attr_put(&m, IFA_BROADCAST, brd, 4);
  }
  return talk(s, &m, NULL, res, step);
}

static int default_route(struct nl_sock *s, int index, const struct tsc_nl_addr *gw,
                         struct tsc_nl_result *res, const char *step) {
  struct nl_msg m;
  msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  struct rtmsg rt = {.rtm_family = (uint8_t)gw->family,
                     .rtm_dst_len = 0,
                     .rtm_table = RT_TABLE_MAIN,
                     .rtm_protocol = RTPROT_BOOT,
                     .rtm_scope = RT_SCOPE_UNIVERSE,
                     .rtm_type = RTN_UNICAST};
  /* An all-zero gateway (0.0.0.0, ::) means a device route: `default dev <link>`. */
  int alen = addr_len(gw->family), onlink = 1;
  for (int i = 0; i < alen; i++) onlink &= gw->addr[i] == 0;
  if (onlink) rt.rtm_scope = RT_SCOPE_LINK;
  msg_put(&m, &rt, sizeof rt);
  if (!onlink) attr_put(&m, RTA_GATEWAY, gw->addr, (size_t)alen);
  attr_u32(&m, RTA_OIF, (uint32_t)index);
  return talk(s, &m, NULL, res, step);
}

/* ---- sockets inside another netns ---- */

struct ns_open {
  int nsfd;
  int err;
  struct nl_sock sock;
};

static void *ns_open_thread(void *arg) {
  struct ns_open *o = arg;
  if (setns(o->nsfd, CLONE_NEWNET) < 0) {
    o->err = errno;
    return NULL;
  }
  int r = sock_open(&o->sock);
  if (r < 0) o->err = -r;
  return NULL; /* the thread ends here; the socket stays bound to that netns */
}

/* Opens a NETLINK_ROUTE socket in the netns nsfd names, from a thread of its own. */
static int sock_open_in(int nsfd, struct nl_sock *s, struct tsc_nl_result *res) {
  struct ns_open o = {.nsfd = nsfd, .err = 0, .sock = {.fd = -1, .seq = 0}};
  pthread_t t;
  int e = pthread_create(&t, NULL, ns_open_thread, &o);
  if (e != 0) return fail(res, e, "start netns thread");
  pthread_join(t, NULL);
  if (o.err != 0) return fail(res, o.err, "open netlink in container netns");
  *s = o.sock;
  return 0;
}

/* ---- operations ---- */

static int create_link(struct nl_sock *host, const struct tsc_nl_endpoint *a, int nsfd,
                       struct tsc_nl_result *res) {
  struct nl_msg m;
  msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  /* The host end of a veth comes up here; a macvlan/ipvlan (born in the container) comes up
   * from inside, after its addresses. */
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  if (a->kind == TSC_NL_VETH) {
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
  }
  msg_put(&m, &ifi, sizeof ifi);
  if (a->kind == TSC_NL_VETH) {
    int master = 0;
    if (a->bridge[0] != '\0') {
      int r = link_index(host, a->bridge, &master, res, "find bridge");
      if (r < 0) return r;
    }
    attr_str(&m, IFLA_IFNAME, a->host_ifname);
    if (a->mtu > 0) attr_u32(&m, IFLA_MTU, a->mtu);
    if (master > 0) attr_u32(&m, IFLA_MASTER, (uint32_t)master);
    struct rtattr *info = nest_start(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "veth");
    struct rtattr *data = nest_start(&m, IFLA_INFO_DATA);
    struct rtattr *peer = nest_start(&m, VETH_INFO_PEER);
    /* Not IFF_UP here: veth links the pair only after configuring the peer (ENOTCONN). */
    struct ifinfomsg pifi = {.ifi_family = AF_UNSPEC};
    msg_put(&m, &pifi, sizeof pifi);
    attr_str(&m, IFLA_IFNAME, a->ifname);
    if (a->has_mac) attr_put(&m, IFLA_ADDRESS, a->mac, 6);
    if (a->mtu > 0) attr_u32(&m, IFLA_MTU, a->mtu);
    attr_u32(&m, IFLA_NET_NS_FD, (uint32_t)nsfd);
    nest_end(&m, peer);
    nest_end(&m, data);
    nest_end(&m, info);
    return talk(host, &m, NULL, res, "create veth");
  }
  int parent = 0;
  int r = link_index(host, a->parent, &parent, res, "find parent link");
  if (r < 0) return r;
  attr_str(&m, IFLA_IFNAME, a->ifname);
  attr_u32(&m, IFLA_LINK, (uint32_t)parent);
  if (a->mtu > 0) attr_u32(&m, IFLA_MTU, a->mtu);
  if (a->has_mac && a->kind == TSC_NL_MACVLAN) attr_put(&m, IFLA_ADDRESS, a->mac, 6);
  attr_u32(&m, IFLA_NET_NS_FD, (uint32_t)nsfd);
  struct rtattr *info = nest_start(&m, IFLA_LINKINFO);
  attr_str(&m, IFLA_INFO_KIND, a->kind == TSC_NL_MACVLAN ? "macvlan" : "ipvlan");
  struct rtattr *data = nest_start(&m, IFLA_INFO_DATA);
  if (a->kind == TSC_NL_MACVLAN) {
    attr_u32(&m, IFLA_MACVLAN_MODE, a->mode);
  } else {
    attr_u16(&m, IFLA_IPVLAN_MODE, (uint16_t)a->mode);
    attr_u16(&m, IFLA_IPVLAN_FLAGS, a->ipvlan_flags);
  }
  nest_end(&m, data);
  nest_end(&m, info);
  return talk(host, &m, NULL, res, a->kind == TSC_NL_MACVLAN ? "create macvlan" : "create ipvlan");
}

static int configure_inside(struct nl_sock *c, const struct tsc_nl_endpoint *a,
                            struct tsc_nl_result *res) {
  int r = link_up(c, 1, res, "set lo up"); /* lo is ifindex 1 in every netns */
  if (r < 0) return r;
  int index = 0;
  r = link_index(c, a->ifname, &index, res, "find container link");
  if (r < 0) return r;
  char step[48];
  for (int i = 0; i < a->naddrs; i++) {
    snprintf(step, sizeof step, "add address %d", i + 1);
    r = addr_add(c, index, &a->addrs[i], res, step);
    if (r < 0) return r;
  }
  r = link_up(c, index, res, "set container link up");
  if (r < 0) return r;
  for (int i = 0; i < a->ngateways; i++) {
    snprintf(step, sizeof step, "add default route %d", i + 1);
    r = default_route(c, index, &a->gateways[i], res, step);
    if (r < 0) return r;
  }
  return 0;
}

int tsc_nl_attach(const struct tsc_nl_endpoint *a, struct tsc_nl_result *res) {
  memset(res, 0, sizeof *res);
  int nsfd = a->netns_fd;
  int own_fd = 0;
  if (nsfd < 0) {
    nsfd = open(a->netns_path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return fail(res, errno, "open netns");
    own_fd = 1;
  }
  struct nl_sock host = {.fd = -1}, inside = {.fd = -1};
  int r = sock_open(&host);
  if (r < 0) {
    fail(res, -r, "open netlink");
    goto out;
  }
  r = create_link(&host, a, nsfd, res);
  if (r < 0) goto out;
  r = sock_open_in(nsfd, &inside, res);
  if (r == 0) r = configure_inside(&inside, a, res);
  if (r < 0) {
    struct tsc_nl_result ignored = {0};
    if (a->kind == TSC_NL_VETH) {
      link_del(&host, a->host_ifname, &ignored, "undo");
    } else if (inside.fd >= 0) {
      link_del(&inside, a->ifname, &ignored, "undo");
    }
  }
out:
  sock_close(&inside);
  sock_close(&host);
  if (own_fd) close(nsfd);
  return r;
}

int tsc_nl_link_del(const char *name, const char *netns_path, struct tsc_nl_result *res) {
  memset(res, 0, sizeof *res);
  struct nl_sock s = {.fd = -1};
  int r;
  if (netns_path != NULL && netns_path[0] != '\0') {
    int nsfd = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return fail(res, errno, "open netns");
    r = sock_open_in(nsfd, &s, res);
    close(nsfd);
    if (r < 0) return r;
  } else {
    r = sock_open(&s);
    if (r < 0) return fail(res, -r, "open netlink");
  }
  r = link_del(&s, name, res, "delete link");
  sock_close(&s);
  return r;
}

int tsc_nl_bridge_create(const char *name, const uint8_t *mac, uint32_t mtu,
                         const struct tsc_nl_addr *addrs, int naddrs, struct tsc_nl_result *res) {
  memset(res, 0, sizeof *res);
  struct nl_sock s = {.fd = -1};
  int r = sock_open(&s);
  if (r < 0) return fail(res, -r, "open netlink");
  struct nl_msg m;
  msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  msg_put(&m, &ifi, sizeof ifi);
  attr_str(&m, IFLA_IFNAME, name);
  if (mtu > 0) attr_u32(&m, IFLA_MTU, mtu);
  if (mac != NULL) attr_put(&m, IFLA_ADDRESS, mac, 6);
  struct rtattr *info = nest_start(&m, IFLA_LINKINFO);
  attr_str(&m, IFLA_INFO_KIND, "bridge");
  nest_end(&m, info);
  r = talk(&s, &m, NULL, res, "create bridge");
  if (r < 0) goto out;
  int index = 0;
  r = link_index(&s, name, &index, res, "find bridge");
  char step[48];
  for (int i = 0; r == 0 && i < naddrs; i++) {
    snprintf(step, sizeof step, "add address %d", i + 1);
    r = addr_add(&s, index, &addrs[i], res, step);
  }
  if (r == 0) r = link_up(&s, index, res, "set bridge up");
  if (r < 0) {
    struct tsc_nl_result ignored = {0};
    link_del(&s, name, &ignored, "undo");
  }
out:
  sock_close(&s);
  return r;
}
