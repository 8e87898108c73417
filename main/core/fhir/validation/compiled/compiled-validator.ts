/**
 * The compiled R4 validator: one walk over the JSON that is present, looking each property
 * up in its type's compiled table (schema.ts), so the cost follows the data and not the
 * schema. It checks unknown properties, nulls, arrays against single values, cardinality,
 * required elements, primitive JSON types and formats (primitives.ts), choice elements
 * (one type at a time), primitive extensions (`_x`: shape, alignment with the values),
 * resources inside resources (contained, Bundle entries, Parameters; validated as
 * resources, their paths continuing from the container), the resource id, and every
 * invariant of the resource, its backbone elements and every data type wherever it occurs
 * (constraints.ts). FHIR JSON's no-empty-values rule stays json-rules.ts's, except for an
 * empty object inside an array, which that rule leaves to the structural check.
 *
 * Paths are FHIRPath-like (`Observation.component[0].valueQuantity.code`); messages name
 * rules and elements, never values. Warnings (invariants of severity warning) never make a
 * resource invalid.
 */
import type { Bundle, OperationOutcomeIssue, StructureDefinition } from '@medplum/fhirtypes';
import { decimalTextsOf } from '../../../../../shared/fhir/exact-json';
import { holds, type Constraint, type Frame } from './constraints';
import { COMPLEX, PRIMITIVE, RESOURCE, XHTML, Schemas, type CompiledType, type Prop } from './schema';

export interface CompiledValidatorOptions {
  /** false: every invariant through fhirpath.js, the native checks unused (tests, benchmarks). */
  natives?: boolean;
  /** false: invariants R4 marks best practice (dom-6) are not evaluated. Default true. */
  bestPractice?: boolean;
  /** Invariants another check reports (bundle-rules.ts reports bdl-7 per entry). */
  omit?: ReadonlySet<string>;
}

type Obj = Record<string, unknown>;
type Issue = OperationOutcomeIssue;

const INDEX = Array.from({ length: 256 }, (_, i) => `[${i}]`);
const index = (i: number): string => INDEX[i] ?? `[${i}]`;
const ELE_1 = 'Constraint ele-1 not met: All FHIR elements must have a @value or children';

function isEmpty(o: Obj): boolean {
  for (const k in o) if (k !== undefined) return false;
  return true;
}

function jsTypeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** A validator over these definitions (profiles-types.json and profiles-resources.json). */
export function createCompiledValidator(bundles: ReadonlyArray<Bundle<StructureDefinition>>, options?: CompiledValidatorOptions): CompiledValidator {
  return new CompiledValidator(new Schemas(bundles), options);
}

export class CompiledValidator {
  constructor(
    private readonly schemas: Schemas,
    private readonly options: CompiledValidatorOptions = {},
  ) {}

  validate(resource: unknown): Issue[] {
    const walk = new Walk(this.schemas, this.options);
    walk.top(resource);
    return walk.issues;
  }
}

class Walk {
  readonly issues: Issue[] = [];
  private readonly segs: string[] = [];
  private depth = 0;

  private readonly natives: boolean;

  constructor(
    private readonly schemas: Schemas,
    private readonly options: CompiledValidatorOptions,
  ) {
    this.natives = options.natives !== false;
  }

  /**
   * Paths (as this walk writes them) of numbers whose request text is not an integer's
   * (`1.0`, `1e2`): JSON parsing makes them whole, so an integer element would take them.
   */
  private inexactIntegers: Set<string> | undefined;

  top(resource: unknown): void {
    this.inexactIntegers = nonIntegerTexts(resource);
    if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
      this.segs[this.depth++] = 'Resource';
      this.add('error', 'structure', 'A resource must be a JSON object');
      return;
    }
    const rt = (resource as Obj).resourceType;
    this.segs[this.depth++] = typeof rt === 'string' && rt !== '' ? rt : 'Resource';
    this.resource(resource as Obj, undefined, undefined, false);
  }

  private path(extra?: string): string {
    let s = '';
    for (let i = 0; i < this.depth; i++) s += this.segs[i];
    return extra === undefined ? s : s + extra;
  }

  private add(severity: Issue['severity'], code: Issue['code'], diagnostics: string, extra?: string): void {
    this.issues.push({ severity, code, diagnostics, expression: [this.path(extra)] });
  }

  private push(seg: string): void {
    this.segs[this.depth++] = seg;
  }

  /** A resource at the current path; `container` is set for a contained one. */
  private resource(obj: Obj, expected: string | undefined, parent: Frame | undefined, contained: boolean): void {
    const rt = obj.resourceType;
    if (typeof rt !== 'string') return this.add('error', 'structure', 'Missing resource type');
    const type = this.schemas.resource(rt);
    if (!type) return this.add('error', 'value', 'Unknown resource type', '.resourceType');
    if (expected !== undefined && rt !== expected) return this.add('error', 'value', `Expected a resource of type ${expected}`, '.resourceType');
    const container = contained ? parent : undefined;
    const frame: Frame = { resource: obj, root: container ? container.root : obj, container, hashRefs: undefined, refersToContainer: false, contained: undefined };
    if (container) (container.contained ??= []).push(frame);
    this.object(obj, type, frame);
  }

  /** The properties of `obj`, an instance of `type`, then its required elements and invariants. */
  private object(obj: Obj, type: CompiledType, frame: Frame, ele1 = !type.isResource): void {
    let seen: Array<string | undefined> | undefined;
    let count = 0;
    let onlyId = true;
    for (const key in obj) {
      count++;
      if (key !== 'id') onlyId = false;
      const prop = type.props.get(key);
      const v = obj[key];
      if (prop === undefined) {
        if (key === 'resourceType' && type.isResource) continue;
        if (key.charCodeAt(0) === 95) {
          const twinOf = type.props.get(key.slice(1));
          if (twinOf !== undefined && twinOf.kind === PRIMITIVE) {
            this.twin(obj, v, twinOf, type, frame);
            continue;
          }
        }
        this.add('error', 'structure', `Invalid additional property "${key}"`, `.${key}`);
        continue;
      }
      if (prop.choice >= 0) {
        seen ??= [];
        const other = seen[prop.choice];
        if (other !== undefined && other !== key) this.add('error', 'structure', `Only one type may be given for the choice element ${prop.name}`, `.${key}`);
        seen[prop.choice] = key;
      }
      this.property(obj, key, v, prop, frame);
    }
    if (ele1 && count === 1 && onlyId) this.add('error', 'invariant', ELE_1);
    for (const req of type.required) {
      let found = false;
      for (const k of req.keys) {
        if (obj[k] !== undefined) {
          found = true;
          break;
        }
      }
      if (!found) this.add('error', 'required', 'Missing required property', `.${req.name}`);
    }
    if (type.constraints.length > 0) this.constraints(type.constraints, obj, frame);
  }

  private property(obj: Obj, key: string, v: unknown, prop: Prop, frame: Frame): void {
    this.push(prop.seg);
    if (v === null) {
      this.add('error', 'structure', 'Invalid null value');
    } else if (prop.isArray) {
      if (!Array.isArray(v)) this.add('error', 'structure', 'Expected array of values for property');
      else {
        if (v.length > prop.max) this.add('error', 'structure', `Invalid number of values: expected ${prop.min}..${prop.max}, but found ${v.length}`);
        const twin = prop.kind === PRIMITIVE ? obj[`_${key}`] : undefined;
        for (let i = 0; i < v.length; i++) {
          this.push(index(i));
          const item: unknown = v[i];
          if (item === null || item === undefined) {
            if (!Array.isArray(twin) || twin[i] === null || twin[i] === undefined) this.add('error', 'structure', 'Invalid null value');
          } else this.value(item, prop, frame, true);
          this.depth--;
        }
      }
    } else if (Array.isArray(v)) {
      this.add('error', 'structure', 'Expected single value for property');
    } else {
      this.value(v, prop, frame, false);
    }
    this.depth--;
  }

  private value(v: unknown, prop: Prop, frame: Frame, inArray: boolean): void {
    switch (prop.kind) {
      case PRIMITIVE: {
        const why = prop.primitive!.check(v);
        if (why !== undefined) this.add('error', why.startsWith('Invalid JSON type') ? 'structure' : 'value', why);
        else if (this.inexactIntegers && typeof v === 'number' && prop.primitive!.type !== 'decimal' && this.inexactIntegers.has(this.path())) {
          this.add('error', 'value', `Invalid ${prop.primitive!.type}: written with a fraction or an exponent (FHIR integers are digits only)`);
        }
        else if (prop.hashKind !== 0 && typeof v === 'string' && v.charCodeAt(0) === 35) this.noteHash(v, prop.hashKind, frame);
        break;
      }
      case XHTML:
        if (typeof v !== 'string') this.add('error', 'structure', `Invalid JSON type: expected string, but got ${jsTypeName(v)}`);
        return;
      case COMPLEX:
      case RESOURCE: {
        if (typeof v !== 'object' || Array.isArray(v)) return this.add('error', 'structure', `Invalid JSON type: expected object, but got ${jsTypeName(v)}`);
        const o = v as Obj;
        if (isEmpty(o)) {
          // A single empty object is json-rules.ts's to report; `[{}]` is left to us.
          if (inArray) this.add('error', 'structure', 'Invalid empty object (FHIR JSON has no empty values)');
          return;
        }
        if (prop.kind === RESOURCE) return this.resource(o, prop.resourceType, frame, prop.key === 'contained');
        const type = this.schemas.typeOf(prop);
        if (type) this.object(o, type, frame);
        break;
      }
    }
    if (prop.constraints.length > 0) this.constraints(prop.constraints, v, frame);
  }

  /** `_x`: the id and extensions of primitive `x` (one object, or an array aligned with x's). */
  private twin(obj: Obj, v: unknown, prop: Prop, type: CompiledType, frame: Frame): void {
    const values = obj[prop.key];
    this.push(prop.seg);
    if (prop.choice >= 0 && values === undefined) {
      const other = type.choices[prop.choice]!.keys.find((k) => k !== prop.key && obj[k] !== undefined);
      if (other) this.add('error', 'structure', `The primitive extension does not match the type given for ${prop.name}`);
    }
    const element = this.schemas.element;
    if (prop.isArray) {
      if (!Array.isArray(v)) this.add('error', 'structure', 'Expected an array of primitive extensions, aligned with the values');
      else {
        if (values !== undefined && values !== null && (!Array.isArray(values) || values.length !== v.length)) {
          this.add('error', 'structure', 'The primitive extensions must be as many as the values, with null where a value has none');
        }
        for (let i = 0; i < v.length; i++) {
          this.push(index(i));
          const item: unknown = v[i];
          const value = Array.isArray(values) ? values[i] : undefined;
          if (item === null || item === undefined) {
            // A null on both sides is reported once, with the values.
            if (!Array.isArray(values)) this.add('error', 'structure', 'Invalid null value');
          } else this.primitiveElement(item, element, value, frame);
          this.depth--;
        }
      }
    } else if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.add('error', 'structure', `Invalid JSON type: expected object, but got ${jsTypeName(v)}`);
    } else {
      this.primitiveElement(v, element, values, frame);
    }
    this.depth--;
  }

  private primitiveElement(v: unknown, element: CompiledType, value: unknown, frame: Frame): void {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.add('error', 'structure', `Invalid JSON type: expected object, but got ${jsTypeName(v)}`);
    const keys = Object.keys(v);
    if (keys.length === 0) return; // empty: json-rules.ts (or ele-1 below when it is all there is)
    if (keys.length === 1 && keys[0] === 'id' && (value === undefined || value === null)) this.add('error', 'invariant', ELE_1);
    // `id` and `extension` only; the paths are the primitive's (Patient.birthDate.extension[0]).
    this.object(v as Obj, element, frame, false);
  }

  private noteHash(v: string, kind: number, frame: Frame): void {
    const owner = frame.container ?? frame;
    (owner.hashRefs ??= new Set()).add(v);
    if (v === '#' && kind === 1 && frame.container) frame.refersToContainer = true;
  }

  private constraints(list: readonly Constraint[], node: unknown, frame: Frame): void {
    for (const c of list) {
      if ((c.bestPractice && this.options.bestPractice === false) || this.options.omit?.has(c.key)) continue;
      const ok = holds(c, node, frame, this.natives);
      if (ok === true) continue;
      if (ok === 'error') this.add('warning', 'processing', `Constraint ${c.key} could not be evaluated`);
      else this.add(c.severity, 'invariant', `Constraint ${c.key} not met: ${c.human}`);
    }
  }
}

/** The walk-style paths (`Bundle.entry[0].resource.valueInteger`) of numbers kept with a non-integer text. */
function nonIntegerTexts(resource: unknown): Set<string> | undefined {
  const texts = decimalTextsOf(resource);
  if (!texts) return undefined;
  let out: Set<string> | undefined;
  const type = (resource as Obj).resourceType;
  for (const [path, text] of Object.entries(texts)) {
    if (!/[.eE]/.test(text)) continue;
    let walkPath = typeof type === 'string' ? type : 'Resource';
    for (const step of path.split('.')) walkPath += /^\d+$/.test(step) ? `[${step}]` : `.${step.replace(/~1/g, '.').replace(/~0/g, '~')}`;
    (out ??= new Set()).add(walkPath);
  }
  return out;
}
