/** FHIR R4 `id` datatype: 1-64 of [A-Za-z0-9\-.]. */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
export const isValidId = (s: string): boolean => ID_PATTERN.test(s);
/** Resource type names are PascalCase ASCII letters. */
export const TYPE_PATTERN = /^[A-Z][A-Za-z]{1,63}$/;
