import { AppError } from '../lib/app-error';
import { BCRYPT_MAX_BYTES, hashPassword, matchesHash } from '../lib/password-hasher';
import type { UserRepository } from '../data-access/user-repository';
import type { UserRole } from './principal';

export interface NewUser {
  username: string;
  role: UserRole;
  customerId?: string;
  password: string;
}

export const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const PASSWORD_MIN_CHARS = 8;

/** Why a password cannot be used, or undefined. bcrypt would silently ignore bytes past 72. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN_CHARS) {
    return `the password needs at least ${PASSWORD_MIN_CHARS} characters`;
  }
  if (Buffer.byteLength(password) > BCRYPT_MAX_BYTES) {
    return `the password may have at most ${BCRYPT_MAX_BYTES} bytes (UTF-8)`;
  }
  return undefined;
}

export const USERNAME_RULE = 'username: 1-64 of A-Z a-z 0-9 . _ @ -';

/** Creates or replaces a user (the `users add` command and the ADMIN_* bootstrap). */
export async function saveUser(users: UserRepository, user: NewUser): Promise<void> {
  if (!USERNAME.test(user.username)) throw new AppError('validation', USERNAME_RULE);
  if (user.role !== 'customer' && user.role !== 'manager') {
    throw new AppError('validation', '--role must be customer or manager');
  }
  if (user.role === 'customer' && !(user.customerId && ID.test(user.customerId))) {
    throw new AppError(
      'validation',
      'a customer needs --customer-id (1-64 of A-Z a-z 0-9 . _ : -)',
    );
  }
  const problem = passwordProblem(user.password);
  if (problem) throw new AppError('validation', problem);
  await users.save({
    username: user.username,
    role: user.role,
    customer_id: user.role === 'customer' ? user.customerId! : null,
    password_hash: await hashPassword(user.password),
  });
}

/**
 * The ADMIN_* bootstrap at every start: saves the manager only when it is missing or differs,
 * so restarting pods does not replace it (which would end the tokens issued to it).
 */
export async function ensureManager(
  users: UserRepository,
  admin: { username: string; password: string },
): Promise<boolean> {
  const existing = await users.find(admin.username);
  if (existing?.role === 'manager' && (await matchesHash(admin.password, existing.password_hash))) {
    return false;
  }
  await saveUser(users, { ...admin, role: 'manager' });
  return true;
}
