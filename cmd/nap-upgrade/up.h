/*
 * up.h - nap-upgrade's state, shared by main.c (options, clients, the
 * record loop) and pass.c (one reconcile pass: versions, window, images,
 * AKSNodeClass status, Drifted NodeClaims).
 */
#ifndef NAP_UP_H
#define NAP_UP_H

#include <json-c/json.h>
#include <stdint.h>

#include "arm.h"
#include "auth.h"
#include "catalog.h"
#include "config.h"
#include "hash.h"
#include "http.h"
#include "kube.h"
#include "model.h"
#include "window.h"

/* The newest version of one image definition, as last asked of Azure. */
struct cached {
	char *version; /* NULL: the gallery has none */
	int64_t at;    /* wall ms of the answer */
};

struct up {
	struct nap_config cfg;
	struct nap_cluster *cl;
	struct nap_http *http;
	struct nap_kube *kube; /* NULL when nothing needs the API server */
	struct nap_auth *auth;
	struct nap_http_tls tls; /* azure.caFile, for ARM and the token endpoint */
	struct nap_arm *arm; /* NULL when every image version is pinned */
	double scale;
	int plan;		/* --plan: report, write nothing */
	int64_t now_flag;	/* --now, 0 = the clock */
	const char *k8s_flag;	/* --kubernetes-version, NULL = ask /version */
	const char *sig_sub;	/* --sig-subscription-id: managed images, NULL = community */
	json_object *sig_list;	/* the last nodeImageVersions answer, all pages */
	int64_t sig_at;		/* wall ms of it */
	struct nap_hash pinned; /* definition -> version (--image-version), values owned */
	struct nap_hash cache;	/* definition -> struct cached * */
	char *cache_k8s;	/* the Kubernetes version the cache was filled under */
	int64_t fresh_after;	/* this pass: answers older than this are asked again */
	struct nap_window sched;
	int have_sched;	      /* upgrade.maintenanceWindow.frequency set */
	char *server_version; /* the last /version gitVersion, NULL unknown */
	int synced;
	struct nap_catalog *cat; /* for InstanceTypeNotFound, NULL when none could be loaded */
	int cat_tried;
	unsigned long passes, class_writes, drift_marks, drift_clears;
};

/* The time nap-upgrade runs at: --now, else the wall clock (ms). */
int64_t up_now(const struct up *u);
/* One reconcile pass over every AKSNodeClass and NodeClaim. */
void up_pass(struct up *u);
void up_free(struct up *u);

/* obs.c: metrics (lib/observe); no-ops before obs_start, which --plan skips. */
void obs_option(const char *name, const char *arg); /* --metrics-file, --metrics-listen */
void obs_start(struct up *u);
void obs_read(const char *type, int malformed);
/* Copy the pass counters and HTTP answers in; on the main thread, after a pass. */
void obs_sync(const struct up *u);
void obs_stop(const struct up *u);

#endif
