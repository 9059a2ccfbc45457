/**
 * GitLab's Terraform report (`artifacts:reports:terraform`) from `terraform show -json <planfile>`.
 *
 * GitLab shows the plan summary in the merge request from a JSON file holding exactly
 * `{"create": N, "update": N, "delete": N}`. The counts follow GitLab's documented jq filter:
 * every action of every resource change is counted, so a replacement (delete + create, in either
 * order) counts once as a create and once as a delete; data-source reads and no-ops count nothing.
 * Only these three numbers are written: the full plan JSON holds attribute values in clear text
 * (sensitive ones included) and must not become a report artifact.
 */

export interface GitlabTerraformReport {
  create: number;
  update: number;
  delete: number;
}

interface ShowJsonPlan {
  format_version?: unknown;
  resource_changes?: Array<{ address?: string; change?: { actions?: unknown } }>;
}

/** Throws when the input is not `terraform show -json` output of a saved plan. */
export function gitlabTerraformReport(showJson: unknown): GitlabTerraformReport {
  if (typeof showJson !== 'object' || showJson === null || Array.isArray(showJson)) {
    throw new Error('expected a JSON object (the output of `terraform show -json <planfile>`)');
  }
  const plan = showJson as ShowJsonPlan;
  if (typeof plan.format_version !== 'string') {
    throw new Error('not `terraform show -json` output: no format_version');
  }
  if (!('planned_values' in plan) && !('resource_changes' in plan)) {
    throw new Error('`terraform show -json` output of state, not of a plan: give the saved plan file (plan.tfplan)');
  }
  const report: GitlabTerraformReport = { create: 0, update: 0, delete: 0 };
  for (const rc of plan.resource_changes ?? []) {
    const actions = Array.isArray(rc.change?.actions) ? (rc.change.actions as unknown[]) : [];
    for (const a of actions) {
      if (a === 'create' || a === 'update' || a === 'delete') report[a]++;
    }
  }
  return report;
}

/** The report file's text: one line of JSON with exactly the three keys GitLab reads. */
export function formatGitlabTerraformReport(r: GitlabTerraformReport): string {
  return `${JSON.stringify({ create: r.create, update: r.update, delete: r.delete })}\n`;
}

/** A line for the job log, e.g. "plan: 2 to create, 1 to update, 2 to delete". */
export function describeGitlabTerraformReport(r: GitlabTerraformReport): string {
  return `plan: ${r.create} to create, ${r.update} to update, ${r.delete} to delete (a replacement counts as one create and one delete)`;
}
