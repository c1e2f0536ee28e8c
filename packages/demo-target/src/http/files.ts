import type { FeatureContext } from '../feature.js';
import type { LatencyKnob } from '../knobs/schema.js';
import { sendText } from './respond.js';
import type { Handler } from './router.js';
import { contentType, readPublic } from './static.js';

/**
 * A route serving one file from public/, after the given latency knob (if
 * any), with `{{SITE_URL}}` / `{{APP_URL}}` filled in.
 */
export function publicFile(ctx: Pick<FeatureContext, 'knobs' | 'delays' | 'urls'>, relative: string, latency?: LatencyKnob): Handler {
  return async (_req, res) => {
    if (latency) await ctx.delays.wait(ctx.knobs.latency(latency));
    const { siteUrl, appUrl } = ctx.urls();
    const text = await readPublic(relative, { SITE_URL: siteUrl, APP_URL: appUrl });
    sendText(res, 200, contentType(relative), text);
  };
}
