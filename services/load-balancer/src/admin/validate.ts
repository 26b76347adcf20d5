// zod → a 400 LB_ERR_VALIDATION that names each bad field (the shared helper, bound to this catalogue).
import { parserFor } from '@headroom/shared';
import { ValidationError } from '../errors.js';

export const validate = parserFor(ValidationError);
