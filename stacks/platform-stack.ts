import { Node } from 'constructs';
import { TerraformElement, TerraformStack } from 'cdktf';

/**
 * Base of every stack: readable, hash-free logical ids, so plan addresses read like
 * `aws_subnet.network_public-eu-west-1a` instead of `aws_subnet.network_public-eu-west-1a_1A2B3C4D`.
 * The id is the construct path below the stack joined by "_". Construct paths are unique, and a
 * collision of joined paths (possible only with "_" inside ids) fails the synth loudly.
 */
export abstract class PlatformStack extends TerraformStack {
  private readonly logicalIds = new Map<string, string>();

  protected allocateLogicalId(element: TerraformElement | Node): string {
    const isElement = TerraformElement.isTerraformElement(element);
    const node = isElement ? element.node : element;
    const stack = isElement ? element.cdktfStack : this;
    const parts = node.scopes.slice(node.scopes.indexOf(stack) + 1).map((c) => c.node.id);
    const id = parts.join('_');
    const path = node.path;
    const other = this.logicalIds.get(id);
    if (other !== undefined && other !== path) throw new Error(`logical id "${id}" would be used by both ${other} and ${path}; rename one construct`);
    this.logicalIds.set(id, path);
    return id;
  }
}
