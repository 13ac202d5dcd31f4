import { AppError, FieldError } from '../lib/app-error';
import { formatMoney, lineTotal, minorUnits, Money, scaleOf } from './money';
import type { OrderInput, OrderItem } from './order';

export interface PricedOrder {
  currency: string;
  items: OrderItem[];
  total: string;
}

/**
 * The rules the OpenAPI schema cannot say: a real ISO 4217 code, prices with no more
 * decimals than its minor unit, well-formed Unicode text. Collects every problem of every order, with JSON-pointer
 * paths prefixed by the order's index in a batch.
 */
export function priceOrders(inputs: OrderInput[], batch: boolean): PricedOrder[] {
  const errors: FieldError[] = [];
  const priced = inputs.map((input, index) => {
    const base = batch ? `/${index}` : '';
    const digits = minorUnits(input.currency);
    if (digits === undefined) {
      errors.push({ path: `${base}/currency`, message: 'must be an ISO 4217 currency code' });
    }
    // Lone surrogates would be replaced by MySQL and come back different from what was sent.
    for (const [path, text] of strings(input)) {
      if (!text.isWellFormed())
        errors.push({ path: base + path, message: 'must be well-formed Unicode' });
    }
    let total = new Money(0);
    const items = input.items.map((item, line) => {
      if (digits !== undefined && scaleOf(item.unit_price) > digits) {
        errors.push({
          path: `${base}/items/${line}/unit_price`,
          message: `must have at most ${digits} decimal places for ${input.currency}`,
        });
      }
      const amount = lineTotal(item.quantity, item.unit_price);
      total = total.plus(amount);
      return { ...item, line_total: formatMoney(amount, digits ?? 0) };
    });
    const d = digits ?? 0;
    return {
      currency: input.currency,
      items: items.map((i) => ({ ...i, unit_price: formatMoney(i.unit_price, d) })),
      total: formatMoney(total, d),
    };
  });
  if (errors.length > 0) {
    throw new AppError('validation', 'The order does not satisfy the currency rules.', { errors });
  }
  return priced;
}

function strings(input: OrderInput): [string, string][] {
  return [
    ...input.items.flatMap((item, i): [string, string][] => [
      [`/items/${i}/sku`, item.sku],
      [`/items/${i}/name`, item.name],
    ]),
    ...Object.entries(input.metadata ?? {}).flatMap(([key, value]): [string, string][] => [
      [`/metadata`, key],
      [`/metadata/${key}`, value],
    ]),
  ];
}
