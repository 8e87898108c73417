/**
 * The Observation form: a vital sign picked from the list (vitals.ts) with its value in
 * the UCUM unit, or another measurement with a code and unit of one's own. Category
 * vital-signs, status final and the time now, by default.
 */
import type { CodeableConcept, Observation, ObservationComponent, Quantity, Resource } from '@medplum/fhirtypes';
import { useWatch } from 'react-hook-form';
import { clone, conceptValue, isoFromLocal, localDateTime, nowLocal, pruneResource, referenceValue, toConcept, toReference } from '../convert';
import { CodeSelect, ConceptInput, emptyConcept, Field, TextInput, type ConceptValue } from '../fields';
import { noteValue, PatientReferenceInput, toNotes } from './common';
import type { FieldsProps, FormContext, FormSpec } from './spec';
import { LOINC, OBSERVATION_CATEGORY, UCUM, VITAL_SIGNS, vitalByCode, vitalByKey, type VitalSign } from './vitals';
import { keepNumberText, numberText } from '../../../shared/fhir/exact-json';

export interface ObservationValues {
  vital: string;
  value: string;
  systolic: string;
  diastolic: string;
  otherCode: ConceptValue;
  otherUnit: string;
  status: string;
  effective: string;
  subject: string;
  note: string;
}

const OTHER = 'other';

const loincOf = (c: CodeableConcept | undefined) => c?.coding?.find((x) => x.system === LOINC)?.code;

/** The form edits quantities only, and a date-time; anything else goes to the generic editor. */
function fits(r: Resource): boolean {
  const o = r as Observation & Record<string, unknown>;
  const values = Object.keys(o).filter((k) => /^value[A-Z]/.test(k));
  if (values.some((k) => k !== 'valueQuantity')) return false;
  if (Object.keys(o).some((k) => /^effective[A-Z]/.test(k) && k !== 'effectiveDateTime')) return false;
  if ((o.component ?? []).some((c) => Object.keys(c).some((k) => /^value[A-Z]/.test(k) && k !== 'valueQuantity'))) return false;
  const vital = vitalByCode(loincOf(o.code));
  // Components only where the form shows them (blood pressure).
  if ((o.component ?? []).length > 0 && !vital?.components) return false;
  return true;
}

const componentAt = (o: Observation, code: string) => (o.component ?? []).findIndex((c) => loincOf(c.code) === code);
/** The value as written (`37.50` stays `37.50`: shared/fhir/exact-json.ts). */
const num = (o: Observation, path: string | undefined) => (path === undefined ? '' : numberText(o, path) ?? '');
const componentValuePath = (o: Observation, code: string) => {
  const i = componentAt(o, code);
  return i < 0 ? undefined : `component.${i}.valueQuantity.value`;
};

function fromResource(r: Resource): ObservationValues {
  const o = r as Observation;
  const vital = vitalByCode(loincOf(o.code));
  const bp = vital?.components;
  return {
    vital: vital?.key ?? OTHER,
    value: num(o, 'valueQuantity.value'),
    systolic: bp ? num(o, componentValuePath(o, bp[0]!.code)) : '',
    diastolic: bp ? num(o, componentValuePath(o, bp[1]!.code)) : '',
    otherCode: vital ? emptyConcept() : conceptValue(o.code),
    otherUnit: vital ? '' : (o.valueQuantity?.unit ?? o.valueQuantity?.code ?? ''),
    status: o.status ?? '',
    effective: localDateTime(o.effectiveDateTime),
    subject: referenceValue(o.subject),
    note: noteValue(o.note),
  };
}

function defaults(ctx: FormContext): ObservationValues {
  return {
    vital: VITAL_SIGNS[0]!.key,
    value: '',
    systolic: '',
    diastolic: '',
    otherCode: emptyConcept(),
    otherUnit: '',
    status: 'final',
    effective: nowLocal(ctx.now),
    subject: ctx.patient ? `Patient/${ctx.patient}` : '',
    note: '',
  };
}

function quantity(value: string, vital: VitalSign, base: Quantity | undefined): Quantity | undefined {
  if (value.trim() === '') return undefined;
  const n = Number(value);
  if (base && base.value === n && base.code === vital.unit.code) return base;
  return { value: n, unit: vital.unit.unit, system: UCUM, code: vital.unit.code };
}

/** Where the blood pressure components end up in `component` (for placing issues). */
export function componentIndexes(base: Observation | undefined, vital: VitalSign | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!vital?.components) return out;
  const list = [...(base?.component ?? [])];
  for (const c of vital.components) {
    const at = list.findIndex((x) => loincOf(x.code) === c.code);
    if (at >= 0) out[c.key] = at;
    else {
      out[c.key] = list.length;
      list.push({ code: { coding: [{ system: LOINC, code: c.code }] } });
    }
  }
  return out;
}

function toResource(values: object, base: Resource | undefined): Observation {
  const v = values as ObservationValues;
  const o: Observation = clone((base as Observation | undefined) ?? { resourceType: 'Observation', status: 'final', code: {} });
  const vital = vitalByKey(v.vital);
  if (vital) {
    const sameCode = loincOf(o.code) === vital.code;
    o.code = sameCode ? o.code : { coding: [{ system: LOINC, code: vital.code, display: vital.display }], text: vital.label };
    const categories = [...(o.category ?? [])];
    if (!categories.some((c) => c.coding?.some((x) => x.system === OBSERVATION_CATEGORY && x.code === 'vital-signs'))) {
      categories.push({ coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }], text: 'Vital Signs' });
    }
    o.category = categories;
    if (vital.components) {
      delete o.valueQuantity;
      const at = componentIndexes(sameCode ? o : undefined, vital);
      const list: ObservationComponent[] = sameCode ? [...(o.component ?? [])] : [];
      for (const c of vital.components) {
        const i = at[c.key]!;
        const before = list[i];
        const q = quantity(c.key === 'systolic' ? v.systolic : v.diastolic, vital, before?.valueQuantity);
        list[i] = { ...(before ?? {}), code: before?.code ?? { coding: [{ system: LOINC, code: c.code, display: c.display }], text: c.label }, ...(q ? { valueQuantity: q } : {}) };
        if (!q) delete list[i]!.valueQuantity;
      }
      o.component = list;
    } else {
      delete o.component;
      const q = quantity(v.value, vital, o.valueQuantity);
      if (q) o.valueQuantity = q;
      else delete o.valueQuantity;
    }
  } else {
    o.code = toConcept(v.otherCode, o.code) ?? { text: '' };
    const value = v.value.trim();
    if (value === '') delete o.valueQuantity;
    else {
      const before = o.valueQuantity;
      const unit = v.otherUnit.trim();
      o.valueQuantity = before && before.value === Number(value) && (before.unit ?? before.code ?? '') === unit ? before : { value: Number(value), ...(unit ? { unit } : {}) };
    }
  }
  o.status = (v.status || undefined) as Observation['status'];
  const effective = isoFromLocal(v.effective, (base as Observation | undefined)?.effectiveDateTime);
  if (effective) o.effectiveDateTime = effective;
  else delete o.effectiveDateTime;
  o.subject = toReference(v.subject, o.subject);
  o.note = toNotes(v.note, o.note);
  return keepTypedNumbers(pruneResource(o), v, vital);
}

/** The numbers as typed (`37.50`), kept beside the resource so the server stores that text. */
function keepTypedNumbers(o: Observation, v: ObservationValues, vital: VitalSign | undefined): Observation {
  let out = keepNumberText(o, 'valueQuantity.value', v.value);
  for (const c of vital?.components ?? []) {
    const path = componentValuePath(out, c.code);
    if (path) out = keepNumberText(out, path, c.key === 'systolic' ? v.systolic : v.diastolic);
  }
  return out;
}

const numberRules = (vital: VitalSign | undefined, label: string) => ({
  validate: (s: string) => {
    if (s === undefined || s.trim() === '') return true;
    const n = Number(s);
    if (!Number.isFinite(n)) return `${label} must be a number.`;
    if (vital?.min !== undefined && n < vital.min) return `${label} must be at least ${vital.min}.`;
    if (vital?.max !== undefined && n > vital.max) return `${label} must be at most ${vital.max}.`;
    return true;
  },
});

function ObservationFields({ form, base }: FieldsProps) {
  const { control } = form;
  const key = useWatch({ control, name: 'vital' }) as string;
  const vital = vitalByKey(key);
  const at = componentIndexes(loincOf((base as Observation | undefined)?.code) === vital?.code ? (base as Observation) : undefined, vital);
  return (
    <>
      <div className="form-grid">
        {/* With "Other", the code's issues go to the concept below, not to this picker. */}
        <Field path={vital ? 'Observation.code' : 'Observation.code#kind'} label="Measurement">
          {(a) => (
            <select {...a} {...form.register('vital')}>
              {VITAL_SIGNS.map((s) => (
                <option key={s.key} value={s.key}>
                  {s.label} ({s.unit.unit})
                </option>
              ))}
              <option value={OTHER}>Other measurement…</option>
            </select>
          )}
        </Field>
        <CodeSelect control={control} name="status" path="Observation.status" label="Status" required />
        <TextInput control={control} name="effective" path="Observation.effectiveDateTime" label="Taken at" type="datetime-local" />
      </div>
      {!vital ? <ConceptInput control={control} name="otherCode" path="Observation.code" label="What was measured" required free /> : null}
      <div className="form-grid">
        {vital?.components ? (
          vital.components.map((c) => (
            <TextInput
              key={`${vital.key}-${c.key}`}
              control={control}
              name={c.key}
              path={`Observation.component[${at[c.key]}].valueQuantity`}
              label={`${c.label} (${vital.unit.unit})`}
              type="number"
              inputMode="decimal"
              required
              rules={numberRules(vital, c.label)}
            />
          ))
        ) : (
          <TextInput
            key={vital?.key ?? OTHER}
            control={control}
            name="value"
            path="Observation.valueQuantity"
            label={vital ? `${vital.label} (${vital.unit.unit})` : 'Value'}
            type="number"
            inputMode="decimal"
            required
            rules={numberRules(vital, vital?.label ?? 'Value')}
          />
        )}
        {!vital ? <TextInput control={control} name="otherUnit" path="Observation.valueQuantity.unit" label="Unit" hint="For example mg/dL." /> : null}
      </div>
      <PatientReferenceInput control={control} name="subject" path="Observation.subject" />
      <TextInput control={control} name="note" path="Observation.note[0].text" label="Note" multiline />
    </>
  );
}

export const observationForm: FormSpec = {
  id: 'observation',
  defaults,
  fromResource,
  toResource,
  fits,
  Fields: ObservationFields,
};
