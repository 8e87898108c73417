/**
 * The vital signs the Observation form offers, as the FHIR R4 vital signs profile names
 * them: LOINC codes and UCUM units. Blood pressure is a panel whose values are the
 * systolic and diastolic components.
 */
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

export interface VitalUnit {
  /** UCUM code. */
  code: string;
  /** How the unit reads on screen and in Quantity.unit. */
  unit: string;
}

export interface VitalComponent {
  key: 'systolic' | 'diastolic';
  code: string;
  display: string;
  label: string;
}

export interface VitalSign {
  key: string;
  code: string;
  display: string;
  label: string;
  unit: VitalUnit;
  components?: VitalComponent[];
  /** Plausible input range, for the number field. */
  min?: number;
  max?: number;
}

export const VITAL_SIGNS: VitalSign[] = [
  { key: 'heart-rate', code: '8867-4', display: 'Heart rate', label: 'Heart rate', unit: { code: '/min', unit: '/min' }, min: 0, max: 400 },
  {
    key: 'blood-pressure',
    code: '85354-6',
    display: 'Blood pressure panel with all children optional',
    label: 'Blood pressure',
    unit: { code: 'mm[Hg]', unit: 'mmHg' },
    components: [
      { key: 'systolic', code: '8480-6', display: 'Systolic blood pressure', label: 'Systolic' },
      { key: 'diastolic', code: '8462-4', display: 'Diastolic blood pressure', label: 'Diastolic' },
    ],
    min: 0,
    max: 400,
  },
  { key: 'body-weight', code: '29463-7', display: 'Body weight', label: 'Body weight', unit: { code: 'kg', unit: 'kg' }, min: 0, max: 1000 },
  { key: 'body-height', code: '8302-2', display: 'Body height', label: 'Body height', unit: { code: 'cm', unit: 'cm' }, min: 0, max: 300 },
  { key: 'bmi', code: '39156-5', display: 'Body mass index (BMI) [Ratio]', label: 'Body mass index (BMI)', unit: { code: 'kg/m2', unit: 'kg/m2' }, min: 0, max: 200 },
  { key: 'body-temperature', code: '8310-5', display: 'Body temperature', label: 'Body temperature', unit: { code: 'Cel', unit: 'Cel' }, min: 20, max: 50 },
  { key: 'respiratory-rate', code: '9279-1', display: 'Respiratory rate', label: 'Respiratory rate', unit: { code: '/min', unit: '/min' }, min: 0, max: 200 },
  { key: 'oxygen-saturation', code: '2708-6', display: 'Oxygen saturation in Arterial blood', label: 'Oxygen saturation (SpO2)', unit: { code: '%', unit: '%' }, min: 0, max: 100 },
];

export const vitalByCode = (code: string | undefined) => VITAL_SIGNS.find((v) => v.code === code);
export const vitalByKey = (key: string | undefined) => VITAL_SIGNS.find((v) => v.key === key);
