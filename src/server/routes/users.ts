import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../core/errors.js';
import { ForbiddenError, UnauthorizedError } from '../../engine/auth.js';
import { apiKeySchema, conflict, errorSchema, errors, idParam, roleSchema, userSchema } from '../schemas.js';

interface LoginBody {
  username: string;
  password: string;
}
interface UserBody {
  username: string;
  password?: string;
  roles?: Record<string, string>;
  admin?: boolean;
}
interface UserPatch {
  password?: string | null;
  roles?: Record<string, string>;
  admin?: boolean;
}

const rolesSchema = { type: 'object', additionalProperties: roleSchema, description: 'Role per environment id, e.g. {"100000001": "promoter"}' } as const;

/** Login sessions, users (server admins manage them) and API keys. */
export const userRoutes: FastifyPluginAsync = async (app) => {
  const { auth, loginThrottle } = app.ferry;

  app.post<{ Body: LoginBody }>(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Log in with a user name and password; returns a session token that expires',
        description: 'Send the token as `Authorization: Bearer <token>` or `sessionID: <token>`.',
        security: [],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: {
          200: { type: 'object', properties: { token: { type: 'string' }, sessionID: { type: 'string' }, expiresAt: { type: 'string' }, user: userSchema } },
          400: errors[400],
          401: { ...errorSchema, description: 'Wrong user name or password' },
          429: { ...errorSchema, description: 'Too many failed logins for this user or from this address; see Retry-After' },
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      await loginThrottle.check(request, reply, username);
      try {
        const r = await auth.login(username, password, request.ip ?? null);
        return { token: r.token, sessionID: r.token, expiresAt: r.expiresAt, user: r.user };
      } catch (e) {
        if (e instanceof UnauthorizedError) await loginThrottle.failed(request, username);
        throw e;
      }
    },
  );

  app.post(
    '/auth/logout',
    { schema: { tags: ['auth'], summary: 'End the session whose token authenticates this request', response: { 204: { type: 'null' }, 401: errors[401] } } },
    async (request, reply) => {
      const cred = request.credential;
      if (request.principal?.credential === 'session' && cred) await auth.logout(cred.value, app.ferry.access(request).actor);
      return reply.status(204).send();
    },
  );

  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who am I: user name, server admin or not, roles per environment, credential kind',
        response: {
          200: { type: 'object', properties: { username: { type: 'string' }, admin: { type: 'boolean' }, roles: rolesSchema, credential: { type: 'string' } } },
          401: errors[401],
        },
      },
    },
    async (request) => {
      const p = request.principal!;
      return { username: p.username, admin: p.admin, roles: p.roles, credential: p.credential };
    },
  );

  // ------------------------------------------------------------ users

  app.post<{ Body: UserBody }>(
    '/users',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create a user with roles per environment (server admin)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username'],
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 8, maxLength: 1024, description: 'Omit for a user who only uses API keys' },
            roles: rolesSchema,
            admin: { type: 'boolean', default: false, description: 'Server admin: every role everywhere, manages users' },
          },
        },
        response: { 201: userSchema, ...errors, ...conflict },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      access.requireServerAdmin('creating users');
      const u = await auth.createUser(request.body, access.actor);
      return reply.status(201).send(u);
    },
  );

  app.get(
    '/users',
    {
      schema: {
        tags: ['auth'],
        summary: 'List users (server admin)',
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: userSchema }, total: { type: 'integer' } } }, ...errors },
      },
    },
    async (request) => {
      app.ferry.access(request).requireServerAdmin('listing users');
      const items = await auth.listUsers();
      return { items, total: items.length };
    },
  );

  app.get<{ Params: { username: string } }>(
    '/users/:username',
    { schema: { tags: ['auth'], summary: 'One user (server admin, or yourself)', params: idParam('username'), response: { 200: userSchema, ...errors } } },
    async (request) => {
      const access = app.ferry.access(request);
      if (!access.isAdmin && access.principal.username !== request.params.username) access.requireServerAdmin('reading other users');
      return auth.getUser(request.params.username);
    },
  );

  app.patch<{ Params: { username: string }; Body: UserPatch }>(
    '/users/:username',
    {
      schema: {
        tags: ['auth'],
        summary: 'Change a user: password, roles, server admin (server admin; a user may change their own password)',
        params: idParam('username'),
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            password: { type: ['string', 'null'], minLength: 8, maxLength: 1024, description: 'null removes the password (API keys only)' },
            roles: { ...rolesSchema, description: 'Replaces every role of the user' },
            admin: { type: 'boolean' },
          },
        },
        response: { 200: userSchema, ...errors, ...conflict },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const self = access.principal.username === request.params.username;
      const onlyPassword = Object.keys(request.body).every((k) => k === 'password');
      if (!access.isAdmin && !(self && onlyPassword)) throw new ForbiddenError('changing users needs a server admin (you may change your own password)');
      return auth.updateUser(request.params.username, request.body, access.actor);
    },
  );

  app.delete<{ Params: { username: string } }>(
    '/users/:username',
    {
      schema: {
        tags: ['auth'],
        summary: 'Delete a user; their keys are revoked and sessions ended (server admin)',
        params: idParam('username'),
        response: { 204: { type: 'null' }, ...errors, ...conflict },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      access.requireServerAdmin('deleting users');
      await auth.deleteUser(request.params.username, access.actor);
      return reply.status(204).send();
    },
  );

  // ------------------------------------------------------------ API keys

  app.post<{ Body: { username?: string; name: string } }>(
    '/api-keys',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API key; the key is in this answer only (it is stored hashed)',
        description: 'Without `username` the key is yours; a key for another user needs a server admin.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 201: { ...apiKeySchema, properties: { ...apiKeySchema.properties, key: { type: 'string', description: 'Shown once' } } }, ...errors },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const username = request.body.username ?? access.principal.username;
      if (username !== access.principal.username) access.requireServerAdmin('creating keys for other users');
      const k = await auth.createApiKey({ username, name: request.body.name }, access.actor);
      return reply.status(201).send(k);
    },
  );

  app.get<{ Querystring: { username?: string } }>(
    '/api-keys',
    {
      schema: {
        tags: ['auth'],
        summary: "List API keys (never the keys themselves): yours, or anyone's for a server admin",
        querystring: { type: 'object', additionalProperties: false, properties: { username: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: apiKeySchema }, total: { type: 'integer' } } }, ...errors },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const username = request.query.username ?? (access.isAdmin ? undefined : access.principal.username);
      if (username !== access.principal.username) access.requireServerAdmin("listing other users' keys");
      const items = await auth.listApiKeys({ username });
      return { items, total: items.length };
    },
  );

  app.delete<{ Params: { keyId: string } }>(
    '/api-keys/:keyId',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke an API key (yours, or any for a server admin)',
        params: idParam('keyId'),
        response: { 200: apiKeySchema, ...errors, ...conflict },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const k = await auth.getApiKey(request.params.keyId).catch(() => null);
      // Someone else's key id answers like an unknown one.
      if (!k || (!access.isAdmin && k.username !== access.principal.username)) {
        throw new NotFoundError('API key', request.params.keyId);
      }
      return auth.revokeApiKey(k.id, access.actor);
    },
  );
};
