/**
 * reference: `id`, `Type/id`, an absolute URL (this server's base is stripped, so it
 * matches local references), the `:[type]` modifier (`subject:Patient=123`), and
 * `:identifier` (`subject:identifier=http://sys|123`: Reference.identifier as a token).
 * Chained parameters (`subject.name=...`) are the engine's: they end in these queries.
 */
import { unescapeValue } from '../query-values';
import type { ReferenceQuery } from '../index/index-queries';
import { ENGINE_MODIFIERS, type ParamType } from './param-type';
import { tokenQuery } from './token';

export const reference: ParamType = {
  accepts: (modifier, param, defs) =>
    modifier === undefined ||
    modifier === 'identifier' ||
    ENGINE_MODIFIERS.has(modifier) ||
    isTargetType(modifier, param.targets, defs.isResourceType),
  match({ index, type, param, modifier, localBase }, raw) {
    if (modifier === 'identifier') return index.referenceIdentifier(type, param.code, tokenQuery(raw, param.code));
    const q = referenceQuery(unescapeValue(raw), localBase);
    if (modifier && !ENGINE_MODIFIERS.has(modifier)) {
      // `:Patient=123` means `Patient/123`; `:Patient=Practitioner/1` cannot match.
      if (q.targetType !== undefined && q.targetType !== modifier) return [];
      if (q.url === undefined) q.targetType = modifier;
    }
    return index.reference(type, param.code, q);
  },
};

/** A resource type the parameter may point to (any type when the definition names none). */
export function isTargetType(t: string, targets: readonly string[], isResourceType: (t: string) => boolean): boolean {
  return isResourceType(t) && (targets.length === 0 || targets.includes(t));
}

export function referenceQuery(v: string, localBase: string | undefined): ReferenceQuery {
  const local = localBase && v.startsWith(localBase + '/') ? v.slice(localBase.length + 1) : v;
  if (/^[a-z][a-z0-9+.-]*:/i.test(local)) return { url: local };
  const parts = local.split('/');
  if (parts.length === 1) return { targetId: parts[0]! };
  return { targetType: parts[0]!, targetId: parts[1]! };
}
