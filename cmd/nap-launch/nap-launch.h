/*
 * nap-launch.h - nap-launch's state: the NodeClaims it is launching or
 * following, the unavailable-offerings cache, and the clients it acts
 * through; and what each of its files offers the others.  Everything runs
 * on one thread: ARM calls are asynchronous (lib/arm), Kubernetes writes
 * are short blocking requests on a curl pool of their own.
 *
 * Who calls whom: main.c drives launch.c (the life of a NodeClaim) and
 * gc.c (garbage collection), which never call each other; both use body.c
 * (what is sent to Azure), cache.c and util.c, which call nothing of
 * nap-launch's above them.
 */
#ifndef NAP_LAUNCH_H
#define NAP_LAUNCH_H

#include <stdint.h>
#include <json-c/json.h>

#include "arm.h"
#include "auth.h"
#include "catalog.h"
#include "config.h"
#include "hash.h"
#include "http.h"
#include "kube.h"
#include "model.h"
#include "vm.h"
#include "wellknown.h"
#include "cache.h"
#include "util.h"

enum step {
	ST_NEW,	   /* NodeClaim created or adopted, nothing asked yet */
	ST_VM_GET, /* is there a VM already (restart)? */
	ST_NIC_PUT,
	ST_VM_PUT,
	ST_VM_CLEANUP,	/* deleting a failed VM (NIC, disk) before the next offering */
	ST_FAIL_DEL,	/* no offering left: deleting what was made */
	ST_LAUNCHED,	/* waiting for the Node */
	ST_REGISTERED,	/* waiting for Ready and startup taints */
	ST_INITIALIZED, /* done; nothing more to follow */
	ST_TIMEOUT_DEL, /* never registered: deleting the VM, NIC and disk */
	ST_GONE,	/* forgotten at the next sweep */
};

struct claim {
	char *name;
	char *vm;		 /* aks-<name> */
	json_object *obj;	 /* the NodeClaim as created or last seen (owned) */
	struct nap_nodeclaim nc; /* parsed from obj */
	char *pool, *klass;
	struct cand *cands;
	size_t ncands, next;
	struct cand cur; /* the offering being tried (it NULL before) */
	int nic_accel;	 /* accelerated networking the NIC was made with, -1 none */
	enum step step;
	struct nap_arm_call *call;
	struct nap_vm_del *del; /* the deletion of the ST_*_DEL and ST_VM_CLEANUP steps */
	char *provider_id;
	char *image_id;
	char *node;	       /* Node name once registered */
	int64_t launched_wall; /* ms, when Launched turned True */
	int64_t registered_wall, initialized_wall;
	int stop; /* deletion seen while an ARM call was out: launch no further */
	double price;
	char code[128]; /* last Azure error */
	char *message;
	char *reason;
	int adopted; /* found at start-up rather than requested */
	int timed_out;
	int status_dirty; /* the last status write failed */
	int64_t init_label_ms; /* wall clock of the last initialized-label patch */
};

struct ctx {
	struct nap_config cfg;
	struct nap_http *http;
	struct nap_kube *kube;
	struct nap_auth *auth;
	struct nap_arm *arm;
	struct nap_catalog *cat;
	struct nap_cluster *cl;
	struct nap_http_tls tls;
	double scale;
	int64_t reg_timeout_ms; /* unscaled */
	const char *sub, *rg, *region, *cluster, *subnet;
	char *rg_lower;
	char *k8s_version;
	struct claim **claims;
	size_t nclaims, aclaims;
	struct nap_hash byname; /* name -> claim */
	struct nap_hash done;	/* names we finished with: stale records ignored */
	struct nap_hash byprov; /* providerID -> claim */
	struct nap_hash collecting; /* claim names whose VM garbage collection deletes */
	struct offcache oc;	 /* the unavailable offerings */
	int synced;		 /* a SYNCED arrived */
	int64_t sweep_ms;	 /* wall clock */
	int64_t nodes_listed_ms; /* wall clock of the last LIST of nodes (registration timeouts) */
	int fatal;		 /* exit code when an unrecoverable error happened */
	unsigned long nlaunched, nfailed;
};

/* launch.c: the life of a NodeClaim */
void launch_request(struct ctx *x, json_object *rec);
void launch_state(struct ctx *x, json_object *rec);
void launch_synced(struct ctx *x, json_object *rec);
/* 1 when call was a claim's (and is now freed). */
int launch_arm_done(struct ctx *x, struct nap_arm_call *call);
void launch_tick(struct ctx *x);
size_t launch_busy(const struct ctx *x);
void launch_free(struct ctx *x);

/* gc.c: garbage collection of VMs and NICs no NodeClaim owns */
void gc_synced(struct ctx *x, json_object *rec);
void gc_tick(struct ctx *x);
/* 1 when call was garbage collection's (and is now freed). */
int gc_arm_done(struct ctx *x, struct nap_arm_call *call);
size_t gc_busy(void);
void gc_free(struct ctx *x);

/* body.c: what is sent to Azure */
json_object *body_nic(struct ctx *x, struct claim *c, const struct nap_nodeclass *nc);
json_object *body_vm(
    struct ctx *x, struct claim *c, const struct nap_nodeclass *nc, char **image_id);
json_object *offering_labels(struct ctx *x, const struct cand *k);
json_object *body_tags(struct ctx *x, struct claim *c, const struct nap_nodeclass *nc);
char *arm_path_vm(struct ctx *x, const char *name);
char *arm_path_nic(struct ctx *x, const char *name);
char *arm_id(struct ctx *x, const char *type, const char *name);
char *provider_id(struct ctx *x, const char *vm);
void itype_opts(struct ctx *x, const struct nap_nodeclass *nc, struct nap_itype_opts *o);

#endif
