/** token: `code`, `system|code`, `|code`, `system|`; `:not` (the engine negates). */
import { splitToken } from '../query-values';
import { acceptsOnly, type ParamType } from './param-type';

export const token: ParamType = {
  accepts: acceptsOnly(undefined, 'not'),
  match({ index, type, param }, raw) {
    const t = splitToken(raw);
    const q: { system?: string | null; code?: string } = {};
    if (t.system !== undefined) q.system = t.system === '' ? null : t.system;
    if (t.code !== undefined) q.code = t.code;
    return index.token(type, param.code, q);
  },
};
