/**
 * The R4 StructureDefinitions compiled, lazily and once per type, into lookup tables keyed
 * by the property names that occur in FHIR JSON: a choice element `value[x]` becomes
 * `valueQuantity`, `valueString`, ... (each knowing its group, for "only one of"), a
 * primitive keeps its `_name` twin through its own entry, a backbone element (or a
 * `contentReference` to one) is a type of its own at its element path. Each property knows
 * its cardinality, its kind (primitive with its checker, data type, backbone, resource) and
 * the invariants to evaluate on each of its values; each type knows its required elements
 * and its own invariants (a data type's root constraints such as Period's per-1, a backbone
 * element's such as Patient.contact's pat-1, a resource's dom-* and its own).
 *
 * The walk in compiled-validator.ts then visits only the JSON that is there.
 */
import type { Bundle, ElementDefinition, ElementDefinitionType, StructureDefinition } from '@medplum/fhirtypes';
import { constraintsOf, type Constraint } from './constraints';
import { compilePrimitives, type PrimitiveChecker } from './primitives';

export const PRIMITIVE = 0;
export const COMPLEX = 1;
export const RESOURCE = 2;
export const XHTML = 3;
export type Kind = typeof PRIMITIVE | typeof COMPLEX | typeof RESOURCE | typeof XHTML;

/** Values that dom-3 collects: 1 references and canonicals, 2 uri and url. */
export type HashKind = 0 | 1 | 2;

export interface Prop {
  readonly key: string;
  /** `.key`, the path segment. */
  readonly seg: string;
  /** The element's name as defined (`value[x]` for a choice). */
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly isArray: boolean;
  readonly kind: Kind;
  readonly primitive: PrimitiveChecker | undefined;
  /** For COMPLEX: the data type name or backbone path, resolved on first use. */
  readonly typeName: string;
  type: CompiledType | undefined;
  /** For RESOURCE: the one resource type allowed (`OperationOutcome`), if only one. */
  readonly resourceType: string | undefined;
  /** Index of its choice group in the owning type, or -1. */
  readonly choice: number;
  readonly hashKind: HashKind;
  /** Invariants of this element beyond those of its type. */
  readonly constraints: readonly Constraint[];
}

export interface Required {
  readonly name: string;
  /** JSON keys any of which makes it present (`_x` twins and choice variants included). */
  readonly keys: readonly string[];
}

export interface CompiledType {
  readonly name: string;
  readonly isResource: boolean;
  readonly props: ReadonlyMap<string, Prop>;
  readonly required: readonly Required[];
  /** Choice groups: their name and JSON keys. */
  readonly choices: ReadonlyArray<{ name: string; keys: readonly string[] }>;
  readonly constraints: readonly Constraint[];
}

const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const SYSTEM = 'http://hl7.org/fhirpath/System.';
const NO_CONSTRAINTS: readonly Constraint[] = [];

interface Source {
  sd: StructureDefinition;
  byPath: Map<string, ElementDefinition>;
  children: Map<string, ElementDefinition[]>;
}

export class Schemas {
  private readonly sds = new Map<string, StructureDefinition>();
  private readonly profiles = new Map<string, StructureDefinition>();
  private readonly sources = new Map<string, Source>();
  private readonly compiled = new Map<string, CompiledType>();
  readonly primitives: Map<string, PrimitiveChecker>;
  readonly resourceTypes: ReadonlySet<string>;
  /** Element: what a primitive's `_x` object may hold (id, extension). */
  readonly element: CompiledType;

  constructor(bundles: ReadonlyArray<Bundle<StructureDefinition>>) {
    const types = new Set<string>();
    for (const b of bundles) {
      for (const e of b.entry ?? []) {
        const sd = e.resource;
        if (!sd?.type || !sd.snapshot || sd.fhirVersion !== '4.0.1') continue;
        if (sd.derivation === 'constraint') {
          if (sd.url) this.profiles.set(sd.url, sd);
          continue;
        }
        if (this.sds.has(sd.type)) continue;
        this.sds.set(sd.type, sd);
        if (sd.kind === 'resource' && !sd.abstract) types.add(sd.type);
      }
    }
    this.resourceTypes = types;
    this.primitives = compilePrimitives(this.sds.values());
    const element = this.type('Element');
    if (!element) throw new Error('The R4 definitions lack the Element type');
    this.element = element;
  }

  /** A concrete resource type, compiled on first use; undefined for others. */
  resource(name: string): CompiledType | undefined {
    return this.resourceTypes.has(name) ? this.type(name) : undefined;
  }

  /** A data type (`Period`), resource or backbone path (`Patient.contact`), compiled on first use. */
  type(name: string): CompiledType | undefined {
    let t = this.compiled.get(name);
    if (!t) {
      const typeName = name.split('.')[0]!;
      const src = this.source(typeName);
      const root = src?.byPath.get(name);
      if (!src || !root) return undefined;
      t = this.compileType(src, root, name === typeName);
      this.compiled.set(name, t);
    }
    return t;
  }

  private source(typeName: string): Source | undefined {
    let s = this.sources.get(typeName);
    if (!s) {
      const sd = this.sds.get(typeName);
      if (!sd) return undefined;
      const byPath = new Map<string, ElementDefinition>();
      const children = new Map<string, ElementDefinition[]>();
      for (const el of sd.snapshot?.element ?? []) {
        const path = el.path ?? '';
        byPath.set(path, el);
        const dot = path.lastIndexOf('.');
        if (dot < 0) continue;
        const parent = path.slice(0, dot);
        const list = children.get(parent) ?? [];
        list.push(el);
        children.set(parent, list);
      }
      s = { sd, byPath, children };
      this.sources.set(typeName, s);
    }
    return s;
  }

  private compileType(src: Source, root: ElementDefinition, isTypeRoot: boolean): CompiledType {
    const path = root.path ?? '';
    const isResource = isTypeRoot && src.sd.kind === 'resource';
    const props = new Map<string, Prop>();
    const required: Required[] = [];
    const choices: Array<{ name: string; keys: string[] }> = [];
    for (const el of src.children.get(path) ?? []) {
      const name = (el.path ?? '').slice(path.length + 1);
      const max = el.max === '*' ? Infinity : Number(el.max ?? '1');
      if (max === 0) continue;
      const min = el.min ?? 0;
      const isArray = max > 1;
      const isChoice = name.endsWith('[x]');
      const choice = isChoice ? choices.length : -1;
      const keys: string[] = [];
      for (const t of el.type ?? [{ code: 'BackboneElement' }]) {
        const code = isChoice ? t.code! : typeCode(t, name, isResource);
        const key = isChoice ? name.slice(0, -3) + code[0]!.toUpperCase() + code.slice(1) : name;
        const prop = this.prop(src, el, t, code, key, name, min, max, isArray, choice);
        props.set(key, prop);
        keys.push(key);
        if (prop.kind === PRIMITIVE) keys.push(`_${key}`);
        if (!isChoice) break;
      }
      if (isChoice) choices.push({ name, keys: keys.filter((k) => !k.startsWith('_')) });
      if (min > 0) required.push({ name, keys });
    }
    const own = isTypeRoot ? root.constraint : src.byPath.get(path)?.constraint;
    return { name: path, isResource, props, required, choices, constraints: constraintsOf(own, path) };
  }

  private prop(src: Source, el: ElementDefinition, t: ElementDefinitionType, code: string, key: string, name: string, min: number, max: number, isArray: boolean, choice: number): Prop {
    let kind: Kind = COMPLEX;
    let typeName = code;
    let resourceType: string | undefined;
    const primitive = this.primitives.get(code);
    if (el.contentReference) typeName = el.contentReference.replace(/^#/, '');
    else if (code === 'BackboneElement' || code === 'Element') typeName = el.path!;
    else if (code === 'xhtml') kind = XHTML;
    else if (primitive) kind = PRIMITIVE;
    else if (code === 'Resource' || this.resourceTypes.has(code)) {
      kind = RESOURCE;
      resourceType = code === 'Resource' ? undefined : code;
    }
    // Invariants of the element that its type does not carry already (ele-1 is the walk's).
    const typeKeys = new Set<string>();
    if (kind === COMPLEX) for (const c of this.rootConstraintKeys(typeName)) typeKeys.add(c);
    // A choice element's invariants are written for each of its types (ras-1 on a Range).
    const base = choice >= 0 ? code : kind === COMPLEX && typeName.includes('.') ? typeName : el.path!;
    const constraints = constraintsOf(el.constraint, base, typeKeys);
    // A profiled type (SimpleQuantity) adds the profile's own invariants (sqty-1).
    for (const url of t.profile ?? []) {
      const profile = this.profiles.get(url);
      const extra = constraintsOf(profile?.snapshot?.element?.[0]?.constraint, typeName, new Set([...typeKeys, ...constraints.map((c) => c.key)]));
      constraints.push(...extra);
    }
    const hashKind: HashKind = code === 'canonical' || (key === 'reference' && kind === PRIMITIVE) ? 1 : code === 'uri' || code === 'url' ? 2 : 0;
    return {
      key,
      seg: `.${key}`,
      name,
      min,
      max,
      isArray,
      kind,
      primitive: kind === PRIMITIVE ? primitive : undefined,
      typeName,
      type: undefined,
      resourceType,
      choice,
      hashKind,
      constraints: constraints.length > 0 ? constraints : NO_CONSTRAINTS,
    };
  }

  private rootConstraintKeys(typeName: string): string[] {
    const typeRoot = typeName.split('.')[0]!;
    const el = this.source(typeRoot)?.byPath.get(typeName);
    return (el?.constraint ?? []).map((c) => c.key ?? '');
  }

  /** The compiled type a COMPLEX property's values are checked against. */
  typeOf(prop: Prop): CompiledType | undefined {
    if (!prop.type) prop.type = this.type(prop.typeName);
    return prop.type;
  }
}

/**
 * The FHIR type of an element: System.String and friends (the definitions' way of typing
 * `id`, `url` and primitive values) by their fhir-type extension; a resource's `id` is of
 * type `id` (R4 resource.html), though the definitions say `string`.
 */
function typeCode(t: ElementDefinitionType, name: string, isResourceRoot: boolean): string {
  const code = t.code ?? 'BackboneElement';
  if (name === 'id' && isResourceRoot) return 'id';
  if (!code.startsWith(SYSTEM)) return code;
  return t.extension?.find((x) => x.url === FHIR_TYPE_EXT)?.valueUrl ?? 'string';
}
