import { AppError } from '../../src/lib/app-error';
import { formatMoney, minorUnits, scaleOf } from '../../src/domain/money';
import { priceOrders } from '../../src/domain/price-orders';
import { canonicalJson } from '../../src/domain/place-orders';
import { decodeCursor, encodeCursor } from '../../src/lib/cursor';

const order = (currency: string, ...items: [number, string][]) => ({
  currency,
  items: items.map(([quantity, unit_price], i) => ({
    sku: `S${i}`,
    name: 'n',
    quantity,
    unit_price,
  })),
});

describe('minor units', () => {
  it.each([
    ['USD', 2],
    ['JPY', 0],
    ['KWD', 3],
    ['CLF', 4],
    ['EUR', 2],
  ])('%s has %i', (code, digits) => expect(minorUnits(code)).toBe(digits));

  it.each(['XXX', 'XTS', 'ABC', 'usd', 'US'])('%s is not money', (code) =>
    expect(minorUnits(code)).toBeUndefined(),
  );
});

describe('priceOrders', () => {
  it('never uses floats: 0.1 + 0.2 is 0.30', () => {
    const [priced] = priceOrders([order('USD', [1, '0.1'], [1, '0.2'])], false);
    expect(priced!.total).toBe('0.30');
  });

  it('keeps 23 significant digits exact', () => {
    const items = Array.from(
      { length: 100 },
      () => [10000, '999999999999999.9999'] as [number, string],
    );
    const [priced] = priceOrders([order('CLF', ...items)], false);
    expect(priced!.total).toBe('999999999999999999900.0000');
  });

  it('pads to the minor unit', () => {
    const [priced] = priceOrders([order('KWD', [3, '1.5'])], false);
    expect(priced!.items[0]).toMatchObject({ unit_price: '1.500', line_total: '4.500' });
    expect(priced!.total).toBe('4.500');
  });

  it('collects every problem of a batch with indexed paths', () => {
    try {
      priceOrders(
        [order('USD', [1, '1.00']), order('JPY', [1, '1.5'], [1, '2.25']), order('ZZZ', [1, '1'])],
        true,
      );
      throw new Error('expected a validation error');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).errors!.map((e) => e.path)).toEqual([
        '/1/items/0/unit_price',
        '/1/items/1/unit_price',
        '/2/currency',
      ]);
    }
  });

  it('reads scale from the text, not the number', () => {
    expect(scaleOf('9.990')).toBe(3);
    expect(scaleOf('10')).toBe(0);
    expect(formatMoney('9.9900', 2)).toBe('9.99');
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 2 }], a: 'x' })).toBe(
      '{"a":"x","b":[2,{"c":2,"d":1}]}',
    );
  });
});

describe('cursors', () => {
  it('round-trips and rejects foreign input', () => {
    expect(decodeCursor(encodeCursor(['a', 'b']), 2)).toEqual(['a', 'b']);
    expect(() => decodeCursor(encodeCursor(['a']), 2)).toThrow(AppError);
    expect(() => decodeCursor('%%%', 1)).toThrow(AppError);
    expect(() => decodeCursor(encodeCursor([1]), 1)).toThrow(AppError);
  });
});
