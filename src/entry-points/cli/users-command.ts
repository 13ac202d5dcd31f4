import { parseArgs } from 'node:util';
import { AppError } from '../../lib/app-error';
import type { UserRepository } from '../../data-access/user-repository';
import { saveUser } from '../../domain/manage-users';
import type { UserRole } from '../../domain/principal';

export const USERS_USAGE =
  'usage: main.js users add NAME --role manager|customer [--customer-id ID] --password-stdin';

/** `users add NAME --role R [--customer-id ID] --password-stdin`: create or replace a user. */
export async function usersCommand(
  args: string[],
  users: UserRepository,
  stdin: NodeJS.ReadableStream,
): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      'customer-id': { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
    },
  });
  const [verb, username, ...extra] = positionals;
  if (verb !== 'add' || !username || extra.length > 0 || !values.role) {
    throw new AppError('validation', USERS_USAGE);
  }
  if (!values['password-stdin']) throw new AppError('validation', '--password-stdin is required');
  const password = (await readAll(stdin)).replace(/\r?\n$/, '');
  await saveUser(users, {
    username,
    role: values.role as UserRole,
    customerId: values['customer-id'],
    password,
  });
  return `user ${username} saved (${values.role})`;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
