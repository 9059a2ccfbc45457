import { z } from 'zod';
import { platformConfigSchema } from './schema';

/** The JSON Schema of the config file as written (input side: defaults are optional). */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(platformConfigSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'Web-server vending machine platform config' }, null, 2)}\n`;
}
