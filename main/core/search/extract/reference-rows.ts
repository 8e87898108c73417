/**
 * Reference rows. A literal reference is split into type, id and version so `subject=123`,
 * `subject=Patient/123` and `subject=http://base/Patient/123` can all be answered; absolute
 * and canonical references also keep their URL (the search layer decides whether a base is
 * local). Canonicals carry `|version` apart, as the R4 page asks for `url|version` searches.
 */
import type { ReferenceRow } from './rows';
import { obj, str, type FhirValue } from './values';

const ID = '[A-Za-z0-9\\-.]{1,64}';
/** `[base/]Type/id[/_history/vid]`; the type is checked against the R4 resource types. */
const LITERAL = new RegExp(`^(?:(.*)/)?([A-Z][A-Za-z]+)/(${ID})(?:/_history/(${ID}))?$`);

const BARE_ID = new RegExp(`^${ID}$`);

export type IsResourceType = (type: string) => boolean;

export function referenceRows(param: string, v: FhirValue, isResourceType: IsResourceType): ReferenceRow[] {
  if (typeof v.value === 'string') return v.value ? [canonicalRow(param, v.value, isResourceType)] : [];
  const o = obj(v.value);
  // Bundle.composition / Bundle.message select the resource itself: point at it.
  if (typeof o.resourceType === 'string') {
    const id = str(o.id);
    return isResourceType(o.resourceType) ? [{ param, targetType: o.resourceType, targetId: id, url: null }] : [];
  }
  const reference = str(o.reference);
  const type = str(o.type);
  const ident = obj(o.identifier);
  const identifierSystem = str(ident.system);
  const identifierValue = str(ident.value);
  if (!reference && !identifierValue) return [];
  const row: ReferenceRow = reference
    ? literalRow(param, reference, isResourceType)
    : { param, targetType: null, targetId: null, url: null };
  if (!row.targetType && type) row.targetType = type;
  if (identifierSystem || identifierValue) {
    row.identifierSystem = identifierSystem;
    row.identifierValue = identifierValue;
  }
  return [row];
}

export function literalRow(param: string, reference: string, isResourceType: IsResourceType): ReferenceRow {
  if (reference.startsWith('#')) return { param, targetType: null, targetId: null, url: null, contained: reference.slice(1) || null };
  const m = LITERAL.exec(reference);
  if (m && isResourceType(m[2] as string)) {
    const [, base, type, id, version] = m;
    const absolute = base !== undefined && /^[a-z][a-z0-9+.-]*:/i.test(base);
    return {
      param,
      targetType: type as string,
      targetId: id as string,
      version: version ?? null,
      // Without the _history part: the URL identifies the resource, `version` the version.
      url: absolute ? `${base}/${type}/${id}` : null,
    };
  }
  // A bare id (`lib-v1`, seen in canonicals): the query side reads a search value without
  // '/' or scheme as an id, so only targetId makes it findable; url keeps it as written.
  if (BARE_ID.test(reference)) return { param, targetType: null, targetId: reference, url: reference };
  // urn:uuid:, urn:oid:, conditional or otherwise unparsable references: keep as written.
  return { param, targetType: null, targetId: null, url: reference };
}

/** uri/canonical values in reference params: `url|version`, plus type/id if the URL has that shape. */
function canonicalRow(param: string, value: string, isResourceType: IsResourceType): ReferenceRow {
  if (value.startsWith('#')) return literalRow(param, value, isResourceType);
  const bar = value.indexOf('|');
  const url = bar >= 0 ? value.slice(0, bar) : value;
  const version = bar >= 0 ? value.slice(bar + 1) || null : null;
  const parsed = literalRow(param, url, isResourceType);
  return { param, targetType: parsed.targetType, targetId: parsed.targetId, url, version: version ?? parsed.version ?? null };
}
