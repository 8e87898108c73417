/** uri: exact match; `:below` (prefix) and `:above` (the value's ancestors). */
import { unescapeValue } from '../query-values';
import { acceptsOnly, type ParamType } from './param-type';

export const uri: ParamType = {
  accepts: acceptsOnly(undefined, 'above', 'below'),
  match({ index, type, param, modifier }, raw) {
    const mode = modifier === 'above' ? 'above' : modifier === 'below' ? 'below' : 'eq';
    return index.uri(type, param.code, unescapeValue(raw), mode);
  },
};
