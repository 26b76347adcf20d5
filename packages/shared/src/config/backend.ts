// Config of services/backend, the stress backend.
import { z } from 'zod';
import { loggingFields } from './common.js';
import { env } from './env-fields.js';

export const backendConfigSchema = z.object({
  PORT: env.listenPort(3000, 'HTTP port.'),
  HOST: env.string('0.0.0.0', 'Bind address.'),
  INSTANCE_ID: env.optionalString('Name this instance reports; default: the hostname.'),
  MEMORY_CAP_MB: env.int(0, 1_048_576)(
    512,
    'Most memory `POST /memory` may hold, in MiB; over it answers 400.',
  ),
  CPU_BURNER_MAX_CORES: env.optionalInt(
    1,
    1024,
  )('Most burner threads `/cpu/toggle` may start; default: the CPU limit rounded up.'),
  SHUTDOWN_GRACE_MS: env.int(0, 600_000)(
    10_000,
    'On SIGTERM, how long in-flight requests may take before exit.',
  ),
  ...loggingFields,
});

export type BackendConfig = z.output<typeof backendConfigSchema>;
