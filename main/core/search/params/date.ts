/** date: the nine R4 prefixes over the value's implicit range (index/date-prefix.ts). */
import { badRequest } from '../../../../shared/fhir/outcome';
import { dateRange } from '../../fhir/fhir-dates';
import { DATE_PREFIXES, type DatePrefix } from '../index/date-prefix';
import { acceptsOnly, type ParamType } from './param-type';

export const date: ParamType = {
  accepts: acceptsOnly(undefined),
  match({ index, type, param }, raw) {
    const m = /^([a-z]{2})?(.+)$/.exec(raw);
    const prefix = (m?.[1] ?? 'eq') as DatePrefix;
    if (!DATE_PREFIXES.includes(prefix)) throw badRequest(`Unknown date prefix in '${param.code}'`);
    const { start, end } = dateRange(m?.[2] ?? '', param.code);
    return index.date(type, param.code, prefix, start, end);
  },
};
