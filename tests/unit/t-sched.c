/*
 * t-sched.c - lib/sched on a small synthetic catalog, without JSON records:
 * the way nap-disrupt will call it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched-int.h"
#include "sched.h"
#include "tap.h"

#define NT 3
#define NZ 3

static struct nap_sched_itype types[NT];
static struct nap_sched_offer offers[NT][NZ];
static struct nap_res alloc[NT];
static struct nap_sched_pool pool;

static void
res(struct nap_res *r, int64_t milli, int64_t gib, int64_t pods)
{
	nap_res_zero(r);
	r->v[NAP_RES_CPU] = milli;
	r->v[NAP_RES_MEMORY] = gib << 30;
	r->v[NAP_RES_PODS] = pods;
}

static void
setup(void)
{
	static const char *const names[NT] = {"small", "medium", "large"};
	static const char *const zones[NZ] = {"z1", "z2", "z3"};
	static const char *const od[] = {"on-demand"};
	static const char *const pname[] = {"default"};
	size_t i, z;

	for (i = 0; i < NT; i++) {
		const char *n = names[i];

		types[i].name = names[i];
		nap_reqs_init(&types[i].reqs);
		nap_reqs_add(
		    &types[i].reqs, "node.kubernetes.io/instance-type", NAP_OP_IN, &n, 1, 0, NULL);
		nap_reqs_add(
		    &types[i].reqs, "topology.kubernetes.io/zone", NAP_OP_IN, zones, NZ, 0, NULL);
		nap_reqs_add(
		    &types[i].reqs, "karpenter.sh/capacity-type", NAP_OP_IN, od, 1, 0, NULL);
		for (z = 0; z < NZ; z++) {
			offers[i][z].zone = zones[z];
			offers[i][z].ctype = "on-demand";
			offers[i][z].price = 0.1 * (double)(1 << i);
			offers[i][z].available = 1;
		}
		types[i].off = offers[i];
		types[i].noff = NZ;
		res(&alloc[i], 2000 << i, 4 << i, 30);
	}
	memset(&pool, 0, sizeof(pool));
	pool.name = "default";
	nap_reqs_init(&pool.reqs);
	nap_reqs_add(&pool.reqs, "karpenter.sh/nodepool", NAP_OP_IN, pname, 1, 0, NULL);
	pool.alloc = alloc;
	pool.capacity = alloc;
	pool.limit_nodes = -1;
}

static void
input(struct nap_sched_input *in, const struct nap_sched_pod *pods, size_t n)
{
	memset(in, 0, sizeof(*in));
	in->types = types;
	in->ntypes = NT;
	in->pools = &pool;
	in->npools = 1;
	in->pending = pods;
	in->npending = n;
}

static void
pod(struct nap_sched_pod *p, const char *name, int64_t milli, int64_t gib)
{
	memset(p, 0, sizeof(*p));
	p->ns = "default";
	p->name = name;
	p->uid = name;
	res(&p->req, milli, gib, 1);
	p->req.v[NAP_RES_MEMORY] = gib << 29; /* half GiB units keep pods small */
}

/* The zone a placed pod's claim is pinned to, or NULL. */
static const char *
zone_of(const struct nap_sched_result *r, size_t pi)
{
	const struct nap_req *q;

	if (r->place[pi].where != NAP_SCHED_CLAIM)
		return NULL;
	q = nap_reqs_get(&r->claims[r->place[pi].index].reqs, "topology.kubernetes.io/zone");
	return q && !q->complement && q->nvalues == 1 ? q->values[0] : NULL;
}

/* How many of the n pods went to a claim in zone z, and how many fit nowhere. */
static size_t
in_zone(const struct nap_sched_result *r, size_t n, const char *z)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (z ? zone_of(r, i) && strcmp(zone_of(r, i), z) == 0
		      : r->place[i].where == NAP_SCHED_NONE)
			k++;
	return k;
}

/*
 * n pods labelled app=web, 1 core each (two fit the small size), all under
 * one topology term: spread on key with maxSkew, minDomains and
 * DoNotSchedule (required) or ScheduleAnyway; solved into r.
 */
static void
spread(struct nap_sched_result *r, struct nap_sched_pod *pods, size_t n, const char *key, int skew,
    int min_domains, int required, const struct nap_selector *sel, json_object *labels,
    const char *sig)
{
	static struct nap_sched_topo t;
	static const char *const names[] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};
	struct nap_sched_input in;
	struct nap_err err;
	size_t i;

	memset(&t, 0, sizeof(t));
	t.kind = NAP_SCHED_SPREAD;
	t.key = key;
	t.sig = sig;
	t.sel = sel;
	t.max_skew = skew;
	t.min_domains = min_domains;
	t.required = required;
	for (i = 0; i < n; i++) {
		pod(&pods[i], names[i], 1000, 1);
		pods[i].labels = labels;
		pods[i].topo = &t;
		pods[i].ntopo = 1;
		pods[i].sig = sig;
	}
	input(&in, pods, n);
	nap_sched_solve(&in, r, &err);
}

/*
 * Issue 17's topology items: a preference does not narrow a spread's
 * domains; a batch pod's anti-affinity keeps out the pods it selects.
 */
static void
topo_cases(struct nap_sched_pod *many, const struct nap_selector *sel, json_object *labels)
{
	static const char *const z1[] = {"z1"};
	static struct nap_sched_pref pref;
	struct nap_sched_topo anti;
	struct nap_sched_pod two[2];
	struct nap_sched_result r;
	struct nap_sched_input in;
	struct nap_err err;
	size_t i;

	nap_reqs_init(&pref.reqs);
	nap_reqs_add(&pref.reqs, "topology.kubernetes.io/zone", NAP_OP_IN, z1, 1, 0, NULL);
	pref.weight = 10;
	spread(&r, many, 6, "topology.kubernetes.io/zone", 1, 0, 1, sel, labels, "z-pref");
	nap_sched_result_free(&r);
	for (i = 0; i < 6; i++) {
		many[i].prefs = &pref;
		many[i].nprefs = 1;
	}
	input(&in, many, 6);
	nap_sched_solve(&in, &r, &err);
	TAP_OK(in_zone(&r, 6, "z1") == 2 && in_zone(&r, 6, "z2") == 2 && in_zone(&r, 6, "z3") == 2,
	    "six pods under a zonal spread preferring z1 still go two to a zone");
	nap_sched_result_free(&r);
	for (i = 0; i < 6; i++) {
		many[i].prefs = NULL;
		many[i].nprefs = 0;
	}
	nap_reqs_free(&pref.reqs);

	memset(&anti, 0, sizeof(anti));
	anti.kind = NAP_SCHED_ANTI;
	anti.key = "kubernetes.io/hostname";
	anti.sig = "anti-web";
	anti.sel = sel;
	anti.required = 1;
	pod(&two[0], "a", 1000, 1); /* placed first: the larger */
	two[0].topo = &anti;
	two[0].ntopo = 1;
	two[0].sig = "anti-web";
	pod(&two[1], "b", 500, 1);
	two[1].labels = labels;
	input(&in, two, 2);
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 2 && r.place[0].where == NAP_SCHED_CLAIM &&
		r.place[1].where == NAP_SCHED_CLAIM && r.place[0].index != r.place[1].index,
	    "a pod selected by a placed batch pod's anti-affinity gets a claim of its own");
	nap_sched_result_free(&r);
}

/* Prepare, run once with o, free the world: one of nap-disrupt's questions. */
static int
run(const struct nap_sched_input *in, const struct nap_sched_run_opts *o,
    struct nap_sched_result *r)
{
	struct nap_sched_world *w;
	struct nap_err err;
	int rc;

	if (nap_sched_prepare(in, &w, &err) < 0)
		return -1;
	rc = nap_sched_run(w, o, r, &err);
	nap_sched_world_free(w);
	return rc;
}

static void
node_at(struct nap_sched_node *n, const char *name, int64_t milli, int64_t gib)
{
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->pool = 0;
	n->initialized = 1;
	res(&n->avail, milli, gib, 10);
}

/*
 * nap-disrupt's questions, worked by hand.  Sizes: small 2 cores $0.10,
 * medium 4 cores $0.20, large 8 cores $0.40.  Node x (a medium, $0.20)
 * is the candidate; its pods a (1.5 cores) and b (1 core) are pending; y
 * has 2 cores free, z 1 core (or 0.8).  x itself has room, so a run that
 * forgot the exclusion would put them back on x.
 */
static void
disrupt_cases(void)
{
	struct nap_sched_node nodes[3];
	struct nap_sched_pod pp[3];
	struct nap_sched_input in;
	struct nap_sched_result r;
	struct nap_sched_run_opts o = NAP_SCHED_RUN_OPTS_INIT;
	struct nap_sched_world *w;
	struct nap_err err;
	size_t x = 0;

	node_at(&nodes[0], "x", 4000, 8);
	node_at(&nodes[1], "y", 2000, 4);
	node_at(&nodes[2], "z", 1000, 2);
	pod(&pp[0], "a", 1500, 1);
	pod(&pp[1], "b", 1000, 1);
	pod(&pp[2], "d", 100, 1);
	input(&in, pp, 2);
	in.nodes = nodes;
	in.nnodes = 3;

	/* remove x, 0 new claims: a (FFD first) to y, leaving 0.5; b to z */
	o.exclude = &x;
	o.nexclude = 1;
	o.max_claims = 0;
	TAP_OK(run(&in, &o, &r) == 0, "disrupt: a run with x excluded succeeds");
	TAP_OK(r.nclaims == 0 && r.place[0].where == NAP_SCHED_NODE && r.place[0].index == 1 &&
		r.place[1].where == NAP_SCHED_NODE && r.place[1].index == 2,
	    "disrupt: x's pods fit on the remaining nodes, a on y and b on z, no new claim");
	nap_sched_result_free(&r);
	o.nexclude = 0;
	run(&in, &o, &r);
	TAP_OK(r.place[0].where == NAP_SCHED_NODE && r.place[0].index == 0,
	    "disrupt: without the exclusion a would land on x itself (the exclusion is what moved "
	    "it)");
	nap_sched_result_free(&r);
	o.nexclude = 1;

	/* z down to 0.8 cores: b fits nowhere, and no claim may be made */
	nodes[2].avail.v[NAP_RES_CPU] = 800;
	run(&in, &o, &r);
	TAP_OK(r.nclaims == 0 && r.place[0].where == NAP_SCHED_NODE &&
		r.place[1].where == NAP_SCHED_NONE && r.place[1].why &&
		strstr(r.place[1].why, "no new nodeclaim allowed") != NULL,
	    "disrupt: when b fits no remaining node and no claim is allowed, b fits nowhere and "
	    "says why");
	nap_sched_result_free(&r);

	/* one claim cheaper than x ($0.20): only the small size ($0.10) qualifies */
	o.max_claims = 1;
	o.max_price = 0.20;
	run(&in, &o, &r);
	TAP_OK(r.nclaims == 1 && r.place[0].where == NAP_SCHED_NODE && r.place[0].index == 1 &&
		r.place[1].where == NAP_SCHED_CLAIM && r.claims[0].ntypes == 1 &&
		r.claims[0].types[0] == 0 && r.claims[0].price < 0.11,
	    "disrupt: with one claim cheaper than $0.20, a goes to y and b to a new claim of the "
	    "small size only");
	nap_sched_result_free(&r);
	o.max_price = 0;
	run(&in, &o, &r);
	TAP_OK(r.nclaims == 1 && r.claims[0].ntypes == 3,
	    "disrupt: without the price ceiling the same claim may be any of the three sizes");
	nap_sched_result_free(&r);

	/* x holds one 3-core pod: medium ($0.20, not strictly cheaper) or large only */
	pod(&pp[0], "c", 3000, 1);
	input(&in, pp, 1);
	in.nodes = nodes;
	in.nnodes = 3;
	o.max_price = 0.20;
	run(&in, &o, &r);
	TAP_OK(r.nclaims == 0 && r.place[0].where == NAP_SCHED_NONE && r.place[0].why &&
		strstr(r.place[0].why, "cheaper than") != NULL,
	    "disrupt: when the only fit costs as much as x or more, no claim is made and the "
	    "reason names the price");
	nap_sched_result_free(&r);
	o.max_price = 0.21;
	run(&in, &o, &r);
	TAP_OK(r.nclaims == 1 && r.claims[0].ntypes == 1 && r.claims[0].types[0] == 1,
	    "disrupt: a ceiling just above the medium's price lets the medium, and only it, in");
	nap_sched_result_free(&r);
	o.max_price = 0;

	/* stop at the first failure: a to y, b fails, d (0.1 core) is not tried */
	pod(&pp[0], "a", 1500, 1);
	input(&in, pp, 3);
	in.nodes = nodes;
	in.nnodes = 3;
	o.max_claims = 0;
	o.stop_at_fail = 1;
	run(&in, &o, &r);
	TAP_OK(r.stopped && r.place[1].where == NAP_SCHED_NONE &&
		r.place[2].where == NAP_SCHED_NONE && r.place[2].why &&
		strstr(r.place[2].why, "not simulated") != NULL,
	    "disrupt: stop_at_fail ends the run at b; d is left unsimulated and says so");
	nap_sched_result_free(&r);
	o.stop_at_fail = 0;
	run(&in, &o, &r);
	TAP_OK(!r.stopped && r.place[1].where == NAP_SCHED_NONE &&
		r.place[2].where == NAP_SCHED_NODE && r.place[2].index == 1,
	    "disrupt: without it d still lands on y's last half core");
	nap_sched_result_free(&r);

	/* one world, many runs: the same answers as fresh worlds, caches or not */
	TAP_OK(nap_sched_prepare(&in, &w, &err) == 0, "disrupt: a world is prepared");
	{
		struct nap_sched_result a, b, c;

		o.nexclude = 1;
		nap_sched_run(w, &o, &a, &err);
		o.nexclude = 0;
		nap_sched_run(w, &o, &b, &err);
		o.nexclude = 1;
		o.nocache = 1;
		nap_sched_run(w, &o, &c, &err);
		o.nocache = 0;
		TAP_OK(a.place[0].index == 1 && b.place[0].index == 0 && c.place[0].index == 1 &&
			a.place[2].where == c.place[2].where &&
			a.place[2].index == c.place[2].index,
		    "disrupt: runs over one world with and without exclusions do not leak into "
		    "each other");
		nap_sched_result_free(&a);
		nap_sched_result_free(&b);
		nap_sched_result_free(&c);
	}
	x = 3;
	TAP_OK(nap_sched_run(w, &o, &r, &err) < 0 && err.code == NAP_EX_DATAERR &&
		strstr(err.msg, "excluded node 3") != NULL,
	    "disrupt: excluding a node that does not exist is an input error naming it");
	nap_sched_world_free(w);
}

/* A new claim's name is never one a node or a caller-held claim already has. */
static void
name_cases(void)
{
	struct nap_sched_pod p1;
	struct nap_sched_node full;
	struct nap_sched_input in;
	struct nap_sched_result r, r2;
	struct nap_err err;
	char first[80];
	const char *taken[1];

	pod(&p1, "lonely", 1000, 1);
	input(&in, &p1, 1);
	nap_sched_solve(&in, &r, &err);
	snprintf(first, sizeof(first), "%s", r.claims[0].name);
	nap_sched_result_free(&r);
	/* an existing node with that very name, too full to take the pod */
	node_at(&full, first, 0, 0);
	in.nodes = &full;
	in.nnodes = 1;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 1 && strcmp(r.claims[0].name, first) != 0 &&
		strncmp(r.claims[0].name, "default-", 8) == 0 && strlen(r.claims[0].name) == 13,
	    "a new claim does not take the name of an existing node (it gets another "
	    "<nodepool>-<5 chars>)");
	in.nnodes = 0;
	taken[0] = first;
	in.taken = taken;
	in.ntaken = 1;
	nap_sched_solve(&in, &r2, &err);
	TAP_OK(r2.nclaims == 1 && strcmp(r2.claims[0].name, first) != 0 &&
		strcmp(r2.claims[0].name, r.claims[0].name) == 0,
	    "nor a name the caller holds (a NodeClaim not yet a node): the same next choice");
	nap_sched_result_free(&r);
	nap_sched_result_free(&r2);
}

/* How many claims r has whose cheapest size is type t. */
static size_t
claims_of(const struct nap_sched_result *r, uint16_t t)
{
	size_t i, k = 0;

	for (i = 0; i < r->nclaims; i++)
		k += r->claims[i].ntypes > 0 && r->claims[i].types[0] == t;
	return k;
}

/* The cluster's node ceiling (solve.maxNodes): larger sizes first, then no claim past it. */
static void
ceiling_cases(void)
{
	struct nap_sched_input in;
	struct nap_sched_result r;
	struct nap_sched_pod pp[8];
	struct nap_sched_node nodes[1];
	struct nap_err err;
	size_t i, placed;
	static char names[8][4];

	/* the small size at half price per core, so the plan fills small nodes */
	for (i = 0; i < NZ; i++)
		offers[0][i].price = 0.05;
	for (i = 0; i < 8; i++) {
		snprintf(names[i], sizeof(names[i]), "c%zu", i);
		pod(&pp[i], names[i], 1000, 1);
	}
	input(&in, pp, 8);
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 4 && claims_of(&r, 0) == 4,
	    "ceiling: with none, eight 1-core pods fill four claims of the small size");
	nap_sched_result_free(&r);

	in.max_nodes = 2;
	nap_sched_solve(&in, &r, &err);
	for (placed = 0, i = 0; i < 8; i++)
		placed += r.place[i].where == NAP_SCHED_CLAIM;
	TAP_OK(placed == 8 && r.nclaims <= 2 && claims_of(&r, 0) == 0,
	    "ceiling: under solve.maxNodes 2 they all go to at most two claims of larger sizes");
	nap_sched_result_free(&r);

	in.max_nodes = 6;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 4 && claims_of(&r, 0) == 4,
	    "ceiling: a ceiling with room for the plan changes nothing");
	nap_sched_result_free(&r);

	/* one existing node, full, under a ceiling of one: no room for any claim */
	node_at(&nodes[0], "full", 0, 0);
	in.nodes = nodes;
	in.nnodes = 1;
	in.max_nodes = 1;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 0 && r.place[0].where == NAP_SCHED_NONE && r.place[0].why &&
		strstr(r.place[0].why, "node ceiling of 1 (solve.maxNodes)") != NULL,
	    "ceiling: at the ceiling, existing nodes counted, no claim is made and the pod says "
	    "why");
	nap_sched_result_free(&r);
	for (i = 0; i < NZ; i++)
		offers[0][i].price = 0.1;
}

/*
 * The pattern plan: a large packing (more than eight pods) keeps to its
 * counts per claim.  With the large size cheapest per capacity, eight
 * 1-core 1 GiB pods and sixteen half-core 1.5 GiB ones fill two large nodes
 * exactly, four and eight on each.  In decreasing order plain first fit
 * would put all eight 1-core pods on the first claim (their CPU and memory
 * fit the packing's) and the half-core ones would need a third.
 */
static void
pattern_cases(void)
{
	struct nap_sched_input in;
	struct nap_sched_result r;
	struct nap_sched_pod pp[24];
	struct nap_err err;
	static char names[24][4];
	size_t i, placed = 0;

	for (i = 0; i < NZ; i++)
		offers[2][i].price = 0.3;
	for (i = 0; i < 24; i++) {
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		if (i < 8)
			pod(&pp[i], names[i], 1000, 2);
		else
			pod(&pp[i], names[i], 500, 3);
	}
	input(&in, pp, 24);
	nap_sched_solve(&in, &r, &err);
	for (i = 0; i < 24; i++)
		placed += r.place[i].where == NAP_SCHED_CLAIM;
	TAP_OK(placed == 24 && r.nclaims == 2 && claims_of(&r, 2) == 2,
	    "patterns: a packing of twelve pods on the large size is rebuilt claim by claim, "
	    "two claims, not three");
	nap_sched_result_free(&r);
	for (i = 0; i < NZ; i++)
		offers[2][i].price = 0.4;
}

static int
canon_is(const char *ip, const char *want)
{
	char buf[64];

	nap_host_ip_canon(ip, buf, sizeof(buf));
	return strcmp(buf, want) == 0;
}

/*
 * Host ports (hostport.h and the scheduler's use of them): who clashes,
 * and that clashing pods never share a node, new or existing, nor a size
 * where a DaemonSet holding the port would run.
 */
static void
host_port_cases(void)
{
	static char tcp[] = "TCP", udp[] = "UDP", any[] = "", ip1[] = "10.0.0.1",
		    ip2[] = "10.0.0.2";
	const struct nap_host_port p80 = {8080, tcp, any}, p80u = {8080, udp, any},
				   p80a = {8080, tcp, ip1}, p80b = {8080, tcp, ip2},
				   p81 = {8081, tcp, any};
	static const char *const small[] = {"small"};
	struct nap_sched_pod pods[2], ds;
	struct nap_sched_node node;
	struct nap_sched_input in;
	struct nap_sched_result r;
	struct nap_sched_run_opts o = NAP_SCHED_RUN_OPTS_INIT;
	struct nap_reqs on_small;
	int nocache;

	TAP_OK(canon_is(NULL, "") && canon_is("", "") && canon_is("0.0.0.0", "") &&
		canon_is("::", "") && canon_is("::ffff:0.0.0.0", ""),
	    "an absent or unspecified hostIP is every address (\"\")");
	TAP_OK(canon_is("10.0.0.1", "10.0.0.1") && canon_is("::ffff:10.0.0.1", "10.0.0.1") &&
		canon_is("2001:DB8:0::1", "2001:db8::1") && canon_is("not-an-ip", "not-an-ip"),
	    "a hostIP is compared in its canonical text (IPv4-mapped IPv6 is the IPv4)");
	TAP_OK(nap_host_port_clash(&p80, &p80) && nap_host_port_clash(&p80, &p80a) &&
		nap_host_port_clash(&p80b, &p80),
	    "one port and protocol clash when either IP is every address");
	TAP_OK(!nap_host_port_clash(&p80, &p80u) && !nap_host_port_clash(&p80, &p81) &&
		!nap_host_port_clash(&p80a, &p80b),
	    "another protocol, port or specific IP does not clash");

	for (nocache = 0; nocache < 2; nocache++) {
		o.nocache = nocache;
		pod(&pods[0], "hp-a", 500, 1);
		pod(&pods[1], "hp-b", 500, 1);
		pods[0].ports = pods[1].ports = &p80;
		pods[0].nports = pods[1].nports = 1;
		pods[0].sig = pods[1].sig = "hp";
		input(&in, pods, 2);
		run(&in, &o, &r);
		TAP_OK(r.nclaims == 2 && r.place[0].where == NAP_SCHED_CLAIM &&
			r.place[1].where == NAP_SCHED_CLAIM && r.place[0].index != r.place[1].index,
		    nocache ? "two pods holding one host port get two claims (caches off)"
			    : "two pods holding one host port get two claims");
		nap_sched_result_free(&r);

		/* an existing node where a bound pod holds the port */
		node_at(&node, "n1", 8000, 16);
		node.ports = &p80;
		node.nports = 1;
		in.nodes = &node;
		in.nnodes = 1;
		pods[1].ports = &p81;
		pods[1].sig = "hp81";
		run(&in, &o, &r);
		TAP_OK(r.place[0].where == NAP_SCHED_CLAIM && r.place[1].where == NAP_SCHED_NODE,
		    "a pod whose port a bound pod holds skips that node; one holding another "
		    "port goes there");
		nap_sched_result_free(&r);
		in.nnodes = 0;

		/* a DaemonSet holding the port on the small size only */
		memset(&ds, 0, sizeof(ds));
		ds.name = "ds";
		ds.ports = &p80;
		ds.nports = 1;
		nap_reqs_init(&on_small);
		nap_reqs_add(&on_small, "node.kubernetes.io/instance-type", NAP_OP_IN, small, 1, 0,
		    NULL);
		ds.terms = &on_small;
		ds.nterms = 1;
		in.daemons = &ds;
		in.ndaemons = 1;
		in.npending = 1;
		run(&in, &o, &r);
		TAP_OK(r.nclaims == 1 && r.claims[0].ntypes == NT - 1 &&
			strcmp(types[r.claims[0].types[0]].name, "medium") == 0,
		    "a DaemonSet that holds the pod's port on the small size takes that size "
		    "off the claim");
		nap_sched_result_free(&r);
		ds.nterms = 0;
		run(&in, &o, &r);
		TAP_OK(r.nclaims == 0 && r.place[0].where == NAP_SCHED_NONE && r.place[0].why &&
			strstr(r.place[0].why, "host port") != NULL,
		    "on every size: the pod is unschedulable, and the reason says host port");
		nap_sched_result_free(&r);
		nap_reqs_free(&on_small);
	}
}

/*
 * Variants share their verdicts per node and per pool (struct vshare) when
 * they read the same requirements, tolerations, PreferNoSchedule choice
 * and host ports: on a real cluster nearly every pod is a class of its own
 * (its labels), and each held a catalog-sized type list and a byte per
 * node, and intersected every instance type again.  White-box: a run's
 * state, classes and variants made by hand over a prepared world.  The
 * pool is tainted (NoSchedule and PreferNoSchedule), so tolerations and
 * the relaxation step change its verdict.  Pods: SHARE_N alike (each its
 * own class and copy of the requirements), then one that tolerates the
 * taint, one that tolerates another, two with different host ports, and
 * one in another zone.
 */
#define SHARE_N 40
#define SHARE_ALL (SHARE_N + 5)
static void
share_cases(void)
{
	static char k_ded[] = "dedicated", v_db[] = "db", k_slow[] = "slow", v_yes[] = "yes",
		    k_other[] = "other", tcp[] = "TCP", any_ip[] = "";
	static const char *const z1[] = {"z1"}, *const z2[] = {"z2"};
	struct nap_taint taints[2] = {
	    {k_ded, v_db, NAP_EFFECT_NOSCHEDULE}, {k_slow, v_yes, NAP_EFFECT_PREFERNOSCHEDULE}};
	struct nap_toleration tol = {k_ded, 0, v_db, NAP_EFFECT_ANY, -1};
	struct nap_toleration other = {k_other, 0, v_db, NAP_EFFECT_ANY, -1};
	struct nap_host_port ports[2] = {{8080, tcp, any_ip}, {9090, tcp, any_ip}};
	struct nap_sched_pod pods[SHARE_ALL];
	struct nap_reqs terms[SHARE_ALL];
	struct variant *v[SHARE_ALL], *relaxed;
	struct nap_sched_node nodes[2];
	struct nap_sched_run_opts o = NAP_SCHED_RUN_OPTS_INIT;
	struct nap_sched_input in;
	struct nap_sched_world *w;
	struct nap_err err;
	char names[SHARE_ALL][16];
	size_t i, j, same = 0;
	int pass;

	pool.taints = taints;
	pool.ntaints = 2;
	for (i = 0; i < SHARE_ALL; i++) {
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		pod(&pods[i], names[i], 100 + 10 * (int64_t)i, 1);
		pods[i].sig = names[i]; /* a class each, as distinct labels make them */
		nap_reqs_init(&terms[i]);
		nap_reqs_add(&terms[i], "topology.kubernetes.io/zone", NAP_OP_IN,
		    i == SHARE_N + 4 ? z2 : z1, 1, 0, NULL);
		pods[i].terms = &terms[i];
		pods[i].nterms = 1;
	}
	pods[SHARE_N].tols = &tol;
	pods[SHARE_N].ntols = 1;
	pods[SHARE_N + 1].tols = &other;
	pods[SHARE_N + 1].ntols = 1;
	pods[SHARE_N + 2].ports = &ports[0];
	pods[SHARE_N + 2].nports = 1;
	pods[SHARE_N + 3].ports = &ports[1];
	pods[SHARE_N + 3].nports = 1;
	node_at(&nodes[0], "n0", 4000, 8);
	node_at(&nodes[1], "n1", 4000, 8);
	input(&in, pods, SHARE_ALL);
	in.nodes = nodes;
	in.nnodes = 2;
	if (!TAP_OK(nap_sched_prepare(&in, &w, &err) == 0, "a world for the shares"))
		return;
	for (pass = 0; pass < 2; pass++) {
		struct st s;

		memset(&s, 0, sizeof(s));
		s.w = w;
		s.in = &in;
		s.opt = &o;
		s.nocache = pass;
		for (i = 0; i < SHARE_ALL; i++)
			v[i] = sched_variant_get(&s, sched_class_add(&s, &pods[i]), 0);
		if (pass == 0) {
			for (i = 1; i < SHARE_N; i++)
				same += v[i]->sh == v[0]->sh;
			TAP_OK(s.ncls == SHARE_ALL && same == SHARE_N - 1,
			    "%zu classes; the %d with equal requirements share one set of "
			    "verdicts (%zu do)",
			    s.ncls, SHARE_N, same + 1);
			TAP_IS_INT(s.nvsh, 6,
			    "each toleration, host port and zone of the others makes its own");
			TAP_OK(sched_vpool_get(&s, v[0], 0) ==
				    sched_vpool_get(&s, v[SHARE_N - 1], 0) &&
				sched_vpool_get(&s, v[0], 0)->state == 2,
			    "the pool's verdict is worked out once: its taint is not tolerated");
			relaxed = sched_variant_get(&s, v[SHARE_N]->cls, 1);
			TAP_OK(sched_vpool_get(&s, v[SHARE_N], 0)->state == 2 && relaxed &&
				relaxed->sh != v[SHARE_N]->sh &&
				sched_vpool_get(&s, relaxed, 0)->state == 1 &&
				sched_vpool_get(&s, relaxed, 0)->ntypes == NT,
			    "the pod that tolerates it takes every size once PreferNoSchedule is "
			    "tolerated too (a share of its own), not before");
			TAP_OK(sched_vpool_get(&s, v[SHARE_N + 1], 0)->state == 2,
			    "a pod that tolerates another taint does not share its verdict");
			TAP_OK(sched_node_ok(&s, v[1], 0) == 0 && v[0]->sh->node_ok[0] == 0 &&
				v[SHARE_N + 4]->sh->node_ok[0] == -1,
			    "a node's verdict for one pod is known for the pods sharing it, only "
			    "them");
		} else {
			TAP_IS_INT(s.nvsh, SHARE_ALL, "under nocache every variant has its own");
		}
		for (i = 0; i < s.ncls; i++) {
			for (j = 0; j < s.cls[i].nvar; j++)
				sched_variant_free(s.cls[i].var[j]);
			free(s.cls[i].var);
			free(s.cls[i].grp);
			free(s.cls[i].pref_order);
			free(s.cls[i].aff_order);
			free(s.cls[i].anti_order);
			free(s.cls[i].any_order);
		}
		free(s.cls);
		for (i = 0; i < s.nvsh; i++)
			sched_vshare_free(s.vsh[i], in.npools);
		free(s.vsh);
		free(s.vkey);
		nap_hash_free(&s.vsh_by_key);
		nap_hash_free(&s.cls_by_sig);
		nap_hash_free(&s.topo.grp_by_sig);
	}
	nap_sched_world_free(w);
	for (i = 0; i < SHARE_ALL; i++)
		nap_reqs_free(&terms[i]);
	pool.taints = NULL;
	pool.ntaints = 0;
}

int
main(void)
{
	struct nap_sched_input in;
	struct nap_sched_result r, r2;
	struct nap_sched_pod pods[4], many[8];
	static char k_unreach[] = "node.kubernetes.io/unreachable", k_ded[] = "dedicated",
		    v_db[] = "db", v_web[] = "web", k_other[] = "other", empty[] = "";
	struct nap_taint unreachable = {k_unreach, empty, NAP_EFFECT_NOSCHEDULE};
	const char *const avoid[] = {"n1"};
	struct nap_sched_node node;
	struct nap_sched_topo anti;
	struct nap_taint taint = {k_ded, v_db, NAP_EFFECT_NOSCHEDULE};
	struct nap_toleration tol = {empty, 1, empty, NAP_EFFECT_ANY, -1};
	struct nap_toleration eq = {k_ded, 0, v_web, NAP_EFFECT_ANY, -1};
	struct nap_toleration other = {k_other, 1, empty, NAP_EFFECT_ANY, -1};
	struct nap_selector *sel = NULL;
	json_object *labels = json_object_new_object(), *seljs;
	struct nap_err err;
	size_t i;

	setup();

	/* one small pod: one claim, every size, cheapest first */
	pod(&pods[0], "a", 1000, 1);
	input(&in, pods, 1);
	TAP_OK(nap_sched_solve(&in, &r, &err) == 0, "one pod solves");
	TAP_OK(r.nclaims == 1 && r.place[0].where == NAP_SCHED_CLAIM, "one pod gets one new claim");
	TAP_OK(r.claims[0].ntypes == 3 && r.claims[0].types[0] == 0 && r.claims[0].types[2] == 2,
	    "the claim lists every size, cheapest first");
	TAP_OK(r.claims[0].price > 0.09 && r.claims[0].price < 0.11,
	    "the price is the cheapest offering's");
	TAP_OK(strncmp(r.claims[0].name, "default-", 8) == 0 && strlen(r.claims[0].name) == 13,
	    "the claim is named <nodepool>-<5 chars>");
	TAP_OK(r.claims[0].requests.v[NAP_RES_CPU] == 1000, "the claim requests what its pod does");
	nap_sched_solve(&in, &r2, &err);
	TAP_OK(strcmp(r.claims[0].name, r2.claims[0].name) == 0,
	    "the same pods give the same claim name");
	nap_sched_result_free(&r);
	nap_sched_result_free(&r2);

	/* a 3-core pod rules out the small size */
	pod(&pods[0], "b", 3000, 1);
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 1 && r.claims[0].ntypes == 2 && r.claims[0].types[0] == 1,
	    "a larger pod drops the sizes it does not fit");
	nap_sched_result_free(&r);

	/* too big for anything */
	pod(&pods[0], "c", 20000, 1);
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 0 && r.place[0].where == NAP_SCHED_NONE &&
		strstr(r.place[0].why, "enough resources") != NULL,
	    "a pod too big for every size fits nowhere, and says why");
	nap_sched_result_free(&r);

	/* max_types truncates */
	pod(&pods[0], "d", 500, 1);
	input(&in, pods, 1);
	in.max_types = 1;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 1 && r.claims[0].ntypes == 1, "max_types cuts the launch list");
	nap_sched_result_free(&r);

	/* a spread on a key nothing defines: no domain, and no sort of nothing */
	{
		struct nap_sched_topo spread;
		struct nap_sched_pod sp[2];

		memset(&spread, 0, sizeof(spread));
		spread.kind = NAP_SCHED_SPREAD;
		spread.key = "example.com/rack";
		spread.sig = "spread-rack";
		spread.sel = NULL; /* matches nothing: the key alone matters */
		spread.max_skew = 1;
		spread.required = 1;
		pod(&sp[0], "s1", 500, 1);
		pod(&sp[1], "plain", 500, 1);
		sp[0].topo = &spread;
		sp[0].ntopo = 1;
		sp[0].sig = "spread";
		input(&in, sp, 2);
		TAP_OK(nap_sched_solve(&in, &r, &err) == 0, "a spread on a custom key solves");
		TAP_OK(r.place[0].where == NAP_SCHED_NONE && r.place[0].why &&
			strstr(r.place[0].why, "example.com/rack") != NULL,
		    "a pod spread on a key no pool or type defines fits nowhere, naming the key");
		TAP_OK(r.place[1].where == NAP_SCHED_CLAIM, "the other pod still gets a claim");
		nap_sched_result_free(&r);
	}

	/* an existing node with room is used first */
	memset(&node, 0, sizeof(node));
	node.name = "n1";
	node.pool = 0;
	node.initialized = 1;
	res(&node.avail, 4000, 8, 10);
	input(&in, pods, 1);
	in.nodes = &node;
	in.nnodes = 1;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 0 && r.place[0].where == NAP_SCHED_NODE && r.place[0].index == 0,
	    "a pod that fits an existing node goes there");
	nap_sched_result_free(&r);

	/* a tainted node is skipped unless tolerated */
	node.taints = &taint;
	node.ntaints = 1;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(
	    r.place[0].where == NAP_SCHED_CLAIM, "an untolerated taint keeps the pod off the node");
	nap_sched_result_free(&r);
	pods[0].tols = &tol;
	pods[0].ntols = 1;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(
	    r.place[0].where == NAP_SCHED_NODE, "an Exists toleration without a key tolerates it");
	nap_sched_result_free(&r);
	pods[0].tols = NULL;
	pods[0].ntols = 0;

	/* only a starting node's ephemeral taints are overlooked */
	node.taints = &unreachable;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.place[0].where == NAP_SCHED_CLAIM,
	    "an initialized node tainted unreachable:NoSchedule is not used");
	nap_sched_result_free(&r);
	node.initialized = 0;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.place[0].where == NAP_SCHED_NODE,
	    "a starting node whose only taint is unreachable:NoSchedule is used");
	nap_sched_result_free(&r);
	node.initialized = 1;
	node.taints = NULL;
	node.ntaints = 0;

	/* a node the cluster's scheduler turned the pod away from is not tried */
	pods[0].avoid = avoid;
	pods[0].navoid = 1;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(
	    r.place[0].where == NAP_SCHED_CLAIM, "a node the pod was turned away from is avoided");
	nap_sched_result_free(&r);
	pods[0].avoid = NULL;
	pods[0].navoid = 0;

	/* hostname anti-affinity: two claims */
	json_object_object_add(labels, "app", json_object_new_string("web"));
	seljs = json_tokener_parse("{\"matchLabels\":{\"app\":\"web\"}}");
	TAP_OK(nap_selector_parse(&sel, seljs, &err) == 0, "a selector parses");
	memset(&anti, 0, sizeof(anti));
	anti.kind = NAP_SCHED_ANTI;
	anti.key = "kubernetes.io/hostname";
	anti.sig = "anti-web";
	anti.sel = sel;
	anti.required = 1;
	pod(&pods[0], "w1", 500, 1);
	pod(&pods[1], "w2", 500, 1);
	pods[0].labels = pods[1].labels = labels;
	pods[0].topo = pods[1].topo = &anti;
	pods[0].ntopo = pods[1].ntopo = 1;
	pods[0].sig = pods[1].sig = "web";
	input(&in, pods, 2);
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 2, "hostname anti-affinity puts two replicas on two claims");
	nap_sched_result_free(&r);
	pool.limit_nodes = 1;
	nap_sched_solve(&in, &r, &err);
	TAP_OK(r.nclaims == 1 &&
		(r.place[0].where == NAP_SCHED_NONE) != (r.place[1].where == NAP_SCHED_NONE),
	    "with limits.nodes 1 the second replica fits nowhere");
	nap_sched_result_free(&r);
	pool.limit_nodes = -1;

	/* topology spread over three zones (two 1-core pods fit the small size) */
	spread(&r, many, 3, "topology.kubernetes.io/zone", 1, 0, 1, sel, labels, "z-1");
	TAP_OK(r.nclaims == 3 && in_zone(&r, 3, "z1") == 1 && in_zone(&r, 3, "z2") == 1 &&
		in_zone(&r, 3, "z3") == 1,
	    "a zonal spread with maxSkew 1 puts three pods in three zones");
	nap_sched_result_free(&r);
	spread(&r, many, 6, "topology.kubernetes.io/zone", 1, 0, 1, sel, labels, "z-1b");
	TAP_OK(in_zone(&r, 6, "z1") == 2 && in_zone(&r, 6, "z2") == 2 && in_zone(&r, 6, "z3") == 2,
	    "six pods under a zonal spread with maxSkew 1 go two to a zone");
	nap_sched_result_free(&r);
	spread(&r, many, 5, "topology.kubernetes.io/zone", 2, 0, 1, sel, labels, "z-2");
	TAP_OK(in_zone(&r, 5, NULL) == 0 && in_zone(&r, 5, "z1") <= 2 &&
		in_zone(&r, 5, "z2") <= 2 && in_zone(&r, 5, "z3") <= 2 && r.nclaims < 5,
	    "maxSkew 2 lets a zone hold two more pods than the emptiest");
	nap_sched_result_free(&r);
	spread(&r, many, 6, "topology.kubernetes.io/zone", 1, 4, 1, sel, labels, "z-md4");
	TAP_OK(in_zone(&r, 6, NULL) == 3 && in_zone(&r, 6, "z1") == 1 &&
		in_zone(&r, 6, "z2") == 1 && in_zone(&r, 6, "z3") == 1,
	    "minDomains 4 over three zones caps each zone at maxSkew: three of six pods fit "
	    "nowhere");
	for (i = 0; i < 6 && r.place[i].where != NAP_SCHED_NONE; i++)
		;
	TAP_OK(i < 6 && r.place[i].why && strstr(r.place[i].why, "topology spread") != NULL,
	    "a pod left out says the topology spread ruled it out");
	nap_sched_result_free(&r);
	spread(&r, many, 6, "topology.kubernetes.io/zone", 1, 3, 1, sel, labels, "z-md3");
	TAP_OK(in_zone(&r, 6, NULL) == 0 && in_zone(&r, 6, "z1") == 2 &&
		in_zone(&r, 6, "z2") == 2 && in_zone(&r, 6, "z3") == 2,
	    "minDomains 3 met by three zones caps nothing: two pods to a zone");
	nap_sched_result_free(&r);
	spread(&r, many, 6, "topology.kubernetes.io/zone", 1, 4, 0, sel, labels, "z-any");
	TAP_OK(in_zone(&r, 6, NULL) == 0 && r.relaxations > 0,
	    "the same spread as ScheduleAnyway is relaxed and every pod is placed");
	nap_sched_result_free(&r);
	spread(&r, many, 3, "kubernetes.io/hostname", 1, 0, 1, sel, labels, "h-1");
	TAP_OK(r.nclaims == 3 && in_zone(&r, 3, NULL) == 0,
	    "a hostname spread with maxSkew 1 puts three pods on three claims");
	nap_sched_result_free(&r);
	spread(&r, many, 4, "kubernetes.io/hostname", 2, 0, 1, sel, labels, "h-2");
	TAP_OK(r.nclaims == 2 && in_zone(&r, 4, NULL) == 0,
	    "a hostname spread with maxSkew 2 puts four pods on two claims");
	nap_sched_result_free(&r);
	pool.limit_nodes = 1;
	spread(&r, many, 3, "kubernetes.io/hostname", 1, 0, 1, sel, labels, "h-lim");
	TAP_OK(r.nclaims == 1 && in_zone(&r, 3, NULL) == 2,
	    "under limits.nodes 1 a DoNotSchedule hostname spread leaves two pods out");
	nap_sched_result_free(&r);
	spread(&r, many, 3, "kubernetes.io/hostname", 1, 0, 0, sel, labels, "h-lim-any");
	TAP_OK(r.nclaims == 1 && in_zone(&r, 3, NULL) == 0 && r.relaxations > 0,
	    "as ScheduleAnyway it is relaxed and the one claim takes all three pods");
	nap_sched_result_free(&r);
	pool.limit_nodes = -1;
	topo_cases(many, sel, labels);

	/* FFD order and tolerations */
	pod(&pods[2], "x", 100, 1);
	pod(&pods[3], "y", 200, 1);
	TAP_OK(nap_sched_pod_cmp(&pods[3], &pods[2]) < 0, "the larger CPU request sorts first");
	TAP_OK(!nap_tolerates(&other, 1, &taint), "Exists on another key does not tolerate");
	TAP_OK(!nap_tolerates(&eq, 1, &taint), "Equal with another value does not tolerate");
	eq.value = v_db;
	TAP_OK(nap_tolerates(&eq, 1, &taint), "Equal with the value tolerates");
	eq.effect = NAP_EFFECT_NOEXECUTE;
	TAP_OK(!nap_tolerates(&eq, 1, &taint), "a toleration for another effect does not");

	disrupt_cases();
	name_cases();
	ceiling_cases();
	pattern_cases();
	host_port_cases();
	share_cases();

	nap_selector_free(sel);
	json_object_put(seljs);
	json_object_put(labels);
	for (i = 0; i < NT; i++)
		nap_reqs_free(&types[i].reqs);
	nap_reqs_free(&pool.reqs);
	return tap_done();
}
