/**
 * String normalization for the index: the R4 string search is case- and
 * accent-insensitive and may ignore differences in whitespace, so rows store this form and
 * queries must apply the same function to their value.
 */
export function normalizeText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}
