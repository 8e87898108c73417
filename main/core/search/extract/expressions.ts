/**
 * Compiles search parameter expressions once, with the rewrites fhirpath.js needs to
 * evaluate the R4 definitions synchronously:
 * - `x.where(resolve() is Patient)`: resolve() is asynchronous in fhirpath.js and would
 *   fetch; the index only needs the reference's type, which the reference string (or
 *   Reference.type) states, so the where() tests that instead.
 * - `(x as T)` and `x.as(T)`: fhirpath.js rejects `as` on more than one item, but the
 *   definitions apply it to repeating elements (`useContext.value as CodeableConcept`);
 *   ofType(T) is the filter they mean.
 * - `as(DateTime)`: the definitions sometimes capitalize FHIR primitive types, which
 *   fhirpath.js then reads as System types that never match FHIR data.
 */
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { splitTopLevelUnion } from '../../fhir/definitions';
import { compilePath } from './fast-paths';

export type Evaluate = (input: unknown, env?: Record<string, unknown>) => unknown[];

const OPTIONS = { resolveInternalTypes: false } as const;
const PRIMITIVES = ['DateTime', 'Date', 'Instant', 'Boolean', 'String', 'Integer', 'Decimal', 'Uri', 'Time', 'Code'];

export function rewriteExpression(expression: string): string {
  return expression
    .replace(/\(([^()|]+?)\s+as\s+([A-Za-z]+)\)/g, '($1.ofType($2))')
    .replace(/\.as\(\s*([A-Za-z]+)\s*\)/g, '.ofType($1)')
    .replace(
      /\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)/g,
      (_m, type: string) =>
        `.where(reference.matches('(^|/)${type}/[A-Za-z0-9.-]{1,64}(/_history/[A-Za-z0-9.-]{1,64})?$') or type = '${type}')`,
    )
    .replace(/\b(as|ofType|is)(\(\s*|\s+)([A-Z][a-zA-Z]*)\b/g, (m, op: string, gap: string, type: string) =>
      PRIMITIVES.includes(type) ? `${op}${gap}${type[0]?.toLowerCase()}${type.slice(1)}` : m,
    );
}

/**
 * A cache of compiled expressions; `base` is the path an expression is relative to
 * (composite components). Top-level union members are compiled and run apart: the union
 * operator de-duplicates by value, and fhirpath.js throws while comparing a Quantity that
 * has a comparator (`<5 mg`), which would lose every value of the parameter. The index
 * does not need the de-duplication.
 */
export class ExpressionCache {
  private readonly compiled = new Map<string, Evaluate>();

  get(expression: string, base?: string): Evaluate {
    const key = base ? `${base}\u0000${expression}` : expression;
    let fn = this.compiled.get(key);
    if (!fn) {
      const members = splitTopLevelUnion(rewriteExpression(expression)).map((m) => compileOne(m, base));
      fn = members.length === 1 && members[0] ? members[0] : (input, env) => members.flatMap((m) => m(input, env));
      this.compiled.set(key, fn);
    }
    return fn;
  }
}

/** Compilation errors surface on use, where the extractor counts them per parameter. */
function compileOne(expression: string, base: string | undefined): Evaluate {
  // Plain element paths skip the general engine (fast-paths.ts); the rest go to fhirpath.js.
  const fast = compilePath(expression, base);
  if (fast) return (input) => (input && typeof input === 'object' && !Array.isArray(input) ? fast(input as Record<string, unknown>) : []);
  return compileWithFhirpath(expression, base);
}

/** fhirpath.js's compilation of an expression (also the reference fast-paths.test.ts checks against). */
export function compileWithFhirpath(expression: string, base?: string): Evaluate {
  try {
    const fp = fhirpath.compile(base ? { base, expression } : expression, r4model, OPTIONS) as unknown as (
      input: object,
      env?: Record<string, unknown>,
    ) => unknown[];
    return (input, env) => fp(input as object, env);
  } catch (e) {
    return () => {
      throw e;
    };
  }
}
