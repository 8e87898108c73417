/**
 * UCUM canonical units, through @lhncbc/ucum-lhc (already installed as a dependency of
 * fhirpath; loaded optionally so a missing copy only loses canonical values). Canonical
 * form lets `value-quantity=5|http://unitsofmeasure.org|g` find 5000 mg.
 */
import { createRequire } from 'node:module';

interface UcumUtils {
  convertToBaseUnits(unit: string, value: number): { status: string; magnitude?: number; unitToExp?: Record<string, number>; fromUnitIsSpecial?: boolean };
}

interface Conversion {
  code: string;
  /** Linear factor to base units; null for special units (Cel, [degF]) converted per value. */
  factor: number | null;
}

const require = createRequire(import.meta.url);
let utils: UcumUtils | null | undefined;
const cache = new Map<string, Conversion | null>();

function ucum(): UcumUtils | null {
  if (utils === undefined) {
    try {
      const pkg = require('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } };
      utils = pkg.UcumLhcUtils.getInstance();
    } catch {
      utils = null;
    }
  }
  return utils;
}

export function ucumAvailable(): boolean {
  return ucum() !== null;
}

/** The base-unit code and the value in it, or null when the code is not valid UCUM. */
export function toCanonical(code: string, value: number): { code: string; value: number } | null {
  const conv = conversion(code);
  if (!conv) return null;
  if (conv.factor !== null) return { code: conv.code, value: value * conv.factor };
  const r = ucum()?.convertToBaseUnits(code, value);
  return r?.status === 'succeeded' && typeof r.magnitude === 'number' ? { code: conv.code, value: r.magnitude } : null;
}

function conversion(code: string): Conversion | null {
  let c = cache.get(code);
  if (c !== undefined) return c;
  c = null;
  try {
    const r = ucum()?.convertToBaseUnits(code, 1);
    if (r?.status === 'succeeded' && typeof r.magnitude === 'number' && r.unitToExp) {
      const base = Object.keys(r.unitToExp)
        .sort()
        .map((u) => (r.unitToExp?.[u] === 1 ? u : `${u}${r.unitToExp?.[u]}`))
        .join('.');
      c = { code: base || '1', factor: r.fromUnitIsSpecial ? null : r.magnitude };
    }
  } catch {
    c = null;
  }
  // Codes come from data: bound the cache so odd input cannot grow it without limit.
  if (cache.size >= 10_000) cache.clear();
  cache.set(code, c);
  return c;
}
