import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedTarget } from './webhook-address-guard';

/** The first bytes of a response are kept as the attempt's excerpt; the rest is not read. */
const EXCERPT_BYTES = 1024;

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  /** Set when the attempt failed: a network error, the timeout, a redirect or a non-2xx. */
  error: string | null;
  excerpt: string | null;
  /** network | timeout | redirect | http_error | success */
  outcome: 'success' | 'http_error' | 'redirect' | 'timeout' | 'network';
}

/**
 * POSTs to the checked address only: the lookup handed to the socket returns it, so a DNS
 * answer changed since the check (rebinding) is never used, while TLS still verifies the host
 * name. Redirects are not followed (node:http never follows them); a 3xx is a failed attempt.
 */
export function sendWebhook(
  target: CheckedTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<SendResult> {
  const started = performance.now();
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address: target.address, family: target.family },
      ]);
    } else {
      callback(null, target.address, target.family);
    }
  };
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latencyMs: Math.round(performance.now() - started) });
    };
    const req = client.request(
      target.url,
      {
        method: 'POST',
        lookup: pinned,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'order-service-webhooks/1',
          ...headers,
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
          req.destroy();
          if (status >= 200 && status < 300) {
            finish({
              statusCode: status,
              error: null,
              excerpt: excerpt || null,
              outcome: 'success',
            });
          } else if (status >= 300 && status < 400) {
            const location = String(res.headers.location ?? '').slice(0, 200);
            finish({
              statusCode: status,
              error: `redirect to ${location || 'nowhere'} not followed`,
              excerpt: excerpt || null,
              outcome: 'redirect',
            });
          } else {
            finish({
              statusCode: status,
              error: `HTTP ${status}`,
              excerpt: excerpt || null,
              outcome: 'http_error',
            });
          }
        };
        res.on('data', (chunk: Buffer) => {
          if (size < EXCERPT_BYTES) chunks.push(chunk);
          size += chunk.length;
          if (size >= EXCERPT_BYTES) done();
        });
        res.on('end', done);
        res.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      finish({
        statusCode: null,
        error: `no response within ${timeoutMs} ms`,
        excerpt: null,
        outcome: 'timeout',
      });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) =>
      finish({
        statusCode: null,
        error: err.message.slice(0, 500),
        excerpt: null,
        outcome: 'network',
      }),
    );
    req.end(body);
  });
}
