// [1] Log in as the seeded demo user: the users service issues an ES256 JWT, the gateway verifies it.
import { expectThat } from '../http-client.mjs';

/**
 * The seeded local demo user; against a deployment (staging), the admin setup:cloudflare created,
 * given as STRATUS_DEMO_EMAIL and STRATUS_DEMO_PASSWORD.
 */
export const DEMO_USER = {
  email: process.env.STRATUS_DEMO_EMAIL || 'demo@example.com',
  password: process.env.STRATUS_DEMO_PASSWORD || 'demo-password-123',
};

/** A JWT's header and claims, read without verifying (the gateway does that). */
const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

export const login = {
  title: 'Log in as the demo user',
  pattern: 'authentication at the edge: the users service signs an ES256 JWT, the gateway verifies it on every call',
  async run({ call, show, state }) {
    const answer = await call('POST', '/api/users/login', { body: DEMO_USER });
    const token = answer.body?.accessToken;
    show('POST', '/api/users/login', answer, [], typeof token === 'string' ? { ...answer.body, accessToken: `${token.slice(0, 24)}…`, refreshToken: '…' } : undefined);
    expectThat(answer.status === 200 && typeof token === 'string', `login answered ${answer.status}, not 200 with an accessToken`);
    const [header, claims] = token.split('.').slice(0, 2).map(decodePart);
    const me = await call('GET', '/api/users/me', { token });
    show('GET', '/api/users/me', me);
    expectThat(me.status === 200 && me.body?.email === DEMO_USER.email, `GET /api/users/me with the token answered ${me.status}, not 200 for ${DEMO_USER.email}`);
    const anonymous = await call('GET', '/api/users/me', { token: 'not-a-token' });
    show('GET', '/api/users/me  (Bearer not-a-token)', anonymous, ['www-authenticate'], anonymous.body?.type ?? anonymous.body);
    expectThat(anonymous.status === 401, `a bad token answered ${anonymous.status}, not 401`);
    state.token = token;
    return `an ${header.alg} JWT (kid ${header.kid}) for ${claims.sub}, roles [${claims.roles}], valid ${answer.body.expiresIn} s; a bad token is refused with 401 at the gateway`;
  },
};
