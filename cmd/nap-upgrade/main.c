/*
 * nap-upgrade - nodes follow the control plane and the newest node image.
 * Reads state records, forwards them, and after SYNCED and then every
 * upgrade.interval keeps each AKSNodeClass status as the Azure provider
 * does (kubernetesVersion, images, conditions) and marks the NodeClaims
 * that drifted from it (Drifted condition, Drifted record).  With --plan it
 * reads a snapshot to its end and reports what it would do, writing
 * nothing.  See nap-upgrade(1).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "prog.h"
#include "rec.h"
#include "up.h"

#define SYNOPSIS                                                                                   \
	"nap-upgrade [-hVv] [--config file] [--context name] [--image-version def=version] "         \
	"[--interval duration] [--kubeconfig file] [--kubernetes-version version] "                \
	"[--log-format text|json] [--metrics-file path] [--metrics-listen addr] [--now time] "     \
	"[--plan] [--sig-subscription-id id] [--time-scale n]"

enum {
	OPT_CONFIG = 256,
	OPT_CONTEXT,
	OPT_IMAGE_VERSION,
	OPT_INTERVAL,
	OPT_KUBECONFIG,
	OPT_K8S_VERSION,
	OPT_LOG_FORMAT,
	OPT_NOW,
	OPT_OBS, /* --metrics-file, --metrics-listen: obs.c */
	OPT_PLAN,
	OPT_SIG_SUB,
	OPT_TIME_SCALE,
};

static const struct nap_opt opts[] = {
    {"config", OPT_CONFIG, "file", "the nap.conf(5) file (default /etc/nap/nap.yaml)"},
    {"context", OPT_CONTEXT, "name", "the kubeconfig context to use"},
    {"image-version", OPT_IMAGE_VERSION, "def=version",
	"take this as the newest version of an image definition (repeatable)"},
    {"interval", OPT_INTERVAL, "duration", "how often to look again (upgrade.interval, 5m)"},
    {"kubeconfig", OPT_KUBECONFIG, "file", "the kubeconfig to reach the API server with"},
    {"kubernetes-version", OPT_K8S_VERSION, "version",
	"take this as the API server's version instead of asking /version"},
    {"log-format", OPT_LOG_FORMAT, "text|json", "how messages on stderr are written"},
    {"metrics-file", OPT_OBS, "path", "write Prometheus metrics to this textfile"},
    {"metrics-listen", OPT_OBS, "addr", "serve Prometheus metrics on [host:]port"},
    {"now", OPT_NOW, "time", "decide as if it were this RFC 3339 time"},
    {"plan", OPT_PLAN, NULL, "read a snapshot, report UpgradePlan records, write nothing"},
    {"sig-subscription-id", OPT_SIG_SUB, "id",
	"take images from AKS's managed galleries in this subscription (nodeImageVersions)"},
    {"time-scale", OPT_TIME_SCALE, "n", "run n times faster than real time (1 to 1e6)"},
    {"verbose", 'v', NULL, "more messages (twice: debug)"},
    {NULL, 0, NULL, NULL},
};

/* The maintenance window of nap.conf as lib/window's schedule object. */
static void
schedule(struct up *u)
{
	const struct nap_config_window *w = &u->cfg.upgrade.window;
	json_object *o;
	struct nap_err err;

	if (*w->frequency == '\0')
		return;
	o = json_object_new_object();
	json_object_object_add(o, "frequency", json_object_new_string(w->frequency));
#define STR(k, f)                                                                                  \
	if (*w->f)                                                                                 \
	json_object_object_add(o, k, json_object_new_string(w->f))
#define INT(k, f)                                                                                  \
	if (w->f)                                                                                  \
	json_object_object_add(o, k, json_object_new_int64(w->f))
	INT("interval", interval);
	INT("dayOfMonth", day_of_month);
	INT("durationHours", duration_hours);
	STR("dayOfWeek", day_of_week);
	STR("weekIndex", week_index);
	STR("startTime", start_time);
	STR("utcOffset", utc_offset);
	STR("startDate", start_date);
#undef STR
#undef INT
	if (nap_window_from_schedule(&u->sched, o, &err) < 0)
		nap_die(NAP_EX_CONFIG, "%s: upgrade.maintenanceWindow: %s",
		    u->cfg.path[0] ? u->cfg.path : "configuration", err.msg);
	json_object_put(o);
	u->have_sched = 1;
}

static void
setup_kube(struct up *u, const char *kubeconfig, const char *context)
{
	struct nap_err err;
	char *warning;

	if ((u->kube = nap_kube_open(&u->cfg, kubeconfig, context, &warning, &err)) == NULL)
		nap_die_err(&err);
	if (warning)
		nap_warn("%s", warning);
	free(warning);
}

static void
setup_arm(struct up *u)
{
	struct nap_arm_opts mo;
	struct nap_http_tls *tls = &u->tls; /* the clients keep a pointer to it */
	struct nap_err err;

	if (!u->cfg.cluster.subscription_id[0] || !u->cfg.cluster.region[0])
		nap_die(NAP_EX_CONFIG,
		    "%s: cluster.subscriptionID and region are needed to ask for image versions",
		    u->cfg.path[0] ? u->cfg.path : "configuration");
	if (nap_http_url_plain(u->cfg.azure.arm_endpoint))
		nap_warn("azure.armEndpoint %s is plain http: ARM bearer tokens will cross the "
			 "network unencrypted",
		    u->cfg.azure.arm_endpoint);
	if ((u->http = nap_http_new(&err)) == NULL)
		nap_die_err(&err);
	memset(tls, 0, sizeof(*tls));
	if (u->cfg.azure.ca_file[0]) {
		tls->ca_file = u->cfg.azure.ca_file;
		tls->ca_add = 1;
	}
	if (nap_auth_new_from_config(&u->auth, &u->cfg, tls->ca_file ? tls : NULL, u->http, &err) < 0)
		nap_die_err(&err);
	memset(&mo, 0, sizeof(mo));
	mo.endpoint = u->cfg.azure.arm_endpoint;
	mo.auth = u->auth;
	mo.tls = tls->ca_file ? tls : NULL;
	mo.time_scale = u->scale;
	if ((u->arm = nap_arm_new(u->http, &mo, &err)) == NULL)
		nap_die_err(&err);
}

static void
pin(struct up *u, const struct nap_getopt *g)
{
	const char *eq = strchr(g->arg, '=');
	char *def;

	if (eq == NULL || eq == g->arg || eq[1] == '\0')
		nap_usage_error(SYNOPSIS, "%s: \"%s\" is not def=version", g->name, g->arg);
	def = nap_xstrndup(g->arg, (size_t)(eq - g->arg));
	free(nap_hash_put(&u->pinned, def, nap_xstrdup(eq + 1)));
	free(def);
}

static void
on_record(struct up *u, const struct nap_rec *rec)
{
	const char *t = rec->type;
	struct nap_err err;

	if (strcmp(t, "ADDED") == 0 || strcmp(t, "MODIFIED") == 0 || strcmp(t, "DELETED") == 0) {
		if (nap_cluster_apply_record(u->cl, rec->obj, &err) < 0)
			nap_warn("line %lu: %s", rec->lineno, err.msg);
	} else if (strcmp(t, "SYNCED") == 0) {
		u->synced = 1;
	}
	if (!u->plan)
		nap_emit_raw(rec->line, rec->len);
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *kubeconfig = NULL, *context = NULL;
	struct nap_rec_reader *rd;
	struct nap_getopt g;
	struct nap_err err;
	struct nap_rec rec;
	struct up u;
	int64_t interval = 0, next = 0, t;
	int c, verbose = 0, r, eof = 0;

	nap_prog_init("nap-upgrade");
	memset(&u, 0, sizeof(u));
	u.scale = 1;
	nap_hash_init(&u.pinned);
	nap_hash_init(&u.cache);
	nap_getopt_init(&g, opts, SYNOPSIS);
	while ((c = nap_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			config = g.arg;
			break;
		case OPT_CONTEXT:
			context = g.arg;
			break;
		case OPT_IMAGE_VERSION:
			pin(&u, &g);
			break;
		case OPT_INTERVAL:
			interval = nap_opt_duration(&g, 1000);
			break;
		case OPT_KUBECONFIG:
			kubeconfig = g.arg;
			break;
		case OPT_K8S_VERSION:
			u.k8s_flag = g.arg;
			break;
		case OPT_LOG_FORMAT:
			if (nap_log_set_format(g.arg) < 0)
				nap_usage_error(SYNOPSIS, "--log-format: \"%s\" is neither text nor json",
				    g.arg);
			break;
		case OPT_NOW:
			if (nap_time_parse(g.arg, &t) < 0)
				nap_usage_error(SYNOPSIS, "--now: \"%s\" is not an RFC 3339 time", g.arg);
			u.now_flag = t * 1000;
			break;
		case OPT_OBS:
			obs_option(g.name, g.arg);
			break;
		case OPT_PLAN:
			u.plan = 1;
			break;
		case OPT_SIG_SUB:
			if (*g.arg == '\0' || strchr(g.arg, '/'))
				nap_usage_error(SYNOPSIS, "%s: \"%s\" is not a subscription ID",
				    g.name, g.arg);
			u.sig_sub = g.arg;
			break;
		case OPT_TIME_SCALE:
			u.scale = nap_opt_double(&g, 1, 1e6);
			break;
		case 'v':
			verbose++;
			break;
		}
	}
	nap_log_set_level(verbose);
	nap_config_init(&u.cfg);
	if (nap_config_load(&u.cfg, config, config != NULL, &err) < 0)
		nap_die_err(&err);
	if (u.cfg.log.level[0] && !verbose)
		nap_log_set_level_name(u.cfg.log.level);
	schedule(&u);
	if (!interval)
		interval = u.cfg.upgrade.interval_ms;
	interval = (int64_t)((double)interval / u.scale);
	if (interval < 100)
		interval = 100;
	/* --plan with the version given asks the API server nothing. */
	if (!u.plan || !u.k8s_flag)
		setup_kube(&u, kubeconfig, context);
	/* --plan with image versions given asks Azure nothing. */
	if (!u.plan || nap_hash_count(&u.pinned) == 0)
		setup_arm(&u);
	u.cl = nap_cluster_new();
	nap_cluster_keep_pod_json(u.cl, 0);
	if (!u.plan)
		obs_start(&u);

	rd = nap_rec_reader_new(0, "stdin");
	while (!nap_stopping()) {
		struct pollfd pfd = {nap_rec_fd(rd), POLLIN, 0};
		int64_t now = up_now(&u), wait;

		if (!u.plan && u.synced && now >= next) {
			up_pass(&u);
			obs_sync(&u);
			next = up_now(&u) + interval;
		}
		if (eof)
			break;
		wait = u.plan || !u.synced ? -1 : next - now;
		if (wait > 60000)
			wait = 60000;
		nap_emit_flush();
		if (poll(&pfd, 1, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			nap_die(NAP_EX_IOERR, "poll: %s", strerror(errno));
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (nap_rec_fill(rd, &err) < 0)
			nap_die_err(&err);
		while ((r = nap_rec_next(rd, &rec, &err)) == NAP_REC_OK || r == NAP_REC_BAD) {
			obs_read(rec.type, r == NAP_REC_BAD);
			if (r == NAP_REC_BAD)
				nap_warn("stdin: %s", err.msg);
			else
				on_record(&u, &rec);
		}
		if (r == NAP_REC_EOF)
			eof = 1;
	}
	if (u.plan && !nap_stopping())
		up_pass(&u);
	nap_debug("%lu passes, %lu class statuses written, %lu drifted, %lu no longer drifted",
	    u.passes, u.class_writes, u.drift_marks, u.drift_clears);
	nap_rec_reader_free(rd);
	obs_stop(&u);
	up_free(&u);
	nap_cluster_free(u.cl);
	nap_arm_free(u.arm);
	nap_auth_free(u.auth);
	nap_kube_free(u.kube);
	nap_http_free(u.http);
	nap_config_free(&u.cfg);
	return nap_exit(0);
}
