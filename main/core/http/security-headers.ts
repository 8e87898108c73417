/**
 * Headers on every response, FHIR, auth pages and errors alike: no caching of PHI, no
 * sniffing, no framing, no cross-origin embedding or window handles, no powerful
 * features. A response cannot weaken them, except that an auth HTML page brings its own
 * CSP.
 */

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  // There is no wildcard: every feature a page could ask for is listed, allowed nowhere.
  'Permissions-Policy': [
    'accelerometer', 'ambient-light-sensor', 'autoplay', 'battery', 'bluetooth', 'camera', 'display-capture',
    'encrypted-media', 'fullscreen', 'gamepad', 'geolocation', 'gyroscope', 'hid', 'idle-detection',
    'local-fonts', 'magnetometer', 'microphone', 'midi', 'payment', 'picture-in-picture',
    'publickey-credentials-create', 'publickey-credentials-get', 'screen-wake-lock', 'serial', 'usb',
    'web-share', 'xr-spatial-tracking',
  ].map((f) => `${f}=()`).join(', '), // prettier-ignore
};

/** What an auth page may set for itself: its forms and inline styles need their own CSP. */
const PAGE_POLICY = new Set(['content-security-policy']);

/**
 * Auth responses get `same-origin`, not `no-referrer`, whatever the handler asks for:
 * under no-referrer a browser sends `Origin: null` with a form POST, which the origin
 * check must refuse, so the sign-in form could never be submitted. same-origin still
 * sends no Referer to any other origin (the authorize URL's state stays here).
 */
const AUTH_OVERRIDES: Readonly<Record<string, string>> = { 'Referrer-Policy': 'same-origin' };

const SECURITY_NAMES = new Set(Object.keys(SECURITY_HEADERS).map((k) => k.toLowerCase()));

/**
 * `own` (the response's headers) plus the security headers. Names compare
 * case-insensitively: two CSP headers would both be enforced, so exactly one is sent.
 */
export function withSecurityHeaders(own: Readonly<Record<string, string>>, auth = false): Record<string, string> {
  const out: Record<string, string> = {};
  const kept = new Set<string>();
  for (const [name, value] of Object.entries(own)) {
    const lower = name.toLowerCase();
    if (SECURITY_NAMES.has(lower) && !(auth && PAGE_POLICY.has(lower))) continue;
    out[name] = value;
    kept.add(lower);
  }
  const base = auth ? { ...SECURITY_HEADERS, ...AUTH_OVERRIDES } : SECURITY_HEADERS;
  for (const [name, value] of Object.entries(base)) if (!kept.has(name.toLowerCase())) out[name] = value;
  return out;
}
