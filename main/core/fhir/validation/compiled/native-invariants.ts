/**
 * Native versions of the invariants met on almost every resource: evaluating them with
 * fhirpath.js costs 5–25 µs each (a Period's per-1 about 14, a Reference's ref-1 about 24),
 * which across the References, Periods, Quantities and Extensions of a Synthea resource
 * would be most of the time budget. Each is bound to the exact R4 expression it implements
 * (another expression under the same key gets no native check) and answers true (met),
 * false (violated) or undefined when it cannot be sure, in which case fhirpath.js decides.
 * compiled-validator.test.ts runs every resource of the corpus through both and requires
 * the same verdicts.
 *
 * FHIRPath's `x.exists()` on JSON is true when `x` or its primitive extension `_x` is there.
 */

/** The resource a node is in, as invariants see it (`%resource`, `%rootResource`). */
export interface Frame {
  resource: Record<string, unknown>;
  /** `%rootResource`: the container of a contained resource, else the resource itself. */
  root: Record<string, unknown>;
  /** The container's frame, for a contained resource. */
  container: Frame | undefined;
  /** `#…` references and canonical/uri/url values anywhere in this resource (for dom-3). */
  hashRefs: Set<string> | undefined;
  /** A contained resource that refers to its container (`reference = '#'`). */
  refersToContainer: boolean;
  /** Frames of the contained resources, in order. */
  contained: Frame[] | undefined;
}

export type NativeCheck = (node: unknown, frame: Frame) => boolean | undefined;
type Obj = Record<string, unknown>;

const UCUM = 'http://unitsofmeasure.org';

function present(v: unknown): boolean {
  return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
}

/** FHIRPath `name.exists()` on a JSON object. */
export function has(o: Obj, name: string): boolean {
  return present(o[name]) || present(o[`_${name}`]);
}

const obj = (node: unknown): Obj | undefined => (node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Obj) : undefined);

/** `a.empty() or b.exists()` */
const emptyOrExists = (a: string, b: string): NativeCheck => (n) => {
  const o = obj(n);
  return o ? !has(o, a) || has(o, b) : undefined;
};

/** `x.exists() implies x >= 0` for a decimal. */
const nonNegative = (x: string): NativeCheck => (n) => {
  const o = obj(n);
  if (!o) return undefined;
  const v = o[x];
  return typeof v === 'number' ? v >= 0 : true;
};

/** A dateTime with seconds and a zone (comparable as an instant), or a date of one precision. */
const INSTANT_LIKE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)$/;
const DATE_ONLY = /^\d{4}(-\d\d(-\d\d)?)?$/;

function startBeforeEnd(n: unknown): boolean | undefined {
  const o = obj(n);
  if (!o) return undefined;
  const start = o.start;
  const end = o.end;
  // hasValue(): an extension alone is no value.
  if (typeof start !== 'string' || typeof end !== 'string') return true;
  if (INSTANT_LIKE.test(start) && INSTANT_LIKE.test(end)) {
    const a = Date.parse(start);
    const b = Date.parse(end);
    return Number.isNaN(a) || Number.isNaN(b) ? undefined : a <= b;
  }
  if (start.length === end.length && DATE_ONLY.test(start) && DATE_ONLY.test(end)) return start <= end;
  return undefined; // mixed precisions: FHIRPath's rules decide (possibly empty)
}

function localReference(n: unknown, frame: Frame): boolean | undefined {
  const o = obj(n);
  if (!o) return undefined;
  const ref = o.reference;
  if (typeof ref !== 'string' || ref.charCodeAt(0) !== 35) return true;
  // '#' alone is a contained resource's reference to its container (dom-3; the later
  // versions of ref-1 allow it in so many words).
  if (ref === '#') return frame.root !== frame.resource;
  const id = ref.slice(1);
  const contained = frame.root.contained;
  return Array.isArray(contained) && contained.some((c) => obj(c)?.id === id);
}

/** FHIRPath `value.exists()` for a choice element `value[x]`: `valueString`, `_valueString`, ... */
function hasChoice(o: Obj, base: string): boolean {
  for (const k in o) {
    const at = (k.charCodeAt(0) === 95 ? 1 : 0) + base.length;
    if (k.length > at && k.startsWith(base, at - base.length)) {
      const c = k.charCodeAt(at);
      if (c >= 65 && c <= 90 && present(o[k])) return true;
    }
  }
  return false;
}

function extensionOrValue(n: unknown): boolean | undefined {
  const o = obj(n);
  return o ? has(o, 'extension') !== hasChoice(o, 'value') : undefined;
}

/** `cc.coding.where(system = S and code in codes).exists()` */
function hasCoding(cc: unknown, system: string, codes: ReadonlySet<string>): boolean {
  const coding = obj(cc)?.coding;
  return Array.isArray(coding) && coding.some((c) => obj(c)?.system === system && codes.has(obj(c)!.code as string));
}

const CONDITION_VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ALLERGY_VER = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
const ENTERED_IN_ERROR = new Set(['entered-in-error']);
const NOT_ACTIVE = new Set(['resolved', 'remission', 'inactive']);

/**
 * Invariants of the resources and backbone elements Synthea is made of (fhirpath.js spends
 * 20–160 µs on each): exact, or true only where one clause settles it.
 */
const RESOURCE: Record<string, [string, (o: Obj) => boolean | undefined]> = {
  'obs-6': ['dataAbsentReason.empty() or value.empty()', (o) => !has(o, 'dataAbsentReason') || !hasChoice(o, 'value')],
  'obs-7': ['value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()', (o) => (!hasChoice(o, 'value') || !has(o, 'component') ? true : undefined)],
  'org-1': ['(identifier.count() + name.count()) > 0', (o) => has(o, 'identifier') || has(o, 'name')],
  'con-3': [
    "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or category.select($this='problem-list-item').empty()",
    (o) => (has(o, 'clinicalStatus') || hasCoding(o.verificationStatus, CONDITION_VER, ENTERED_IN_ERROR) || !has(o, 'category') ? true : undefined),
  ],
  'con-4': [
    "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-clinical' and (code='resolved' or code='remission' or code='inactive')).exists()",
    (o) => (!hasChoice(o, 'abatement') || hasCoding(o.clinicalStatus, 'http://terminology.hl7.org/CodeSystem/condition-clinical', NOT_ACTIVE) ? true : undefined),
  ],
  'con-5': [
    "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()",
    (o) => !hasCoding(o.verificationStatus, CONDITION_VER, ENTERED_IN_ERROR) || !has(o, 'clinicalStatus'),
  ],
  'ait-1': [
    "verificationStatus.coding.where(system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = 'entered-in-error').exists() or clinicalStatus.exists()",
    (o) => hasCoding(o.verificationStatus, ALLERGY_VER, ENTERED_IN_ERROR) || has(o, 'clinicalStatus'),
  ],
  'prr-1': ['orderDetail.empty() or code.exists()', (o) => !has(o, 'orderDetail') || has(o, 'code')],
  'cpl-3': ['detail.empty() or reference.empty()', (o) => !has(o, 'detail') || !has(o, 'reference')],
  'org-2': ["where(use = 'home').empty()", (o) => o.use !== 'home'],
  'org-3': ["where(use = 'home').empty()", (o) => o.use !== 'home'],
  'ait-2': [
    "verificationStatus.coding.where(system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = 'entered-in-error').empty() or clinicalStatus.empty()",
    (o) => !hasCoding(o.verificationStatus, ALLERGY_VER, ENTERED_IN_ERROR) || !has(o, 'clinicalStatus'),
  ],
};

/** A UCUM quantity FHIRPath can compare (without units fhirpath.js finds them incomparable). */
function simpleQuantity(q: unknown): { value: number; key: string } | undefined {
  const o = obj(q);
  if (!o || typeof o.value !== 'number' || o.comparator !== undefined) return undefined;
  for (const k in o) if (k.charCodeAt(0) === 95) return undefined;
  if (o.system === UCUM && typeof o.code === 'string') return { value: o.value, key: o.code };
  return undefined;
}

function lowBeforeHigh(n: unknown): boolean | undefined {
  const o = obj(n);
  if (!o) return undefined;
  if (!has(o, 'low') || !has(o, 'high')) return true;
  const low = simpleQuantity(o.low);
  const high = simpleQuantity(o.high);
  return low && high && low.key === high.key ? low.value <= high.value : undefined;
}

function ratio(n: unknown): boolean | undefined {
  const o = obj(n);
  if (!o) return undefined;
  const num = has(o, 'numerator');
  return !num !== has(o, 'denominator') && (num || has(o, 'extension'));
}

function moneyQuantity(n: unknown): boolean | undefined {
  const o = obj(n);
  if (!o) return undefined;
  const left = has(o, 'code') || !has(o, 'value');
  if (!left) return false;
  if (!has(o, 'system')) return true;
  return typeof o.system === 'string' ? o.system === 'urn:iso:std:iso:4217' : true;
}

const OFFSET_WHEN = new Set(['C', 'CM', 'CD', 'CV']);
function offsetWhen(n: unknown): boolean | undefined {
  const o = obj(n);
  if (!o) return undefined;
  if (!has(o, 'offset')) return true;
  if (!has(o, 'when')) return false;
  if (o._when !== undefined || !Array.isArray(o.when)) return undefined;
  return (o.when as unknown[]).every((w) => typeof w === 'string' && !OFFSET_WHEN.has(w));
}

/** Each contained resource's own fields, for dom-2, dom-4 and dom-5. */
const everyContained = (ok: (c: Obj) => boolean): NativeCheck => (n) => {
  const o = obj(n);
  if (!o) return undefined;
  const contained = o.contained;
  if (!Array.isArray(contained)) return true;
  return contained.every((c) => {
    const co = obj(c);
    return !co || ok(co);
  });
};

function containedReferenced(n: unknown, frame: Frame): boolean | undefined {
  const o = obj(n);
  if (!o || o !== frame.resource) return undefined;
  const contained = o.contained;
  if (!Array.isArray(contained)) return true;
  return contained.every((c) => {
    const co = obj(c);
    if (!co || typeof co.id !== 'string') return true;
    if (frame.hashRefs?.has(`#${co.id}`)) return true;
    return frame.contained?.find((f) => f.resource === co)?.refersToContainer === true;
  });
}

const meta = (c: Obj): Obj | undefined => obj(c.meta);

const NATIVE: Record<string, [string, NativeCheck]> = {
  'ext-1': ['extension.exists() != value.exists()', extensionOrValue],
  'per-1': ['start.hasValue().not() or end.hasValue().not() or (start <= end)', startBeforeEnd],
  'ref-1': ["reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))", localReference],
  'qty-3': ['code.empty() or system.exists()', emptyOrExists('code', 'system')],
  'sqty-1': ['comparator.empty()', (n) => (obj(n) ? !has(obj(n)!, 'comparator') : undefined)],
  'mqty-1': ["(code.exists() or value.empty()) and (system.empty() or system = 'urn:iso:std:iso:4217')", moneyQuantity],
  'att-1': ['data.empty() or contentType.exists()', emptyOrExists('data', 'contentType')],
  'cpt-2': ['value.empty() or system.exists()', emptyOrExists('value', 'system')],
  'rng-2': ['low.empty() or high.empty() or (low <= high)', lowBeforeHigh],
  'rat-1': ['(numerator.empty() xor denominator.exists()) and (numerator.exists() or extension.exists())', ratio],
  'tim-1': ['duration.empty() or durationUnit.exists()', emptyOrExists('duration', 'durationUnit')],
  'tim-2': ['period.empty() or periodUnit.exists()', emptyOrExists('period', 'periodUnit')],
  'tim-4': ['duration.exists() implies duration >= 0', nonNegative('duration')],
  'tim-5': ['period.exists() implies period >= 0', nonNegative('period')],
  'tim-6': ['periodMax.empty() or period.exists()', emptyOrExists('periodMax', 'period')],
  'tim-7': ['durationMax.empty() or duration.exists()', emptyOrExists('durationMax', 'duration')],
  'tim-8': ['countMax.empty() or count.exists()', emptyOrExists('countMax', 'count')],
  'tim-9': ["offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())", offsetWhen],
  'tim-10': ['timeOfDay.empty() or when.empty()', (n) => (obj(n) ? !has(obj(n)!, 'timeOfDay') || !has(obj(n)!, 'when') : undefined)],
  // fhirpath.js takes a FHIR boolean for no System Boolean (`answer is Boolean` is false).
  'que-7': ["operator = 'exists' implies (answer is Boolean)", (n) => (obj(n) ? obj(n)!.operator !== 'exists' || has(obj(n)!, 'answerBoolean') : undefined)],
  // On probability[x]: a decimal has no low or high (fhirpath.js cannot start from a number).
  'ras-1': [
    "(low.empty() or ((low.code = '%') and (low.system = %ucum))) and (high.empty() or ((high.code = '%') and (high.system = %ucum)))",
    (n) => (obj(n) ? undefined : true),
  ],
  'dom-2': ['contained.contained.empty()', everyContained((c) => !has(c, 'contained'))],
  'dom-3': [
    "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
    containedReferenced,
  ],
  'dom-4': ['contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()', everyContained((c) => !meta(c) || (!has(meta(c)!, 'versionId') && !has(meta(c)!, 'lastUpdated')))],
  'dom-5': ['contained.meta.security.empty()', everyContained((c) => !meta(c) || !has(meta(c)!, 'security'))],
  'dom-6': ['text.`div`.exists()', (n) => (obj(n) ? !!obj(obj(n)!.text) && has(obj(obj(n)!.text)!, 'div') : undefined)],
};

for (const [key, [expression, check]] of Object.entries(RESOURCE)) NATIVE[key] = [expression, (n) => (obj(n) ? check(obj(n)!) : undefined)];

/** The native check for this invariant, if there is one for exactly this expression. */
export function nativeInvariant(key: string, expression: string): NativeCheck | undefined {
  const n = NATIVE[key];
  return n && n[0] === expression ? n[1] : undefined;
}

/** Keys with a native check (for tests). */
export const NATIVE_KEYS: readonly string[] = Object.keys(NATIVE);
