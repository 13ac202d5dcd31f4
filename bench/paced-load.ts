/**
 * A fixed-rate load generator, run as its own process by bench/sustain.ts: autocannon sends
 * `POST /orders` (one order each, a unique order_id "<tag>-<n>") at an overall rate, with
 * latencies corrected for coordinated omission. Prints one line "BENCH_RESULT {json}".
 * Arguments: URL RATE CONNECTIONS DURATION_S TAG AUTHORIZATION
 */
import autocannon from 'autocannon';

const [url, rate, connections, durationS, tag, authorization] = process.argv.slice(2);

let n = 0;
const body = () =>
  JSON.stringify({
    order_id: `${tag}-${++n}`,
    customer_id: `c-${n % 50}`,
    currency: 'USD',
    items: [
      { sku: 'TEA', name: 'Tea', quantity: 2, unit_price: '9.99' },
      { sku: 'CUP', name: 'Cup', quantity: 1, unit_price: '4.50' },
    ],
  });

const started = process.cpuUsage();
autocannon(
  {
    url: `${url}/orders`,
    connections: Number(connections),
    duration: Number(durationS),
    overallRate: Number(rate),
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: authorization ?? '' },
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
  },
  (err, result) => {
    if (err) {
      console.error(err.message);
      process.exit(1);
    }
    const cpu = process.cpuUsage(started);
    const line = {
      duration_s: result.duration,
      requests: result.requests.total,
      ok: result['2xx'],
      non_2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      cpu_s: (cpu.user + cpu.system) / 1e6,
    };
    console.log(`BENCH_RESULT ${JSON.stringify(line)}`);
  },
);
