// Runs in the builder stage of deploy/Dockerfile on each deployed service (node only, no shell
// tools needed): deletes what a running service never reads (source maps, type declarations,
// Markdown, TypeScript sources and configs, tests) so the runtime stage copies a lean /app.
// Usage: node prune-app.mjs <dir>
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const DROP_FILE =
  /\.(map|d\.[cm]?ts|md|markdown|tsbuildinfo)$|(?<!\.d)\.[cm]?ts$|^tsconfig.*\.json$|^Dockerfile$|^pnpm-lock\.yaml$/i;
// at the top of the service and of each workspace package in node_modules
const DROP_DIR = new Set(['src', 'test']);

function prune(dir, top) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (top && DROP_DIR.has(entry.name)) rmSync(path, { recursive: true });
      else prune(path, entry.name === 'node_modules' ? false : isPackageRoot(path));
    } else if (entry.isFile() && DROP_FILE.test(entry.name)) rmSync(path);
  }
}

// a workspace package deployed into node_modules (@headroom/<name>), whose src/test go too
function isPackageRoot(path) {
  return /[\\/]node_modules[\\/]@headroom[\\/][^\\/]+$/.test(path);
}

prune(process.argv[2] ?? '/app', true);
