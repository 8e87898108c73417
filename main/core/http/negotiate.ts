/** Response format negotiation: JSON only (XML is out of scope: 406). */
import { notAcceptable } from '../../../shared/fhir/outcome';

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);

export function checkAcceptable(accept: string | undefined, format: string | null): void {
  if (format !== null) {
    if (!JSON_FORMATS.has(format.trim().toLowerCase())) throw notAcceptable('Only JSON is supported (_format=json)');
    return;
  }
  if (!accept) return;
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  const ok = types.some((t) => t === '*/*' || t === 'application/*' || JSON_FORMATS.has(t) || t === 'text/*' || t === 'text/plain');
  if (!ok) throw notAcceptable('Only JSON is supported; ask for application/fhir+json');
}
