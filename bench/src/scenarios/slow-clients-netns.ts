// The slow-clients scenario inside its own network namespace (slow-clients.ts starts this file
// under `unshare -n`): runs it, writes the result where the parent reads it.
import { writeFileSync } from 'node:fs';
import { slowClientsHere } from './slow-clients.js';

const result = await slowClientsHere(Number(process.env.SLOW_RUNS ?? 5), true);
writeFileSync(process.env.SLOW_OUT ?? '/dev/stdout', JSON.stringify(result));
process.exit(0);
