import { chatFeature } from './chat/feature.js';
import { cobrowseFeature } from './cobrowse/feature.js';
import { consoleFeature } from './console/feature.js';
import type { Feature } from './feature.js';
import { knobsFeature } from './knobs/feature.js';
import { siteFeature } from './site/feature.js';
import { videoFeature } from './video/feature.js';
import { widgetFeature } from './widget/feature.js';

/**
 * The features the demo target mounts, in order. To add one (e.g. video
 * signaling on '/signal/socket.io/', cobrowse on '/cobrowse/socket.io/'),
 * write `src/<name>/feature.ts` exporting a `Feature` whose `register(ctx)`
 * adds routes to `ctx.site` / `ctx.app` and creates its Socket.IO server with
 * `ctx.realtime.create(path, () => ctx.knobs.latency('<knob>'))`, then add it
 * to this list. Its latency knobs are already in the Knobs schema
 * (`signaling`, `cobrowseScript`, `cobrowseEvents`).
 */
export const FEATURES: readonly Feature[] = [
  knobsFeature,
  siteFeature,
  widgetFeature,
  chatFeature,
  consoleFeature,
  videoFeature, // signaling on /signal/socket.io/ (knobs `signaling`, `ice`)
  cobrowseFeature, // /cobrowse/cobrowse.js and /cobrowse/socket.io/ (knobs `cobrowseScript`, `cobrowseEvents`)
];
