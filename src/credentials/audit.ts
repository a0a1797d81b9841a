import { InternalError } from '../common/errors.js';
import type { AuditRow, StoreOps } from '../storage/db/types.js';
import { isoTime } from './context.js';
import type { AuditEntry, AuditPage, NewAuditEntry } from './types.js';

export const AUDIT_PAGE_MAX = 500;
const ANY_KEY = /ap[osu]_[0-9A-Za-z]{12}_[0-9A-Za-z]{30}/;

/** Appends an entry; refuses one that holds anything shaped like a full key. */
export async function appendAudit(ops: StoreOps, at: number, entry: NewAuditEntry): Promise<number> {
  const detail = entry.detail == null ? null : JSON.stringify(entry.detail);
  const fields = [entry.actor, entry.action, entry.keyId ?? '', detail ?? ''];
  if (fields.some((field) => ANY_KEY.test(field))) {
    throw new InternalError('AUDIT_SECRET', `audit entry ${entry.action} must not hold a key, only key ids`);
  }
  if (entry.action.length === 0 || entry.action.length > 100 || entry.actor.length > 300) {
    throw new InternalError('AUDIT_INVALID', 'audit action must have 1 to 100 characters, actor at most 300');
  }
  return ops.appendAudit({
    at,
    orgId: entry.orgId,
    actor: entry.actor,
    action: entry.action,
    keyId: entry.keyId ?? null,
    detail,
  });
}

/** Newest first, `limit` clamped to 1..500; `before` is the id from the previous page. */
export async function listAudit(
  ops: StoreOps,
  orgId: string | null,
  page: { limit?: number; before?: number } = {},
): Promise<AuditPage> {
  const limit = Math.min(Math.max(Math.trunc(page.limit ?? 50), 1), AUDIT_PAGE_MAX);
  const rows = await ops.listAudit(orgId, { limit: limit + 1, before: page.before });
  const entries = rows.slice(0, limit).map(toEntry);
  const last = entries.at(-1);
  return { entries, nextBefore: rows.length > limit && last !== undefined ? last.id : null };
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: isoTime(row.at),
    orgId: row.orgId,
    actor: row.actor,
    action: row.action,
    keyId: row.keyId,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
  };
}
