/**
 * `npm run config-schema`: writes config/platform.schema.json, the JSON Schema of the config file,
 * generated from the zod schema (editors use it through the `$schema` line of the config).
 * A test fails when the committed file is out of date.
 */
import * as fs from 'fs';
import * as path from 'path';
import { configJsonSchema } from '../stacks/model/config/json-schema';

const out = path.join(__dirname, '..', 'config', 'platform.schema.json');
fs.writeFileSync(out, configJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), out)}`);
