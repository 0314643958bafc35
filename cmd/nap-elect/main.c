/*
 * nap-elect - run a command only while this process holds a
 * coordination.k8s.io/v1 Lease, so that the provision loop can stand by on
 * a second management VM and take over when the first one dies.
 *
 * The command runs under a guard process (guard.c) that kills the
 * command's process group when nap-elect asks, when nap-elect dies (even
 * by SIGKILL), or when the renewals it is told of stop for the renew
 * deadline: whatever happens to nap-elect, the command does not outlive
 * the lease.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "clock.h"
#include "elect.h"
#include "kube.h"
#include "lease.h"
#include "prog.h"

#define SYNOPSIS                                                                                   \
	"nap-elect [-hVv] --lease name [--namespace ns] [--identity id] [--config file]\n"         \
	"       [--kubeconfig file] [--context name] [--lease-duration duration]\n"                \
	"       [--renew-deadline duration] [--retry-period duration] [--log-format text|json]\n"  \
	"       -- command [argument ...]"

enum {
	OPT_CONFIG = 256,
	OPT_CONTEXT,
	OPT_IDENTITY,
	OPT_KUBECONFIG,
	OPT_LEASE,
	OPT_LEASE_DURATION,
	OPT_LOG_FORMAT,
	OPT_NAMESPACE,
	OPT_RENEW_DEADLINE,
	OPT_RETRY_PERIOD,
};

static const struct nap_opt opts[] = {
    {"config", OPT_CONFIG, "file", "the nap.conf(5) file (default /etc/nap/nap.yaml)"},
    {"context", OPT_CONTEXT, "name", "the kubeconfig context to use"},
    {"identity", OPT_IDENTITY, "id", "holderIdentity to write (default hostname_pid)"},
    {"kubeconfig", OPT_KUBECONFIG, "file", "the kubeconfig to reach the API server with"},
    {"lease", OPT_LEASE, "name", "the Lease to hold (required)"},
    {"lease-duration", OPT_LEASE_DURATION, "duration", "leaseDurationSeconds to write (15s)"},
    {"log-format", OPT_LOG_FORMAT, "text|json", "how messages on stderr are written"},
    {"namespace", OPT_NAMESPACE, "ns", "the Lease's namespace (the context's, else default)"},
    {"renew-deadline", OPT_RENEW_DEADLINE, "duration",
	"stop the command after failing to renew this long (10s)"},
    {"retry-period", OPT_RETRY_PERIOD, "duration", "time between tries to acquire or renew (2s)"},
    {"verbose", 'v', NULL, "more messages (twice: debug)"},
    {NULL, 0, NULL, NULL},
};

struct elect {
	struct nap_kube *kube;
	struct nap_lease lease;
	char **cmd;
	int64_t renew_ms, retry_ms, grace_ms;
	int leading;
	int64_t renewed_ms; /* start of the last try that found us holding the lease */
	struct guard child; /* pid 0 when the command is not running */
};

int64_t
elect_mono_ms(void)
{
	return nap_clock_mono_ms();
}

/* The command's end as an exit status: its code, or 128 + the signal. */
static int
status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return NAP_EX_SOFTWARE;
}

/* Stop the command (if running) and wait for its guard. */
static void
stop_command(struct elect *e, const char *why)
{
	if (!e->child.pid)
		return;
	nap_info("stopping %s (pid %d): %s", e->cmd[0], (int)e->child.pid, why);
	guard_stop(&e->child);
}

/* One try at the lease at local time now. */
static void
campaign(struct elect *e, int64_t now)
{
	struct nap_err err;
	int rc = nap_lease_try(e->kube, &e->lease, now, &err);

	if (rc == 1) {
		e->renewed_ms = now;
		if (!e->leading)
			nap_info("acquired lease %s/%s as %s", e->lease.ns, e->lease.name,
			    e->lease.identity);
		e->leading = 1;
		if (!e->child.pid) {
			if (guard_start(&e->child, e->cmd, e->renew_ms, e->grace_ms) < 0)
				nap_die(NAP_EX_SOFTWARE, "unable to start %s: %s", e->cmd[0],
				    strerror(errno));
			nap_info("started %s (pid %d)", e->cmd[0], (int)e->child.pid);
		}
		guard_renewed(&e->child, now);
		return;
	}
	if (rc == 0) {
		if (e->leading) {
			nap_warn("lost lease %s/%s to %s", e->lease.ns, e->lease.name,
			    e->lease.holder && *e->lease.holder ? e->lease.holder : "nobody");
			e->leading = 0;
			stop_command(e, "the lease is lost");
		} else
			nap_debug("lease %s/%s is held by %s", e->lease.ns, e->lease.name,
			    e->lease.holder ? e->lease.holder : "?");
		return;
	}
	nap_warn("%s", err.msg);
	if (e->leading && now - e->renewed_ms >= e->renew_ms) {
		nap_warn("lease %s/%s not renewed for %lld ms (renew deadline %lld ms)",
		    e->lease.ns, e->lease.name, (long long)(now - e->renewed_ms),
		    (long long)e->renew_ms);
		e->leading = 0;
		stop_command(e, "the renew deadline passed");
	}
}

/*
 * Campaign every retry period until a signal or the command's own end,
 * which returns its status.
 */
static int
run(struct elect *e)
{
	int64_t next = elect_mono_ms();

	while (!nap_stopping()) {
		int64_t now = elect_mono_ms();
		int st;

		if (e->child.pid && guard_reap(&e->child, &st)) {
			if (guard_killed(st)) {
				/* the guard acted on a deadline nap-elect had not seen pass yet */
				nap_warn("%s stopped: lease %s/%s not renewed in time", e->cmd[0],
				    e->lease.ns, e->lease.name);
				e->leading = 0;
			} else {
				nap_info("%s exited with status %d", e->cmd[0], status_code(st));
				return status_code(st);
			}
		}
		if (now >= next) {
			campaign(e, now);
			next = now + e->retry_ms;
			continue;
		}
		/* a signal ends the nap early; so does the next 50 ms for the child's end */
		poll(NULL, 0, next - now > 50 ? 50 : (int)(next - now));
	}
	return -1;
}

static char *
default_identity(void)
{
	char host[HOST_NAME_MAX + 1];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	return nap_xasprintf("%s_%ld", host, (long)getpid());
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *kubeconfig = NULL, *context = NULL, *ns = NULL;
	const char *lease = NULL, *log_format = NULL;
	char *identity = NULL;
	int64_t duration_ms = NAP_LEASE_DURATION_MS;
	struct nap_kube_config kc;
	struct nap_config cfg;
	struct nap_getopt g;
	struct nap_err err;
	struct elect e;
	int verbose = 0, c, nargs, rc;

	nap_prog_init("nap-elect");
	memset(&e, 0, sizeof(e));
	e.renew_ms = NAP_LEASE_RENEW_DEADLINE_MS;
	e.retry_ms = NAP_LEASE_RETRY_MS;
	/* the command starts after "--": the option parser sees only what precedes it */
	for (nargs = 1; nargs < argc && strcmp(argv[nargs], "--") != 0; nargs++)
		;
	nap_getopt_init(&g, opts, SYNOPSIS);
	while ((c = nap_getopt(&g, nargs, argv)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			config = g.arg;
			break;
		case OPT_CONTEXT:
			context = g.arg;
			break;
		case OPT_IDENTITY:
			if (!*g.arg)
				nap_usage_error(SYNOPSIS, "--identity: empty");
			identity = nap_xstrdup(g.arg);
			break;
		case OPT_KUBECONFIG:
			kubeconfig = g.arg;
			break;
		case OPT_LEASE:
			lease = g.arg;
			break;
		case OPT_LEASE_DURATION:
			duration_ms = nap_opt_duration(&g, 1000);
			break;
		case OPT_LOG_FORMAT:
			if (nap_log_set_format(g.arg) != 0)
				nap_usage_error(SYNOPSIS,
				    "--log-format: \"%s\" is neither text nor json", g.arg);
			log_format = g.arg;
			break;
		case OPT_NAMESPACE:
			ns = g.arg;
			break;
		case OPT_RENEW_DEADLINE:
			e.renew_ms = nap_opt_duration(&g, 1);
			break;
		case OPT_RETRY_PERIOD:
			e.retry_ms = nap_opt_duration(&g, 1);
			break;
		case 'v':
			verbose++;
			break;
		}
	}
	if (!lease)
		nap_usage_error(SYNOPSIS, "--lease is required");
	if (nargs + 1 >= argc)
		nap_usage_error(SYNOPSIS, "no command (it follows \"--\")");
	if (duration_ms % 1000)
		nap_usage_error(SYNOPSIS, "--lease-duration: a whole number of seconds");
	/*
	 * Safety: the command must be gone before a stand-by can take over,
	 * renew deadline + kill grace < lease duration; the grace is what is
	 * left, halved, at most 2 s.
	 */
	if (e.renew_ms >= duration_ms)
		nap_usage_error(SYNOPSIS, "--renew-deadline must be shorter than --lease-duration");
	if (e.retry_ms >= e.renew_ms)
		nap_usage_error(SYNOPSIS, "--retry-period must be shorter than --renew-deadline");
	e.grace_ms = (duration_ms - e.renew_ms) / 2;
	if (e.grace_ms > 2000)
		e.grace_ms = 2000;
	e.cmd = argv + nargs + 1;

	nap_config_init(&cfg);
	if (nap_config_load(&cfg, config, config != NULL, &err) != 0)
		nap_die_err(&err);
	if (!log_format && *cfg.log.format)
		nap_log_set_format(cfg.log.format);
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
	nap_config_free(&cfg);
	if (!identity)
		identity = default_identity();
	nap_lease_init(
	    &e.lease, ns ? ns : kc.namespace, lease, identity, (int)(duration_ms / 1000));
	free(identity);
	e.kube = nap_kube_new(&kc, NULL, &err);
	if (!e.kube)
		nap_die_err(&err);
	/* one attempt per retry period: the loop is the retry, and must not stall in one */
	nap_kube_set_retry(e.kube, 0, 0);

	rc = run(&e);
	stop_command(&e, rc < 0 ? "nap-elect is stopping" : "it has exited");
	if (e.leading) {
		if (nap_lease_release(e.kube, &e.lease, &err) < 0)
			nap_warn("release: %s", err.msg);
		else
			nap_info("released lease %s/%s", e.lease.ns, e.lease.name);
	}
	nap_lease_free(&e.lease);
	nap_kube_free(e.kube);
	return nap_exit(rc < 0 ? 0 : rc);
}
