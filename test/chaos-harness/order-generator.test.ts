import {
  CURRENCIES,
  CUSTOMERS,
  generateRequest,
  price,
  seededRandom,
} from '../../chaos/order-generator';
import { classifyStatus } from '../../chaos/load-client';

describe('the chaos load', () => {
  it('writes prices with exactly the minor-unit digits of their currency', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      expect(price(random, 0)).toMatch(/^[1-9]\d*$/);
      expect(price(random, 2)).toMatch(/^\d+\.\d{2}$/);
      expect(price(random, 3)).toMatch(/^\d+\.\d{3}$/);
    }
  });

  it('sends single orders and batches of up to five, with ids never used before', () => {
    const random = seededRandom(42);
    let n = 0;
    const sizes = new Set<number>();
    const ids = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const orders = generateRequest(random, () => `o-${++n}`);
      sizes.add(orders.length);
      for (const o of orders) {
        ids.add(o.order_id);
        expect(CUSTOMERS).toContain(o.customer_id);
        expect(Object.keys(CURRENCIES)).toContain(o.currency);
        expect(o.items.length).toBeGreaterThanOrEqual(1);
      }
    }
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(ids.size).toBe(n);
  });

  it('counts only 2xx as acknowledged and 503 apart from other server errors', () => {
    expect([201, 200, 503, 500, 502, 429, 409].map(classifyStatus)).toEqual([
      'ack',
      'ack',
      'unavailable',
      'server-error',
      'server-error',
      'client-error',
      'client-error',
    ]);
  });
});
