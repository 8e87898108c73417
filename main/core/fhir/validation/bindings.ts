/**
 * Value-set bindings (issue 12), which Medplum's validator does not check, in the resource
 * and in every data type it uses (HumanName.use, Quantity.comparator, ContactPoint.system, ...),
 * contained resources and Bundle entries included:
 *  - `required`: a `code`, `Coding` or `CodeableConcept` outside the value set is an error;
 *  - `extensible` and `preferred`: a warning, never an error (a write only fails on errors).
 *    An extensible binding asks for a code of the value set "if one applies", which Flint
 *    cannot know; a preferred one only recommends its codes.
 * A CodeableConcept passes when one of its codings (with system and code) is in the value set;
 * it is not judged when none of its codings has both; under an extensible or preferred binding
 * its text also passes it (the concept is said in words). The value sets are the official ones
 * expanded by the definitions catalog; one whose codes do not ship (SNOMED CT, LOINC, BCP 47,
 * MIME types) or that is too large to expand is not judged. Extensions, Meta, Narrative and
 * Reference are not walked into.
 *
 * Compiled once per type and backbone element: each JSON member name (choices expanded:
 * valueCodeableConcept) maps to its type, its binding's codes, and the plan of what it holds.
 * Paths are joined only for an issue.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { DefinitionCatalog } from '../definition-catalog';

interface Codes {
  /** Codes of the value set, for `code` elements (the system is implied). */
  codes: ReadonlySet<string>;
  /** `system|code`, for Coding and CodeableConcept. */
  pairs: ReadonlySet<string>;
}

type Strength = 'required' | 'extensible' | 'preferred';

interface Binding {
  strength: Strength;
  valueSet: string;
  codes: Codes;
}

interface Step {
  /** The element's type for this JSON name: 'code', 'Coding', 'CodeableConcept', a data type, 'Resource', ... */
  typeCode: string;
  binding: Binding | undefined;
  /** The plan of the object it holds ('Patient.contact', 'HumanName'); undefined: nothing to walk into. */
  child: string | undefined;
  /** The child's plan once compiled (null: none). */
  plan?: Plan | null;
}

type Plan = Map<string, Step>;

/** Data types not walked into: no binding below them that a client could get wrong here. */
const OPAQUE = new Set(['Extension', 'Narrative', 'Reference', 'Resource', 'xhtml', 'Meta']);
const JUDGED = new Set<string>(['required', 'extensible', 'preferred']);
const CODED = new Set(['code', 'Coding', 'CodeableConcept']);

export class BindingChecker {
  private readonly plans = new Map<string, Plan>();
  private readonly valueSets = new Map<string, Codes | undefined>();

  constructor(private readonly catalog: DefinitionCatalog) {}

  check(resource: unknown): OperationOutcomeIssue[] {
    const out: OperationOutcomeIssue[] = [];
    const type = (resource as { resourceType?: unknown } | null)?.resourceType;
    if (typeof type === 'string') this.walk(resource as Record<string, unknown>, this.planOf(type), [type], out);
    return out;
  }

  private codesOf(url: string): Codes | undefined {
    if (!this.valueSets.has(url)) {
      const r = this.catalog.expand(url);
      this.valueSets.set(
        url,
        r && typeof r === 'object' ? { codes: new Set(r.contains.map((c) => c.code)), pairs: new Set(r.contains.map((c) => `${c.system}|${c.code}`)) } : undefined,
      );
    }
    return this.valueSets.get(url);
  }

  /** The plan of element `path`: a type name, or a backbone element such as `Patient.contact`. */
  private planOf(path: string): Plan | undefined {
    const known = this.plans.get(path);
    if (known) return known;
    const dot = path.indexOf('.');
    const sd = this.catalog.structureDefinition(dot < 0 ? path : path.slice(0, dot));
    if (!sd) return undefined; // not cached: made-up type names must not grow the map
    const plan: Plan = new Map();
    const prefix = `${path}.`;
    for (const e of sd.snapshot?.element ?? []) {
      const p = e.path ?? '';
      if (!p.startsWith(prefix) || p.indexOf('.', prefix.length) >= 0) continue;
      const name = p.slice(prefix.length);
      if (name === 'extension' || name === 'modifierExtension') continue;
      if (e.contentReference) {
        plan.set(name, { typeCode: 'BackboneElement', binding: undefined, child: e.contentReference.replace(/^#/, '') });
        continue;
      }
      const choice = name.endsWith('[x]');
      const b = e.binding;
      for (const t of e.type ?? []) {
        const code = t.code ?? '';
        const key = choice ? name.slice(0, -3) + code.charAt(0).toUpperCase() + code.slice(1) : name;
        const codes = b?.valueSet && b.strength && JUDGED.has(b.strength) && CODED.has(code) ? this.codesOf(b.valueSet) : undefined;
        const binding = codes ? { strength: b!.strength as Strength, valueSet: b!.valueSet!, codes } : undefined;
        let child: string | undefined;
        if (code === 'BackboneElement' || code === 'Element') child = p;
        else if (code === 'Resource') child = 'Resource';
        else if (code.charCodeAt(0) >= 65 && code.charCodeAt(0) <= 90 && !OPAQUE.has(code)) child = code;
        if (binding || child) plan.set(key, { typeCode: code, binding, child });
      }
    }
    this.plans.set(path, plan);
    return plan;
  }

  /** `obj` is an instance of `plan`; `at` is its location as names and indexes. */
  private walk(obj: Record<string, unknown>, plan: Plan | undefined, at: Array<string | number>, out: OperationOutcomeIssue[]): void {
    if (!plan) return;
    for (const key in obj) {
      const step = plan.get(key);
      if (!step) continue;
      const value = obj[key];
      if (value === null || value === undefined) continue;
      at.push(key);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          at.push(i);
          this.visit(value[i], step, at, out);
          at.pop();
        }
      } else this.visit(value, step, at, out);
      at.pop();
    }
  }

  private visit(v: unknown, step: Step, at: Array<string | number>, out: OperationOutcomeIssue[]): void {
    if (step.binding) this.judge(v, step.typeCode, step.binding, at, out);
    if (step.child === undefined || typeof v !== 'object' || v === null) return;
    if (step.child === 'Resource') {
      const type = (v as { resourceType?: unknown }).resourceType;
      if (typeof type === 'string') this.walk(v as Record<string, unknown>, this.planOf(type), at, out);
      return;
    }
    if (step.plan === undefined) step.plan = this.planOf(step.child) ?? null;
    this.walk(v as Record<string, unknown>, step.plan ?? undefined, at, out);
  }

  private judge(v: unknown, typeCode: string, binding: Binding, at: Array<string | number>, out: OperationOutcomeIssue[]): void {
    const { codes, strength } = binding;
    let what: string | undefined;
    if (typeCode === 'code') {
      if (typeof v === 'string' && !codes.codes.has(v)) what = 'The code at # is not in';
    } else if (typeCode === 'Coding') {
      const c = v as { system?: unknown; code?: unknown };
      if (typeof c?.system === 'string' && typeof c.code === 'string' && !codes.pairs.has(`${c.system}|${c.code}`)) what = 'The coding at # is not in';
    } else {
      const concept = v as { coding?: unknown; text?: unknown };
      const codings = Array.isArray(concept?.coding) ? (concept.coding as Array<{ system?: unknown; code?: unknown }>) : [];
      let judged = false;
      let inSet = false;
      for (const c of codings) {
        if (typeof c?.system !== 'string' || typeof c.code !== 'string') continue;
        judged = true;
        if (codes.pairs.has(`${c.system}|${c.code}`)) inSet = true;
      }
      if (judged && !inSet && (strength === 'required' || typeof concept.text !== 'string')) what = 'None of the codings at # is in';
    }
    if (what === undefined) return;
    const path = pathOf(at);
    const said = what.replace('#', path);
    if (strength === 'required') {
      out.push({ severity: 'error', code: 'code-invalid', diagnostics: `${said} the required value set ${binding.valueSet}`, expression: [path] });
    } else {
      const why = strength === 'extensible' ? 'extensible binding: a code from it is to be used whenever one applies' : 'preferred binding: its codes are recommended';
      out.push({ severity: 'warning', code: 'code-invalid', diagnostics: `${said} the value set ${binding.valueSet} (${why})`, expression: [path] });
    }
  }
}

/** `['Patient', 'name', 0, 'use']` -> `Patient.name[0].use`. */
function pathOf(at: ReadonlyArray<string | number>): string {
  let s = '';
  for (const part of at) s += typeof part === 'number' ? `[${part}]` : s === '' ? part : `.${part}`;
  return s;
}
