import { describe, expect, it } from 'vitest';
import { ApiError, OfflineError } from '../api/errors';
import { fieldErrorOf, type FieldRules } from './field-errors';

const refusal = (status: number, diagnostics: string, expression?: string[]) =>
  new ApiError(status, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics, ...(expression ? { expression } : {}) }] }, diagnostics);

const USER: FieldRules<'username' | 'password' | 'roles'> = [
  ['username', /username|user name/i],
  ['password', /password/i],
  ['roles', /role/i],
];

describe('fieldErrorOf', () => {
  it('places a refusal by the member it quotes, by its expression, or by its words', () => {
    expect(fieldErrorOf(refusal(400, '"roles" is required: a list of role names'), USER)).toEqual({ field: 'roles', message: '"roles" is required: a list of role names.' });
    expect(fieldErrorOf(refusal(400, 'bad', ['NewUser.password']), USER)?.field).toBe('password');
    expect(fieldErrorOf(refusal(400, 'A password needs at least 10 characters'), USER)).toEqual({ field: 'password', message: 'A password needs at least 10 characters.' });
    expect(fieldErrorOf(refusal(409, 'A user with that username exists already'), USER)?.field).toBe('username');
    expect(fieldErrorOf(refusal(400, 'unknown roles: x; see GET /flint/admin/roles'), USER)?.message).toBe('Unknown roles: x; see GET /flint/admin/roles.');
  });

  it('leaves other failures to the general notice', () => {
    expect(fieldErrorOf(refusal(400, 'Send a JSON object'), USER)).toBeUndefined();
    expect(fieldErrorOf(refusal(403, 'Managing users needs the admin role'), USER)).toBeUndefined();
    expect(fieldErrorOf(new OfflineError(), USER)).toBeUndefined();
    expect(fieldErrorOf(new Error('password'), USER)).toBeUndefined();
  });
});
