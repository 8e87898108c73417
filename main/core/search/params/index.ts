/** The parameter types the engine evaluates; a type missing here is reported unsupported. */
import { date } from './date';
import type { ParamType } from './param-type';
import { reference } from './reference';
import { string } from './string';
import { token } from './token';
import { uri } from './uri';

export const PARAM_TYPES: Readonly<Record<string, ParamType>> = { token, string, reference, uri, date };
