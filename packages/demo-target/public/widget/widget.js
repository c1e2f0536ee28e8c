// The chat widget, running in the iframe on the app origin.
// Load: POST /api/widget/init -> connect the CRM socket -> launcher ready.
// Open -> pre-chat form -> POST /api/chats -> join over the socket -> chat view.
// Send -> POST /api/chats/:id/messages. Agent replies arrive as 'chat:message'.
// Shapes, from the widget document's URL query (as other products are built; the
// frame document can also be opened on its own as a full-page chat):
//   transport=rest (default) | socket (the chat starts and messages go over the CRM
//     socket: 'visitor:start' and 'visitor:message' with acks; no REST calls after init);
//   send=button (default) | enter (no send button: Enter in the message box sends);
//   open=click (default: the launcher opens the chat) | auto (the chat opens by itself when ready).
(function () {
  'use strict';
  var shape = new URLSearchParams(location.search);
  var overSocket = shape.get('transport') === 'socket';
  var sendOnEnter = shape.get('send') === 'enter';
  var openAuto = shape.get('open') === 'auto';
  var launcher = document.getElementById('up-launcher');
  var panel = document.getElementById('up-panel');
  var socket = null;
  var config = null;
  var chat = null; // { chatId, visitorToken }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showError(message) {
    var box = document.getElementById('up-error');
    if (!box) {
      box = el('div', { id: 'up-error', role: 'alert' });
      document.getElementById('up-root').prepend(box);
    }
    box.textContent = message;
  }

  async function post(path, body) {
    var res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    var data = await res.json().catch(function () {
      return {};
    });
    if (!res.ok) throw new Error(path + ': ' + (data.message || 'HTTP ' + res.status));
    return data;
  }

  function connect() {
    return new Promise(function (resolve) {
      socket = io({ path: config.realtime.path, auth: { role: 'visitor' } });
      socket.on('connect', function () {
        resolve();
      });
      socket.on('connect_error', function (err) {
        showError('realtime: ' + err.message);
      });
      socket.on('chat:message', function (event) {
        if (chat && event.chatId === chat.chatId && event.message.from === 'agent') addMessage(event.message.text, 'agent');
      });
    });
  }

  function addMessage(text, from) {
    var list = document.getElementById('up-messages');
    var item = el('div', { class: 'up-msg up-msg-' + from }, text);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function showPrechat() {
    panel.replaceChildren(
      el('div', { class: 'up-header' }, config.title),
      (function () {
        var form = el('form', { class: 'up-form', id: 'up-prechat' });
        form.append(
          el('label', { for: 'up-name' }, 'Your name'),
          el('input', { id: 'up-name', name: 'name', autocomplete: 'name', maxlength: '80' }),
          el('button', { id: 'up-start', type: 'submit' }, 'Start chat'),
        );
        form.addEventListener('submit', function (e) {
          e.preventDefault();
          startChat(document.getElementById('up-name').value.trim() || 'Visitor');
        });
        return form;
      })(),
    );
    panel.hidden = false;
  }

  async function startChat(name) {
    document.getElementById('up-start').disabled = true;
    try {
      if (overSocket) {
        var started = await socket.timeout(10000).emitWithAck('visitor:start', { name: name });
        if (!started.ok) throw new Error('start: ' + started.error);
        chat = started.data;
      } else {
        chat = await post('/api/chats', { name: name });
        var joined = await socket.timeout(10000).emitWithAck('visitor:join', chat);
        if (!joined.ok) throw new Error('join: ' + joined.error);
      }
      // A reconnect (dropped socket) rejoins the chat through the handshake.
      socket.auth = { role: 'visitor', chatId: chat.chatId, visitorToken: chat.visitorToken };
      showChat();
      announceChat();
    } catch (err) {
      chat = null;
      showError(err.message);
      document.getElementById('up-start').disabled = false;
    }
  }

  function showChat() {
    var compose = el('form', { class: 'up-compose', id: 'up-compose' });
    // With send=enter there is no button: Enter in the only field submits the form.
    compose.append(el('input', { id: 'up-input', name: 'text', autocomplete: 'off', maxlength: '2000', placeholder: 'Type a message' }));
    if (!sendOnEnter) compose.append(el('button', { id: 'up-send', type: 'submit' }, 'Send'));
    compose.addEventListener('submit', function (e) {
      e.preventDefault();
      var input = document.getElementById('up-input');
      var text = input.value.trim();
      if (!text) return;
      input.value = '';
      send(text);
    });
    var list = el('div', { id: 'up-messages', 'aria-live': 'polite' });
    list.appendChild(el('div', { class: 'up-msg up-msg-agent up-greeting' }, config.greeting));
    panel.replaceChildren(el('div', { class: 'up-header' }, config.title), list, compose);
    document.getElementById('up-input').focus();
  }

  async function send(text) {
    var item = addMessage(text, 'visitor');
    item.dataset.state = 'sending';
    try {
      if (overSocket) {
        var sent = await socket.timeout(10000).emitWithAck('visitor:message', { chatId: chat.chatId, visitorToken: chat.visitorToken, text: text });
        if (!sent.ok) throw new Error('message: ' + sent.error);
      } else {
        await post('/api/chats/' + encodeURIComponent(chat.chatId) + '/messages', { text: text, visitorToken: chat.visitorToken });
      }
      item.dataset.state = 'sent';
    } catch (err) {
      item.dataset.state = 'failed';
      showError(err.message);
    }
  }

  // The chat exists: tell the widget's own features (video calls) and the host
  // page (its cobrowse script, through the loader) which chat this is.
  function announceChat() {
    var detail = { chatId: chat.chatId, visitorToken: chat.visitorToken };
    window.dispatchEvent(new CustomEvent('up:chat', { detail: detail }));
    if (window.parent !== window) window.parent.postMessage({ type: 'up:chat', chatId: detail.chatId, visitorToken: detail.visitorToken }, '{{SITE_URL}}');
  }

  launcher.addEventListener('click', function () {
    if (launcher.dataset.ready !== 'true') return;
    if (!panel.hidden) {
      panel.hidden = true;
      return;
    }
    if (chat) {
      panel.hidden = false;
      return;
    }
    showPrechat();
  });

  (async function boot() {
    try {
      config = await post('/api/widget/init', { pageUrl: document.referrer });
      await connect();
      launcher.dataset.ready = 'true';
      if (openAuto) showPrechat();
    } catch (err) {
      launcher.dataset.error = 'true';
      showError(err.message);
    }
  })();
})();
