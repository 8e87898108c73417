/** A `flint` subcommand, and the option parsing they share. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const DATA_DIR_OPTION = { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** parseArgs with a usage error instead of a stack trace. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
}

export class UsageError extends Error {}
