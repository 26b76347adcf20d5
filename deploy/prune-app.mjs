// Runs inside the first stage of each service Dockerfile (node only, no shell tools needed):
// deletes what a running service never reads (source maps, type declarations, Markdown,
// TypeScript sources) so the final stage copies a lean /app. Usage: node prune-app.mjs /app
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const DROP = /\.(map|d\.[cm]?ts|md|markdown|tsbuildinfo)$|(?<!\.d)\.[cm]?ts$/i;

function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) prune(path);
    else if (entry.isFile() && DROP.test(entry.name)) rmSync(path);
  }
}

prune(process.argv[2] ?? '/app');

// It is not part of the service: remove it too.
rmSync(new URL(import.meta.url));
