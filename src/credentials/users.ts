import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, UsageError } from '../common/errors.js';
import { echo } from '../common/validate.js';
import type { OrgRole, StoreOps, UserRow } from '../storage/db/types.js';
import { appendAudit } from './audit.js';
import type { CredentialsContext } from './context.js';
import { mintVersion } from './key-versions.js';
import { normalizeEmail } from './names.js';
import { checkPassword, hashPassword, verifyPasswordHash } from './password.js';
import type { Actor, AddedUser, Member, NewUser, User } from './types.js';

export function checkRole(role: string): OrgRole {
  if (role !== 'admin' && role !== 'member')
    throw new UsageError(`expected role admin or member; found '${echo(role)}'`);
  return role;
}

/**
 * A new user gets a personal service key and joins the organization; an existing user
 * (same e-mail) only joins it. The password is hashed before the transaction starts.
 */
export async function addUser(ctx: CredentialsContext, input: NewUser, actor: Actor): Promise<AddedUser> {
  const email = normalizeEmail(input.email);
  const role = checkRole(input.role);
  if (input.password !== undefined) checkPassword(input.password);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const added = await ctx.store.transaction(async (ops) => {
    if (!(await ops.lockOrganization(input.orgId))) throw new NotFoundError(`no organization ${input.orgId}`);
    const existing = await ops.findUserByEmail(email);
    if (existing !== undefined) return joinOrganization(ctx, ops, existing, input, role, actor);
    return createUser(
      ctx,
      ops,
      { email, role, orgId: input.orgId, passwordHash, systemAdmin: input.systemAdmin },
      actor,
    );
  });
  ctx.log.info({ userId: added.userId, orgId: added.orgId, role, created: added.created }, 'user added');
  return added;
}

async function createUser(
  ctx: CredentialsContext,
  ops: StoreOps,
  user: { email: string; role: OrgRole; orgId: string; passwordHash: string | null; systemAdmin?: boolean },
  actor: Actor,
): Promise<AddedUser> {
  const userId = randomUUID();
  const systemAdmin = user.systemAdmin === true;
  await ops.insertUser({
    id: userId,
    email: user.email,
    passwordHash: user.passwordHash,
    systemAdmin,
    createdAt: ctx.now(),
  });
  const key = mintVersion(ctx, userId, 'personal-service-key', 1);
  await ops.insertKeyVersion(key.row);
  await ops.insertMembership({ userId, orgId: user.orgId, role: user.role, createdAt: ctx.now() });
  await appendAudit(ops, ctx.now(), {
    orgId: user.orgId,
    actor,
    action: 'user.added',
    keyId: key.key.keyId,
    detail: { userId, email: user.email, role: user.role, systemAdmin, created: true },
  });
  return {
    userId,
    email: user.email,
    orgId: user.orgId,
    role: user.role,
    created: true,
    serviceKey: key.key.text,
    serviceKeyId: key.key.keyId,
  };
}

async function joinOrganization(
  ctx: CredentialsContext,
  ops: StoreOps,
  user: UserRow,
  input: NewUser,
  role: OrgRole,
  actor: Actor,
): Promise<AddedUser> {
  if (input.password !== undefined || (input.systemAdmin === true && !user.systemAdmin)) {
    throw new ConflictError(
      `user ${user.email} already exists; a password or system admin role is set only when a user is created`,
    );
  }
  if ((await ops.findMembership(user.id, input.orgId)) !== undefined) {
    throw new ConflictError(`${user.email} is already a member of organization ${input.orgId}`);
  }
  await ops.insertMembership({ userId: user.id, orgId: input.orgId, role, createdAt: ctx.now() });
  await appendAudit(ops, ctx.now(), {
    orgId: input.orgId,
    actor,
    action: 'user.added',
    keyId: null,
    detail: { userId: user.id, email: user.email, role, systemAdmin: user.systemAdmin, created: false },
  });
  return {
    userId: user.id,
    email: user.email,
    orgId: input.orgId,
    role,
    created: false,
    serviceKey: null,
    serviceKeyId: null,
  };
}

let dummyHash: Promise<string> | undefined;

/** The user when the password matches; null otherwise, after the same scrypt work either way. */
export async function verifyPassword(
  ctx: CredentialsContext,
  email: string,
  password: string,
): Promise<User | null> {
  const user = email.length <= 254 ? await ctx.store.findUserByEmail(email.trim().toLowerCase()) : undefined;
  if (user?.passwordHash == null) {
    dummyHash ??= hashPassword('agentpack: no such user');
    await verifyPasswordHash(password, await dummyHash);
    return null;
  }
  if (!(await verifyPasswordHash(password, user.passwordHash))) return null;
  return toUser(user, await ctx.store.listMemberships(user.id));
}

export async function setPassword(
  ctx: CredentialsContext,
  userId: string,
  password: string,
  actor: Actor,
): Promise<void> {
  const passwordHash = await hashPassword(password);
  await ctx.store.transaction(async (ops) => {
    if (!(await ops.setPasswordHash(userId, passwordHash))) throw new NotFoundError(`no user ${userId}`);
    await appendAudit(ops, ctx.now(), {
      orgId: null,
      actor,
      action: 'user.password_set',
      detail: { userId },
    });
  });
}

/** By id or by e-mail (anything holding an '@'). */
export async function getUser(ctx: CredentialsContext, ref: string): Promise<User | null> {
  const user = ref.includes('@')
    ? await ctx.store.findUserByEmail(ref.trim().toLowerCase())
    : await ctx.store.findUserById(ref);
  return user === undefined ? null : toUser(user, await ctx.store.listMemberships(user.id));
}

export async function listMembers(ctx: CredentialsContext, orgId: string): Promise<Member[]> {
  const rows = await ctx.store.listMembers(orgId);
  return rows.map(({ user, role }) => ({
    userId: user.id,
    email: user.email,
    role,
    systemAdmin: user.systemAdmin,
  }));
}

function toUser(row: UserRow, memberships: { orgId: string; role: OrgRole }[]): User {
  return {
    userId: row.id,
    email: row.email,
    systemAdmin: row.systemAdmin,
    hasPassword: row.passwordHash !== null,
    memberships: memberships.map(({ orgId, role }) => ({ orgId, role })),
  };
}
