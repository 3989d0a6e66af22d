/**
 * The login scripts written for the product call before anything else (the
 * documents name no credential): `POST /auth/authentication-endpoint/authenticate/token`
 * with `{"login", "password"}`, answered with the token as the raw body
 * (text, not JSON), which they then send as the `SMAX_AUTH_TOKEN` cookie.
 * Mounted at the server root, apart from the `/rest` routes.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { UnauthorizedError } from '../../../engine/auth.js';
import type { DialectSpec } from '../types.js';
import { errorSchema } from './schemas.js';

export const SESSION_COOKIE = 'SMAX_AUTH_TOKEN';
const LOGIN_PATH = '/auth/authentication-endpoint/authenticate/token';

export const dev2prodLogin: DialectSpec = {
  name: 'dev2prod-login',
  prefix: '',
  description: 'Dev2Prod: the login its clients call first; the token goes in the SMAX_AUTH_TOKEN cookie',
  environmentFrom: [],
  credentials: [],
  errorBody: (_status, e) => ({ code: e.code, message: e.message }),
  async routes(app: FastifyInstance, ctx) {
    // Cookies are set here only: the plugin's hooks stay in this scope (auth reads the cookie header itself, auth.ts).
    await app.register(cookie);
    // The issue's `/authenticate/token`, and `/authenticate/login`: the same login as many of the product's scripts spell it.
    for (const path of [LOGIN_PATH, '/auth/authentication-endpoint/authenticate/login']) {
      app.post<{ Body: { login: string; password: string }; Querystring: { TENANTID?: string } }>(
        path,
        {
          config: { public: true },
          schema: {
            hide: path !== LOGIN_PATH,
            summary: 'Log in: the session token as plain text, to send as the SMAX_AUTH_TOKEN cookie (or as a Bearer token)',
            description:
              'The token is also set as the SMAX_AUTH_TOKEN cookie (HttpOnly). It expires after FERRY_SESSION_TTL. `TENANTID` in the query is accepted and not needed: a Ferry user holds roles per tenant.',
            querystring: { type: 'object', properties: { TENANTID: { type: 'string', description: 'Accepted, not needed' } } },
            body: {
              type: 'object',
              required: ['login', 'password'],
              properties: { login: { type: 'string', minLength: 1, maxLength: 200 }, password: { type: 'string', maxLength: 1000 } },
            },
            produces: ['text/plain'],
            response: {
              200: { type: 'string', description: 'The session token' },
              400: { ...errorSchema, description: 'No login or password' },
              401: { ...errorSchema, description: 'Wrong login or password' },
              429: { ...errorSchema, description: 'Too many failed logins for this login or from this address; see Retry-After' },
            },
          },
        },
        async (request, reply) => {
          const { login, password } = request.body;
          // The server's one login throttle, shared with every other login route.
          await ctx.ferry.loginThrottle.check(request, reply, login);
          let session;
          try {
            session = await ctx.ferry.auth.login(login, password, request.ip ?? null);
          } catch (e) {
            if (e instanceof UnauthorizedError) await ctx.ferry.loginThrottle.failed(request, login);
            throw e;
          }
          void reply.setCookie(SESSION_COOKIE, session.token, {
            path: '/',
            httpOnly: true,
            sameSite: 'strict',
            secure: request.protocol === 'https',
            expires: new Date(session.expiresAt),
          });
          return reply.type('text/plain; charset=utf-8').send(session.token);
        },
      );
    }
  },
};
