/*
 * hostport.c - host ports and when they clash (see hostport.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "hostport.h"

void
nap_host_ip_canon(const char *ip, char *buf, size_t len)
{
	unsigned char a[16];
	static const unsigned char zero[16];

	if (len == 0)
		return;
	buf[0] = '\0';
	if (ip == NULL || ip[0] == '\0')
		return;
	if (inet_pton(AF_INET, ip, a) == 1) {
		if (memcmp(a, zero, 4) != 0)
			inet_ntop(AF_INET, a, buf, (socklen_t)len);
		return;
	}
	if (inet_pton(AF_INET6, ip, a) == 1) {
		/* an IPv4-mapped address is that IPv4 address, as Go's net.IP.Equal says */
		static const unsigned char v4map[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (memcmp(a, v4map, 12) == 0) {
			if (memcmp(a + 12, zero, 4) != 0)
				inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
		} else if (memcmp(a, zero, 16) != 0) {
			inet_ntop(AF_INET6, a, buf, (socklen_t)len);
		}
		return;
	}
	snprintf(buf, len, "%s", ip);
}

int
nap_host_port_clash(const struct nap_host_port *a, const struct nap_host_port *b)
{
	return a->port == b->port && strcmp(a->protocol, b->protocol) == 0 &&
	    (a->ip[0] == '\0' || b->ip[0] == '\0' || strcmp(a->ip, b->ip) == 0);
}

int
nap_host_ports_clash(
    const struct nap_host_port *a, size_t na, const struct nap_host_port *b, size_t nb)
{
	size_t i, j;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (nap_host_port_clash(&a[i], &b[j]))
				return 1;
	return 0;
}
