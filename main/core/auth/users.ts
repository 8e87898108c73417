/**
 * Local user accounts: passwords hashed with scrypt, lockout after repeated failures,
 * roles by name (built-in or custom). Usernames are case-insensitive. Nothing here logs:
 * callers audit (the audit issue) and must not echo usernames to unauthenticated clients.
 */
import { randomUUID } from 'node:crypto';
import type { AuthDb } from './auth-db';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';
import { BUILTIN_ROLES, type Permission, type Role } from './roles';

export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60_000;

export interface User {
  id: string;
  username: string;
  display: string | null;
  roles: string[];
  /** e.g. `Practitioner/123`, for SMART `fhirUser`. */
  fhirUser: string | null;
  disabled: boolean;
  lockedUntil: number;
}

interface UserRow {
  id: string;
  username: string;
  display: string | null;
  password: string;
  roles: string;
  fhir_user: string | null;
  disabled: number;
  failed: number;
  locked_until: number;
}

export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

/** `add(..., { onlyIfFirst: true })` found an account already there: nothing was added. */
export class NotFirstUserError extends AccountError {
  constructor() {
    super('a user account already exists');
    this.name = 'NotFirstUserError';
  }
}

export type LoginResult = { ok: true; user: User } | { ok: false; reason: 'unknown' | 'password' | 'locked' | 'disabled'; lockedNow?: boolean };

export interface NewUser {
  username: string;
  password: string;
  roles: string[];
  display?: string;
  fhirUser?: string;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  display: r.display,
  roles: JSON.parse(r.roles) as string[],
  fhirUser: r.fhir_user,
  disabled: r.disabled === 1,
  lockedUntil: r.locked_until,
});

export class UserService {
  constructor(
    private readonly db: AuthDb,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `onlyIfFirst`: add the user only if there is no user at all (first-run setup), checked
   * in the INSERT itself, so concurrent calls (from any process) add one user at most.
   */
  async add(input: NewUser, o: { onlyIfFirst?: boolean } = {}): Promise<User> {
    if (!USERNAME.test(input.username)) throw new AccountError('a username is 1-64 letters, digits or . _ @ -, starting with a letter or digit');
    const problem = passwordProblem(input.password);
    if (problem) throw new AccountError(problem);
    this.checkRoles(input.roles);
    const hash = await hashPassword(input.password);
    const t = this.now();
    const id = randomUUID();
    const insert = o.onlyIfFirst
      ? `INSERT INTO user (id, username, display, password, roles, fhir_user, created, updated) SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM user)`
      : `INSERT INTO user (id, username, display, password, roles, fhir_user, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
    try {
      const added = this.db.run(insert, id, input.username, input.display ?? null, hash, JSON.stringify(input.roles), input.fhirUser ?? null, t, t);
      if (added === 0) throw new NotFirstUserError();
    } catch (e) {
      if (e instanceof NotFirstUserError) throw e;
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || /UNIQUE/.test(String(e))) throw new AccountError('that username is taken');
      throw e;
    }
    return this.byId(id)!;
  }

  list(): User[] {
    return this.db.all<UserRow>('SELECT * FROM user ORDER BY username').map(toUser);
  }

  count(): number {
    return this.db.get<{ n: number }>('SELECT count(*) AS n FROM user')!.n;
  }

  byId(id: string): User | undefined {
    const r = this.db.get<UserRow>('SELECT * FROM user WHERE id = ?', id);
    return r ? toUser(r) : undefined;
  }

  byName(username: string): User | undefined {
    const r = this.db.get<UserRow>('SELECT * FROM user WHERE username = ?', username);
    return r ? toUser(r) : undefined;
  }

  setDisabled(username: string, disabled: boolean): User {
    if (this.db.run('UPDATE user SET disabled = ?, updated = ? WHERE username = ?', disabled ? 1 : 0, this.now(), username) === 0) {
      throw new AccountError('no such user');
    }
    return this.byName(username)!;
  }

  async setPassword(username: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new AccountError(problem);
    const hash = await hashPassword(password);
    // A new password also lifts a lockout: the admin who set it vouches for the user.
    const n = this.db.run('UPDATE user SET password = ?, failed = 0, locked_until = 0, updated = ? WHERE username = ?', hash, this.now(), username);
    if (n === 0) throw new AccountError('no such user');
  }

  setRoles(username: string, roles: string[]): User {
    this.checkRoles(roles);
    if (this.db.run('UPDATE user SET roles = ?, updated = ? WHERE username = ?', JSON.stringify(roles), this.now(), username) === 0) {
      throw new AccountError('no such user');
    }
    return this.byName(username)!;
  }

  /**
   * Checks a password. Failures count towards a lockout of LOCKOUT_MS after MAX_FAILURES;
   * while locked even the right password fails. An unknown user still costs one hash, so
   * timing does not tell which usernames exist.
   */
  async login(username: string, password: string): Promise<LoginResult> {
    const row = this.db.get<UserRow>('SELECT * FROM user WHERE username = ?', username);
    if (!row) {
      await verifyPassword(password, DUMMY_HASH);
      return { ok: false, reason: 'unknown' };
    }
    const t = this.now();
    if (row.locked_until > t) return { ok: false, reason: 'locked' };
    const good = await verifyPassword(password, row.password);
    if (!good) {
      const failed = row.failed + 1;
      const lock = failed >= MAX_FAILURES;
      this.db.run('UPDATE user SET failed = ?, locked_until = ? WHERE id = ?', lock ? 0 : failed, lock ? t + LOCKOUT_MS : 0, row.id);
      return lock ? { ok: false, reason: 'locked', lockedNow: true } : { ok: false, reason: 'password' };
    }
    if (row.disabled) return { ok: false, reason: 'disabled' };
    if (row.failed > 0 || row.locked_until > 0) this.db.run('UPDATE user SET failed = 0, locked_until = 0 WHERE id = ?', row.id);
    return { ok: true, user: toUser(row) };
  }

  /** Custom roles plus the built-in ones. */
  roles(): Role[] {
    const custom = this.db
      .all<{ name: string; description: string; permissions: string }>('SELECT * FROM role ORDER BY name')
      .map((r) => ({ name: r.name, description: r.description, permissions: JSON.parse(r.permissions) as Permission[] }));
    return [...BUILTIN_ROLES, ...custom];
  }

  defineRole(role: Role): void {
    if (BUILTIN_ROLES.some((r) => r.name === role.name)) throw new AccountError('built-in roles cannot be redefined');
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(role.name)) throw new AccountError('a role name is 1-32 lower-case letters, digits or -');
    this.db.run(
      'INSERT INTO role (name, description, permissions) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET description = excluded.description, permissions = excluded.permissions',
      role.name, role.description, JSON.stringify(role.permissions),
    ); // prettier-ignore
  }

  /** The permissions of a user's roles, and whether one of them administers. */
  rightsOf(user: User): { permissions: Permission[]; admin: boolean } {
    const all = this.roles();
    const mine = all.filter((r) => user.roles.includes(r.name));
    return { permissions: mine.flatMap((r) => r.permissions), admin: mine.some((r) => r.admin === true) };
  }

  private checkRoles(roles: string[]): void {
    if (roles.length === 0) throw new AccountError('give the user at least one role');
    const known = new Set(this.roles().map((r) => r.name));
    const unknown = roles.filter((r) => !known.has(r));
    if (unknown.length > 0) throw new AccountError(`unknown roles: ${unknown.join(', ')}`);
  }
}

/** A valid hash of a random password, so that logins for unknown users take as long. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
