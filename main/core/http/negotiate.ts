/** Response format negotiation: JSON only (XML is out of scope: 406). */
import { notAcceptable } from '../../../shared/fhir/outcome';

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);

const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

/** `ndjson`: the response is NDJSON (a bulk export file), which may also be asked for. */
export function checkAcceptable(accept: string | undefined, format: string | null, ndjson = false): void {
  if (format !== null) {
    const f = format.trim().toLowerCase();
    if (!JSON_FORMATS.has(f) && !(ndjson && NDJSON_FORMATS.has(f))) throw notAcceptable('Only JSON is supported (_format=json)');
    return;
  }
  if (!accept) return;
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  const ok = types.some((t) => t === '*/*' || t === 'application/*' || JSON_FORMATS.has(t) || t === 'text/*' || t === 'text/plain' || (ndjson && NDJSON_FORMATS.has(t)));
  if (!ok) throw notAcceptable('Only JSON is supported; ask for application/fhir+json');
}
