import type { FeatureContext } from '../feature.js';
import { BodyError } from '../http/body.js';
import { sendError } from '../http/respond.js';
import type { Handler } from '../http/router.js';
import { injectedStatus } from './decide.js';
import type { ErrorKnob, LatencyKnob } from './schema.js';

/**
 * Wrap a route so its knobs apply: wait the endpoint's latency (exact, before
 * anything is written), then answer with the injected error if one is drawn,
 * else run the real handler. A BodyError from the handler becomes its status.
 */
export function withKnobs(
  ctx: Pick<FeatureContext, 'knobs' | 'delays' | 'log'>,
  knobs: { latency: LatencyKnob; error?: ErrorKnob },
  handler: Handler,
): Handler {
  return async (req, res, params) => {
    await ctx.delays.wait(ctx.knobs.latency(knobs.latency));
    const status = knobs.error ? injectedStatus(ctx.knobs.error(knobs.error), Math.random()) : null;
    if (status !== null) {
      req.resume();
      sendError(res, status, 'injected', `error injected by the ${knobs.error} knob`);
      return;
    }
    try {
      await handler(req, res, params);
    } catch (e) {
      if (e instanceof BodyError) {
        sendError(res, e.status, 'bad_request', e.message);
        return;
      }
      throw e;
    }
  };
}
