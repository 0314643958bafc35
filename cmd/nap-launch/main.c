/*
 * nap-launch - NodeClaims become VMs become nodes.  Reads LaunchRequest
 * records (stdin and --input FIFOs) and state records (stdin, forwarded),
 * creates each NodeClaim, its NIC and its VM on the cheapest offering Azure
 * accepts, and follows the claim to Registered and Initialized; writes
 * Launched, LaunchFailed, Registered, Initialized and OfferingUnavailable
 * records.  See nap-launch(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "prog.h"
#include "rec.h"
#include "nap-launch.h"
#include "obs.h"

#define SYNOPSIS                                                                                   \
	"nap-launch [-hVv] [--catalog path] [--config file] [--context name] "                     \
	"[--feedback fifo] [--input fifo] [--kubeconfig file] [--log-format text|json] "           \
	"[--max-inflight n] [--metrics-file path] [--metrics-listen addr] [--no-events] "          \
	"[--registration-timeout duration] [--time-scale n]"
#define MAX_INPUTS 8
#define BATCH 16

static void
on_record(struct ctx *x, const struct nap_rec *rec, int is_stdin)
{
	const char *t = rec->type;

	if (strcmp(t, "LaunchRequest") == 0) {
		launch_request(x, rec->obj);
		return;
	}
	if (!is_stdin)
		return;
	if (strcmp(t, "ADDED") == 0 || strcmp(t, "MODIFIED") == 0 || strcmp(t, "DELETED") == 0)
		launch_state(x, rec->obj);
	else if (strcmp(t, "SYNCED") == 0) {
		launch_synced(x, rec->obj);
		gc_synced(x, rec->obj);
	}
	nap_emit_raw(rec->line, rec->len);
}

/*
 * Up to a batch of buffered records from one input: 0 once it has ended, 2
 * when more are buffered, 1 otherwise.  Batches let the ARM calls of the
 * first requests start while later ones are still being read.
 */
static int
drain(struct ctx *x, struct nap_rec_reader *rd, int is_stdin)
{
	struct nap_rec rec;
	struct nap_err err;
	int r, n = 0;

	while (!x->fatal) {
		if (n == BATCH)
			return 2;
		r = nap_rec_next(rd, &rec, &err);
		if (r == NAP_REC_OK) {
			obs_read(&rec);
			on_record(x, &rec, is_stdin);
			if (strcmp(rec.type, "LaunchRequest") == 0)
				n++;
			continue;
		}
		if (r == NAP_REC_BAD) {
			nap_warn("%s: %s", nap_rec_name(rd), err.msg);
			obs_malformed();
			continue;
		}
		return r != NAP_REC_EOF;
	}
	return 1;
}

enum {
	OPT_CATALOG = 256,
	OPT_CONFIG,
	OPT_CONTEXT,
	OPT_FEEDBACK,
	OPT_INPUT,
	OPT_KUBECONFIG,
	OPT_LOG_FORMAT,
	OPT_MAX_INFLIGHT,
	OPT_OBS, /* --metrics-file, --metrics-listen, --no-events: obs.c */
	OPT_REGISTRATION_TIMEOUT,
	OPT_TIME_SCALE,
};

static const struct nap_opt opts[] = {
    {"catalog", OPT_CATALOG, "path", "the VM-size catalog, nap-catalog(5)"},
    {"config", OPT_CONFIG, "file", "the nap.conf(5) file (default /etc/nap/nap.yaml)"},
    {"context", OPT_CONTEXT, "name", "the kubeconfig context to use"},
    {"feedback", OPT_FEEDBACK, "fifo", "write OfferingUnavailable records here too"},
    {"input", OPT_INPUT, "fifo", "also read LaunchRequest records here (up to 8)"},
    {"kubeconfig", OPT_KUBECONFIG, "file", "the kubeconfig to reach the API server with"},
    {"log-format", OPT_LOG_FORMAT, "text|json", "how messages on stderr are written"},
    {"max-inflight", OPT_MAX_INFLIGHT, "n", "ARM requests in flight at once (1 to 4096)"},
    {"metrics-file", OPT_OBS, "path", "write Prometheus metrics to this textfile"},
    {"metrics-listen", OPT_OBS, "addr", "serve Prometheus metrics on [host:]port"},
    {"no-events", OPT_OBS, NULL, "post no Kubernetes Events"},
    {"registration-timeout", OPT_REGISTRATION_TIMEOUT, "duration",
	"give up on a NodeClaim not registered by then (15m)"},
    {"time-scale", OPT_TIME_SCALE, "n", "run n times faster than real time (1 to 1e6)"},
    {"verbose", 'v', NULL, "more messages (twice: debug)"},
    {NULL, 0, NULL, NULL},
};

/* A FIFO that never blocks us: missing is made, a missing reader costs nothing. */
static int
open_feedback(const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0) {
		if (errno != ENOENT || mkfifo(path, 0600) < 0)
			nap_die(NAP_EX_IOERR, "unable to create feedback fifo %s: %s", path,
			    strerror(errno));
	} else if (!S_ISFIFO(st.st_mode)) {
		fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			nap_die(NAP_EX_IOERR, "unable to open %s: %s", path, strerror(errno));
		return fd;
	}
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		nap_die(NAP_EX_IOERR, "unable to open feedback fifo %s: %s", path, strerror(errno));
	return fd;
}

static void
kube_version(struct ctx *x)
{
	json_object *v = NULL;
	struct nap_err err;
	const char *s = x->cfg.cluster.kubernetes_version;

	if (!s[0]) {
		if (nap_kube_get(x->kube, "/version", &v, &err) < 0) {
			if (err.code == NAP_EX_NOPERM || err.code == NAP_EX_CONFIG ||
			    (err.code == NAP_EX_UNAVAILABLE && err.http == 0))
				nap_die_err(&err);
			nap_warn("kubernetes version: %s", err.msg);
		}
		s = v ? nap_json_str(v, "gitVersion", "") : "";
	}
	if (s[0] == 'v')
		s++;
	x->k8s_version = nap_xstrdup(s);
	if (v)
		json_object_put(v);
}

static void
setup(struct ctx *x, const char *config, const char *kubeconfig, const char *context,
    const char *catalog, int max_inflight)
{
	struct nap_arm_opts mo;
	struct nap_err err;
	char *warning;
	size_t i;

	nap_config_init(&x->cfg);
	if (nap_config_load(&x->cfg, config, config != NULL, &err) < 0)
		nap_die_err(&err);
	if (x->cfg.log.level[0])
		nap_log_set_level_name(x->cfg.log.level);
	x->sub = x->cfg.cluster.subscription_id;
	x->rg = x->cfg.cluster.resource_group;
	x->region = x->cfg.cluster.region;
	x->cluster = x->cfg.cluster.name;
	x->subnet = x->cfg.cluster.subnet_id;
	if (!x->sub[0] || !x->rg[0] || !x->region[0] || !x->subnet[0])
		nap_die(NAP_EX_CONFIG,
		    "%s: cluster.subscriptionID, resourceGroup, region and "
		    "subnetID are needed to launch",
		    x->cfg.path[0] ? x->cfg.path : "configuration");
	x->rg_lower = nap_xstrdup(x->rg);
	for (i = 0; x->rg_lower[i]; i++)
		if (x->rg_lower[i] >= 'A' && x->rg_lower[i] <= 'Z')
			x->rg_lower[i] = (char)(x->rg_lower[i] - 'A' + 'a');
	if (!x->reg_timeout_ms)
		x->reg_timeout_ms = x->cfg.launch.registration_timeout_ms;

	if ((x->http = nap_http_new(&err)) == NULL)
		nap_die_err(&err);
	memset(&x->tls, 0, sizeof(x->tls));
	if (x->cfg.azure.ca_file[0]) {
		x->tls.ca_file = x->cfg.azure.ca_file;
		x->tls.ca_add = 1; /* nap.conf(5): in addition to the system CAs */
	}

	if (nap_http_url_plain(x->cfg.azure.arm_endpoint))
		nap_warn("azure.armEndpoint %s is plain http: ARM bearer tokens will cross the "
			 "network unencrypted",
		    x->cfg.azure.arm_endpoint);
	/*
	 * Its own pool: a blocking request on a pool shared with ARM would spin
	 * while finished ARM transfers wait to be collected (nap_http_do).
	 */
	if ((x->kube = nap_kube_open(&x->cfg, kubeconfig, context, &warning, &err)) == NULL)
		nap_die_err(&err);
	if (warning)
		nap_warn("%s", warning);
	free(warning);
	if (nap_auth_new_from_config(&x->auth, &x->cfg, x->tls.ca_file ? &x->tls : NULL, x->http,
		&err) < 0)
		nap_die_err(&err);

	memset(&mo, 0, sizeof(mo));
	mo.endpoint = x->cfg.azure.arm_endpoint;
	mo.auth = x->auth;
	mo.tls = x->tls.ca_file ? &x->tls : NULL;
	mo.time_scale = x->scale;
	mo.max_inflight = max_inflight;
	if ((x->arm = nap_arm_new(x->http, &mo, &err)) == NULL)
		nap_die_err(&err);

	if (nap_catalog_load_config(&x->cat, &x->cfg, catalog, x->region, NULL, &err) < 0)
		nap_die_err(&err);
	x->cl = nap_cluster_new();
	kube_version(x);
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *kubeconfig = NULL, *context = NULL, *catalog = NULL;
	const char *inputs[MAX_INPUTS];
	struct nap_rec_reader *rd[MAX_INPUTS + 1];
	int open_in[MAX_INPUTS + 1], more[MAX_INPUTS + 1], busy;
	struct pollfd pfd[MAX_INPUTS + 1];
	size_t ninputs = 0, i;
	struct ctx x;
	struct nap_getopt g;
	struct nap_err err;
	int c, verbose = 0, max_inflight = 0, code;

	nap_prog_init("nap-launch");
	memset(&x, 0, sizeof(x));
	x.scale = 1;
	x.oc.feedback_fd = -1;
	nap_getopt_init(&g, opts, SYNOPSIS);
	while ((c = nap_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_CATALOG:
			catalog = g.arg;
			break;
		case OPT_CONFIG:
			config = g.arg;
			break;
		case OPT_CONTEXT:
			context = g.arg;
			break;
		case OPT_FEEDBACK:
			x.oc.feedback_path = g.arg;
			break;
		case OPT_INPUT:
			if (ninputs == MAX_INPUTS)
				nap_usage_error(SYNOPSIS, "at most %d --input FIFOs", MAX_INPUTS);
			inputs[ninputs++] = g.arg;
			break;
		case OPT_KUBECONFIG:
			kubeconfig = g.arg;
			break;
		case OPT_LOG_FORMAT:
			if (nap_log_set_format(g.arg) < 0)
				nap_usage_error(SYNOPSIS, "--log-format: \"%s\" is neither text nor json",
				    g.arg);
			break;
		case OPT_MAX_INFLIGHT:
			max_inflight = (int)nap_opt_long(&g, 1, 4096);
			break;
		case OPT_OBS:
			obs_option(g.name, g.arg);
			break;
		case OPT_REGISTRATION_TIMEOUT:
			x.reg_timeout_ms = nap_opt_duration(&g, 1);
			break;
		case OPT_TIME_SCALE:
			x.scale = nap_opt_double(&g, 1, 1e6);
			break;
		case 'v':
			verbose++;
			break;
		}
	}
	nap_log_set_level(verbose);
	setup(&x, config, kubeconfig, context, catalog, max_inflight);
	if (verbose)
		nap_log_set_level(verbose);
	obs_start(&x, kubeconfig, context);
	nap_hash_init(&x.byname);
	nap_hash_init(&x.done);
	nap_hash_init(&x.byprov);
	nap_hash_init(&x.collecting);
	x.oc.cat = x.cat;
	x.oc.scale = x.scale;
	if (x.oc.feedback_path)
		x.oc.feedback_fd = open_feedback(x.oc.feedback_path);

	rd[0] = nap_rec_reader_new(0, "stdin");
	open_in[0] = 1;
	memset(more, 0, sizeof(more));
	for (i = 0; i < ninputs; i++) {
		if ((rd[i + 1] = nap_rec_open_fifo(inputs[i], &err)) == NULL)
			nap_die_err(&err);
		open_in[i + 1] = 1;
	}

	while (!nap_stopping() && !x.fatal) {
		struct nap_arm_call *call;
		int n, t;

		/* Inputs first, without waiting: records are cheap, ARM is not. */
		for (i = 0; i <= ninputs; i++) {
			pfd[i].fd = open_in[i] ? nap_rec_fd(rd[i]) : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		n = poll(pfd, ninputs + 1, 0);
		if (n < 0 && errno != EINTR)
			nap_die(NAP_EX_IOERR, "poll: %s", strerror(errno));
		busy = 0;
		for (i = 0; i <= ninputs; i++) {
			int r;

			if (!more[i]) {
				if (n <= 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				if (nap_rec_fill(rd[i], &err) < 0)
					nap_die_err(&err);
			}
			r = drain(&x, rd[i], i == 0);
			more[i] = r == 2;
			busy |= more[i];
			if (r == 0)
				open_in[i] = 0;
		}
		if (!open_in[0] && launch_busy(&x) == 0 && gc_busy() == 0)
			break;
		t = busy ? 0 : ninputs ? 50 : 100;
		if (nap_arm_wait(x.arm, open_in[0] ? 0 : -1, t, &err) < 0)
			nap_die_err(&err);
		while ((call = nap_arm_done(x.arm)) != NULL)
			if (!gc_arm_done(&x, call) && !launch_arm_done(&x, call))
				nap_arm_call_free(call); /* a call nobody waits for any more */
		launch_tick(&x);
		gc_tick(&x);
	}
	code = x.fatal ? x.fatal : 0;
	nap_debug("arm: %lu requests, %lu throttled; %lu launched, %lu failed",
	    nap_arm_requests(x.arm), nap_arm_throttled(x.arm), x.nlaunched, x.nfailed);
	if (getenv("NAP_LAUNCH_STATS"))
		fprintf(stderr,
		    "nap-launch: stats: arm_requests=%lu arm_throttled=%lu "
		    "launched=%lu failed=%lu\n",
		    nap_arm_requests(x.arm), nap_arm_throttled(x.arm), x.nlaunched, x.nfailed);

	obs_stop();
	for (i = 0; i <= ninputs; i++)
		nap_rec_reader_free(rd[i]);
	if (x.oc.feedback_fd >= 0)
		close(x.oc.feedback_fd);
	launch_free(&x);
	gc_free(&x);
	nap_hash_free(&x.collecting);
	cache_free(&x.oc);
	nap_arm_free(x.arm);
	nap_auth_free(x.auth);
	nap_kube_free(x.kube);
	nap_cluster_free(x.cl);
	nap_catalog_free(x.cat);
	nap_http_free(x.http);
	free(x.rg_lower);
	free(x.k8s_version);
	nap_config_free(&x.cfg);
	return nap_exit(code);
}
