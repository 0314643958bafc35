/*
 * nap-sim - a simulated AKS cluster and Azure endpoint that kubectl and
 * nap's tools accept as the real thing.  This file: options, start-up
 * (certificates, listeners, state, the world), the one-thread main loop
 * (timers, the change queue, ticks, network), the kubeconfig and nap.yaml
 * it writes once ready, and a clean exit on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "http.h"
#include "json.h"
#include "prog.h"

static const char synopsis[] =
    "nap-sim [-hVv] [--port N] [--arm-port N] [--insecure-port N] [--kubeconfig-out FILE]\n"
    "               [--config-out FILE] [--ca-out FILE] [--force] [--state FILE]\n"
    "               [--time-scale N] [--boot-time SECONDS] [--region NAME] [--arm-page-size N]\n"
    "               [--listen ADDRESS [--allow-remote]] [--fault SPEC] ... (see nap-sim(1))";

/* -- clock and timers ---------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
sim_now(const struct sim *sim)
{
	(void)sim;
	return mono();
}

double
sim_scale(const struct sim *sim)
{
	return sim->opts.time_scale;
}

double
sim_elapsed(const struct sim *sim)
{
	return (mono() - sim->t0) * sim->opts.time_scale;
}

void
sim_rfc3339(const struct sim *sim, char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	(void)sim;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
sim_rfc3339_at(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
timer_before(const struct sim_timer *a, const struct sim_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
heap_up(struct sim_timer *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct sim_timer t;

		if (!timer_before(&h[i], &h[p]))
			break;
		t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static void
heap_down(struct sim_timer *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct sim_timer t;

		if (l < n && timer_before(&h[l], &h[m]))
			m = l;
		if (r < n && timer_before(&h[r], &h[m]))
			m = r;
		if (m == i)
			break;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

unsigned long
sim_after(struct sim *sim, double sim_seconds, void (*fn)(struct sim *, void *), void *arg)
{
	return sim_after_owned(sim, sim_seconds, fn, arg, NULL);
}

unsigned long
sim_after_owned(struct sim *sim, double sim_seconds, void (*fn)(struct sim *, void *), void *arg,
    void (*free_arg)(void *))
{
	struct sim_timer *t;
	unsigned long id;

	if (sim_seconds < 0)
		sim_seconds = 0;
	nap_xgrow(&sim->timers, &sim->timers_alloc, sim->ntimers + 1, sizeof(*sim->timers));
	t = &sim->timers[sim->ntimers];
	t->due = mono() + sim_seconds / sim->opts.time_scale;
	t->id = id = ++sim->timer_ids;
	t->seq = ++sim->timer_seq;
	t->fn = fn;
	t->arg = arg;
	t->free_arg = free_arg;
	heap_up(sim->timers, sim->ntimers++);
	return id;
}

void
sim_cancel(struct sim *sim, unsigned long id)
{
	size_t i;

	for (i = 0; i < sim->ntimers; i++)
		if (sim->timers[i].id == id) {
			sim->timers[i].fn = NULL;
			if (sim->timers[i].free_arg)
				sim->timers[i].free_arg(sim->timers[i].arg);
			sim->timers[i].free_arg = NULL;
		}
}

void
sim_timers_run(struct sim *sim)
{
	double now = mono();

	while (sim->ntimers && sim->timers[0].due <= now) {
		struct sim_timer t = sim->timers[0];

		sim->timers[0] = sim->timers[--sim->ntimers];
		heap_down(sim->timers, sim->ntimers, 0);
		if (t.fn)
			t.fn(sim, t.arg);
	}
}

/* -- accessors of sim.h --------------------------------------------------- */

const struct sim_opts *
sim_options(const struct sim *sim)
{
	return &sim->opts;
}

void *
sim_world(const struct sim *sim)
{
	return sim->world;
}

void
sim_set_world(struct sim *sim, void *world)
{
	sim->world = world;
}

const char *
sim_kube_url(const struct sim *sim)
{
	return sim->kube_url;
}

const char *
sim_arm_url(const struct sim *sim)
{
	return sim->arm_url;
}

/* -- files ---------------------------------------------------------------- */

/*
 * Write path whole or not at all: into a new temporary file first, then
 * into place.  Without force an existing path is never replaced: link(2)
 * fails with EEXIST where rename(2) would clobber it, even when the file
 * appeared after the check at start-up.
 */
static int
write_atomic(const char *path, const char *data, size_t len, int mode, int force,
    struct nap_err *err)
{
	char *tmp = nap_xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t off = 0;

	if (fd < 0) {
		nap_err_set(err, NAP_EX_IOERR, "unable to create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			nap_err_set(err, NAP_EX_IOERR, "unable to write %s: %s", tmp,
			    strerror(errno ? errno : EIO));
			close(fd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 || (force ? rename(tmp, path) : link(tmp, path)) < 0) {
		if (!force && errno == EEXIST)
			nap_err_set(err, NAP_EX_USAGE, "%s exists (--force replaces it)", path);
		else
			nap_err_set(err, NAP_EX_IOERR, "unable to write %s: %s", path,
			    strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (!force)
		unlink(tmp);
	free(tmp);
	return 0;
}

static char *
base64(const char *s)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i, o = 0;
	char *out = nap_xmalloc(4 * ((n + 2) / 3) + 1);

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 |
		    (unsigned char)s[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static char *
absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return nap_xstrdup(path);
	return nap_xasprintf("%s/%s", cwd, path);
}

static int
write_outputs(struct sim *sim, const char *kubeconfig, const char *config, const char *ca,
    struct nap_err *err)
{
	const struct sim_opts *o = &sim->opts;
	char *s, *b64;
	int rc = 0;

	if (ca && write_atomic(ca, sim->ca_pem, strlen(sim->ca_pem), 0644, o->force, err) < 0)
		return -1;
	if (kubeconfig) {
		b64 = base64(sim->ca_pem);
		s = nap_xasprintf("apiVersion: v1\n"
				  "kind: Config\n"
				  "clusters:\n"
				  "- name: %s\n"
				  "  cluster:\n"
				  "    server: %s\n"
				  "    certificate-authority-data: %s\n"
				  "contexts:\n"
				  "- name: %s\n"
				  "  context:\n"
				  "    cluster: %s\n"
				  "    user: %s-admin\n"
				  "    namespace: default\n"
				  "current-context: %s\n"
				  "preferences: {}\n"
				  "users:\n"
				  "- name: %s-admin\n"
				  "  user:\n"
				  "    token: %s\n",
		    o->cluster_name, sim->kube_url, b64, o->cluster_name, o->cluster_name,
		    o->cluster_name, o->cluster_name, o->cluster_name, sim->token);
		rc = write_atomic(kubeconfig, s, strlen(s), 0600, o->force, err);
		free(s);
		free(b64);
		if (rc < 0)
			return -1;
	}
	if (config) {
		char *kc = absolute(kubeconfig), *caf = absolute(ca);
		/*
		 * The catalog nap-sim was given, absolute like the other paths;
		 * without --catalog the tools find the same default as nap-sim,
		 * so the key is left out rather than written empty.
		 */
		char *cat = o->catalog ? absolute(o->catalog) : NULL;
		char *catline = cat ? nap_xasprintf("catalog: \"%s\"\n", cat) : nap_xstrdup("");
		char *key = nap_http_escape(sim->token);

		s = nap_xasprintf("# written by nap-sim for the simulated cluster it serves\n"
				  "kubeconfig: %s\n"
				  "cluster:\n"
				  "  name: %s\n"
				  "  region: %s\n"
				  "  subscriptionID: %s\n"
				  "  resourceGroup: %s\n"
				  "  subnetID: %s\n"
				  "  kubernetesVersion: \"%s\"\n"
				  "azure:\n"
				  "  cloud: custom\n"
				  "  armEndpoint: %s\n"
				  "  authorityHost: %s\n"
				  "  auth: managed-identity\n"
				  "  tokenEndpoint: %s/metadata/identity/oauth2/token?key=%s\n"
				  "  tenantID: %s\n"
				  "  caFile: %s\n"
				  "%s"
				  "log:\n"
				  "  format: text\n"
				  "  level: info\n",
		    kc, o->cluster_name, o->region, o->subscription, o->resource_group,
		    o->subnet_id, o->kubernetes_version, sim->arm_url, sim->arm_url, sim->arm_url,
		    key, o->tenant, caf, catline);
		/* 0600: the token endpoint's key is the simulator's secret. */
		rc = write_atomic(config, s, strlen(s), 0600, o->force, err);
		free(key);
		free(s);
		free(catline);
		free(cat);
		free(kc);
		free(caf);
	}
	return rc;
}

static int
load_state(struct sim *sim, json_object **world, struct nap_err *err)
{
	json_object *st;

	*world = NULL;
	if (access(sim->opts.state, F_OK) < 0)
		return 0;
	st = json_object_from_file(sim->opts.state);
	if (!st)
		return nap_err_set(err, NAP_EX_DATAERR, "unable to load state %s: %s",
		    sim->opts.state, json_util_get_last_err());
	if (sim_store_load(sim, st, err) < 0) {
		json_object_put(st);
		return nap_err_prefix(err, "state %s", sim->opts.state);
	}
	sim_store_resume_terminating(sim);
	*world = json_object_get(json_object_object_get(st, "world"));
	json_object_put(st);
	return 0;
}

static int
save_state(struct sim *sim, struct nap_err *err)
{
	json_object *st = sim_store_save(sim), *w = sim_world_save(sim);
	const char *s;
	size_t n;
	int rc;

	if (w)
		json_object_object_add(st, "world", w);
	s = json_object_to_json_string_length(
	    st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	rc = write_atomic(sim->opts.state, s, n, 0600, 1, err); /* --state names a file to replace */
	json_object_put(st);
	return rc;
}

/* -- options -------------------------------------------------------------- */

enum {
	O_ALLOW_REMOTE = 256,
	O_ARM_PAGE_SIZE,
	O_ARM_PORT,
	O_BOOT_TIME,
	O_CA_OUT,
	O_CATALOG,
	O_CLUSTER_NAME,
	O_CONFIG_OUT,
	O_CONTINUE_TTL,
	O_FAULT,
	O_FORCE,
	O_HISTORY,
	O_INSECURE_PORT,
	O_KUBECONFIG_OUT,
	O_KUBE_VERSION,
	O_LISTEN,
	O_LOG_FORMAT,
	O_LRO_TIME,
	O_MAX_BODY,
	O_PORT,
	O_REGION,
	O_RESOURCE_GROUP,
	O_SEED,
	O_STATE,
	O_SUBNET_ID,
	O_SUBSCRIPTION,
	O_TENANT,
	O_TIME_SCALE,
	O_TLS_CA,
	O_TLS_CERT,
	O_TLS_KEY,
	O_TOKEN,
	O_WATCH_410,
	O_WORLD,
};

static const struct nap_opt opts[] = {
    {"allow-remote", O_ALLOW_REMOTE, NULL, "allow --listen on an address that is not loopback"},
    {"arm-page-size", O_ARM_PAGE_SIZE, "n", "items per page of an ARM list (1000)"},
    {"arm-port", O_ARM_PORT, "n", "the ARM and token endpoint port (0: ephemeral)"},
    {"boot-time", O_BOOT_TIME, "seconds", "simulated seconds from a running VM to a Ready node (90)"},
    {"ca-out", O_CA_OUT, "file", "write the CA certificate (PEM) here"},
    {"catalog", O_CATALOG, "path", "the VM-size catalog (default: the installed one)"},
    {"cluster-name", O_CLUSTER_NAME, "name", "the simulated cluster's name (nap-sim)"},
    {"config-out", O_CONFIG_OUT, "file", "write a nap.conf(5) for the simulator here"},
    {"continue-ttl", O_CONTINUE_TTL, "seconds", "how long a list continue token lives (300)"},
    {"fault", O_FAULT, "spec", "a fault to switch on at start (JSON); repeatable"},
    {"force", O_FORCE, NULL, "replace output files that already exist"},
    {"history", O_HISTORY, "n", "changes kept for resuming watches (10000)"},
    {"insecure-port", O_INSECURE_PORT, "n", "also serve plain HTTP on this port (0: ephemeral)"},
    {"kubeconfig-out", O_KUBECONFIG_OUT, "file", "write a kubeconfig for the simulator here"},
    {"kubernetes-version", O_KUBE_VERSION, "version", "what /version reports (v1.32.4)"},
    {"listen", O_LISTEN, "address", "the IPv4 address to listen on (127.0.0.1)"},
    {"log-format", O_LOG_FORMAT, "text|json", "how messages on stderr are written"},
    {"lro-time", O_LRO_TIME, "seconds", "simulated seconds an ARM long-running operation takes (10)"},
    {"max-body", O_MAX_BODY, "bytes", "largest request body accepted (3 MiB)"},
    {"port", O_PORT, "n", "the Kubernetes API port (0: ephemeral)"},
    {"region", O_REGION, "name", "the simulated cluster's region (eastus)"},
    {"resource-group", O_RESOURCE_GROUP, "name", "the node resource group"},
    {"seed", O_SEED, "n", "seed for the world's random choices (1)"},
    {"state", O_STATE, "file", "load the objects from file at start, save them there at exit"},
    {"subnet-id", O_SUBNET_ID, "id", "the nodes' subnet"},
    {"subscription", O_SUBSCRIPTION, "id", "the simulated subscription"},
    {"tenant", O_TENANT, "id", "the simulated tenant"},
    {"time-scale", O_TIME_SCALE, "n", "run simulated time n times faster (1)"},
    {"tls-ca", O_TLS_CA, "file", "the CA written to the kubeconfig with --tls-cert"},
    {"tls-cert", O_TLS_CERT, "file", "serve with this certificate instead of a generated one"},
    {"tls-key", O_TLS_KEY, "file", "the key of --tls-cert"},
    {"token", O_TOKEN, "token", "the Kubernetes bearer token (default: a random one)"},
    {"verbose", 'v', NULL, "log every request served"},
    {"watch-410", O_WATCH_410, "event|http", "how a watch from too old a version is refused"},
    {"world", O_WORLD, "key=value", "a tunable of the simulated world; repeatable"},
    {NULL, 0, NULL, NULL},
};

static void
push(const char ***arr, size_t *n, const char *s)
{
	*arr = nap_xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = s;
}

/* 127.0.0.0/8: reachable from this host only. */
static int
loopback(const char *addr)
{
	unsigned a, b, c, d;
	char end;

	return sscanf(addr, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 && a == 127 && b < 256 &&
	    c < 256 && d < 256;
}

/*
 * The simulator hands out cluster-admin and ARM tokens and takes fault
 * orders: off loopback only when asked in so many words, and never for
 * the port that asks for no token at all.
 */
static void
check_listen(const struct sim_opts *o)
{
	if (loopback(o->listen))
		return;
	if (!o->allow_remote) {
		nap_warn("--listen %s is not a loopback address: the simulated API server, ARM and "
			 "token endpoints would be open to other hosts; add --allow-remote to mean it",
		    o->listen);
		nap_usage(synopsis);
	}
	if (o->insecure_port >= 0) {
		nap_warn("--insecure-port serves the Kubernetes API without a token: it listens on "
			 "loopback only, not on --listen %s",
		    o->listen);
		nap_usage(synopsis);
	}
	nap_warn("listening on %s, not loopback (--allow-remote): every host that can reach it "
		 "and holds the simulator's token can act as cluster admin and get ARM tokens",
	    o->listen);
}

static void
parse_options(int argc, char **argv, struct sim_opts *o)
{
	static char page_size[48];
	struct nap_getopt g;
	int c;

	o->listen = "127.0.0.1";
	o->insecure_port = -1;
	o->kubernetes_version = "v1.32.4";
	o->max_body = 3u << 20;
	o->history = 10000;
	o->continue_ttl = 300;
	o->cluster_name = "nap-sim";
	o->region = "eastus";
	o->subscription = "00000000-0000-0000-0000-000000000000";
	o->tenant = "00000000-0000-0000-0000-000000000001";
	o->time_scale = 1;
	o->boot_time = 90;
	o->lro_time = 10;
	o->seed = 1;
	nap_getopt_init(&g, opts, synopsis);
	while ((c = nap_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case O_ARM_PAGE_SIZE:
			/* The world reads it with its other tunables, in order. */
			snprintf(page_size, sizeof(page_size), "arm-page-size=%ld",
			    nap_opt_long(&g, 1, 1000000));
			push(&o->world_args, &o->nworld_args, page_size);
			break;
		case O_ARM_PORT:
			o->arm_port = (int)nap_opt_long(&g, 0, 65535);
			break;
		case O_BOOT_TIME:
			o->boot_time = nap_opt_double(&g, 0, HUGE_VAL);
			break;
		case O_CA_OUT:
			o->ca_out = g.arg;
			break;
		case O_CATALOG:
			o->catalog = g.arg;
			break;
		case O_CLUSTER_NAME:
			o->cluster_name = g.arg;
			break;
		case O_CONFIG_OUT:
			o->config_out = g.arg;
			break;
		case O_CONTINUE_TTL:
			o->continue_ttl = nap_opt_double(&g, 0, HUGE_VAL);
			break;
		case O_FAULT:
			push(&o->faults, &o->nfaults, g.arg);
			break;
		case O_FORCE:
			o->force = 1;
			break;
		case O_HISTORY:
			o->history = (size_t)nap_opt_long(&g, 1, 10000000);
			break;
		case O_INSECURE_PORT:
			o->insecure_port = (int)nap_opt_long(&g, 0, 65535);
			break;
		case O_KUBECONFIG_OUT:
			o->kubeconfig_out = g.arg;
			break;
		case O_KUBE_VERSION:
			o->kubernetes_version = g.arg;
			break;
		case O_ALLOW_REMOTE:
			o->allow_remote = 1;
			break;
		case O_LISTEN:
			o->listen = g.arg;
			break;
		case O_LOG_FORMAT:
			if (nap_log_set_format(g.arg) < 0)
				nap_usage_error(synopsis, "--log-format: \"%s\" is neither text nor json",
				    g.arg);
			break;
		case O_LRO_TIME:
			o->lro_time = nap_opt_double(&g, 0, HUGE_VAL);
			break;
		case O_MAX_BODY:
			o->max_body = (size_t)nap_opt_long(&g, 1, LONG_MAX);
			break;
		case O_PORT:
			o->port = (int)nap_opt_long(&g, 0, 65535);
			break;
		case O_REGION:
			o->region = g.arg;
			break;
		case O_RESOURCE_GROUP:
			o->resource_group = g.arg;
			break;
		case O_SEED:
			o->seed = (unsigned long)nap_opt_long(&g, 0, LONG_MAX);
			break;
		case O_STATE:
			o->state = g.arg;
			break;
		case O_SUBNET_ID:
			o->subnet_id = g.arg;
			break;
		case O_SUBSCRIPTION:
			o->subscription = g.arg;
			break;
		case O_TENANT:
			o->tenant = g.arg;
			break;
		case O_TIME_SCALE:
			o->time_scale = nap_opt_double(&g, 1e-9, HUGE_VAL);
			break;
		case O_TLS_CA:
			o->tls_ca = g.arg;
			break;
		case O_TLS_CERT:
			o->tls_cert = g.arg;
			break;
		case O_TLS_KEY:
			o->tls_key = g.arg;
			break;
		case O_TOKEN:
			o->token = g.arg;
			break;
		case O_WATCH_410:
			if (strcmp(g.arg, "http") && strcmp(g.arg, "event"))
				nap_usage_error(
				    synopsis, "--watch-410: \"%s\" is neither http nor event", g.arg);
			o->watch_410_http = !strcmp(g.arg, "http");
			break;
		case O_WORLD:
			push(&o->world_args, &o->nworld_args, g.arg);
			break;
		case 'v':
			o->verbose++;
			break;
		}
	}
	nap_log_set_level(o->verbose);
}

/*
 * An output file that exists is replaced only with --force: found here,
 * before anything is started, so a mistake costs nothing.
 */
static void
check_output(const struct sim_opts *o, const char *path, const char *opt)
{
	char what[PATH_MAX + 64];
	struct stat st;

	if (strncmp(opt, "--", 2) == 0)
		snprintf(what, sizeof(what), "%s %s", opt, path);
	else
		snprintf(what, sizeof(what), "%s (%s)", path, opt);

	if (path && !o->force && lstat(path, &st) == 0)
		nap_usage_error(synopsis, "%s: file exists (--force replaces it)", what);
}

/* Defaults that depend on other options, kept for the life of the process. */
static void
derive_defaults(struct sim_opts *o)
{
	static char rg[256], subnet[512];

	if (!o->resource_group) {
		snprintf(
		    rg, sizeof(rg), "MC_%s_%s_%s", o->cluster_name, o->cluster_name, o->region);
		o->resource_group = rg;
	}
	if (!o->subnet_id) {
		snprintf(subnet, sizeof(subnet),
		    "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
		    "virtualNetworks/aks-vnet-12345678/subnets/aks-subnet",
		    o->subscription, o->resource_group);
		o->subnet_id = subnet;
	}
}

static void
sim_free(struct sim *sim)
{
	size_t i;

	for (i = 0; i < sim->ntimers; i++)
		if (sim->timers[i].free_arg)
			sim->timers[i].free_arg(sim->timers[i].arg);
	free(sim->timers);
	for (i = 0; i < sim->nconts; i++) {
		free(sim->conts[i].token);
		json_object_put(sim->conts[i].items);
	}
	free(sim->conts);
	sim_store_free(sim);
	free(sim->kube_url);
	free(sim->arm_url);
	free(sim->insecure_url);
	free(sim->token);
	free(sim->ca_pem);
	free(sim->cert_pem);
	free(sim->key_pem);
	free(sim->opts.faults);
	free(sim->opts.world_args);
}

/* -- main ----------------------------------------------------------------- */

static void
run(struct sim *sim)
{
	double next_tick = mono();

	while (!nap_stopping()) {
		double now, wake, flush;

		sim_timers_run(sim);
		sim_changes_drain(sim);
		now = mono();
		if (now >= next_tick) {
			sim_world_tick(sim);
			sim_watch_tick(sim);
			sim_events_gc(sim);
			sim_changes_drain(sim);
			next_tick = now + 0.1;
		}
		wake = next_tick;
		if (sim->ntimers && sim->timers[0].due < wake)
			wake = sim->timers[0].due;
		flush = sim_watch_flush(sim, 0);
		if (flush > 0 && flush < wake)
			wake = flush;
		if (sim_http_poll(sim, wake - mono()) < 0)
			nap_die(NAP_EX_IOERR, "unable to poll: %s", strerror(errno));
		sim_changes_drain(sim);
	}
}

int
main(int argc, char **argv)
{
	struct sim sim;
	struct nap_err err;
	json_object *world_state = NULL, *ready;
	char *kubeconfig, *config, *ca, tok[48];

	nap_prog_init("nap-sim");
	memset(&sim, 0, sizeof(sim));
	parse_options(argc, argv, &sim.opts);
	check_listen(&sim.opts);
	derive_defaults(&sim.opts);

	/* A config needs a kubeconfig and a CA file; put them beside it. */
	config = sim.opts.config_out ? nap_xstrdup(sim.opts.config_out) : NULL;
	kubeconfig = sim.opts.kubeconfig_out ? nap_xstrdup(sim.opts.kubeconfig_out)
	    : config			     ? nap_xasprintf("%s.kubeconfig", config)
					     : NULL;
	ca = sim.opts.ca_out ? nap_xstrdup(sim.opts.ca_out)
	    : config	     ? nap_xasprintf("%s.ca.pem", config)
			     : NULL;
	check_output(&sim.opts, config, "--config-out");
	check_output(&sim.opts, kubeconfig,
	    sim.opts.kubeconfig_out ? "--kubeconfig-out" : "the kubeconfig beside --config-out");
	check_output(&sim.opts, ca, sim.opts.ca_out ? "--ca-out" : "the CA beside --config-out");
	sim.t0 = mono();
	sim_store_init(&sim);
	if (sim.opts.token) {
		sim.token = nap_xstrdup(sim.opts.token);
	} else {
		sim_uuid(tok);
		sim.token = nap_xasprintf("nap-sim.%s", tok);
	}
	if ((sim.opts.tls_cert ? sim_tls_load(&sim, &err) : sim_tls_generate(&sim, &err)) < 0)
		nap_die_err(&err);
	if (sim_http_start(&sim, &err) < 0)
		nap_die_err(&err);
	if (sim.opts.state && load_state(&sim, &world_state, &err) < 0)
		nap_die_err(&err);
	sim_controllers_init(&sim);
	sim_world_init(&sim, &sim.opts);
	if (world_state) {
		sim_world_load(&sim, world_state);
		json_object_put(world_state);
	}
	sim_changes_drain(&sim);

	if (write_outputs(&sim, kubeconfig, config, ca, &err) < 0)
		nap_die_err(&err);
	ready = json_object_new_object();
	json_object_object_add(ready, "type", json_object_new_string("ready"));
	json_object_object_add(ready, "kube", json_object_new_string(sim.kube_url));
	json_object_object_add(ready, "arm", json_object_new_string(sim.arm_url));
	if (sim.insecure_url)
		json_object_object_add(ready, "insecure", json_object_new_string(sim.insecure_url));
	if (kubeconfig)
		json_object_object_add(ready, "kubeconfig", json_object_new_string(kubeconfig));
	if (config)
		json_object_object_add(ready, "config", json_object_new_string(config));
	json_object_object_add(ready, "pid", json_object_new_int((int)getpid()));
	nap_emit(ready);
	json_object_put(ready);
	nap_info("serving kubernetes on %s, arm on %s", sim.kube_url, sim.arm_url);

	run(&sim);

	nap_info("stopping");
	if (sim.opts.state && save_state(&sim, &err) < 0)
		nap_warn("%s", err.msg);
	sim_http_stop(&sim);
	sim_world_fini(&sim);
	sim_free(&sim);
	free(kubeconfig);
	free(config);
	free(ca);
	return nap_exit(0);
}
