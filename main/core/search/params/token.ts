/**
 * token: `code`, `system|code`, `|code`, `system|`; `:not` (the engine negates); `:text`
 * (display or text, starts-with after normalizing, like a string); `:of-type`
 * (`typeSystem|typeCode|value` on an Identifier). `:in`, `:below`, `:above` and `:not-in`
 * need a terminology server and are not accepted.
 */
import { badRequest } from '../../../../shared/fhir/outcome';
import { normalizeText } from '../extract/text';
import type { TokenQuery } from '../index/index-queries';
import { splitToken, splitUnescaped, unescapeValue } from '../query-values';
import { acceptsOnly, type ParamType } from './param-type';

export const token: ParamType = {
  accepts: acceptsOnly(undefined, 'not', 'text', 'of-type'),
  match({ index, type, param, modifier }, raw) {
    if (modifier === 'text') return index.tokenText(type, param.code, normalizeText(unescapeValue(raw)));
    if (modifier === 'of-type') {
      const parts = splitUnescaped(raw, '|').map(unescapeValue);
      const [typeSystem = '', typeCode = '', value = ''] = parts;
      // R4: "All 3 parts must be present".
      if (parts.length !== 3 || !typeSystem || !typeCode || !value) throw badRequest(`${param.code}:of-type takes system|code|value`);
      return index.tokenOfType(type, param.code, { typeSystem, typeCode, value });
    }
    return index.token(type, param.code, tokenQuery(raw, param.code));
  },
};

/** `system|code` and its variants; also reference `:identifier` and token components of composites. */
export function tokenQuery(raw: string, code: string): TokenQuery {
  const t = splitToken(raw);
  const q: TokenQuery = {};
  if (t.system !== undefined) q.system = t.system === '' ? null : t.system;
  if (t.code !== undefined) q.code = t.code;
  if (q.code === undefined && !q.system) throw badRequest(`${code} needs a code or a system`);
  return q;
}
