/** string: case- and accent-insensitive starts-with by default; `:exact`, `:contains`. */
import { unescapeValue } from '../query-values';
import { normalizeText } from '../extract/text';
import { acceptsOnly, type ParamType } from './param-type';

export const string: ParamType = {
  accepts: acceptsOnly(undefined, 'exact', 'contains'),
  match({ index, type, param, modifier }, raw) {
    const v = unescapeValue(raw);
    if (modifier === 'exact') return index.string(type, param.code, v, 'exact');
    return index.string(type, param.code, normalizeText(v), modifier === 'contains' ? 'contains' : 'prefix');
  },
};
