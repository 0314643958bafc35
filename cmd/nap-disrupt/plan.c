/*
 * plan.c - the disruption loop: runs the planner (lib/disrupt) and acts on
 * its commands.  Placeholder until lib/disrupt lands: no planning yet.
 */
#include "disrupt.h"

void
plan_pass(struct ctx *x)
{
	(void)x;
}

void
plan_dry_run(struct ctx *x)
{
	(void)x;
}
