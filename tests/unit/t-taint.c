/*
 * Unit tests for lib/taint: the toleration matcher (Equal, Exists, empty
 * key, effects), what nap_taints_tolerated skips on request, and the list
 * of taints a starting node loses.
 */
#include "taint.h"
#include "tap.h"

/* the structs own mutable strings; these literals are only read */
#define S(x) ((char *)(uintptr_t)(x))
#define TAINT(k, v, e)                                                                             \
	{                                                                                          \
		S(k), S(v), (e)                                                                    \
	}
#define TOL(k, ex, v, e)                                                                           \
	{                                                                                          \
		S(k), (ex), S(v), (e), -1                                                          \
	}

int
main(void)
{
	struct nap_taint gpu = TAINT("gpu", "true", NAP_EFFECT_NOSCHEDULE);
	struct nap_taint soft = TAINT("soft", "", NAP_EFFECT_PREFERNOSCHEDULE);
	struct nap_taint odd = TAINT("odd", "", NAP_EFFECT_OTHER);
	struct nap_taint starting[] = {
	    TAINT("node.kubernetes.io/not-ready", "", NAP_EFFECT_NOSCHEDULE),
	    TAINT("readiness.k8s.io/net", "", NAP_EFFECT_NOSCHEDULE),
	};
	struct nap_taint both[] = {soft, gpu};
	struct nap_toleration eq = TOL("gpu", 0, "true", NAP_EFFECT_NOSCHEDULE);
	struct nap_toleration eq_other = TOL("gpu", 0, "false", NAP_EFFECT_ANY);
	struct nap_toleration exists = TOL("gpu", 1, "", NAP_EFFECT_ANY);
	struct nap_toleration all = TOL("", 1, "", NAP_EFFECT_ANY);
	struct nap_toleration empty_eq = TOL("", 0, "", NAP_EFFECT_ANY);
	struct nap_toleration noexec = TOL("gpu", 1, "", NAP_EFFECT_NOEXECUTE);
	struct nap_toleration odd_ns = TOL("odd", 1, "", NAP_EFFECT_NOSCHEDULE);
	const struct nap_taint *bad = &gpu;

	TAP_OK(nap_tolerates(&eq, 1, &gpu), "Equal with key, value and effect tolerates");
	TAP_OK(!nap_tolerates(&eq_other, 1, &gpu), "Equal with another value does not");
	TAP_OK(nap_tolerates(&exists, 1, &gpu), "Exists on the key tolerates any value");
	TAP_OK(nap_tolerates(&all, 1, &gpu), "Exists with no key tolerates everything");
	TAP_OK(!nap_tolerates(&empty_eq, 1, &gpu), "Equal with no key tolerates nothing");
	TAP_OK(!nap_tolerates(&noexec, 1, &gpu), "a toleration of another effect does not");
	TAP_OK(!nap_tolerates(&odd_ns, 1, &odd), "an unknown effect is never tolerated by effect");
	TAP_OK(nap_tolerates(&all, 1, &odd), "an unknown effect is tolerated by key alone");

	TAP_OK(!nap_taints_tolerated(&exists, 1, both, 2, 0, &bad) && bad == &both[0],
	    "with no flags a PreferNoSchedule taint counts, and is named");
	TAP_OK(nap_tolerates_all(&exists, 1, both, 2, &bad) && bad == NULL,
	    "nap_tolerates_all leaves PreferNoSchedule aside");
	TAP_OK(!nap_taints_tolerated(NULL, 0, starting, 2, 0, &bad) && bad == &starting[0],
	    "a starting node's taints count unless skipped");
	TAP_OK(nap_taints_tolerated(NULL, 0, starting, 2, NAP_TAINTS_SKIP_EPHEMERAL, &bad),
	    "NAP_TAINTS_SKIP_EPHEMERAL leaves them aside");

	TAP_OK(nap_taint_is_ephemeral("karpenter.sh/unregistered"), "unregistered is ephemeral");
	TAP_OK(nap_taint_is_ephemeral("node.cloudprovider.kubernetes.io/uninitialized"),
	    "the cloud provider's uninitialized is ephemeral");
	TAP_OK(
	    nap_taint_is_ephemeral("node.kubernetes.io/unreachable"), "unreachable is ephemeral");
	TAP_OK(nap_taint_is_ephemeral("readiness.k8s.io/x"), "a readiness gate is ephemeral");
	TAP_OK(!nap_taint_is_ephemeral("readiness.k8s.io"), "the bare prefix without / is not");
	TAP_OK(!nap_taint_is_ephemeral("karpenter.sh/disrupted"), "disrupted is not ephemeral");

	TAP_IS_INT(nap_effect_parse("NoExecute"), NAP_EFFECT_NOEXECUTE, "NoExecute parses");
	TAP_IS_INT(nap_effect_parse(""), NAP_EFFECT_ANY, "the empty effect is any");
	TAP_IS_INT(nap_effect_parse("noschedule"), NAP_EFFECT_OTHER, "effects are case-sensitive");
	TAP_IS_STR(nap_effect_name(NAP_EFFECT_PREFERNOSCHEDULE), "PreferNoSchedule", "names");
	return tap_done();
}
