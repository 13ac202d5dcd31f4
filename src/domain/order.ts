/** Order shapes shared by the use cases and repositories. Money is kept as decimal strings. */
export type OrderStatus = 'pending' | 'processing' | 'completed' | 'cancelled' | 'failed';

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

/** The lifecycle: which status may follow which. */
const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['processing', 'cancelled'],
  processing: ['completed', 'failed'],
  completed: [],
  cancelled: [],
  failed: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}
