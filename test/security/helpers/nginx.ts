import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, stop, waitForPort } from '../../helpers/processes';

/** The shipped example; the tests run this file, not a copy of it. */
export const SHIPPED_CONF = path.resolve(__dirname, '../../../deploy/nginx/order-service.conf');

export interface Nginx {
  httpsPort: number;
  httpPort: number;
  /** The throwaway certificate (PEM): trust it as the CA for https requests. */
  ca: string;
  /** The shipped config as this instance runs it (ports, paths and limits substituted). */
  conf: string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  upstreamPort: number;
  /** Replaces the shipped limit_req_zone rate and limit_req burst (a tight zone for tests). */
  limitReq?: { rate: string; burst: number };
}

/**
 * Debian's nginx as a throwaway: its own prefix, pid, logs and temp paths in a temp dir, a
 * self-signed certificate for `localhost`/127.0.0.1 made now, free loopback ports, and the
 * server/location directives of deploy/nginx/order-service.conf. Each substitution must match
 * the shipped file exactly once, so a change there fails here instead of going untested.
 */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'os-nginx-'));
  let child: ChildProcess | undefined;
  try {
    const cert = path.join(dir, 'order-service.crt');
    const key = path.join(dir, 'order-service.key');
    makeSelfSignedCertificate(cert, key);
    const [httpsPort, httpPort] = [await freePort(), await freePort()];

    const substitutions: [string, string][] = [
      ['listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`],
      ['listen 80;', `listen 127.0.0.1:${httpPort};`],
      ['server 127.0.0.1:8080;', `server 127.0.0.1:${options.upstreamPort};`],
      ['/etc/nginx/tls/order-service.crt;', `${cert};`],
      ['/etc/nginx/tls/order-service.key;', `${key};`],
    ];
    if (options.limitReq) {
      substitutions.push(
        ['rate=20r/s;', `rate=${options.limitReq.rate};`],
        ['burst=40 nodelay;', `burst=${options.limitReq.burst} nodelay;`],
      );
    }
    const conf = substitutions.reduce(
      (text, [from, to]) => replaceOnce(text, from, to),
      readFileSync(SHIPPED_CONF, 'utf8'),
    );
    writeFileSync(path.join(dir, 'order-service.conf'), conf);
    writeFileSync(path.join(dir, 'nginx.conf'), mainConf(dir));

    child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`nginx exited (${code}): ${stderr}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([Promise.all([waitForPort(httpsPort), waitForPort(httpPort)]), exited]);

    const running = child;
    return {
      httpsPort,
      httpPort,
      ca: readFileSync(cert, 'utf8'),
      conf,
      async stop() {
        // SIGTERM, not SIGKILL: the master must live long enough to stop its workers.
        await stop(running, 'SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (child) await stop(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function replaceOnce(text: string, from: string, to: string): string {
  const count = text.split(from).length - 1;
  if (count !== 1) {
    throw new Error(`${SHIPPED_CONF}: expected "${from}" once, found it ${count} times`);
  }
  return text.replace(from, () => to);
}

/** Everything outside the shipped file: a foreground nginx whose every path is in `dir`. */
function mainConf(dir: string): string {
  const at = (name: string) => path.join(dir, name);
  return `
daemon off;
worker_processes 1;
pid ${at('nginx.pid')};
error_log stderr warn;
${process.getuid?.() === 0 ? 'user root root;' : ''}
events { worker_connections 256; }
http {
  access_log ${at('access.log')};
  client_body_temp_path ${at('client_body')};
  proxy_temp_path ${at('proxy')};
  fastcgi_temp_path ${at('fastcgi')};
  uwsgi_temp_path ${at('uwsgi')};
  scgi_temp_path ${at('scgi')};
  default_type application/octet-stream;
  include ${at('order-service.conf')};
}
`;
}

function makeSelfSignedCertificate(cert: string, key: string): void {
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new Error(`openssl could not make a certificate: ${(err as Error).message}`);
  }
}

export interface ClientResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ClientRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
  /** The client's source address: any of 127.0.0.0/8 is a distinct "real client". */
  from?: string;
}

/** One request on its own connection (so `from` holds), verifying nginx's certificate. */
export function httpsRequest(nginx: Nginx, req: ClientRequest): Promise<ClientResponse> {
  return send(
    https.request({
      host: '127.0.0.1',
      port: nginx.httpsPort,
      servername: 'localhost',
      ca: nginx.ca,
      ...requestOptions(req),
    }),
    req,
  );
}

/** The same over nginx's plain-HTTP port. */
export function httpRequest(nginx: Nginx, req: ClientRequest): Promise<ClientResponse> {
  return send(
    http.request({ host: '127.0.0.1', port: nginx.httpPort, ...requestOptions(req) }),
    req,
  );
}

function requestOptions(req: ClientRequest): http.RequestOptions {
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined && !req.chunked) {
    headers['Content-Length'] = String(Buffer.byteLength(req.body));
  }
  return {
    method: req.method ?? 'GET',
    path: req.path,
    headers,
    localAddress: req.from ?? '127.0.0.1',
    agent: false,
  };
}

function send(request: http.ClientRequest, req: ClientRequest): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    request.setTimeout(10_000, () => request.destroy(new Error(`${req.path} timed out`)));
    request.on('error', reject);
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    if (req.body !== undefined && req.chunked) {
      // Several writes, so the body really goes out in chunks.
      const body = Buffer.from(req.body);
      for (let at = 0; at < body.length; at += 64 * 1024)
        request.write(body.subarray(at, at + 64 * 1024));
      request.end();
    } else {
      request.end(req.body);
    }
  });
}
