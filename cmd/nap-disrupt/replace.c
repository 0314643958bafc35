/*
 * replace.c - commands whose candidates may go only after a replacement is
 * Initialized: today the non-empty Drifted command of lib/disrupt (one
 * candidate, replacements = 1).
 *
 * Replacement first is not carried out yet.  The replacement's NodeClaim
 * must be the shared scheduler's answer for the candidate's pods and be
 * written by nap-solve's NodeClaim writer, neither of which nap-disrupt can
 * call yet; a NodeClaim guessed here would be a second scheduler and a
 * second writer.  Until then such a command is held, never half done: the
 * candidate is not tainted and not deleted, no record claims it, and a
 * DisruptionBlocked event on the NodeClaim says why.  Empty drifted nodes
 * need no replacement and go through the ordinary path (plan.c).
 */
#include "log.h"
#include "tool.h"

int
replace_command(struct ctx *x, const struct nap_disrupt_command *cmd)
{
	size_t i;

	if (cmd->replacements == 0)
		return 0;
	for (i = 0; i < cmd->ncands; i++) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(x->cl, cmd->cands[i].nodeclaim);

		nap_debug("nodeclaim %s: %s, held: replacement first is not supported yet",
		    cmd->cands[i].nodeclaim, nap_disrupt_reason_name(cmd->reason));
		if (c)
			k_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal",
			    "DisruptionBlocked",
			    "%s (%s): not disrupted, it needs a replacement first, which nap-disrupt "
			    "does not launch yet",
			    nap_disrupt_reason_name(cmd->reason),
			    cmd->cands[i].drift_reason[0] ? cmd->cands[i].drift_reason : "no reason");
	}
	return 1;
}
