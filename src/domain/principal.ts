export type UserRole = 'customer' | 'manager';

/** The authenticated caller, from Basic credentials or a JWT. */
export interface Principal {
  username: string;
  role: UserRole;
  customerId?: string;
  /** Of a user from the users table: goes into the tokens issued for it. */
  tokenVersion?: number;
}
