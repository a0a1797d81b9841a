/** Table shapes as Kysely sees them (snake_case; times in ms since the epoch). */
export interface SystemDatabase {
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
