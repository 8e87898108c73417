/**
 * Invariants (ElementDefinition.constraint) as the compiled validator evaluates them: a
 * native check where one is written for the constraint (native-invariants.ts: the ones met
 * on almost every resource), else its FHIRPath expression, compiled with fhirpath.js and
 * its R4 model once per (element path, expression) on first use. FHIR fails an invariant
 * only when it evaluates to `false`: an empty result passes. `%resource` is the resource
 * the node is in, `%rootResource` its container when it is contained, else itself.
 */
import type { ElementDefinitionConstraint } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { nativeInvariant, type Frame, type NativeCheck } from './native-invariants';

export type { Frame } from './native-invariants';

export interface Constraint {
  readonly key: string;
  readonly severity: 'error' | 'warning';
  readonly human: string;
  readonly expression: string;
  /** The element path the expression is written against (`Period`, `Observation.referenceRange`). */
  readonly base: string;
  readonly native: NativeCheck | undefined;
  /** R4 marks it best practice (dom-6): guidance, which a validator may leave unreported. */
  readonly bestPractice: boolean;
  /** The compiled expression, once evaluated; null when fhirpath.js cannot compile it. */
  compiled?: CompiledPath | null;
}

type CompiledPath = (node: unknown, vars: Record<string, unknown>) => unknown[];

/**
 * Invariants not evaluated here: ele-1 is checked by the walk itself (an element has a
 * value or children); txt-1/txt-2 call htmlChecks() on the narrative, which the narrative
 * sanitizer owns.
 */
const NOT_HERE = new Set(['ele-1', 'txt-1', 'txt-2']);

const BEST_PRACTICE = 'http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice';

const compiledCache = new Map<string, CompiledPath | null>();

/**
 * Two functions replaced for invariants: resolve() finds nothing (no reads during
 * validation: `member.resolve().iif(empty(), true, ...)` then passes), and matches() also
 * takes the patterns of the R4 definitions that are not valid in JavaScript's unicode
 * mode (`\@` in eld-16), which fhirpath.js compiles with the `u` flag.
 */
const patterns = new Map<string, RegExp>();
function pattern(src: string): RegExp {
  let re = patterns.get(src);
  if (!re) {
    try {
      re = new RegExp(src, 'su');
    } catch {
      re = new RegExp(src, 's');
    }
    patterns.set(src, re);
  }
  return re;
}
const FUNCTIONS = {
  resolve: { fn: (): unknown[] => [] },
  matches: {
    fn: (input: unknown[], regex: unknown): unknown => {
      if (input.length !== 1 || typeof input[0] !== 'string' || typeof regex !== 'string') return [];
      return pattern(regex).test(input[0]);
    },
    arity: { 1: ['String'] },
  },
};
const OPTIONS = { resolveInternalTypes: false, traceFn: () => undefined, userInvocationTable: FUNCTIONS };

/** The constraints of one element that this validator evaluates, in definition order. */
export function constraintsOf(list: ElementDefinitionConstraint[] | undefined, base: string, skip?: ReadonlySet<string>): Constraint[] {
  const out: Constraint[] = [];
  for (const c of list ?? []) {
    if (!c.key || !c.expression || NOT_HERE.has(c.key) || skip?.has(c.key)) continue;
    const severity = c.severity === 'error' ? 'error' : 'warning';
    const bestPractice = c.extension?.some((x) => x.url === BEST_PRACTICE && x.valueBoolean === true) ?? false;
    out.push({ key: c.key, severity, human: c.human ?? '', expression: c.expression, base, native: nativeInvariant(c.key, c.expression), bestPractice });
  }
  return out;
}

function compile(c: Constraint): CompiledPath | null {
  const cacheKey = `${c.base}\u0000${c.expression}`;
  let f = compiledCache.get(cacheKey);
  if (f === undefined) {
    try {
      f = fhirpath.compile({ base: c.base, expression: c.expression }, r4model, OPTIONS as never) as unknown as CompiledPath;
    } catch {
      f = null;
    }
    compiledCache.set(cacheKey, f);
  }
  return f;
}

/** What fhirpath.js says: true/false, undefined for empty or anything else, 'error' when it throws. */
export function evaluateWithFhirPath(c: Constraint, node: unknown, frame: Frame): boolean | undefined | 'error' {
  if (c.compiled === undefined) c.compiled = compile(c);
  if (c.compiled === null) return 'error';
  try {
    const r = c.compiled(node, { resource: frame.resource, rootResource: frame.root });
    if (r.length !== 1) return undefined;
    const v = r[0] as unknown;
    return v === true || v === false ? v : undefined;
  } catch {
    return 'error';
  }
}

/** true: met (or empty); false: violated; 'error': could not be evaluated. */
export function holds(c: Constraint, node: unknown, frame: Frame, useNative = true): boolean | 'error' {
  if (c.native && useNative) {
    const r = c.native(node, frame);
    if (r !== undefined) return r;
  }
  const r = evaluateWithFhirPath(c, node, frame);
  return r === 'error' ? r : r !== false;
}
