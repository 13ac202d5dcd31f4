import { AsyncLocalStorage } from 'node:async_hooks';

/** Identifiers carried into every log line of a request or a job. */
export interface RequestContext {
  request_id?: string;
  job_id?: string;
  order_id?: string;
  traceparent?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}
