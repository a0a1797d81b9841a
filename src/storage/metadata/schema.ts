import type { Generated } from 'kysely';

/** Table shapes as Kysely sees them (snake_case columns; booleans are 0/1 integers). */
export interface Database {
  organizations: {
    id: string;
    name: string;
    slug: string;
    created_at: number;
    revision: Generated<number>;
  };
  users: {
    id: string;
    email: string;
    password_hash: string | null;
    system_admin: number;
    created_at: number;
  };
  memberships: {
    user_id: string;
    org_id: string;
    role: string;
    created_at: number;
  };
  key_versions: {
    key_id: string;
    owner_id: string;
    purpose: string;
    version: number;
    digest: string;
    master_key_id: string;
    sealed: string;
    created_at: number;
    expires_at: number | null;
  };
  audit_log: {
    id: Generated<number>;
    at: number;
    org_id: string | null;
    actor: string;
    action: string;
    key_id: string | null;
    detail: string | null;
  };
}
