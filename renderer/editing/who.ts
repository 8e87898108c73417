/** Who saved a version, when its meta says (meta.source, or an author extension); undefined otherwise. */
import type { Extension, Resource } from '@medplum/fhirtypes';

export function whoOf(r: Resource | undefined): string | undefined {
  const meta = r?.meta;
  if (!meta) return undefined;
  const ext = (meta.extension ?? []).find((e: Extension) => /author|who|user|agent/i.test(e.url ?? ''));
  const fromExt = ext?.valueReference?.display ?? ext?.valueReference?.reference ?? ext?.valueString ?? ext?.valueCode;
  if (fromExt) return fromExt;
  return meta.source || undefined;
}
