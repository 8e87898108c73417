/**
 * Required value-set bindings (issue 12), which Medplum's validator does not check: a
 * `code`, `Coding` or `CodeableConcept` element bound `required` must hold a code of its
 * value set, in the resource and in every data type it uses (HumanName.use,
 * Quantity.comparator, ContactPoint.system, ...). The value sets are the official ones
 * expanded by the definitions catalog; one whose codes do not ship (SNOMED CT, LOINC,
 * BCP 47, MIME types) is not checked here.
 *
 * A CodeableConcept passes when one of its codings is in the value set, and is not judged
 * when none of its codings has both a system and a code (text alone). Compiled per type
 * and per value set on first use.
 */
import type { ElementDefinition, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { DefinitionCatalog } from '../definition-catalog';

interface Codes {
  /** Codes of the value set, for `code` elements (the system is implied). */
  codes: ReadonlySet<string>;
  /** `system|code`, for Coding and CodeableConcept. */
  pairs: ReadonlySet<string>;
}

interface TypeElements {
  byPath: Map<string, ElementDefinition>;
}

/** Data types not walked into: no required binding below them that a client could get wrong here. */
const OPAQUE = new Set(['Extension', 'Narrative', 'Reference', 'Resource', 'xhtml', 'Meta']);

export class BindingChecker {
  private readonly types = new Map<string, TypeElements | undefined>();
  private readonly valueSets = new Map<string, Codes | undefined>();

  constructor(private readonly catalog: DefinitionCatalog) {}

  check(resource: unknown): OperationOutcomeIssue[] {
    const out: OperationOutcomeIssue[] = [];
    const type = (resource as { resourceType?: unknown })?.resourceType;
    if (typeof type === 'string') this.walk(resource as Record<string, unknown>, type, type, type, out);
    return out;
  }

  private elementsOf(type: string): TypeElements | undefined {
    if (!this.types.has(type)) {
      const sd = this.catalog.structureDefinition(type);
      this.types.set(type, sd ? { byPath: new Map((sd.snapshot?.element ?? []).map((e) => [e.path ?? '', e])) } : undefined);
    }
    return this.types.get(type);
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

  /** `obj` is an instance of `type` at element `path` (e.g. `Patient.contact`), found at `at`. */
  private walk(obj: Record<string, unknown>, type: string, path: string, at: string, out: OperationOutcomeIssue[]): void {
    const elements = this.elementsOf(type);
    if (!elements) return;
    for (const [key, value] of Object.entries(obj)) {
      if (key === 'resourceType' || key.startsWith('_') || key === 'extension' || key === 'modifierExtension' || value === null) continue;
      let ed = elements.byPath.get(`${path}.${key}`);
      let typeCode: string | undefined;
      if (!ed) {
        // A choice: valueQuantity is value[x] of type Quantity.
        for (let i = 1; i < key.length && !ed; i++) {
          if (key[i]! < 'A' || key[i]! > 'Z') continue;
          const choice = elements.byPath.get(`${path}.${key.slice(0, i)}[x]`);
          const suffix = key.slice(i).toLowerCase();
          const t = choice?.type?.find((x) => x.code?.toLowerCase() === suffix);
          if (choice && t) {
            ed = choice;
            typeCode = t.code;
          }
        }
      }
      if (!ed) continue; // unknown members are the structural validator's to report
      let childPath = ed.path ?? `${path}.${key}`;
      if (ed.contentReference) {
        childPath = ed.contentReference.replace(/^#/, '');
        ed = elements.byPath.get(childPath) ?? ed;
      }
      typeCode ??= ed.type?.length === 1 ? ed.type[0]!.code : undefined;
      const values = Array.isArray(value) ? value : [value];
      const binding = ed.binding?.strength === 'required' && ed.binding.valueSet ? this.codesOf(ed.binding.valueSet) : undefined;
      values.forEach((v, i) => {
        const where = Array.isArray(value) ? `${at}.${key}[${i}]` : `${at}.${key}`;
        if (binding && typeCode) this.checkValue(v, typeCode, binding, ed!.binding!.valueSet!, where, out);
        if (v === null || typeof v !== 'object' || !typeCode) return;
        if (typeCode === 'BackboneElement' || typeCode === 'Element') this.walk(v as Record<string, unknown>, type, childPath, where, out);
        else if (typeCode === 'Resource') this.walk(v as Record<string, unknown>, String((v as { resourceType?: unknown }).resourceType), String((v as { resourceType?: unknown }).resourceType), where, out);
        else if (/^[A-Z]/.test(typeCode) && !OPAQUE.has(typeCode)) this.walk(v as Record<string, unknown>, typeCode, typeCode, where, out);
      });
    }
  }

  private checkValue(v: unknown, typeCode: string, codes: Codes, valueSet: string, at: string, out: OperationOutcomeIssue[]): void {
    const refuse = (what: string) =>
      out.push({ severity: 'error', code: 'code-invalid', diagnostics: `${what} is not in the required value set ${valueSet}`, expression: [at] });
    if (typeCode === 'code') {
      if (typeof v === 'string' && !codes.codes.has(v)) refuse(`The code "${v}"`);
      return;
    }
    if (typeCode === 'Coding') {
      const c = v as { system?: unknown; code?: unknown };
      if (typeof c?.system === 'string' && typeof c.code === 'string' && !codes.pairs.has(`${c.system}|${c.code}`)) refuse(`The code ${c.system}|${c.code}`);
      return;
    }
    if (typeCode === 'CodeableConcept') {
      const codings = ((v as { coding?: unknown })?.coding as Array<{ system?: unknown; code?: unknown }> | undefined) ?? [];
      const judged = codings.filter((c) => typeof c?.system === 'string' && typeof c.code === 'string');
      if (judged.length > 0 && !judged.some((c) => codes.pairs.has(`${c.system}|${c.code}`))) refuse(`None of the codes (${judged.map((c) => `${c.system}|${c.code}`).join(', ')})`);
    }
  }
}
