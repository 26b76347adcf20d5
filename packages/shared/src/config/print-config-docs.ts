// Prints the configuration reference (Markdown) from the schemas, so the README table
// cannot drift from the defaults: `pnpm --filter @headroom/shared config-docs`.
import type { z } from 'zod';
import { privilegeConfigSchema } from '../privilege.js';
import { autoscalerConfigSchema } from './autoscaler.js';
import { backendConfigSchema } from './backend.js';
import { fieldMeta } from './env-fields.js';
import { loadBalancerConfigSchema } from './load-balancer.js';

export function configTable(schema: z.ZodObject): string {
  const rows = ['| Variable | Default | Expects | Meaning |', '|---|---|---|---|'];
  for (const [name, field] of Object.entries(schema.shape)) {
    const meta = fieldMeta(field as z.ZodType);
    if (!meta) continue;
    const def = meta.default === undefined ? '—' : meta.default === '' ? '(empty)' : `\`${meta.default}\``;
    rows.push(`| \`${name}\` | ${def} | ${meta.expected} | ${meta.doc.replaceAll('|', '\\|')} |`);
  }
  return rows.join('\n');
}

export function configDocs(): string {
  return [
    '### services/load-balancer',
    configTable(loadBalancerConfigSchema),
    '',
    '### services/autoscaler',
    configTable(autoscalerConfigSchema),
    '',
    '### services/backend',
    configTable(backendConfigSchema),
    '',
    '### services/load-balancer and services/autoscaler, started as root',
    configTable(privilegeConfigSchema),
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(configDocs());
}
