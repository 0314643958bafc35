/*
 * nap-watch - the cluster as a stream of records: list every watched kind,
 * then follow its watch, and print ADDED / MODIFIED / DELETED records, with
 * SYNCED once every kind is listed (and again after each relist).
 */
#include <errno.h>
#include <getopt.h>
#include <unistd.h>

#include "config.h"
#include "prog.h"
#include "watch.h"

#define SYNOPSIS                                                                                   \
	"nap-watch [-hv] [--config file] [--kubeconfig file] [--context name] [--kinds list]\n"    \
	"       [--once] [--slim] [--page-size n] [--retries n] [--retry-time duration]\n"         \
	"       [--watch-timeout seconds] [--log-format text|json]"

enum {
	OPT_CONFIG = 256,
	OPT_CONTEXT,
	OPT_KINDS,
	OPT_KUBECONFIG,
	OPT_LOG_FORMAT,
	OPT_ONCE,
	OPT_PAGE_SIZE,
	OPT_RETRIES,
	OPT_RETRY_TIME,
	OPT_SLIM,
	OPT_WATCH_TIMEOUT,
};

static const struct option longopts[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"help", no_argument, NULL, 'h'},
    {"kinds", required_argument, NULL, OPT_KINDS},
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"once", no_argument, NULL, OPT_ONCE},
    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-time", required_argument, NULL, OPT_RETRY_TIME},
    {"slim", no_argument, NULL, OPT_SLIM},
    {"verbose", no_argument, NULL, 'v'},
    {"watch-timeout", required_argument, NULL, OPT_WATCH_TIMEOUT},
    {NULL, 0, NULL, 0},
};

static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		nap_usage(SYNOPSIS);
	return v;
}

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

			if (!k) {
				nap_warn("unknown kind \"%s\"", tok);
				nap_usage(SYNOPSIS);
			}
			for (size_t i = 0; i < n; i++)
				dup |= out[i] == k;
			if (!dup)
				out[n++] = k;
		}
		free(copy);
	}
	if (!n)
		nap_usage(SYNOPSIS);
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
	struct nap_err err;
	int verbose = 0, c;
	size_t n;

	nap_prog_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_CONTEXT:
			context = optarg;
			break;
		case OPT_KINDS:
			kinds = optarg;
			break;
		case OPT_KUBECONFIG:
			kubeconfig = optarg;
			break;
		case OPT_LOG_FORMAT:
			log_format = optarg;
			break;
		case OPT_ONCE:
			o.once = 1;
			break;
		case OPT_PAGE_SIZE:
			o.page_size = number(optarg, 1, 100000);
			break;
		case OPT_RETRIES:
			o.retries = (int)number(optarg, 0, 1000000);
			break;
		case OPT_RETRY_TIME:
			if (nap_duration_parse(optarg, &o.retry_ms, &err) != 0 || o.retry_ms < 0)
				nap_usage(SYNOPSIS);
			break;
		case OPT_SLIM:
			o.slim = 1;
			break;
		case 'v':
			verbose++;
			break;
		case OPT_WATCH_TIMEOUT:
			o.watch_timeout_s = number(optarg, 1, 86400);
			break;
		case 'h':
		default:
			nap_usage(SYNOPSIS);
		}
	}
	if (optind != argc)
		nap_usage(SYNOPSIS);
	n = pick_kinds(kinds, picked);

	nap_config_init(&cfg);
	if (nap_config_load(&cfg, config, config != NULL, &err) != 0)
		nap_die_err(&err);
	if (!log_format && *cfg.log.format)
		log_format = cfg.log.format;
	if (log_format && nap_log_set_format(log_format) != 0)
		nap_usage(SYNOPSIS);
	if (*cfg.log.level)
		nap_log_set_level_name(cfg.log.level);
	if (verbose)
		nap_log_set_level(verbose);
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
	run(kube, picked, n, &o);
	nap_kube_free(kube);
	return nap_exit(0);
}
