import type { Feature } from '../feature.js';
import { publicFile } from '../http/files.js';

/**
 * The chat widget (app origin): loader.js (injected by the site's snippet) adds
 * the iframe frame.html. Both wait the `widgetScript` knob; widget.js and
 * widget.css are not delayed.
 */
export const widgetFeature: Feature = {
  name: 'widget',
  register(ctx) {
    ctx.app.add('GET', '/widget/loader.js', publicFile(ctx, 'widget/loader.js', 'widgetScript'));
    ctx.app.add('GET', '/widget/frame.html', publicFile(ctx, 'widget/frame.html', 'widgetScript'));
    ctx.app.add('GET', '/widget/widget.js', publicFile(ctx, 'widget/widget.js'));
    ctx.app.add('GET', '/widget/widget.css', publicFile(ctx, 'widget/widget.css'));
  },
};
