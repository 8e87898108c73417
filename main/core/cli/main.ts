/**
 * The `flint` command. Each subcommand is its own module; this file only dispatches.
 * Every subcommand takes --data-dir (or FLINT_DATA_DIR).
 */
import { appCommand } from './app';
import { auditCommand } from './audit';
import type { Command } from './command';
import { reindexCommand } from './reindex';
import { exportCommand } from './export';
import { importCommand } from './import';
import { useSessionBus } from '../secrets/session-bus';
import { serveCommand } from './serve';
import { syncCommand } from './sync';
import { tokenCommand } from './token';
import { userCommand } from './user';

const commands: Command[] = [serveCommand, userCommand, appCommand, tokenCommand, reindexCommand, exportCommand, importCommand, auditCommand, syncCommand];

const USAGE = `Usage: flint <command> [options]

Flint: an offline-first FHIR R4 workstation.

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Every command takes --data-dir DIR (or FLINT_DATA_DIR); the default is the
desktop app's data dir. Run "flint <command> --help" for its options.
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('flint 0.1.0\n');
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`flint: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  // Before anything reaches the keychain: on a headless Linux machine, the keyring of
  // `make start` from another terminal (see secrets/session-bus.ts).
  useSessionBus();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`flint: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
