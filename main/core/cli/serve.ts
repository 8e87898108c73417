/** `flint serve`: the workstation core without a window, FHIR R4 on loopback. */
import { startWorkstation } from '../app';
import { DEFAULT_PORT, resolveDataDir } from '../config';
import { DATA_DIR_OPTION, parseOptions, type Command } from './command';

const USAGE = `Usage: flint serve [--data-dir DIR] [--port N] [--max-body-bytes N] [--no-audit]

Starts the Flint workstation core headless and serves FHIR R4 JSON at
http://127.0.0.1:<port>/fhir (loopback only), and the UI at http://127.0.0.1:<port>/.
Prints the base URL when ready; stops cleanly on SIGINT or SIGTERM. On a data dir
without users it first prints a one-time setup URL (valid for an hour, until the
next start) that opens the UI to create the administrator.

Options:
  --data-dir DIR        data dir (default: FLINT_DATA_DIR, else the desktop app's)
  --port N              TCP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --max-body-bytes N    largest accepted request body (default 64 MiB)
  --no-audit            do not record accesses (only to measure the audit trail's cost)
  -h, --help            show this help
`;

const OPTIONS = {
  ...DATA_DIR_OPTION,
  port: { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'no-audit': { type: 'boolean' },
} as const;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the workstation core headless (FHIR R4 on 127.0.0.1)',
  async run(argv) {
    const { values } = parseOptions(argv, OPTIONS, USAGE);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const port = values.port === undefined ? Number(process.env.FLINT_PORT ?? DEFAULT_PORT) : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`flint serve: invalid port\n\n${USAGE}`);
      return 2;
    }
    const maxBody = values['max-body-bytes'] === undefined ? undefined : Number(values['max-body-bytes']);
    if (maxBody !== undefined && (!Number.isInteger(maxBody) || maxBody <= 0)) {
      process.stderr.write(`flint serve: invalid --max-body-bytes\n\n${USAGE}`);
      return 2;
    }
    const ws = await startWorkstation({
      dataDir: resolveDataDir(values['data-dir']),
      port,
      ...(maxBody !== undefined ? { maxBodyBytes: maxBody } : {}),
      ...(values['no-audit'] ? { audit: false } : {}),
    });
    // Handlers first, then the ready line: whoever reads that line may signal at once,
    // and a signal before the handlers exist would kill the process uncleanly.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stdout.write(`Flint FHIR R4 server listening at ${ws.baseUrl} (data dir ${ws.dataDir})\n`);
    if (ws.uiUrl) process.stdout.write(`The workstation UI: ${ws.uiUrl}\n`);
    await stopped;
    process.stdout.write('Flint: shutting down\n');
    await ws.close();
    return 0;
  },
};
