/*
 * config.h - /etc/nap/nap.yaml, the one configuration file every tool reads
 * (format and defaults in nap.conf(5)).
 *
 * Precedence is flags > file > defaults: a tool calls nap_config_init, then
 * nap_config_load, then overrides fields from its flags (nap_config_set takes
 * the file's dotted key names, so "--set cluster.region=eastus" style flags
 * and typed flags share one path).
 *
 * Ownership: every string in struct nap_config is owned by the struct, is
 * never NULL, and "" means "not set" (use the documented fallback).  Replace
 * a string with nap_config_set or by freeing it and storing a malloc'd copy.
 * nap_config_free releases them all; the struct may then be initialised again.
 *
 * Errors: -1 and err filled with code NAP_EX_CONFIG and a message that starts
 * with "file:line:" (and names the dotted key) whenever a position is known.
 * Unknown keys are errors, so a typo cannot pass silently; so are values of
 * the wrong type (kubernetesVersion: 1.30 is a number, not "1.30").  After an
 * error the struct holds a mix of defaults and file values and must still be
 * freed.
 */
#ifndef NAP_CONFIG_H
#define NAP_CONFIG_H

#include <stdint.h>

#include "nap.h"

#define NAP_CONFIG_DEFAULT_PATH "/etc/nap/nap.yaml"

struct nap_config {
	char *path;	  /* the file loaded, "" when none was */
	char *kubeconfig; /* "" = in-cluster, then $KUBECONFIG, then ~/.kube/config */
	char *context;	  /* kubeconfig context; "" = current-context */
	struct {
		char *name;   /* cluster name, in tags and node names */
		char *region; /* Azure location, e.g. eastus */
		char *subscription_id;
		char *resource_group;	  /* node resource group (VMs, NICs) */
		char *subnet_id;	  /* ARM ID of the nodes' subnet */
		char *kubernetes_version; /* "" = ask the API server */
	} cluster;
	struct {
		char *cloud; /* AzurePublicCloud, AzureUSGovernment, AzureChinaCloud, custom */
		char *arm_endpoint;
		char *authority_host;
		char *auth;	      /* managed-identity, workload-identity, service-principal */
		char *token_endpoint; /* managed identity (IMDS shape) */
		char *tenant_id;
		char *client_id;
		char *client_secret_file;
		char *client_certificate_file;
		char *federated_token_file;
		char *ca_file; /* extra CA bundle for ARM and the token endpoint */
	} azure;
	char *catalog;	   /* catalog file; "" = the installed data */
	char *spot_prices; /* spot prices the catalog lacks, nap-catalog(5); "" = none */
	struct {
		char *format; /* text or json */
		char *level;  /* error, warn, info or debug */
	} log;
	struct {
		int64_t batch_idle_ms;
		int64_t batch_max_ms;
		int64_t max_nodes; /* cluster node ceiling, existing nodes counted; 0 = none */
	} solve;
	struct {
		int64_t registration_timeout_ms;
	} launch;
	struct {
		int64_t max_simulations; /* single-node consolidation's runs a pass; 0 = no limit */
	} disrupt;
	struct {
		int64_t interval_ms;	     /* how often nap-upgrade looks again (5m) */
		char *maintenance_namespace; /* of upcoming-maintenance-window (kube-system) */
		struct nap_config_window {
			char *frequency; /* "" = no schedule: the ConfigMap decides */
			int64_t interval, day_of_month, duration_hours; /* 0 = unset */
			char *day_of_week, *week_index, *start_time, *utc_offset, *start_date;
		} window;
	} upgrade;
	struct {
		char *textfile_dir; /* each tool writes <dir>/<tool>.prom; "" = none */
	} metrics;
};

/* The defaults (see nap.conf(5)). */
void nap_config_init(struct nap_config *c);

/*
 * Read a configuration file over the values in c.  path NULL means
 * $NAP_CONFIG when set and not empty (then treated as explicit), else
 * /etc/nap/nap.yaml.  A missing default file is not an error (c keeps its
 * values); a missing explicit file is.  Relative paths inside the file are
 * taken relative to the file's directory.
 */
int nap_config_load(struct nap_config *c, const char *path, int explicit_path, struct nap_err *err);

/*
 * Set one key by its dotted name in the file ("cluster.region",
 * "solve.batchIdleDuration") from text, with the file's validation (durations
 * parsed, enumerations checked).  Paths are taken as given.
 */
int nap_config_set(struct nap_config *c, const char *key, const char *value, struct nap_err *err);

void nap_config_free(struct nap_config *c);

/*
 * May a configuration or credential file with this stat be trusted?  As ssh
 * treats its keys and config: not when group- or world-writable (anyone
 * could point the tools at another API server, or make a kubeconfig run a
 * program of theirs), nor when owned by a user other than root and us.
 * 0, or -1 with err NAP_EX_CONFIG naming what, the file and its mode.
 */
struct stat;
int nap_config_file_safe(const char *path, const struct stat *st, const char *what,
    struct nap_err *err);

/*
 * Go/Kubernetes durations: a sequence of decimal numbers with optional
 * fractions and units ns, us (or µs), ms, s, m, h ("300ms", "1.5h",
 * "1h30m"), "0", or "Never" (-1).  Negative durations are refused.  The
 * result is rounded up to whole milliseconds, so "1ns" is 1 ms, not 0.
 */
int nap_duration_parse(const char *s, int64_t *ms, struct nap_err *err);

#endif
