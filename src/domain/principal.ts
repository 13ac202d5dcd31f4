export type UserRole = 'customer' | 'manager';

/** The authenticated caller, from Basic credentials, a JWT or an API key. */
export interface Principal {
  username: string;
  role: UserRole;
  customerId?: string;
  /** Of a user from the users table: goes into the tokens issued for it. */
  tokenVersion?: number;
  /** Of a caller authenticated by an API key: its rate limit and its rights are the key's. */
  apiKeyId?: string;
}
