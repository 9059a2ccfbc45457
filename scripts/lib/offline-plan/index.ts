/**
 * Offline real-Terraform harness (used by the tests, scripts/offline-plan.ts and scripts/bench.ts).
 *
 * Runs `terraform init/validate/plan` on a synthesized cdktf stack without the
 * Terraform registry and without AWS:
 *   - the aws provider comes from a local filesystem mirror (discovered, never
 *     hard-coded; env vars override discovery)                      discovery.ts
 *   - the stack is copied to a temp dir and only the copy is rewritten
 *     (backend dropped, aws constraint relaxed to the mirrored version,
 *     data.archive_file stood in for by a zip we build ourselves, provider
 *     blocks given mock credentials, cdktf cross-stack remote states read
 *     from a state fabricated from the producer stack's declared outputs)
 *                                  relaxations.ts, archive.ts, remote-state.ts, prepare.ts
 *   - every rewrite is reported as a human-readable "relaxation" so tests and
 *     CI print exactly what was not checked against the real configuration.
 *                                                                    report.ts
 *   - terraform runs on the copy                                     run.ts
 *   - several stacks may be planned in one terraform run, each a module of
 *     one root module (offlinePlanMany)                              many.ts
 *   - tests call offlineTerraformGate() first (one loud SKIPPED line
 *     without terraform or a mirror)                                 gate.ts
 *
 * Registry mode (`providerSource: 'registry'`, CLI `offline-plan --registry`): for
 * machines that reach the Terraform registry but have no mirror and no AWS
 * credentials (GitLab CI without AWS_ROLE_ARN). Providers are installed from
 * the registry at exactly the versions the stack requires, so the aws version
 * is NOT relaxed and archive_file is NOT stood in for; only the backend is
 * removed, the aws provider blocks get mock credentials and cross-stack remote
 * states are stood in for (no AWS credentials, so no S3 state either).
 *
 * Env overrides:
 *   TERRAFORM_BIN              path of the terraform binary (else PATH lookup)
 *   TF_PLUGIN_MIRROR           provider filesystem mirror root (else discovery)
 *   OFFLINE_TERRAFORM_REQUIRED "1" makes a missing terraform/mirror a test failure
 *                              instead of a loud skip (for CI machines that have it)
 * Also read during discovery: TF_CLI_CONFIG_FILE (its filesystem_mirror paths and
 * plugin_cache_dir), TF_PLUGIN_CACHE_DIR, HOME, XDG_DATA_HOME, XDG_DATA_DIRS, PATH.
 * The terraform child processes get our own CLI config and no AWS_* / TF_CLI_ARGS* /
 * TF_VAR_* / TF_DATA_DIR / TF_WORKSPACE / TF_PLUGIN_CACHE_DIR from the parent.
 */
export * from './discovery';
export * from './stack-json';
export * from './relaxations';
export { CROSS_STACK_INPUT_PREFIX, ctyType, placeholderValue, producersFromJson, producersFromStacksDir, referencedOutputs, stacksIn } from './remote-state';
export type { PlaceholderContext, ProducerResolver, ProducerStack } from './remote-state';
export * from './prepare';
export * from './run';
export * from './many';
export * from './report';
export * from './gate';
