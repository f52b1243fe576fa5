/* A small rtnetlink client: builds RTM_NEWLINK/DELLINK/NEWADDR/NEWROUTE requests and waits for
 * each ACK (rtnetlink(7), netlink(7)); announces a new endpoint's addresses (gratuitous ARP,
 * unsolicited NA). Sockets inside a container netns are opened by a
 * short-lived thread that setns()es there; the calling thread never changes namespace. Owns no
 * policy (names, addresses and routes come from the engine). */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <netpacket/packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NL_BUF 4096

/* IFLA_OPERSTATE values (RFC 2863 ifOperStatus as linux/if.h numbers them; that header clashes
 * with <net/if.h>). */
enum { OPER_UNKNOWN = 0, OPER_UP = 6 };

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

/* What a RTM_NEWLINK reply says about a link: ifindex, IFLA_OPERSTATE (IF_OPER_*) and, for a
 * bridge port, IFLA_BRPORT_STATE (BR_STATE_*); -1 when absent. */
struct link_info {
  int index;
  int operstate;
  int brport_state;
};

static void parse_link(const struct nlmsghdr *h, struct link_info *info) {
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  info->index = ifi->ifi_index;
  int len = (int)IFLA_PAYLOAD(h);
  for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_OPERSTATE && RTA_PAYLOAD(a) >= 1) {
      info->operstate = *(const uint8_t *)RTA_DATA(a);
    } else if (a->rta_type == IFLA_LINKINFO) {
      int l1 = (int)RTA_PAYLOAD(a);
      for (const struct rtattr *b = RTA_DATA(a); RTA_OK(b, l1); b = RTA_NEXT(b, l1)) {
        if (b->rta_type != IFLA_INFO_SLAVE_DATA) continue;
        int l2 = (int)RTA_PAYLOAD(b);
        for (const struct rtattr *c = RTA_DATA(b); RTA_OK(c, l2); c = RTA_NEXT(c, l2)) {
          if (c->rta_type == IFLA_BRPORT_STATE && RTA_PAYLOAD(c) >= 1)
            info->brport_state = *(const uint8_t *)RTA_DATA(c);
        }
      }
    }
  }
}

/* Sends one request and reads until its ACK. A RTM_NEWLINK reply (to RTM_GETLINK) is parsed into
 * *info when given. Returns 0 or -errno; on error fills res with step. */
static int talk(struct nl_sock *s, struct nl_msg *m, struct link_info *info,
                struct tsc_nl_result *res, const char *step) {
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
      if (h->nlmsg_type == RTM_NEWLINK && info != NULL) parse_link(h, info);
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
  struct link_info info = {0, -1, -1};
  int r = talk(s, &m, &info, res, step);
  *index = info.index;
  if (r == 0 && *index == 0) return fail(res, ENODEV, step);
  return r;
}

/* Reads the state of link `name` (RTM_GETLINK). Returns 0 or -errno. */
static int link_state(struct nl_sock *s, const char *name, struct link_info *info,
                      struct tsc_nl_result *res) {
  struct nl_msg m;
  msg_init(&m, RTM_GETLINK, 0);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  msg_put(&m, &ifi, sizeof ifi);
  attr_str(&m, IFLA_IFNAME, name);
  info->index = 0;
  info->operstate = -1;
  info->brport_state = -1;
  return talk(s, &m, info, res, "read link state");
}

/* Waits (at most ~250 ms, in 100 µs steps) until link `name` is operationally up and, when it is
 * a bridge port, forwarding. The kernel finishes a carrier change asynchronously (linkwatch):
 * until then IPv6 has no multicast route on the link (ENETUNREACH) and a bridge port still drops
 * frames, so an announcement sent at once would be lost. Returns 0 when ready, -ETIMEDOUT,
 * or the -errno of the request (-ENODEV: no such link). */
static int wait_link_ready(struct nl_sock *s, const char *name) {
  for (int i = 0; i < 2500; i++) {
    struct link_info info;
    struct tsc_nl_result ignored = {0};
    int r = link_state(s, name, &info, &ignored);
    if (r < 0) return r;
    int up = info.operstate == OPER_UP || info.operstate == OPER_UNKNOWN;
    if (up && (info.brport_state < 0 || info.brport_state == BR_STATE_FORWARDING)) return 0;
    struct timespec ts = {0, 100 * 1000};
    nanosleep(&ts, NULL);
  }
  return -ETIMEDOUT;
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

/* What a thread opens inside a netns: a NETLINK_ROUTE socket (when nl is wanted) and the two
 * announcement sockets (when announce is wanted; their failure is kept apart, not fatal). */
struct ns_open {
  int nsfd;
  int want_nl, want_announce;
  int err;
  struct nl_sock sock;
  int pkt_fd, icmp6_fd, announce_err;
};

static void *ns_open_thread(void *arg) {
  struct ns_open *o = arg;
  if (setns(o->nsfd, CLONE_NEWNET) < 0) {
    o->err = errno;
    return NULL;
  }
  if (o->want_nl) {
    int r = sock_open(&o->sock);
    if (r < 0) {
      o->err = -r;
      return NULL;
    }
  }
  if (o->want_announce) {
    /* Protocol 0: this socket receives nothing; each sendto names ETH_P_ARP. */
    o->pkt_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (o->pkt_fd < 0) o->announce_err = errno;
    o->icmp6_fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (o->icmp6_fd < 0 && o->announce_err == 0) o->announce_err = errno;
  }
  return NULL; /* the thread ends here; the sockets stay bound to that netns */
}

/* Opens, from a thread of its own, the sockets o asks for in the netns o->nsfd names. */
static int ns_open_run(struct ns_open *o, struct tsc_nl_result *res) {
  o->err = 0;
  o->announce_err = 0;
  o->sock.fd = -1;
  o->sock.seq = 0;
  o->pkt_fd = -1;
  o->icmp6_fd = -1;
  pthread_t t;
  int e = pthread_create(&t, NULL, ns_open_thread, o);
  if (e != 0) return fail(res, e, "start netns thread");
  pthread_join(t, NULL);
  if (o->err != 0) {
    if (o->sock.fd >= 0) close(o->sock.fd);
    o->sock.fd = -1;
    return fail(res, o->err, "open netlink in container netns");
  }
  return 0;
}

/* Opens a NETLINK_ROUTE socket in the netns nsfd names, from a thread of its own. */
static int sock_open_in(int nsfd, struct nl_sock *s, struct tsc_nl_result *res) {
  struct ns_open o = {.nsfd = nsfd, .want_nl = 1};
  int r = ns_open_run(&o, res);
  if (r == 0) *s = o.sock;
  return r;
}

/* ---- announcements: gratuitous ARP (RFC 5227 s3) and unsolicited NA (RFC 4861 s7.2.6) ---- */

static void warn(struct tsc_nl_result *res, int err, const char *what, int family,
                 const uint8_t *addr) {
  if (res->warning[0] != '\0') return; /* the first failure is enough */
  char text[INET6_ADDRSTRLEN] = "";
  if (addr != NULL) inet_ntop(family, addr, text, sizeof text);
  snprintf(res->warning, sizeof res->warning, "%s%s%s: %s", what, text[0] ? " " : "", text,
           strerrorname_np(err) ? strerrorname_np(err) : "error");
}

/* An ARP request announcing ip for mac (sender IP = target IP, target MAC zero), broadcast. */
static int send_garp(int fd, int index, const uint8_t mac[6], const uint8_t ip[4]) {
  struct __attribute__((packed)) {
    struct arphdr h;
    uint8_t sha[6], spa[4], tha[6], tpa[4];
  } p;
  memset(&p, 0, sizeof p);
  p.h.ar_hrd = htons(ARPHRD_ETHER);
  p.h.ar_pro = htons(ETH_P_IP);
  p.h.ar_hln = 6;
  p.h.ar_pln = 4;
  p.h.ar_op = htons(ARPOP_REQUEST);
  memcpy(p.sha, mac, 6);
  memcpy(p.spa, ip, 4);
  memcpy(p.tpa, ip, 4);
  struct sockaddr_ll to = {.sll_family = AF_PACKET,
                           .sll_protocol = htons(ETH_P_ARP),
                           .sll_ifindex = index,
                           .sll_halen = 6};
  memset(to.sll_addr, 0xff, 6);
  ssize_t n;
  do {
    n = sendto(fd, &p, sizeof p, 0, (struct sockaddr *)&to, sizeof to);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

/* An unsolicited Neighbor Advertisement for ip: to all-nodes ff02::1, from ip itself (IPV6_PKTINFO),
 * Override set, Solicited and Router clear, with the target link-layer address option. The
 * kernel fills the ICMPv6 checksum of a raw IPPROTO_ICMPV6 socket. */
static int send_na(int fd, int index, const uint8_t mac[6], const uint8_t ip[16]) {
  struct __attribute__((packed)) {
    struct nd_neighbor_advert na;
    struct nd_opt_hdr opt;
    uint8_t lladdr[6];
  } p;
  memset(&p, 0, sizeof p);
  p.na.nd_na_type = ND_NEIGHBOR_ADVERT;
  p.na.nd_na_code = 0;
  p.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
  memcpy(&p.na.nd_na_target, ip, 16);
  p.opt.nd_opt_type = ND_OPT_TARGET_LINKADDR;
  p.opt.nd_opt_len = 1; /* in units of 8 bytes: type, length, 6-byte MAC */
  memcpy(p.lladdr, mac, 6);
  struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)index};
  to.sin6_addr.s6_addr[0] = 0xff;
  to.sin6_addr.s6_addr[1] = 0x02;
  to.sin6_addr.s6_addr[15] = 0x01;
  union {
    struct cmsghdr c;
    uint8_t raw[CMSG_SPACE(sizeof(struct in6_pktinfo))];
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iov = {.iov_base = &p, .iov_len = sizeof p};
  struct msghdr msg = {.msg_name = &to,
                       .msg_namelen = sizeof to,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl.raw,
                       .msg_controllen = sizeof ctl.raw};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
  struct in6_pktinfo info = {.ipi6_ifindex = (unsigned)index};
  memcpy(&info.ipi6_addr, ip, 16);
  memcpy(CMSG_DATA(c), &info, sizeof info);
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

/* The ifindex of ifname in the netns of socket fd (SIOCGIFINDEX), or -errno. */
static int if_nametoindex_in(int fd, const char *ifname) {
  if (fd < 0) return -EBADF;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) return -errno;
  return ifr.ifr_ifindex;
}

/* Sends the announcements for the addresses of link ifname (index) on the sockets o opened.
 * Never fails: problems go to res->warning. Closes o's announcement sockets. */
static void announce_on(struct ns_open *o, const char *ifname, int index,
                        const struct tsc_nl_addr *addrs, int naddrs, struct tsc_nl_result *res) {
  int probe = o->pkt_fd >= 0 ? o->pkt_fd : o->icmp6_fd;
  if (naddrs == 0) goto out;
  if (probe < 0) {
    warn(res, o->announce_err, "open announce socket", 0, NULL);
    goto out;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(probe, SIOCGIFFLAGS, &ifr) < 0) {
    warn(res, errno, "read link flags", 0, NULL);
    goto out;
  }
  if (ifr.ifr_flags & IFF_NOARP) goto out; /* ipvlan l3/l3s: no neighbour resolution */
  if (ioctl(probe, SIOCGIFHWADDR, &ifr) < 0) {
    warn(res, errno, "read link address", 0, NULL);
    goto out;
  }
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) goto out;
  uint8_t mac[6];
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  if (o->icmp6_fd >= 0) {
    int hops = 255;
    if (setsockopt(o->icmp6_fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) < 0 ||
        setsockopt(o->icmp6_fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) < 0 ||
        setsockopt(o->icmp6_fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) <
            0) {
      warn(res, errno, "set up icmpv6 socket", 0, NULL);
      close(o->icmp6_fd);
      o->icmp6_fd = -1;
    }
  }
  for (int i = 0; i < naddrs; i++) {
    const struct tsc_nl_addr *a = &addrs[i];
    if (a->family == AF_INET) {
      int r = o->pkt_fd >= 0 ? send_garp(o->pkt_fd, index, mac, a->addr) : -o->announce_err;
      if (r < 0) warn(res, -r, "send arp", AF_INET, a->addr);
    } else if (a->family == AF_INET6) {
      int r = o->icmp6_fd >= 0 ? send_na(o->icmp6_fd, index, mac, a->addr) : -EBADF;
      if (r < 0) warn(res, -r, "send neighbour advertisement", AF_INET6, a->addr);
    }
  }
out:
  if (o->pkt_fd >= 0) close(o->pkt_fd);
  if (o->icmp6_fd >= 0) close(o->icmp6_fd);
  o->pkt_fd = o->icmp6_fd = -1;
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

static int configure_inside(struct nl_sock *c, const struct tsc_nl_endpoint *a, int *link,
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
  *link = index;
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
  struct ns_open o = {.nsfd = nsfd, .want_nl = 1, .want_announce = a->naddrs > 0 && !a->no_announce};
  r = ns_open_run(&o, res);
  int index = 0;
  if (r == 0) {
    inside = o.sock;
    r = configure_inside(&inside, a, &index, res);
  }
  if (r == 0 && o.want_announce) {
    int w = wait_link_ready(&inside, a->ifname);
    if (w == 0 && a->kind == TSC_NL_VETH) w = wait_link_ready(&host, a->host_ifname);
    if (w < 0) warn(res, -w, "wait for link up", 0, NULL);
    announce_on(&o, a->ifname, index, a->addrs, a->naddrs, res);
  }
  if (o.pkt_fd >= 0) close(o.pkt_fd);
  if (o.icmp6_fd >= 0) close(o.icmp6_fd);
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

int tsc_nl_announce(const char *netns_path, int netns_fd, const char *ifname,
                    const char *host_ifname, const struct tsc_nl_addr *addrs, int naddrs,
                    struct tsc_nl_result *res) {
  memset(res, 0, sizeof *res);
  int nsfd = netns_fd;
  if (nsfd < 0) {
    nsfd = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return fail(res, errno, "open netns");
  }
  struct ns_open o = {.nsfd = nsfd, .want_nl = 1, .want_announce = 1};
  int r = ns_open_run(&o, res);
  if (nsfd != netns_fd) close(nsfd);
  if (r < 0) return r;
  int w = wait_link_ready(&o.sock, ifname);
  sock_close(&o.sock);
  if (w == -ENODEV) {
    warn(res, ENODEV, "find link", 0, NULL);
    if (o.pkt_fd >= 0) close(o.pkt_fd);
    if (o.icmp6_fd >= 0) close(o.icmp6_fd);
    return 0;
  }
  if (w == 0 && host_ifname != NULL && host_ifname[0] != '\0') {
    struct nl_sock host = {.fd = -1};
    w = sock_open(&host);
    if (w == 0) w = wait_link_ready(&host, host_ifname);
    sock_close(&host);
  }
  if (w < 0) warn(res, -w, "wait for link up", 0, NULL);
  int index = (int)if_nametoindex_in(o.pkt_fd >= 0 ? o.pkt_fd : o.icmp6_fd, ifname);
  if (index <= 0) {
    warn(res, index < 0 ? -index : ENODEV, "find link", 0, NULL);
    if (o.pkt_fd >= 0) close(o.pkt_fd);
    if (o.icmp6_fd >= 0) close(o.icmp6_fd);
    return 0;
  }
  announce_on(&o, ifname, index, addrs, naddrs, res);
  return 0;
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
