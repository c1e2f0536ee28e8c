import type { Feature } from '../feature.js';
import { publicFile } from '../http/files.js';
import { SignalingServer } from './signaling.js';

/**
 * Video calls between the agent console and the chat's visitor: WebRTC media
 * between the widget frame and the console, signaling on its own Socket.IO
 * server at /signal/socket.io/ (knob `signaling`, candidate filter knob `ice`).
 * Browser code: /video/peer.js (both sides), /video/widget-call.js, /video/console-call.js.
 */
export const videoFeature: Feature = {
  name: 'video',
  register(ctx) {
    new SignalingServer(ctx);
    for (const file of ['peer.js', 'widget-call.js', 'widget-call.css', 'console-call.js', 'console-call.css']) {
      ctx.app.add('GET', `/video/${file}`, publicFile(ctx, `video/${file}`));
    }
  },
};
