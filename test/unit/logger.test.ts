import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/lib/logger';

/** A value that counts how often a log line with it was serialized. */
function counted() {
  const value = { serialized: 0, toJSON: () => ++value.serialized };
  return value;
}

function lines(level: string) {
  const stream = new PassThrough();
  const out: string[] = [];
  stream.on('data', (line: Buffer) => out.push(line.toString()));
  return { logger: createLogger(level, stream), out };
}

describe('the logger', () => {
  it('does not format or serialize a line below its level', () => {
    const { logger, out } = lines('warn');
    const value = counted();
    logger.info('hidden', { value });
    logger.debug('hidden too', { value });
    expect(value.serialized).toBe(0);
    expect(out).toEqual([]);
  });

  it('writes a line at or above its level as JSON with a timestamp', () => {
    const { logger, out } = lines('warn');
    logger.warn('shown', { order_id: 'o-1' });
    logger.error('shown too');
    expect(out.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'shown',
        order_id: 'o-1',
        timestamp: expect.any(String),
      }),
      expect.objectContaining({ level: 'error', message: 'shown too' }),
    ]);
  });
});
