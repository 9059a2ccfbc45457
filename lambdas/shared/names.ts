/**
 * Name rules shared by the config validator (stacks/model), the webhook's settings and the
 * source-fetch program: one definition each. The Lambda code is the lowest layer (each program is
 * bundled on its own), so the model imports these from here, never the other way round.
 */

/** The two kinds of repository: application code and the customer's machine-image recipe. */
export const REPOSITORY_KINDS = ['software', 'infrastructure'] as const;
export type RepositoryKind = (typeof REPOSITORY_KINDS)[number];

/** Customer names: 2-20 of a-z, 0-9 and single "-", starting with a letter; a DNS label and part of resource names (RDS refuses "--"). */
export const CUSTOMER_NAME = /^[a-z](?:[a-z0-9]|-(?!-)){0,18}[a-z0-9]$/;

/** Environment names: 2-10 of a-z and 0-9, starting with a letter. */
export const ENV_NAME = /^[a-z][a-z0-9]{1,9}$/;

/** A GitLab project path (path_with_namespace), e.g. group/subgroup/project. */
export const GITLAB_PROJECT_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$/;
