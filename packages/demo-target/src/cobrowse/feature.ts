import type { Feature } from '../feature.js';
import { publicFile } from '../http/files.js';
import { CobrowseServer } from './server.js';

/**
 * Cobrowse: the visitor page loads /cobrowse/cobrowse.js on request (knob
 * `cobrowseScript`), which streams the page's DOM over its own Socket.IO server
 * at /cobrowse/socket.io/ (knob `cobrowseEvents`); the agent console renders a
 * live mirror (/cobrowse/console-cobrowse.js).
 */
export const cobrowseFeature: Feature = {
  name: 'cobrowse',
  register(ctx) {
    new CobrowseServer(ctx);
    ctx.app.add('GET', '/cobrowse/cobrowse.js', publicFile(ctx, 'cobrowse/cobrowse.js', 'cobrowseScript'));
    for (const file of ['console-cobrowse.js', 'console-cobrowse.css']) {
      ctx.app.add('GET', `/cobrowse/${file}`, publicFile(ctx, `cobrowse/${file}`));
    }
  },
};
