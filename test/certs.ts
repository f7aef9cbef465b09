// Certificates for the TLS tests, made with openssl in the test's own temp dir. The receivers
// listen on 127.0.0.1 only.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Cert {
  keyPath: string;
  certPath: string;
  key: Buffer;
  cert: Buffer;
}

/** A self-signed certificate for 127.0.0.1 and localhost, in dir: no system CA knows it, so a
 *  client verifies it only against certPath given as its CA. */
export function selfSignedCert(dir: string): Cert {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyPath, '-out', certPath],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { keyPath, certPath, key: readFileSync(keyPath), cert: readFileSync(certPath) };
}
