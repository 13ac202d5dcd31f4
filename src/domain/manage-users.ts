import { AppError } from '../lib/app-error';
import type { UserRepository } from '../data-access/user-repository';
import { hashPassword } from './authentication';
import type { UserRole } from './principal';

export interface NewUser {
  username: string;
  role: UserRole;
  customerId?: string;
  password: string;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Creates or replaces a user (the `users add` command and the ADMIN_* bootstrap). */
export async function saveUser(users: UserRepository, user: NewUser): Promise<void> {
  if (!NAME.test(user.username))
    throw new AppError('validation', 'username: 1-64 of A-Z a-z 0-9 . _ @ -');
  if (user.role !== 'customer' && user.role !== 'manager') {
    throw new AppError('validation', '--role must be customer or manager');
  }
  if (user.role === 'customer' && !(user.customerId && ID.test(user.customerId))) {
    throw new AppError(
      'validation',
      'a customer needs --customer-id (1-64 of A-Z a-z 0-9 . _ : -)',
    );
  }
  if (user.password.length < 8)
    throw new AppError('validation', 'the password needs at least 8 characters');
  await users.save({
    username: user.username,
    role: user.role,
    customer_id: user.role === 'customer' ? user.customerId! : null,
    password_hash: await hashPassword(user.password),
  });
}
