import type { Feature } from '../feature.js';
import { registerChatApi } from './api.js';
import { CrmRealtime } from './realtime.js';

/** Live chat: the widget REST API and the CRM realtime socket (path /crm/socket.io/). */
export const chatFeature: Feature = {
  name: 'chat',
  register(ctx) {
    const crm = new CrmRealtime(ctx);
    registerChatApi(ctx, crm);
  },
};
