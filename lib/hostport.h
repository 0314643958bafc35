/*
 * hostport.h - the host ports a pod's containers ask for, and the one rule
 * for when two of them clash on a node (kube-scheduler's NodePorts plugin,
 * Karpenter's HostPortUsage): the same port and protocol, and the same host
 * IP or either of them every address (hostIP absent, 0.0.0.0 or ::).
 *
 * Ownership: the strings are the filler's (the cluster model owns those it
 * parses, see model.h).  Nothing here prints or fails; the matchers never
 * allocate.
 */
#ifndef NAP_HOSTPORT_H
#define NAP_HOSTPORT_H

#include <stddef.h>

struct nap_host_port {
	int port;	/* 1..65535 */
	char *protocol; /* "TCP" when absent */
	char *ip;	/* "" = every address; otherwise as nap_host_ip_canon writes it */
};

/*
 * hostIP in the form nap_host_port.ip holds, into buf: "" for absent or an
 * unspecified address (0.0.0.0, ::), an IPv4 or IPv6 address in its
 * canonical text (so 10.0.0.01 and ::ffff:10.0.0.1 forms compare equal when
 * they are the same address), anything else as written.
 */
void nap_host_ip_canon(const char *ip, char *buf, size_t len);
/* 1 when a and b cannot both be bound on one node. */
int nap_host_port_clash(const struct nap_host_port *a, const struct nap_host_port *b);
/* 1 when some port of a[] clashes with some port of b[]. */
int nap_host_ports_clash(
    const struct nap_host_port *a, size_t na, const struct nap_host_port *b, size_t nb);

#endif
