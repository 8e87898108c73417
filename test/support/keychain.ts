/**
 * The keychain side of a test data dir: every data dir a workstation opens gets a master
 * key in the OS keychain (service 'flint', account `<workstationId>/master-key`, the
 * workstation id read from `<dataDir>/flint.json`). Tests use these helpers to inspect,
 * remove or restore that entry, and to clean it up with the data dir.
 */
import keytar from 'keytar';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir } from './workstation';

export const KEYCHAIN_SERVICE = 'flint';

export function workstationIdOf(dataDir: string): string {
  const config = JSON.parse(readFileSync(join(dataDir, 'flint.json'), 'utf8')) as { workstationId?: unknown };
  if (typeof config.workstationId !== 'string') throw new Error(`${dataDir}/flint.json has no workstationId`);
  return config.workstationId;
}

export const masterKeyAccount = (workstationId: string): string => `${workstationId}/master-key`;

export function getMasterKey(dataDir: string): Promise<string | null> {
  return keytar.getPassword(KEYCHAIN_SERVICE, masterKeyAccount(workstationIdOf(dataDir)));
}

export function deleteMasterKey(dataDir: string): Promise<boolean> {
  return keytar.deletePassword(KEYCHAIN_SERVICE, masterKeyAccount(workstationIdOf(dataDir)));
}

export function setMasterKey(dataDir: string, value: string): Promise<void> {
  return keytar.setPassword(KEYCHAIN_SERVICE, masterKeyAccount(workstationIdOf(dataDir)), value);
}

/** Removes a test data dir and its keychain entry (if any); never throws. */
export async function forgetDataDir(dataDir: string | undefined): Promise<void> {
  if (!dataDir) return;
  try {
    await deleteMasterKey(dataDir);
  } catch {
    // no flint.json (never started) or no keychain entry: nothing to remove
  }
  removeDir(dataDir);
}
