import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in for Google's OAuth token endpoint (`oauth2.googleapis.com`), for credentials tests.
 * google-auth sends token requests to that fixed host, and honours HTTPS_PROXY: this is the proxy,
 * which answers CONNECT by handing the tunnel to a local TLS server holding a certificate for the
 * host, signed by a throwaway CA that the child process trusts through NODE_EXTRA_CA_CERTS.
 * Nothing leaves the machine: every CONNECT, whatever its host, ends here.
 */
export interface TokenEndpoint {
  /** Environment for a child process: HTTPS_PROXY and NODE_EXTRA_CA_CERTS. */
  env: Record<string, string>;
  /** Bodies of the token requests received, as parsed form fields. */
  requests: Record<string, string>[];
  /** CONNECT targets asked for. */
  tunnels: string[];
  stop(): Promise<void>;
}

const HOST = 'oauth2.googleapis.com';

/** A CA and a certificate for the token host, made with openssl in a temporary directory. */
function makeCertificates(dir: string): { ca: string; key: string; cert: string } {
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=cronwarden test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'host.key', '-out', 'host.csr', '-subj', `/CN=${HOST}`]);
  writeFileSync(join(dir, 'host.ext'), `subjectAltName=DNS:${HOST}\nbasicConstraints=CA:FALSE\n`);
  run(['x509', '-req', '-in', 'host.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'host.pem', '-days', '2', '-extfile', 'host.ext']);
  return { ca: join(dir, 'ca.pem'), key: readFileSync(join(dir, 'host.key'), 'utf8'), cert: readFileSync(join(dir, 'host.pem'), 'utf8') };
}

/**
 * Starts the endpoint. `answer` gives the status and JSON body of each token request; by default
 * 400 `invalid_grant`, what Google answers for an expired or revoked refresh token.
 */
export async function startTokenEndpoint(
  answer: (form: Record<string, string>) => { status: number; body: unknown } = () => ({
    status: 400,
    body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
  }),
): Promise<TokenEndpoint> {
  const dir = mkdtempSync(join(tmpdir(), 'cronwarden-token-'));
  const { ca, key, cert } = makeCertificates(dir);
  const requests: Record<string, string>[] = [];
  const tunnels: string[] = [];
  const tls = createHttpsServer({ key, cert }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push(form);
      const { status, body: json } = answer(form);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  const sockets = new Set<Socket>();
  const proxy: Server = createHttpServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on('connect', (req, socket: Socket) => {
    tunnels.push(String(req.url));
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n', () => tls.emit('connection', socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  return {
    env: { HTTPS_PROXY: `http://127.0.0.1:${port}`, NODE_EXTRA_CA_CERTS: ca },
    requests,
    tunnels,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      tls.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
