/*
 * world.h - nap-sim's simulated world: the Azure side (token endpoint,
 * Resource Manager for virtual machines, network interfaces, resource SKUs
 * and long-running operations), the kubelets that turn a running VM into a
 * Node, the scheduler that plays kube-scheduler, the faults a test switches
 * on, and the simulated clock they all run on.
 *
 * Ownership: one struct world per process, created by sim_world_init() and
 * hung on the core with sim_set_world(); every string and json_object in it
 * is owned by it and freed by sim_world_fini().  Everything runs on the
 * core's single thread, so nothing is locked.
 *
 * Errors: the world never prints and never exits; handlers answer the
 * client with the error body the real service would send (ARM
 * {"error":{"code","message"}}, OAuth {"error","error_description"},
 * Kubernetes Status), and internal store failures become Kubernetes Events
 * or are retried on the next tick.
 *
 * Time: every simulated delay (LRO duration, VM boot, node readiness,
 * startup-taint removal, node deletion after its VM went away) is in
 * simulated seconds and passes --time-scale times faster.  Retry-After
 * values the world sends are simulated seconds divided by the scale and
 * rounded up (never below 1), so a client that obeys them waits what the
 * real service would have asked, scaled.  Token lifetimes are NOT scaled:
 * clients compare expires_on with their own wall clock.
 *
 * The bootstrap format (the contract with nap-launch): a VM's
 * properties.osProfile.customData is base64 of one JSON object
 *
 *   {"apiVersion":"nap.azure.com/v1","kind":"NodeBootstrap",
 *    "labels":{"karpenter.sh/nodepool":"default", ...},
 *    "taints":[{"key":"karpenter.sh/unregistered","effect":"NoExecute"}],
 *    "startupTaints":[{"key":"example.com/init","value":"true","effect":"NoSchedule"}],
 *    "kubelet":{"maxPods":250,
 *               "kubeReserved":{"cpu":"140m","memory":"1843Mi"},
 *               "systemReserved":{},
 *               "evictionHard":{"memory.available":"750Mi"}},
 *    "osDiskSizeGB":128, "kubernetesVersion":"1.32.4"}
 *
 * Every field is optional.  labels become Node labels (the kubelet's own
 * hostname, os, arch, instance type, region, zone and capacity type win);
 * taints and startupTaints are registered with the Node, and the startup
 * taints are removed once the node has been Ready for the startup delay.
 * kubelet.maxPods (default 250, Azure CNI overlay) sets the pods capacity;
 * kubeReserved/systemReserved/evictionHard, when given, replace the AKS
 * reservation formulas in allocatable; kubernetesVersion is the kubelet
 * version the Node reports (default --kubernetes-version); other kubelet
 * settings are accepted and ignored.  customData that is not such JSON
 * (a cloud-init script) boots a node with defaults and the nodepool taken
 * from the karpenter.sh_nodepool tag.
 */
#ifndef NAP_SIM_WORLD_H
#define NAP_SIM_WORLD_H

#include <stdint.h>
#include <json-c/json.h>

#include "nap.h"
#include "resources.h"

struct nap_hash;
#include "sim.h"

#define WORLD_BOOTSTRAP_API "nap.azure.com/v1"
#define WORLD_BOOTSTRAP_KIND "NodeBootstrap"

#define WORLD_API_COMPUTE "2024-07-01"
#define WORLD_API_NETWORK "2024-05-01"
#define WORLD_API_SKUS "2021-07-01"

/* What the world needs to know of a VM size (from lib/catalog). */
struct world_size {
	const char *name;
	int vcpus;
	int64_t memory_mib;
	int gpus;
	const char *gpu_manufacturer; /* "nvidia", "amd" or NULL */
	const char *arch;	      /* "amd64" / "arm64" */
	const char *family;	      /* quota family, "standardDSv3Family" */
	int zones;		      /* bitmask of zones offered: bit n = zone n */
	int spot;		      /* a spot offering exists */
	int premium_io, accel_net;
	int hyperv; /* bitmask: 1 = V1, 2 = V2 */
	int ephemeral_os_max_gb;
	const void *itype; /* the catalog's nap_itype */
};

enum vm_state {
	VM_CREATING,	/* PUT accepted, LRO running */
	VM_SUCCEEDED,	/* running; the kubelet is booting or up */
	VM_FAILED,	/* async failure; the resource stays as debris */
	VM_DELETING,	/* DELETE accepted */
	VM_DEALLOCATED, /* spot-evicted with evictionPolicy Deallocate */
	VM_GONE,	/* deleted; kept until its Node is gone */
};

enum node_state {
	NODE_NONE,	  /* not yet registered */
	NODE_BOOTING,	  /* VM running, Node appears at boot_at */
	NODE_NOTREADY,	  /* registered, Ready=False until ready_at */
	NODE_READY,	  /* Ready; startup taints go at untaint_at */
	NODE_INITIALIZED, /* Ready and startup taints removed */
	NODE_LOST,	  /* VM gone: Ready=Unknown, Node deleted at gone_at */
	NODE_DELETED,	  /* the Node was deleted (by us or by a client) */
};

struct world_vm {
	char *name;	   /* as in the URL of its creation */
	char *id;	   /* full resource ID */
	json_object *body; /* the resource as GET shows it (no customData) */
	json_object *boot; /* decoded bootstrap JSON, or NULL */
	const struct world_size *size;
	int zone; /* 0 = regional */
	int spot;
	int evict_deallocate; /* evictionPolicy Deallocate */
	char *nic_id;	      /* primary NIC */
	char *computer_name;
	char *vm_uuid;
	enum vm_state state;
	enum node_state node;
	char *node_name;
	double node_at; /* simulated time of the next node step */
	int deleted;	/* removed from the ARM view (GET says 404) */
};

struct world_nic {
	char *name;
	char *id;
	json_object *body;
	char *vm_id; /* attached VM, or NULL */
	int deleted;
};

struct world_op {
	char *id;	  /* operation name (a GUID) */
	char *provider;	  /* "Microsoft.Compute" / "Microsoft.Network" */
	char *start;	  /* RFC 3339 */
	char *end;	  /* RFC 3339 once done */
	double due;	  /* simulated time it completes */
	double done_real; /* real time it completed */
	int done;
	json_object *error; /* {"code","message"} when failed, else NULL */
	/* what completing it does */
	int kind;	 /* WORLD_OP_* */
	char *target;	 /* VM name */
	char *fail_code; /* async capacity failure to report */
	char *fail_msg;
};

enum { WORLD_OP_NONE, WORLD_OP_VM_CREATE, WORLD_OP_VM_UPDATE, WORLD_OP_VM_DELETE };

struct world_token {
	char *token;
	double expires_on; /* wall-clock epoch seconds */
};

/* One capacity rule: VMs of size in zone with capacity type allowed. */
struct fault_capacity {
	char *size;	/* "*" = any */
	int zone;	/* -1 any, 0 regional, 1..3 */
	int spot;	/* -1 any, 0 on-demand, 1 spot */
	long available; /* VMs that fit; 0 = none */
	char *error;	/* ARM code to answer with, NULL = by placement */
	int async;	/* -1 by code, 0 sync, 1 in the LRO */
};

struct world_faults {
	struct fault_capacity *cap;
	size_t ncap, acap;
	json_object *quotas;	  /* {"<family>":limit, "regional":n, "lowPriority":n} */
	double throttle_rate;	  /* ARM 429 share of requests */
	double throttle_retry;	  /* simulated seconds in Retry-After */
	double error_rate;	  /* ARM 5xx share */
	int error_status;	  /* 500, 503 ... */
	double latency;		  /* real seconds added to every ARM answer */
	double k8s_throttle_rate; /* APF 429 share of Kubernetes requests */
	double k8s_gone_rate;	  /* share of watches/lists answered 410 */
	double k8s_drop_rate;	  /* share of watches closed at once */
	double k8s_latency;	  /* real seconds added to Kubernetes answers */
};

struct world {
	struct sim *sim;
	const struct sim_opts *opts;
	void *catalog; /* struct nap_catalog * */
	struct world_size *sizes;
	size_t nsizes;
	int zones; /* region's zones bitmask */
	char *sub, *rg, *region, *tenant, *cluster;

	struct world_vm **vms;
	size_t nvms, avms;
	struct world_nic **nics;
	size_t nnics, anics;
	struct world_op **ops;
	size_t nops, aops;
	struct world_token *tokens;
	size_t ntokens, atokens;
	unsigned long ip_next; /* next private IP host part */
	unsigned long pod_ip_next;

	struct world_faults faults;
	uint64_t rng; /* --seed driven, every random draw */

	/* ARM token buckets (reads, writes, deletes), refilled in simulated time */
	double bucket[3];
	double bucket_at;
	/* Compute RP policies (PutVM, DeleteVM, LowCostGet, HighCostGet): the
	 * 3- and 30-minute windows and their counts, in simulated time */
	double rp_start[4][2];
	long rp_count[4][2];

	/* tunables (--world KEY=VALUE), simulated seconds unless noted */
	double ready_delay;    /* registration -> Ready */
	double startup_delay;  /* Ready -> startup taints removed */
	double gone_delay;     /* VM gone -> Node deleted */
	double detach_delay;   /* last pod using a claim gone -> attachment gone */
	double pod_gc_delay;   /* a pod's node not found -> the pod collected */
	double token_lifetime; /* REAL seconds */
	double audit_gap;      /* REAL seconds between the kubelets' audits */
	int scheduler_on;
	int kubelet_on;
	int max_pods_default;
	size_t page_size; /* items per ARM list page */

	/* scheduler */
	int sched_dirty;
	double sched_last; /* real time of the last scheduler pass */
	double pass_last;  /* real time of the last kubelet/scheduler pass */
	int soon_pending;  /* a world_soon timer is set */
	int kubelet_dirty;
	int kubelet_full;		  /* the next kubelet pass scans every pod */
	struct nap_hash *kubelet_queue;	  /* "ns/name" of pods to look at */
	struct nap_hash *kubelet_orphans; /* "ns/name" -> bound to a node not found, since */
	double kubelet_recheck;		  /* simulated time the orphans are due a look, or 0 */
	double kubelet_audit_last;	  /* real time of the last audit */
	struct nap_hash *kubelet_stuck;	  /* uid -> bound to a node not Ready, since */
	unsigned long sched_epoch;	  /* bumped by changes that may help pending pods */
	void *sched_cache;		  /* sched.c's per-pod cache */

	/* gallery.c: image versions and a changed Kubernetes version (NULL: --kubernetes-version) */
	json_object *gallery;
	char *k8s_version;
};

/* world.c */
struct world *world_of(struct sim *sim);
uint64_t world_rand(struct world *w);
double world_rand01(struct world *w); /* [0,1) */
const struct world_size *world_size_find(struct world *w, const char *name);
struct world_vm *world_vm_find(struct world *w, const char *name);
/* Free a VM record that is no longer in w->vms. */
void world_vm_free(struct world_vm *vm);
struct world_nic *world_nic_find(struct world *w, const char *name);
struct world_nic *world_nic_find_id(struct world *w, const char *id);
struct world_op *world_op_find(struct world *w, const char *id);
struct world_op *world_op_new(
    struct world *w, const char *provider, int kind, const char *target, double sim_seconds);
void world_uuid(struct world *w, char *buf, size_t size); /* 37 bytes */
/* Wake the world's due work at simulated time now + sim_seconds. */
void world_wake_in(struct world *w, double sim_seconds);
/* Retry-After header value for a simulated delay (scaled, >= 1). */
char *world_retry_after(struct world *w, double sim_seconds);
void world_process_due(struct world *w);
/* Wall clock helpers. */
double world_wall(void);
void world_rfc3339_at(double wall, char *buf, size_t size);
int world_parse_bool(const char *s, int *out);

/* token.c */
/* 1 when the Authorization header carries a live token we issued; else 0
 * and code/message say why (ARM's 401 codes). */
int world_token_check(
    struct world *w, const char *authorization, const char **code, char *msg, size_t msglen);

/* arm.c */
/* Answer with an ARM error body. */
void arm_error(struct sim_resp *resp, int status, const char *code, const char *target,
    const char *fmt, ...) NAP_PRINTF(5, 6);
void arm_vm_complete(struct world *w, struct world_op *op);
/* Spot-evict a VM now; 0, or -1 when no such running VM. */
int world_vm_evict(struct world *w, const char *name);
/* vCPUs in use per quota family / regional / spot, for quota checks. */
long world_vcpus_used(struct world *w, const char *family, int spot_only, int all);

/* Rebuild a VM (its saved form) or a NIC (its body) from --state. */
void arm_vm_restore(struct world *w, json_object *saved);
void arm_nic_restore(struct world *w, json_object *body);

/* fault.c */
/* Merge a fault document (flags and POST /nap-sim/faults); -1 on bad input. */
int fault_apply(struct world *w, json_object *doc, struct nap_err *err);
json_object *fault_to_json(struct world *w);
void fault_reset(struct world *w);
/* A compute throttling answer: 429, Retry-After (simulated seconds) and
 * the OperationNotAllowed / TooManyRequests body for group. */
void arm_throttled(struct world *w, struct sim_resp *resp, const char *group, long allowed,
    long measured, double window, double retry);
/* Before an ARM request: 1 when a fault answered it. */
int fault_arm_request(struct world *w, const struct sim_req *req, struct sim_resp *resp);
/* Capacity and quota for a VM create: 0 = go, else the error is set:
 * *async = 1 when it must surface in the LRO instead of the PUT. */
int fault_vm_create(
    struct world *w, const struct world_vm *vm, int *status, char **code, char **msg, int *async);
/* The control endpoint: 1 when the request was /nap-sim/... */
int fault_control(struct world *w, const struct sim_req *req, struct sim_resp *resp);

/* volume.c */
void volume_on_change(struct world *w, const char *resource, const char *type, json_object *obj);
/* The kubelet's CSINode for vm's node, once the Node exists. */
void volume_csinode_register(struct world *w, const struct world_vm *vm);

/* gallery.c */
/* The community gallery's versions of one image definition (ARM's list). */
int gallery_versions(
    struct world *w, struct sim_resp *resp, const char *location, const char *g, const char *def);
/* AKS's nodeImageVersions for location (one page). */
int gallery_node_images(struct world *w, struct sim_resp *resp, const char *location);
/* POST/GET /nap-sim/images and /nap-sim/version (the caller checked the token): 1 when one. */
int gallery_control(struct world *w, const struct sim_req *req, struct sim_resp *resp);
/* What /version reports now. */
const char *gallery_k8s_version(struct world *w);
void gallery_fini(struct world *w);

/* kubelet.c */
void kubelet_vm_running(struct world *w, struct world_vm *vm);
void kubelet_vm_gone(struct world *w, struct world_vm *vm);
void kubelet_step(struct world *w, struct world_vm *vm);
/* With audit, also look for bound pods the change triggers left Pending. */
void kubelet_pass(struct world *w, int audit);
void kubelet_on_change(struct world *w, const char *resource, const char *type, json_object *obj);
void kubelet_fini(struct world *w);

/* sched.c */
void sched_pass(struct world *w);
void sched_fini(struct world *w);
/* The scheduler's filters on plain JSON (for tests through the API). */
int sched_pod_tolerates(json_object *pod, json_object *taint);
int sched_selector_matches(json_object *selector, json_object *labels);

#endif
