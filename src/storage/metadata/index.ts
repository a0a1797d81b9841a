export { openMetadataStore, SQLITE_FILE } from './open.js';
export type {
  AuditRow,
  KeyVersionRow,
  MemberRow,
  MembershipRow,
  MetadataOps,
  MetadataStore,
  MetadataTarget,
  NewAuditRow,
  OrganizationRow,
  OrgRole,
  UserRow,
} from './types.js';
