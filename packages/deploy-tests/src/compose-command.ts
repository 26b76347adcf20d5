// The Compose CLI of this machine: Debian's docker-compose v1 when installed, else the
// `docker compose` v2 plugin. The compose file is written for both.
import { spawnSync } from 'node:child_process';

export function composeCommand(): [string, ...string[]] {
  const v1 = spawnSync('docker-compose', ['version'], { stdio: 'ignore' });
  if (v1.status === 0) return ['docker-compose'];
  const v2 = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' });
  if (v2.status === 0) return ['docker', 'compose'];
  throw new Error(
    'neither docker-compose nor `docker compose` is installed (Debian: apt-get install docker-compose)',
  );
}
