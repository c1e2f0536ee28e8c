import type { Feature } from '../feature.js';
import { readJson } from '../http/body.js';
import { publicFile } from '../http/files.js';
import { sendError, sendJson } from '../http/respond.js';
import { withKnobs } from '../knobs/endpoint.js';
import { LoginBody, issuesText } from '../chat/wire.js';
import { MAX_NICKNAME, SSO_COOKIE } from './sessions.js';

/**
 * The agent console (app origin): /console/ page, POST /api/agent/login ({username, password},
 * or {nickname} from a `?login=nickname` console) and POST /api/agent/session (the single
 * sign-on cookie of a `?login=cookie` console, or the same session in the body from a `?login=storage`
 * console, which keeps it in localStorage); each waits the `login` knob and may answer its
 * injected error. The console then connects the CRM socket with `auth: {role: 'agent', token}`
 * (and `auto: true` on a `?assign=auto` console). The console's shape options are in
 * public/console/console.js.
 */
export const consoleFeature: Feature = {
  name: 'console',
  register(ctx) {
    const log = ctx.log.child({ component: 'console' });
    ctx.app.add('GET', '/console', (_req, res) => {
      res.writeHead(301, { location: '/console/' });
      res.end();
    });
    ctx.app.add('GET', '/console/', publicFile(ctx, 'console/index.html'));
    ctx.app.add('GET', '/console/console.js', publicFile(ctx, 'console/console.js'));
    ctx.app.add('GET', '/console/console.css', publicFile(ctx, 'console/console.css'));
    ctx.app.add(
      'POST',
      '/api/agent/login',
      withKnobs(ctx, { latency: 'login', error: 'login' }, async (req, res) => {
        const r = LoginBody.safeParse(await readJson(req));
        if (!r.success)
          return sendError(res, 400, 'bad_request', `login: ${issuesText(r.error)}; send {"username", "password"} (or {"nickname"} from a nickname console)`);
        const body = r.data;
        const name = 'nickname' in body ? body.nickname.trim() : body.username;
        const token = 'nickname' in body ? ctx.agents.nickname(body.nickname) : ctx.agents.login(body.username, body.password);
        if (!token) {
          log.info('login refused');
          return sendError(res, 401, 'bad_credentials', 'nickname' in body ? `a nickname is 1..${MAX_NICKNAME} characters` : 'wrong username or password');
        }
        sendJson(res, 200, { token, agent: { name } });
      }),
    );
    // A console behind single sign-on (`?login=cookie`): the session cookie the SSO set is the log-in.
    ctx.app.add(
      'POST',
      '/api/agent/session',
      withKnobs(ctx, { latency: 'login', error: 'login' }, async (req, res) => {
        // The session from the cookie, or from the body of a `?login=storage` console ({ session }).
        const raw = await readJson(req).catch(() => null);
        const body = (raw !== null && typeof raw === 'object' ? raw : {}) as { session?: unknown };
        const session = cookieValue(req.headers.cookie, SSO_COOKIE) ?? (typeof body.session === 'string' && body.session !== '' ? body.session : undefined);
        const token = session === undefined ? null : ctx.agents.session(session);
        if (!token) return sendError(res, 401, 'no_session', `no valid ${SSO_COOKIE} cookie or stored session: sign in through single sign-on first`);
        sendJson(res, 200, { token, agent: { name: 'sso-agent' } });
      }),
    );
  },
};

/** Pure: one cookie's value from a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
