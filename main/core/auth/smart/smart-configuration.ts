/**
 * What the server publishes about itself: the SMART App Launch 2.x
 * `.well-known/smart-configuration` document and the CapabilityStatement's
 * `rest.security` element. Every URL is absolute and built from the server's own
 * origin (the socket's), so a client that follows them stays on this workstation.
 */
import type { CapabilityStatementRestSecurity } from '@medplum/fhirtypes';

export interface SmartUrls {
  /** The FHIR base: also the issuer of id tokens and the `aud` of authorize requests. */
  fhirBase: string;
  authorize: string;
  token: string;
  revoke: string;
  introspect: string;
  jwks: string;
}

export function smartUrls(origin: string): SmartUrls {
  const auth = `${origin}/auth`;
  return {
    fhirBase: `${origin}/fhir`,
    authorize: `${auth}/authorize`,
    token: `${auth}/token`,
    revoke: `${auth}/revoke`,
    introspect: `${auth}/introspect`,
    jwks: `${auth}/jwks`,
  };
}

/** The algorithms SMART Backend Services allows for client assertions. */
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'] as const;

export const CAPABILITIES = [
  'launch-standalone',
  'client-public',
  'client-confidential-asymmetric',
  'context-standalone-patient',
  'permission-offline',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
  'sso-openid-connect',
  'authorize-post',
] as const;

export function smartConfiguration(origin: string): Record<string, unknown> {
  const u = smartUrls(origin);
  return {
    issuer: u.fhirBase,
    jwks_uri: u.jwks,
    authorization_endpoint: u.authorize,
    token_endpoint: u.token,
    revocation_endpoint: u.revoke,
    introspection_endpoint: u.introspect,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    scopes_supported: [
      'openid',
      'fhirUser',
      'launch/patient',
      'offline_access',
      'online_access',
      'patient/*.cruds',
      'user/*.cruds',
      'system/*.cruds',
      'patient/*.read',
      'user/*.read',
      'system/*.read',
    ],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['RS256'],
    capabilities: [...CAPABILITIES],
  };
}

/** `CapabilityStatement.rest[0].security`, with the SMART oauth-uris extension. */
export function capabilitySecurity(origin: string): CapabilityStatementRestSecurity {
  const u = smartUrls(origin);
  return {
    cors: true,
    service: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
        text: 'OAuth2 using the SMART App Launch profile',
      },
    ],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [
          { url: 'authorize', valueUri: u.authorize },
          { url: 'token', valueUri: u.token },
          { url: 'revoke', valueUri: u.revoke },
          { url: 'introspect', valueUri: u.introspect },
        ],
      },
    ],
  };
}
