import http from 'node:http';
import { waitUntil } from './harness';

export interface StreamMessage {
  id?: string;
  event?: string;
  data?: Record<string, unknown>;
}

export interface OpenedStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed messages so far (comment lines not included). */
  messages: StreamMessage[];
  /** Comment lines so far (`: heartbeat`). */
  comments: string[];
  /** The raw body, for non-stream answers (a problem). */
  body(): string;
  ended: Promise<void>;
  waitForMessages(n: number, timeoutMs?: number): Promise<StreamMessage[]>;
  close(): void;
}

/** Opens a Server-Sent Events stream with node's http client and parses it as it comes. */
export function openEventStream(
  url: string,
  headers: Record<string, string>,
): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      let raw = '';
      let buffer = '';
      const messages: StreamMessage[] = [];
      const comments: string[] = [];
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: StreamMessage = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) message.id = line.slice(4);
            else if (line.startsWith('event: ')) message.event = line.slice(7);
            else if (line.startsWith('data: ')) message.data = JSON.parse(line.slice(6));
          }
          if (message.id || message.event || message.data) messages.push(message);
        }
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        comments,
        body: () => raw,
        ended,
        waitForMessages: (n, timeoutMs = 15_000) =>
          waitUntil(async () => messages.length >= n && messages.slice(0, n), {
            timeoutMs,
            what: `${n} stream messages (have ${messages.length})`,
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
