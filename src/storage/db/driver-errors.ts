import { ConflictError } from '../../common/errors.js';

/**
 * Turns a driver's unique-constraint error into our ConflictError (with the driver error as
 * cause) so callers never see SQLite or PostgreSQL error shapes. Anything else passes through.
 */
export async function conflictAs<T>(message: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw Object.assign(new ConflictError(message), { cause: error });
    throw error;
  }
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
