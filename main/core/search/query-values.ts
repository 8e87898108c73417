/** The escaping rules of R4 search values (search.html, "Escaping search parameters"). */

/** Splits on commas not escaped with a backslash (the escapes stay for unescapeValue). */
export function splitValues(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length) {
      cur += c + raw[++i];
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((v) => v.length > 0);
}

export function unescapeValue(v: string): string {
  return v.replace(/\\([\\,|$])/g, '$1');
}

/** Splits at the first unescaped `sep` (`|` of tokens and quantities, `$` of composites). */
export function splitUnescaped(v: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') i++;
    else if (v[i] === sep) {
      out.push(v.slice(start, i));
      start = i + 1;
    }
  }
  out.push(v.slice(start));
  return out;
}

/** Splits `system|code` at the first unescaped bar. */
export function splitToken(v: string): { system?: string; code?: string } {
  const [first = '', ...rest] = splitUnescaped(v, '|');
  if (rest.length === 0) return { code: unescapeValue(first) };
  const out: { system?: string; code?: string } = { system: unescapeValue(first) };
  const code = unescapeValue(rest.join('|'));
  if (code) out.code = code;
  return out;
}
