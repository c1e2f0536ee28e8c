import type { FeatureContext } from '../feature.js';
import { readJson } from '../http/body.js';
import { sendError, sendJson } from '../http/respond.js';
import { withKnobs } from '../knobs/endpoint.js';
import { CRM_SOCKET_PATH, type CrmRealtime } from './realtime.js';
import { AddMessageBody, CreateChatBody, InitBody, issuesText, type WidgetConfig } from './wire.js';

export const WIDGET_CONFIG: Readonly<WidgetConfig> = Object.freeze({
  widgetId: 'demo',
  title: 'Chat with us',
  greeting: 'Hi! How can we help?',
  realtime: { path: CRM_SOCKET_PATH },
});

/**
 * The widget's REST API on the app origin:
 * POST /api/widget/init, POST /api/chats, POST /api/chats/:id/messages.
 * Each waits its latency knob and may answer with its injected error.
 */
export function registerChatApi(ctx: FeatureContext, crm: CrmRealtime): void {
  const log = ctx.log.child({ component: 'chat-api' });

  ctx.app.add(
    'POST',
    '/api/widget/init',
    withKnobs(ctx, { latency: 'init', error: 'init' }, async (req, res) => {
      const r = InitBody.safeParse(await readJson(req));
      if (!r.success) return sendError(res, 400, 'bad_request', `init: ${issuesText(r.error)}`);
      sendJson(res, 200, WIDGET_CONFIG);
    }),
  );

  ctx.app.add(
    'POST',
    '/api/chats',
    withKnobs(ctx, { latency: 'create', error: 'create' }, async (req, res) => {
      const r = CreateChatBody.safeParse(await readJson(req));
      if (!r.success) return sendError(res, 400, 'bad_request', `create chat: ${issuesText(r.error)}; send {"name": "..."}`);
      const chat = ctx.chats.create(r.data.name);
      log.debug({ chatId: chat.id }, 'chat created');
      sendJson(res, 201, { chatId: chat.id, visitorToken: chat.visitorToken });
      crm.chatCreated(chat);
    }),
  );

  ctx.app.add(
    'POST',
    '/api/chats/:id/messages',
    withKnobs(ctx, { latency: 'addMessage', error: 'addMessage' }, async (req, res, params) => {
      const r = AddMessageBody.safeParse(await readJson(req));
      if (!r.success) {
        return sendError(res, 400, 'bad_request', `add message: ${issuesText(r.error)}; send {"text": "...", "visitorToken": "..."}`);
      }
      const chat = ctx.chats.get(params['id'] ?? '');
      if (!chat || chat.visitorToken !== r.data.visitorToken) {
        return sendError(res, 404, 'not_found', 'no such chat for this visitorToken');
      }
      const message = ctx.chats.addMessage(chat, 'visitor', r.data.text);
      sendJson(res, 201, { message });
      crm.visitorMessage(chat, message);
    }),
  );
}
