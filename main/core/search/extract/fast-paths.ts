/**
 * Most R4 search parameter expressions are plain element paths (`Patient.name.family`,
 * `(Observation.value as Quantity)`). fhirpath.js evaluates them through its general
 * engine, which was the largest cost of indexing a pulled database (docs/benchmarks.md,
 * section 5). This compiles such a path once into a walk over the JSON, typed with the
 * same R4 model fhirpath.js uses (path2Type, choiceTypePaths), and yields what fhirpath.js
 * yields for it: one node per value with its FHIR type and path (`fhirNodeDataType`,
 * `path`, `data`), so toValues() reads both alike. Anything else (functions, where(),
 * indexers, resources inside resources) is left to fhirpath.js:
 * compilePath() returns undefined. fast-paths.test.ts checks the two agree on every
 * expression of every R4 example.
 */
import r4model from 'fhirpath/fhir-context/r4';

export interface PathNode {
  data: unknown;
  fhirNodeDataType: string;
  path: string;
}

interface Model {
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  path2Type: Record<string, string>;
}
const model = r4model as unknown as Model;

/** FHIR primitive types: a choice suffix `DateTime` is the type `dateTime`. */
const PRIMITIVES = new Set([
  'boolean', 'integer', 'string', 'decimal', 'uri', 'url', 'canonical', 'base64Binary', 'instant', 'date',
  'dateTime', 'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt', 'positiveInt', 'uuid', 'xhtml',
]);
/** Types whose nodes fhirpath.js names by their element path rather than by the type. */
const PATH_NAMED = new Set(['BackboneElement', 'Element']);

const PATH = /^([A-Z][A-Za-z]*)((?:\.[a-z][A-Za-z0-9]*)+)(?:\.ofType\(\s*([A-Za-z]+)\s*\))?$/;

/** One step: the JSON keys to read and the FHIR type each gives. */
interface Step {
  keys: Array<{ key: string; type: string }>;
  /** The model path the step arrives at (for BackboneElement nodes, their `path`). */
  at: string;
}

function typeOfSuffix(suffix: string): string {
  const lower = suffix[0]!.toLowerCase() + suffix.slice(1);
  return PRIMITIVES.has(lower) ? lower : suffix;
}

export type FastPath = (input: Record<string, unknown>) => PathNode[];

const RELATIVE = /^([a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*)(?:\.ofType\(\s*([A-Za-z]+)\s*\))?$/;

/**
 * `expression` from the resource (`Patient.name.family`), or, with `base`, relative to an
 * element of that model path or type (composite components: `value.ofType(Quantity)` from
 * `Observation.component`). Undefined when it is not a plain path.
 */
export function compilePath(expression: string, base?: string): FastPath | undefined {
  let text = expression.trim();
  if (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1).trim();
  if (base !== undefined) {
    const m = RELATIVE.exec(text);
    if (!m || !model.path2Type[base] && !model.path2Type[`${base}.id`]) return undefined;
    const walk = compileSteps(base, (m[1] ?? '').split('.'), m[2]);
    return walk && ((input) => walk([input]));
  }
  const m = PATH.exec(text);
  if (!m) return undefined;
  const [, root = '', rest = '', ofType] = m;
  if (!model.path2Type[`${root}.id`] || root === 'Resource' || root === 'DomainResource') return undefined;
  const walk = compileSteps(root, rest.slice(1).split('.'), ofType);
  return walk && ((resource) => (resource.resourceType === root ? walk([resource]) : []));
}

/** The walk of `names` from an element of model path or type `owner`; undefined if the model cannot type it. */
function compileSteps(owner: string, names: string[], ofType: string | undefined): ((items: unknown[]) => PathNode[]) | undefined {
  const steps: Step[] = [];
  for (const name of names) {
    const at = model.pathsDefinedElsewhere[`${owner}.${name}`] ?? `${owner}.${name}`;
    const choices = model.choiceTypePaths[at];
    let keys: Step['keys'];
    if (choices) keys = choices.map((s) => ({ key: `${name}${s}`, type: typeOfSuffix(s) }));
    else {
      const type = model.path2Type[at];
      if (!type || type === 'Resource' || type === 'Extension') return undefined;
      keys = [{ key: name, type }];
    }
    if (keys.some((k) => k.type === 'Resource')) return undefined;
    steps.push({ keys, at });
    // Backbone elements are described under their own path; data types under their name.
    owner = keys.length === 1 && PATH_NAMED.has(keys[0]!.type) ? at : keys.length === 1 ? keys[0]!.type : '';
    if (!owner && name !== names[names.length - 1]) return undefined; // a step after a choice
  }
  const last = steps[steps.length - 1];
  if (!last) return undefined;
  if (ofType) {
    last.keys = last.keys.filter((k) => k.type === ofType);
    if (last.keys.length === 0) return () => [];
  }
  return (items) => {
    let current = items;
    const nodes: PathNode[] = [];
    steps.forEach((step, i) => {
      const next: unknown[] = [];
      const isLast = i === steps.length - 1;
      for (const item of current) {
        if (!item || typeof item !== 'object' || Array.isArray(item)) continue;
        for (const { key, type } of step.keys) {
          const v = (item as Record<string, unknown>)[key];
          if (v === undefined || v === null) continue;
          for (const x of Array.isArray(v) ? v : [v]) {
            if (x === undefined || x === null) continue;
            if (isLast) nodes.push({ data: x, fhirNodeDataType: type, path: PATH_NAMED.has(type) ? step.at : type });
            else next.push(x);
          }
        }
      }
      current = next;
    });
    return nodes;
  };
}
