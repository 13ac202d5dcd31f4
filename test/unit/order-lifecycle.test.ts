import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { AppError, PROBLEMS } from '../../src/lib/app-error';
import {
  canTransition,
  FINISHED_STATUSES,
  ORDER_STATUSES,
  transition,
  TRANSITIONS,
  UNFINISHED_STATUSES,
} from '../../src/domain/order';

const openapi = parse(readFileSync(path.join(__dirname, '../../api/openapi.yaml'), 'utf8'));

describe('order statuses', () => {
  it('are exactly the OpenAPI OrderStatus enum, in its order', () => {
    expect(openapi.components.schemas.OrderStatus.enum).toEqual([...ORDER_STATUSES]);
  });

  it('are all the lifecycle names, and the lifecycle names no other', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...ORDER_STATUSES].sort());
    for (const next of Object.values(TRANSITIONS)) {
      for (const status of next) expect(ORDER_STATUSES).toContain(status);
    }
  });

  it('split into unfinished ones, which the worker moves on, and finished ones, which wait for nobody', () => {
    expect(UNFINISHED_STATUSES).toEqual(['pending', 'processing']);
    expect(FINISHED_STATUSES).toEqual(['completed', 'cancelled', 'failed']);
  });
});

describe('transition', () => {
  it.each([
    ['pending', 'processing'],
    ['pending', 'cancelled'],
    ['processing', 'completed'],
    ['processing', 'failed'],
    ['failed', 'pending'],
  ] as const)('allows %s → %s and returns that step', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(transition(from, to)).toEqual({ from, to });
  });

  it.each([
    ['completed', 'cancelled'],
    ['cancelled', 'processing'],
    ['pending', 'completed'],
    ['failed', 'processing'],
    ['failed', 'completed'],
    ['processing', 'cancelled'],
    ['pending', 'pending'],
  ] as const)('refuses %s → %s with a 409 invalid-transition AppError', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let thrown: unknown;
    try {
      transition(from, to);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({
      code: 'invalid-transition',
      message: `An order that is ${from} cannot be ${to}.`,
    });
    expect(PROBLEMS[(thrown as AppError).code].status).toBe(409);
  });
});
