/** Order shapes and lifecycle shared by the use cases and repositories. */
import { AppError } from '../lib/app-error';

/** Every status an order can have; the OpenAPI enum and the metric labels are this list. */
export const ORDER_STATUSES = [
  'pending',
  'processing',
  'completed',
  'cancelled',
  'failed',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Money is kept as decimal strings. */
export interface OrderItemInput {
  sku: string;
  name: string;
  quantity: number;
  unit_price: string;
}

export interface OrderInput {
  order_id?: string;
  customer_id?: string;
  currency: string;
  items: OrderItemInput[];
  metadata?: Record<string, string>;
}

export interface OrderItem extends OrderItemInput {
  line_total: string;
}

export interface StatusChange {
  status: OrderStatus;
  at: Date;
  /** The user who asked for the change (a retry, a cancel); absent for the worker's steps. */
  actor?: string;
}

export interface Order {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  currency: string;
  items: OrderItem[];
  total: string;
  metadata: Record<string, string>;
  version: number;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  status_history: StatusChange[];
}

/** An order as the worker reads it: everything but its history, which processing never needs. */
export type OrderToProcess = Omit<Order, 'status_history'>;

/** The lifecycle: which status may follow which. */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['processing', 'cancelled'],
  processing: ['completed', 'failed'],
  completed: [],
  cancelled: [],
  // A manager's retry re-drives a failed order through the worker.
  failed: ['pending'],
};

/**
 * Steps taken only when a user asks for them. An order whose every next step is one of these
 * waits for nobody's work: the reconciler leaves it alone and retention may purge it.
 */
const ON_REQUEST_ONLY: Readonly<Partial<Record<OrderStatus, readonly OrderStatus[]>>> = {
  pending: ['cancelled'],
  failed: ['pending'],
};

export const INITIAL_STATUS: OrderStatus = 'pending';
/** Nothing moves these on by itself: the order is done, and retention may purge it. */
export const FINISHED_STATUSES = ORDER_STATUSES.filter((s) =>
  TRANSITIONS[s].every((to) => ON_REQUEST_ONLY[s]?.includes(to)),
);
export const UNFINISHED_STATUSES = ORDER_STATUSES.filter((s) => !FINISHED_STATUSES.includes(s));

declare const allowed: unique symbol;
/** A step the lifecycle allows; only `transition` makes one. */
export type Transition = { readonly from: OrderStatus; readonly to: OrderStatus } & {
  readonly [allowed]: true;
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * The step from `from` to `to`, which the repository applies as a guarded update (`WHERE status
 * = from`); a step the lifecycle does not allow is a 409.
 */
export function transition(from: OrderStatus, to: OrderStatus): Transition {
  if (!canTransition(from, to)) throw invalidTransition(from, to);
  return { from, to } as Transition;
}

/** The 409 for an order in `from` asked to move to `to`. */
export function invalidTransition(from: OrderStatus, to: OrderStatus): AppError {
  return new AppError('invalid-transition', `An order that is ${from} cannot be ${to}.`);
}
