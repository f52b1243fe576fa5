/* A small rtnetlink (NETLINK_ROUTE) client of our own: links (veth, bridge, macvlan, ipvlan),
 * addresses and routes, in our netns or in a container's netns (a socket opened there by a
 * short-lived thread). Blocking: call it from a worker thread, never from the Node main thread.
 * Decides nothing: the engine (engine/networks) chooses names, addresses and routes. */
#ifndef TSC_NETLINK_H
#define TSC_NETLINK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TSC_NL_MAX_ADDRS 8

enum tsc_nl_kind { TSC_NL_VETH = 1, TSC_NL_MACVLAN = 2, TSC_NL_IPVLAN = 3 };

/* An address or gateway: family AF_INET/AF_INET6, bytes in network order, prefix length. */
struct tsc_nl_addr {
  int family;
  uint8_t addr[16];
  int prefix;
};

/* One container endpoint. Strings are NUL-terminated, at most IFNAMSIZ-1 chars; "" = absent. */
struct tsc_nl_endpoint {
  const char *netns_path; /* the container netns file, or NULL when netns_fd >= 0 */
  int netns_fd;           /* an open netns fd (not closed), or -1 */
  int kind;               /* enum tsc_nl_kind */
  const char *bridge;     /* veth: the bridge in our netns the host end joins ("" = none) */
  const char *host_ifname; /* veth: the host end's name in our netns */
  const char *parent;     /* macvlan/ipvlan: the parent link in our netns */
  uint32_t mode;          /* macvlan: MACVLAN_MODE_*; ipvlan: IPVLAN_MODE_* */
  uint16_t ipvlan_flags;  /* ipvlan: IPVLAN_F_* */
  const char *ifname;     /* the name inside the container (eth0...) */
  uint8_t mac[6];
  int has_mac;
  uint32_t mtu; /* bytes, 0 = kernel default */
  struct tsc_nl_addr addrs[TSC_NL_MAX_ADDRS];
  int naddrs;
  struct tsc_nl_addr gateways[2]; /* default routes via these; all-zero = `dev` route */
  int ngateways;
  int no_announce; /* 1: skip the announcements (the caller sends them with tsc_nl_announce) */
};

/* A failure: errno (positive), the step that failed ("create veth", "add address 1"...), and the
 * kernel's extended-ack message when it gave one. err == 0 means success. */
struct tsc_nl_result {
  int err;
  char step[48];
  char message[160];
  /* A failed unsolicited ARP/NA (never fails the operation): "send arp 10.0.0.2: ENETDOWN"... */
  char warning[160];
};

/* Creates the endpoint: the veth (host end on the bridge, up; peer born in the container netns)
 * or macvlan/ipvlan link (born in the container netns), lo up, addresses, link up, default
 * routes, then announces the addresses (tsc_nl_announce; its failures only fill res->warning).
 * On failure what was created is deleted again. Returns 0 or -errno (also in res). */
int tsc_nl_attach(const struct tsc_nl_endpoint *a, struct tsc_nl_result *res);

/* Announces addresses of link `ifname` inside the netns at netns_path (or netns_fd >= 0), once it
 * is operationally up (and host_ifname, a veth's bridge-port end in our netns, forwarding; NULL or
 * "" = none), so that
 * peers replace stale neighbour entries: a gratuitous ARP request (sender IP = target IP, to the
 * broadcast MAC; RFC 5227 s3 "ARP Announcement") per IPv4 address and an unsolicited Neighbor
 * Advertisement (RFC 4861 s7.2.6: to ff02::1, Override set, target link-layer address option,
 * hop limit 255) per IPv6 address. Links without ARP (IFF_NOARP, ipvlan l3) or without an
 * Ethernet address are skipped. Sending is best effort: failures go to res->warning and the
 * return is 0; only a netns that cannot be entered is an error (-errno). */
int tsc_nl_announce(const char *netns_path, int netns_fd, const char *ifname,
                    const char *host_ifname, const struct tsc_nl_addr *addrs, int naddrs,
                    struct tsc_nl_result *res);

/* Deletes link `name` in our netns, or in the netns at netns_path when it is not NULL/"".
 * A missing link is ENODEV. Returns 0 or -errno. */
int tsc_nl_link_del(const char *name, const char *netns_path, struct tsc_nl_result *res);

/* Creates bridge `name` in our netns with mac (NULL = kernel's), mtu (0 = default), the
 * addresses (IPv6 without DAD) and brings it up. On failure the bridge is deleted again. */
int tsc_nl_bridge_create(const char *name, const uint8_t *mac, uint32_t mtu,
                         const struct tsc_nl_addr *addrs, int naddrs, struct tsc_nl_result *res);

#ifdef __cplusplus
}
#endif

#endif
