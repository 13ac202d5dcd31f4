import { AppError } from '../lib/app-error';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import type { Logger } from '../lib/logger';
import type { ApiKeyRecord, ApiKeyRepository } from '../data-access/api-key-repository';
import { API_KEY_PREFIX, generateApiKey } from './api-key';
import type { Principal, UserRole } from './principal';

export interface ApiKeyInput {
  role: UserRole;
  customer_id?: string;
  expires_at?: string;
  name?: string;
}

/** A key as listed: never its secret, only a hint to tell keys apart. */
export interface ApiKeyView {
  id: string;
  name: string | null;
  role: UserRole;
  customer_id: string | null;
  prefix: string;
  last4: string;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

/** What a DATETIME column holds. */
const LATEST = new Date('9999-12-31T23:59:59.999Z');

export function createManageApiKeys(deps: { apiKeys: ApiKeyRepository; logger: Logger }) {
  /**
   * Managers' own credentials only: a key that could mint or revoke keys would let a leaked
   * key outlive its revocation (GitHub and Stripe keep key management away from keys too).
   */
  function assertManagerUser(principal: Principal): void {
    if (principal.role !== 'manager') {
      throw new AppError('forbidden', 'Only managers may manage API keys.');
    }
    if (principal.apiKeyId) {
      throw new AppError(
        'forbidden',
        "API keys cannot manage API keys; use a manager's credentials.",
      );
    }
  }

  async function createApiKey(principal: Principal, input: ApiKeyInput) {
    assertManagerUser(principal);
    const expiresAt = input.expires_at === undefined ? null : expiryOf(input.expires_at);
    if (input.role === 'customer' && input.customer_id === undefined) {
      throw invalid('/customer_id', 'is required for a customer key');
    }
    if (input.role === 'manager' && input.customer_id !== undefined) {
      throw invalid('/customer_id', 'is only for customer keys');
    }
    const generated = generateApiKey();
    const record = {
      id: generated.id,
      key_hash: generated.hash,
      last4: generated.last4,
      name: input.name ?? null,
      role: input.role,
      customer_id: input.customer_id ?? null,
      created_by: principal.username,
      created_at: new Date(),
      expires_at: expiresAt,
    };
    await deps.apiKeys.insert(record);
    deps.logger.info('api key created', {
      api_key_id: record.id,
      role: record.role,
      actor: principal.username,
    });
    return { ...view({ ...record, last_used_at: null, revoked_at: null }), key: generated.key };
  }

  async function listApiKeys(principal: Principal, page: { limit: number; cursor?: string }) {
    assertManagerUser(principal);
    const after = page.cursor ? decodeCursor(page.cursor, 2) : undefined;
    const keys = await deps.apiKeys.list({
      limit: page.limit,
      after: after && { createdAt: new Date(after[0]!), id: after[1]! },
    });
    const last = keys.at(-1);
    const next_cursor =
      keys.length === page.limit && last
        ? encodeCursor([last.created_at.toISOString(), last.id])
        : null;
    return { data: keys.map(view), next_cursor };
  }

  /** Refused by every pod within a second; an unknown or already revoked id is 404. */
  async function revokeApiKey(principal: Principal, id: string): Promise<void> {
    assertManagerUser(principal);
    if (!(await deps.apiKeys.revoke(id, new Date()))) {
      throw new AppError('not-found', `No API key ${id}.`);
    }
    deps.logger.info('api key revoked', { api_key_id: id, actor: principal.username });
  }

  return { createApiKey, listApiKeys, revokeApiKey };
}

export type ManageApiKeys = ReturnType<typeof createManageApiKeys>;

function view(key: ApiKeyRecord): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    customer_id: key.customer_id,
    prefix: `${API_KEY_PREFIX}${key.id}`,
    last4: key.last4,
    created_by: key.created_by,
    created_at: key.created_at,
    expires_at: key.expires_at,
    last_used_at: key.last_used_at,
  };
}

function expiryOf(text: string): Date {
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw invalid('/expires_at', 'is not a readable time');
  if (at <= new Date()) throw invalid('/expires_at', 'must be in the future');
  return at > LATEST ? LATEST : at;
}

function invalid(path: string, message: string): AppError {
  return new AppError('validation', `The request is invalid: ${path} ${message}.`, {
    errors: [{ path, message }],
  });
}
