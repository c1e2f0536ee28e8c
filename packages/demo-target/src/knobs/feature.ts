import type { Feature } from '../feature.js';
import { readJson } from '../http/body.js';
import { sendError, sendJson } from '../http/respond.js';
import { KNOBS_ACCEPTED, parseKnobsPatch } from './schema.js';

/**
 * Knobs over HTTP on the app origin:
 * GET /__knobs, PUT /__knobs (merge patch), POST /__knobs/reset, POST /__knobs/drop-sockets.
 */
export const knobsFeature: Feature = {
  name: 'knobs',
  register(ctx) {
    const log = ctx.log.child({ component: 'knobs' });
    ctx.app.add('GET', '/__knobs', (_req, res) => sendJson(res, 200, ctx.knobs.get()));
    ctx.app.add('PUT', '/__knobs', async (req, res) => {
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (e) {
        sendError(res, 400, 'bad_request', `${(e as Error).message}. Accepted: ${KNOBS_ACCEPTED}`);
        return;
      }
      const r = parseKnobsPatch(body);
      if (!r.ok) {
        log.warn({ problem: r.message }, 'rejected knobs');
        sendError(res, 400, 'invalid_knobs', r.message);
        return;
      }
      const knobs = ctx.knobs.set(r.patch);
      log.info({ knobs }, 'knobs set');
      sendJson(res, 200, knobs);
    });
    ctx.app.add('POST', '/__knobs/reset', (_req, res) => {
      const knobs = ctx.knobs.reset();
      log.info({ knobs }, 'knobs reset');
      sendJson(res, 200, knobs);
    });
    ctx.app.add('POST', '/__knobs/drop-sockets', (_req, res) => {
      const dropped = ctx.realtime.dropAll();
      log.info({ dropped }, 'dropped realtime sockets');
      sendJson(res, 200, { dropped });
    });
  },
};
