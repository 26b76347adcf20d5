// zod → 400 with the issues as details, naming each bad field (the shared helper, bound to this catalogue).
import { parserFor } from '@headroom/shared';
import { BadRequestError } from '../errors.js';

export const parseOr400 = parserFor(BadRequestError);
