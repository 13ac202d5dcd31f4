import { isIP } from 'node:net';
import type { RequestHandler } from 'express';

/**
 * `req.ip` as Express resolves it through `trust proxy`, but only ever a valid IP address:
 * `X-Forwarded-For: x1` through a trusted hop would otherwise make `x1` a client with a
 * rate-limit bucket of its own. An invalid entry falls back to the hop that reported it.
 */
export const clientAddress: RequestHandler = (req, _res, next) => {
  // Closest first: the socket's peer, then what each trusted hop says it received from.
  const chain = [req.socket.remoteAddress ?? '', ...[...req.ips].reverse()];
  let i = chain.length - 1;
  while (i > 0 && isIP(chain[i]!) === 0) i--;
  Object.defineProperty(req, 'ip', { value: chain[i], configurable: true, enumerable: true });
  next();
};
