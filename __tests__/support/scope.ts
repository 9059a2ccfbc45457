import { Construct } from 'constructs';
import { Testing } from 'cdktf';
import { NamingScope } from '../../stacks/constructs/naming-scope';
import { EnvNameParts } from '../../stacks/model/naming';

/** The naming scope construct tests run in unless they say otherwise. */
export const TEST_SCOPE: EnvNameParts = { project: 'p', env: 'dev', account: '111111111111', region: 'eu-west-1' };

/**
 * `Testing.synthScope` in a stack that declares a naming scope, as EnvironmentStack does: the
 * constructs under test find project, environment, account and region in the tree.
 */
export function synthScoped(build: (scope: Construct) => void, parts: Partial<EnvNameParts> = {}): string {
  return Testing.synthScope((scope) => {
    const given = Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined));
    NamingScope.declare(scope, { ...TEST_SCOPE, ...given });
    build(scope);
  });
}
