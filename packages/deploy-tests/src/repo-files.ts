// Paths of the checked-in deployment configs the tests read.
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const repoPath = (relative: string): string => `${repoRoot}${relative}`;
