/**
 * Roles after the Azure FHIR service's built-in ones, as permissions over resource types
 * x interactions. Custom roles (admins define them) use the same shape. A user's rights
 * are the union of their roles; an app's token narrows them further (scopes.ts).
 */

/** What a permission can allow; `operation` covers $everything, $validate and the like. */
export const INTERACTIONS = ['read', 'search', 'history', 'create', 'update', 'patch', 'delete', 'operation', 'export', 'import'] as const;
export type Interaction = (typeof INTERACTIONS)[number];

export interface Permission {
  /** Resource types, or ['*'] for every type. */
  types: string[];
  interactions: Interaction[];
}

export interface Role {
  name: string;
  description: string;
  permissions: Permission[];
  /** Administers users, apps and settings (not a FHIR permission). */
  admin?: boolean;
}

const READ: Interaction[] = ['read', 'search', 'history', 'operation'];
const WRITE: Interaction[] = ['create', 'update', 'patch'];

/** AuditEvent is readable by auditors and admins only; nobody writes it through the API (audit issue). */
const CLINICAL = ['*'];

export const BUILTIN_ROLES: readonly Role[] = [
  { name: 'reader', description: 'Read and search all clinical data', permissions: [{ types: CLINICAL, interactions: READ }] },
  { name: 'writer', description: 'Read, create and update (no delete)', permissions: [{ types: CLINICAL, interactions: [...READ, ...WRITE] }] },
  {
    name: 'contributor',
    description: 'Read, create, update and delete',
    permissions: [{ types: CLINICAL, interactions: [...READ, ...WRITE, 'delete'] }],
  },
  { name: 'exporter', description: 'Bulk export ($export)', permissions: [{ types: CLINICAL, interactions: ['read', 'search', 'export'] }] },
  { name: 'importer', description: 'Bulk import ($import)', permissions: [{ types: CLINICAL, interactions: ['create', 'update', 'import'] }] },
  { name: 'auditor', description: 'Read AuditEvents only', permissions: [{ types: ['AuditEvent'], interactions: ['read', 'search'] }] },
  {
    name: 'admin',
    description: 'Users, apps and settings, every FHIR interaction, and the audit trail (read)',
    // `*` never covers AuditEvent; the admin reads the trail as an auditor does (the audit viewer).
    permissions: [
      { types: ['*'], interactions: [...INTERACTIONS] },
      { types: ['AuditEvent'], interactions: ['read', 'search'] },
    ],
    admin: true,
  },
];

export const isBuiltinRole = (name: string): boolean => BUILTIN_ROLES.some((r) => r.name === name);

/** Types a role's `*` never includes: only roles naming them (auditor, admin) see them. */
export const AUDITOR_ONLY_TYPES: ReadonlySet<string> = new Set(['AuditEvent']);

/** Whether `permissions` allow `interaction` on `type`. */
export function allows(permissions: readonly Permission[], type: string, interaction: Interaction): boolean {
  return permissions.some(
    (p) =>
      p.interactions.includes(interaction) &&
      (p.types.includes(type) || (p.types.includes('*') && !AUDITOR_ONLY_TYPES.has(type))),
  );
}
