/**
 * A baseline server in its own process, for bench/create.mjs: the least any HTTP create can
 * do on this stack. Each POST's body is parsed, given an id and meta, written with one
 * `put` into an encrypted PouchDB store (the same openEncryptedPouch as Flint: SQLCipher,
 * WAL, synchronous=FULL), and sent back with 201. No validation, index, audit, history or
 * access control. Prints "port N" when listening; stops on SIGTERM.
 *
 *   node bench/put-server.mjs ENCRYPTED_POUCH_MODULE DATA_DIR
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [moduleFile, dir] = process.argv.slice(2);
const { openEncryptedPouch } = await import(pathToFileURL(moduleFile).href);
const db = await openEncryptedPouch({ file: join(dir, 'store.db'), key: randomBytes(32) });
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let resource;
    try {
      resource = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const id = randomUUID();
    const doc = { ...resource, id, meta: { versionId: '1', lastUpdated: new Date().toISOString() } };
    db.put({ _id: `Patient/${id}`, ...doc }).then(
      () => {
        res.writeHead(201, { 'content-type': 'application/fhir+json', location: `Patient/${id}/_history/1` });
        res.end(JSON.stringify(doc));
      },
      () => res.writeHead(500).end(),
    );
  });
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.address().port}\n`));
process.once('SIGTERM', () => {
  server.close(() => void db.close().then(() => process.exit(0)));
  server.closeAllConnections();
});
