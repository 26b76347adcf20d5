// Contracts of the stress backend (services/backend).
import { z } from 'zod';

export const identitySchema = z.object({
  instance: z.string(),
  hostname: z.string(),
  pid: z.number().int(),
  version: z.string(),
});

export const loadQuerySchema = z.object({
  ms: z.coerce.number().int().min(1).max(10_000).default(20),
});

export const loadResponseSchema = z.object({
  instance: z.string(),
  requestedMs: z.number(),
  elapsedMs: z.number(),
});

export const cpuStateSchema = z.object({
  on: z.boolean(),
  cores: z.number().int(),
  duty: z.number(),
  maxCores: z.number().int(),
});
export type CpuState = z.infer<typeof cpuStateSchema>;

export const memoryBodySchema = z.object({ mb: z.number().int().min(1) }).strict();
export const memoryStateSchema = z.object({ heldMb: z.number(), capMb: z.number() });
