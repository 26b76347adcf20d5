// The images tests run: made when missing, the way CI makes them (.ci/run: offline prep, then
// deploy/build-images.sh), so that `./dev test` passes on a fresh clone. An image this cannot
// make fails the test with the command that would.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../stack/process.js';
import { requireDocker } from './engine.js';

/** The offline base image (deploy/build-base-image.sh), built on demand. */
export const BASE_IMAGE = process.env.BASE_IMAGE ?? 'headroom/node-base:24';
/** The project's images, as deploy/build-images.sh tags them. */
export const PROJECT_IMAGES = [
  'headroom/backend:latest',
  'headroom/load-balancer:latest',
  'headroom/autoscaler:latest',
] as const;
/** Prometheus and node-exporter from Debian's binaries (deploy/images/build-exporter-images.sh). */
export const EXPORTER_IMAGES = ['headroom/prometheus:local', 'headroom/node-exporter:local'] as const;

export function imagePresent(image: string): boolean {
  return spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status === 0;
}

export interface ImageRecipe {
  script: string;
  args: string[];
  env: Record<string, string>;
}

/** How this project makes `image` (the script CI runs), or undefined for an image not of this project. */
export function imageRecipe(image: string): ImageRecipe | undefined {
  const m = /^headroom\/(backend|load-balancer|autoscaler):([\w.-]+)$/.exec(image);
  if (m)
    return {
      script: join(repoRoot, 'deploy/build-images.sh'),
      args: [m[1] as string],
      env: { TAG: m[2] as string },
    };
  if (image === BASE_IMAGE)
    return { script: join(repoRoot, 'deploy/build-base-image.sh'), args: [], env: {} };
  if ((EXPORTER_IMAGES as readonly string[]).includes(image))
    return { script: join(repoRoot, 'deploy/images/build-exporter-images.sh'), args: [], env: {} };
  return undefined;
}

/**
 * Makes sure `image` is on the host engine: a project image missing is built (the scripts lock,
 * so parallel test files build it once); anything else missing fails with a clear message.
 */
export function ensureImage(image: string): void {
  requireDocker();
  if (imagePresent(image)) return;
  const recipe = imageRecipe(image);
  if (!recipe) throw new Error(`image ${image} is not on the engine and is not one this project builds`);
  const how = `${Object.entries(recipe.env)
    .map(([k, v]) => `${k}=${v} `)
    .join('')}bash ${[recipe.script, ...recipe.args].join(' ')}`;
  process.stderr.write(`testkit: ${image} missing, building it: ${how}\n`);
  execFileSync('bash', [recipe.script, ...recipe.args], {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, ...recipe.env },
  });
  if (!imagePresent(image)) throw new Error(`image ${image} still missing after ${how}`);
}

export function ensureImages(images: readonly string[]): void {
  for (const image of images) ensureImage(image);
}

/** The offline base image, built when missing. */
export function ensureBaseImage(): void {
  ensureImage(BASE_IMAGE);
}
