/** The parameter types the engine evaluates; a type missing here is reported unsupported. */
import { composite } from './composite';
import { date } from './date';
import { number } from './number';
import type { ParamType } from './param-type';
import { quantity } from './quantity';
import { reference } from './reference';
import { string } from './string';
import { token } from './token';
import { uri } from './uri';

export const PARAM_TYPES: Readonly<Record<string, ParamType>> = { token, string, reference, uri, date, number, quantity, composite };
