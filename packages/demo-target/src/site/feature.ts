import type { Feature } from '../feature.js';
import { publicFile } from '../http/files.js';

/** The visitor website (site origin): `/` embeds the widget's loader script; waits the `page` knob. */
export const siteFeature: Feature = {
  name: 'site',
  register(ctx) {
    ctx.site.add('GET', '/', publicFile(ctx, 'site/index.html', 'page'));
  },
};
