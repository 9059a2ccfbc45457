/**
 * The naming scope of a construct: the project, environment, account and region its stack
 * stands for. Constructs look it up in the construct tree, the way aws-cdk constructs use
 * `Stack.of(this)`, instead of taking the same four values as props at every level.
 *
 * A stack declares its scope once with `NamingScope.declare(this, parts)`; every construct below
 * it calls `NamingScope.of(this)`. Names themselves come from `model/naming.ts`, never from here.
 */
import { IConstruct } from 'constructs';
import { AWS_REGION } from '../model/config/schema';
import { EnvNameParts } from '../model/naming';

const SCOPE = Symbol.for('webserver-vending-machine.naming-scope');

type Holder = IConstruct & { [SCOPE]?: EnvNameParts };

export const NamingScope = {
  /** Declares the naming scope of `scope` (a stack) for every construct below it. Once per scope. */
  declare(scope: IConstruct, parts: EnvNameParts): void {
    const holder = scope as Holder;
    if (holder[SCOPE] !== undefined) throw new Error(`NamingScope: ${scope.node.path || '(root)'} already declares a naming scope`);
    const fail = (field: string, value: string, allowed: string): never => {
      throw new Error(`NamingScope: ${field} must be ${allowed}, got ${JSON.stringify(value)}`);
    };
    if (!/^\d{12}$/.test(parts.account)) fail('account', parts.account, 'a 12-digit AWS account id');
    if (!AWS_REGION.test(parts.region)) fail('region', parts.region, 'an AWS region name such as eu-west-1');
    if (!/^[a-z][a-z0-9-]*$/.test(parts.project)) fail('project', parts.project, 'lower-case letters, digits and "-", starting with a letter');
    if (!/^[a-z][a-z0-9]*$/.test(parts.env)) fail('env', parts.env, 'lower-case letters and digits, starting with a letter');
    holder[SCOPE] = Object.freeze({ project: parts.project, env: parts.env, account: parts.account, region: parts.region });
  },

  /** The naming scope of the nearest enclosing construct that declares one. Throws when there is none. */
  of(construct: IConstruct): EnvNameParts {
    const scopes = construct.node.scopes;
    for (let i = scopes.length - 1; i >= 0; i--) {
      const found = (scopes[i] as Holder)[SCOPE];
      if (found !== undefined) return found;
    }
    throw new Error(
      `NamingScope: ${construct.node.path || construct.node.id} is not inside a stack that declares a naming scope; ` +
        'create it inside an EnvironmentStack or CustomerStack, or call NamingScope.declare(stack, { project, env, account, region }) in a test',
    );
  },
} as const;
