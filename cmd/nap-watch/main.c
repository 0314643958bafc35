/*
 * nap-watch - the cluster as a stream of records: list every watched kind,
 * then follow its watch, and print ADDED / MODIFIED / DELETED records, with
 * SYNCED once every kind is listed (and again after each relist).
 */
#include <errno.h>
#include <unistd.h>

#include "config.h"
#include "obs.h"
#include "prog.h"
#include "watch.h"

#define SYNOPSIS                                                                                   \
	"nap-watch [-hVv] [--config file] [--kubeconfig file] [--context name] [--kinds list]\n"   \
	"       [--once] [--slim] [--page-size n] [--retries n] [--retry-time duration]\n"         \
	"       [--watch-timeout seconds] [--log-format text|json] [--metrics-file path]\n"        \
	"       [--metrics-listen addr]"

enum {
	OPT_CONFIG = 256,
	OPT_CONTEXT,
	OPT_KINDS,
	OPT_KUBECONFIG,
	OPT_LOG_FORMAT,
	OPT_OBS, /* --metrics-file, --metrics-listen: obs.c */
	OPT_ONCE,
	OPT_PAGE_SIZE,
	OPT_RETRIES,
	OPT_RETRY_TIME,
	OPT_SLIM,
	OPT_WATCH_TIMEOUT,
};

static const struct nap_opt opts[] = {
    {"config", OPT_CONFIG, "file", "the nap.conf(5) file (default /etc/nap/nap.yaml)"},
    {"context", OPT_CONTEXT, "name", "the kubeconfig context to use"},
    {"kinds", OPT_KINDS, "list", "the kinds to watch, comma-separated"},
    {"kubeconfig", OPT_KUBECONFIG, "file", "the kubeconfig to reach the API server with"},
    {"log-format", OPT_LOG_FORMAT, "text|json", "how messages on stderr are written"},
    {"metrics-file", OPT_OBS, "path", "write Prometheus metrics to this textfile"},
    {"metrics-listen", OPT_OBS, "addr", "serve Prometheus metrics on [host:]port"},
    {"once", OPT_ONCE, NULL, "list every kind, print SYNCED and exit"},
    {"page-size", OPT_PAGE_SIZE, "n", "objects per list page (1 to 100000, default 500)"},
    {"retries", OPT_RETRIES, "n", "failed requests in a row before giving up (default 10)"},
    {"retry-time", OPT_RETRY_TIME, "duration", "give up after failing for this long"},
    {"slim", OPT_SLIM, NULL, "drop the fields no nap tool reads"},
    {"verbose", 'v', NULL, "more messages (twice: debug)"},
    {"watch-timeout", OPT_WATCH_TIMEOUT, "seconds", "ask the server to end each watch after this"},
    {NULL, 0, NULL, NULL},
};

/* The kinds to watch, in table order; NULL list = the defaults. */
static size_t
pick_kinds(const char *list, const struct watch_kind **out)
{
	size_t n = 0;

	if (!list) {
		for (const struct watch_kind *k = watch_kinds; k->name; k++)
			if (k->by_default)
				out[n++] = k;
		return n;
	}
	{
		char *copy = nap_xstrdup(list), *save = NULL, *tok;

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			const struct watch_kind *k = watch_kind_find(tok);
			int dup = 0;

			if (!k)
				nap_usage_error(SYNOPSIS, "--kinds: unknown kind \"%s\"", tok);
			for (size_t i = 0; i < n; i++)
				dup |= out[i] == k;
			if (!dup)
				out[n++] = k;
		}
		free(copy);
	}
	if (!n)
		nap_usage_error(SYNOPSIS, "--kinds: no kind in \"%s\"", list);
	/*
	 * Watching volumes means counting them against attach limits, which
	 * the nodes' CSINodes give: csinodes comes along with
	 * persistentvolumeclaims.
	 */
	{
		const struct watch_kind *pvc = watch_kind_find("persistentvolumeclaims");
		const struct watch_kind *csi = watch_kind_find("csinodes");
		int has_pvc = 0, has_csi = 0;

		for (size_t i = 0; i < n; i++) {
			has_pvc |= out[i] == pvc;
			has_csi |= out[i] == csi;
		}
		if (has_pvc && !has_csi)
			out[n++] = csi;
	}
	return n;
}

/* SYNCED is due when every kind has been listed and one just finished a list. */
static int
check_synced(struct informer *ins, size_t n, int once)
{
	int all = 1, fresh = 0, done = 1;

	for (size_t i = 0; i < n; i++) {
		all &= ins[i].synced;
		fresh |= ins[i].just_listed;
		done &= ins[i].phase == PHASE_DONE;
	}
	if (!all || !fresh)
		return 0;
	for (size_t i = 0; i < n; i++)
		ins[i].just_listed = 0;
	{
		json_object *rec = json_object_new_object(), *kinds = json_object_new_array();

		/*
		 * Which kinds the snapshot covers: a consumer that deletes what
		 * is missing (nap-launch's garbage collection) must know that
		 * "no NodeClaim" means none exist, not none watched.
		 */
		for (size_t i = 0; i < n; i++)
			json_object_array_add(kinds, json_object_new_string(ins[i].def->name));
		json_object_object_add(rec, "type", json_object_new_string("SYNCED"));
		json_object_object_add(rec, "kinds", kinds);
		nap_emit(rec);
		json_object_put(rec);
	}
	return once && done;
}

static void
run(struct nap_kube *kube, const struct watch_kind **kinds, size_t n, const struct watch_opts *o)
{
	struct informer *ins = nap_xcalloc(n, sizeof(*ins));
	struct nap_http *pool = nap_kube_pool(kube);
	struct nap_http_req *r;
	struct nap_err err;

	for (size_t i = 0; i < n; i++)
		informer_init(&ins[i], kinds[i], o, kube);
	while (!nap_stopping()) {
		int64_t now = watch_now_ms(), next = now + 250;

		for (size_t i = 0; i < n; i++) {
			informer_tick(&ins[i], now);
			if (ins[i].phase == PHASE_WAIT && ins[i].wake_ms < next)
				next = ins[i].wake_ms;
		}
		if (nap_http_wait(pool, -1, next > now ? (int)(next - now) : 0, &err) < 0)
			nap_die_err(&err);
		while ((r = nap_http_done(pool)))
			informer_done(nap_http_req_arg(r), r);
		if (check_synced(ins, n, o->once))
			break;
	}
	for (size_t i = 0; i < n; i++) {
		nap_debug("%s: %lu records", ins[i].def->name, ins[i].events);
		informer_free(&ins[i]);
	}
	free(ins);
	watch_emit_free();
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *kubeconfig = NULL, *context = NULL, *kinds = NULL;
	const char *log_format = NULL;
	const struct watch_kind *picked[32];
	struct watch_opts o = {.page_size = 500, .retries = 10};
	struct nap_kube_config kc;
	struct nap_config cfg;
	struct nap_kube *kube;
	struct nap_getopt g;
	struct nap_err err;
	int verbose = 0, c;
	size_t n;

	nap_prog_init("nap-watch");
	nap_getopt_init(&g, opts, SYNOPSIS);
	while ((c = nap_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			config = g.arg;
			break;
		case OPT_CONTEXT:
			context = g.arg;
			break;
		case OPT_KINDS:
			kinds = g.arg;
			break;
		case OPT_KUBECONFIG:
			kubeconfig = g.arg;
			break;
		case OPT_LOG_FORMAT:
			if (nap_log_set_format(g.arg) != 0)
				nap_usage_error(SYNOPSIS, "--log-format: \"%s\" is neither text nor json",
				    g.arg);
			log_format = g.arg;
			break;
		case OPT_OBS:
			obs_option(g.name, g.arg);
			break;
		case OPT_ONCE:
			o.once = 1;
			break;
		case OPT_PAGE_SIZE:
			o.page_size = nap_opt_long(&g, 1, 100000);
			break;
		case OPT_RETRIES:
			o.retries = (int)nap_opt_long(&g, 0, 1000000);
			break;
		case OPT_RETRY_TIME:
			o.retry_ms = nap_opt_duration(&g, 0);
			break;
		case OPT_SLIM:
			o.slim = 1;
			break;
		case 'v':
			verbose++;
			break;
		case OPT_WATCH_TIMEOUT:
			o.watch_timeout_s = nap_opt_long(&g, 1, 86400);
			break;
		}
	}
	n = pick_kinds(kinds, picked);

	nap_config_init(&cfg);
	if (nap_config_load(&cfg, config, config != NULL, &err) != 0)
		nap_die_err(&err);
	if (!log_format && *cfg.log.format)
		nap_log_set_format(cfg.log.format); /* nap_config_load took text or json only */
	if (*cfg.log.level)
		nap_log_set_level_name(cfg.log.level);
	if (verbose)
		nap_log_set_level(verbose);
	obs_start(&cfg);
	if (!kubeconfig && *cfg.kubeconfig)
		kubeconfig = cfg.kubeconfig;
	if (!context && *cfg.context)
		context = cfg.context;

	if (nap_kube_config_load(&kc, kubeconfig, context, &err) != 0) {
		err.code = NAP_EX_CONFIG;
		nap_die_err(&err);
	}
	nap_debug("api server %s (context %s, from %s)", kc.server, kc.context, kc.source);
	if (nap_kube_plain_bearer(&kc))
		nap_warn("api server %s is plain http: the bearer token of %s will cross the network "
			 "unencrypted",
		    kc.server, kc.source);
	nap_config_free(&cfg);
	kube = nap_kube_new(&kc, NULL, &err);
	if (!kube)
		nap_die_err(&err);
	srand((unsigned)(watch_now_ms() ^ getpid()));
	obs_pool(nap_kube_pool(kube));
	run(kube, picked, n, &o);
	obs_stop();
	nap_kube_free(kube);
	return nap_exit(0);
}
