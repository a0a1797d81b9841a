import type { Generated } from 'kysely';

/** Every table as Kysely sees it (snake_case columns; booleans are 0/1 integers; times in ms). */
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
  agent_versions: {
    kind: string;
    version: string;
    sha256: string;
    size: number;
    blob_key: string;
    entry_count: number;
    uploaded_at: number;
    uploaded_by: string;
    withdrawn_at: number | null;
  };
  bundles: {
    id: string;
    org_id: string;
    kind: string;
    version: string;
    base_sha256: string;
    key_versions: string;
    settings_sealed: string;
    settings_master_key_id: string;
    sha256: string;
    size: number;
    file_name: string;
    statement: string;
    signature: string;
    created_at: number;
  };
  http_sessions: {
    id_hash: string;
    user_id: string;
    created_at: number;
    expires_at: number;
  };
  system_secrets: {
    name: string;
    revision: number;
    master_key_id: string;
    sealed: string;
    updated_at: number;
  };
}
