import cc from 'currency-codes';
import Decimal from 'decimal.js';

/**
 * decimal.js rounds to 20 significant digits by default; order totals reach 23 digits
 * (100 lines x 10,000 x 15-digit prices, 4 decimals) and aggregates 38, so money uses 60.
 */
export const Money = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP });
export type Money = Decimal;

/** ISO 4217 codes that name no money: "no currency" and "testing". */
const NOT_MONEY = new Set(['XXX', 'XTS']);

/** The currency's minor-unit digits (USD 2, JPY 0, KWD 3), or undefined for a non-ISO code. */
export function minorUnits(currency: string): number | undefined {
  if (!/^[A-Z]{3}$/.test(currency) || NOT_MONEY.has(currency)) return undefined;
  return cc.code(currency)?.digits;
}

/** Decimal places written in a price string ("9.990" has 3). */
export function scaleOf(amount: string): number {
  const dot = amount.indexOf('.');
  return dot === -1 ? 0 : amount.length - dot - 1;
}

/** Money as the contract writes it: exactly the currency's minor-unit digits. */
export function formatMoney(amount: Decimal.Value, digits: number): string {
  return new Money(amount).toFixed(digits);
}

export function lineTotal(quantity: number, unitPrice: string): Money {
  return new Money(unitPrice).times(quantity);
}
