// The stress backend (headroom/backend) as one of a service's replicas, for tests that need the
// real app rather than a node -e stand-in: CPU-limited, its port published, its instance named
// after the container, labelled for the balancer. On the host engine or one of startEngines'.
import { type LabelledContainer, type LabelledOptions, lbLabels, runLabelled } from './labelled.js';

export const BACKEND_IMAGE = 'headroom/backend:latest';

export interface BackendReplicaOptions extends Pick<LabelledOptions, 'run' | 'docker' | 'network'> {
  service: string;
  /** The container's name and INSTANCE_ID. */
  name: string;
  /** Its CPU limit (default 0.25). */
  cpus?: number;
  /** `-p` of its port 3000 (default '3000': any host port on every address of the engine). */
  publish?: string;
  labels?: Record<string, string>;
}

export function runBackendReplica(opts: BackendReplicaOptions): LabelledContainer {
  return runLabelled({
    run: opts.run,
    name: opts.name,
    image: BACKEND_IMAGE,
    env: { INSTANCE_ID: opts.name },
    publish: [opts.publish ?? '3000'],
    flags: ['--cpus', String(opts.cpus ?? 0.25)],
    labels: lbLabels(opts.service, 3000, opts.labels),
    network: opts.network,
    docker: opts.docker,
  });
}
