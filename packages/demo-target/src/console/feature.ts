import type { Feature } from '../feature.js';
import { readJson } from '../http/body.js';
import { publicFile } from '../http/files.js';
import { sendError, sendJson } from '../http/respond.js';
import { withKnobs } from '../knobs/endpoint.js';
import { LoginBody, issuesText } from '../chat/wire.js';

/**
 * The agent console (app origin): /console/ page and POST /api/agent/login
 * (waits the `login` knob, may answer its injected error). The console then
 * connects the CRM socket with `auth: {role: 'agent', token}`.
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
        if (!r.success) return sendError(res, 400, 'bad_request', `login: ${issuesText(r.error)}; send {"username", "password"}`);
        const token = ctx.agents.login(r.data.username, r.data.password);
        if (!token) {
          log.info('login refused');
          return sendError(res, 401, 'bad_credentials', 'wrong username or password');
        }
        sendJson(res, 200, { token, agent: { name: r.data.username } });
      }),
    );
  },
};
