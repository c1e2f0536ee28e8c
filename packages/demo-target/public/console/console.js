// The agent console. Log in over REST (POST /api/agent/login), then connect
// the CRM socket as an agent. Chats are listed live (.chat-item with the
// visitor's name and latest message); replies go over the socket
// ('agent:reply' with an ack).
// Shapes, from the console URL's query (as other products are built):
//   login=form (default) | nickname (one field, Enter logs in) | cookie (single sign-on: the
//     up_agent_session cookie logs in, no form) | storage (the same session, kept in localStorage
//     under up_agent_session);
//   assign=inbox (default: the agent clicks a chat) | auto (the server assigns chats; the console opens them).
//   render=<ms>: messages are shown that much after the socket brought them (a slow console).
// The open chat's id is in the URL's fragment (#chat/<id>) in every shape.
(function () {
  'use strict';
  var shape = new URLSearchParams(location.search);
  var loginMode = shape.get('login') || 'form';
  var autoAssign = shape.get('assign') === 'auto';
  // render=<ms>: a slow console, showing what the socket brings that much later (the socket's frames are not delayed).
  var renderDelay = Math.max(0, Number(shape.get('render')) || 0);
  function rendered(fn) {
    return renderDelay === 0
      ? fn
      : function (payload) {
          setTimeout(function () {
            fn(payload);
          }, renderDelay);
        };
  }
  var socket = null;
  var chats = new Map(); // chatId -> { chatId, visitorName, lastMessage }
  var openChatId = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function status(text) {
    document.getElementById('agent-status').textContent = text;
  }

  function renderItem(summary) {
    var list = document.getElementById('chat-list');
    var item = list.querySelector('[data-chat-id="' + CSS.escape(summary.chatId) + '"]');
    if (!item) {
      item = el('li', { class: 'chat-item', 'data-chat-id': summary.chatId });
      item.append(el('span', { class: 'chat-name' }), el('span', { class: 'chat-preview' }));
      item.addEventListener('click', function () {
        openChat(summary.chatId);
      });
    }
    item.querySelector('.chat-name').textContent = summary.visitorName;
    item.querySelector('.chat-preview').textContent = summary.lastMessage ? summary.lastMessage.text : '';
    item.classList.toggle('active', summary.chatId === openChatId);
    list.prepend(item); // newest activity first
  }

  function upsert(summary) {
    var prev = chats.get(summary.chatId);
    // Keep the newest message when events race the initial list.
    if (prev && prev.lastMessage && (!summary.lastMessage || prev.lastMessage.at > summary.lastMessage.at)) {
      summary = Object.assign({}, summary, { lastMessage: prev.lastMessage });
    }
    chats.set(summary.chatId, summary);
    renderItem(summary);
  }

  function appendMessage(message) {
    var list = document.getElementById('chat-messages');
    if (!list || list.querySelector('[data-id="' + CSS.escape(message.id) + '"]')) return;
    list.appendChild(el('div', { class: 'msg msg-' + message.from, 'data-id': message.id }, message.text));
    list.scrollTop = list.scrollHeight;
  }

  async function openChat(chatId) {
    openChatId = chatId;
    // The open chat is in the URL (#chat/<id>), as routed consoles show it (a profile's agent.chatUrl waits for it).
    history.replaceState(null, '', location.pathname + location.search + '#chat/' + encodeURIComponent(chatId));
    document.querySelectorAll('.chat-item').forEach(function (n) {
      n.classList.toggle('active', n.dataset.chatId === chatId);
    });
    var res = await socket.timeout(10000).emitWithAck('agent:history', { chatId: chatId });
    if (!res.ok) {
      status(res.error);
      return;
    }
    if (openChatId !== chatId) return;
    var pane = document.getElementById('chat-pane');
    var compose = el('form', { id: 'chat-compose' });
    compose.append(
      el('input', { id: 'chat-input', autocomplete: 'off', maxlength: '2000', placeholder: 'Reply to ' + res.data.visitorName }),
      el('button', { id: 'chat-send', type: 'submit' }, 'Send'),
    );
    compose.addEventListener('submit', function (e) {
      e.preventDefault();
      var input = document.getElementById('chat-input');
      var text = input.value.trim();
      if (!text) return;
      input.value = '';
      sendReply(chatId, text);
    });
    pane.replaceChildren(el('h2', { class: 'chat-title' }, res.data.visitorName), el('div', { id: 'chat-messages' }), compose);
    res.data.messages.forEach(appendMessage);
    // For the console's other features (video call, cobrowse buttons).
    window.dispatchEvent(new CustomEvent('up:chat-open', { detail: { chatId: chatId, visitorName: res.data.visitorName } }));
    document.getElementById('chat-input').focus();
  }

  async function sendReply(chatId, text) {
    var res = await socket.timeout(10000).emitWithAck('agent:reply', { chatId: chatId, text: text });
    if (!res.ok) {
      status(res.error);
      return;
    }
    onMessage({ chatId: chatId, visitorName: chats.get(chatId).visitorName, message: res.data });
  }

  function onMessage(event) {
    upsert({ chatId: event.chatId, visitorName: event.visitorName, lastMessage: event.message });
    if (event.chatId === openChatId) appendMessage(event.message);
  }

  function connect(token) {
    socket = io({ path: '/crm/socket.io/', auth: { role: 'agent', token: token, auto: autoAssign } });
    socket.on('connect', async function () {
      status('online');
      var res = await socket.timeout(10000).emitWithAck('agent:chats', {});
      if (res.ok) res.data.slice().reverse().forEach(upsert);
      if (!document.getElementById('console-ready')) {
        document.querySelector('header').appendChild(el('span', { id: 'console-ready' }, 'Ready'));
      }
    });
    socket.on('disconnect', function (reason) {
      status('offline (' + reason + ')');
    });
    socket.on('connect_error', function (err) {
      status('realtime: ' + err.message);
    });
    socket.on('chat:created', rendered(upsert));
    socket.on('chat:message', rendered(onMessage));
    socket.on(
      'chat:assigned',
      rendered(function (summary) {
        upsert(summary);
        openChat(summary.chatId);
      }),
    );
  }

  function loggedIn(token) {
    document.getElementById('login-form').hidden = true;
    document.getElementById('nick-form').hidden = true;
    document.getElementById('console').hidden = false;
    connect(token);
    window.dispatchEvent(new CustomEvent('up:login', { detail: { token: token } }));
  }

  async function logIn(path, body, errorBox) {
    errorBox.textContent = '';
    var res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    var data = await res.json().catch(function () {
      return {};
    });
    if (!res.ok) {
      errorBox.textContent = data.message || 'HTTP ' + res.status;
      return;
    }
    loggedIn(data.token);
  }

  if (loginMode === 'nickname') {
    document.getElementById('login-form').hidden = true;
    document.getElementById('nick-form').hidden = false;
    // No button: Enter in the field logs in (the form's implicit submission).
    document.getElementById('nick-form').addEventListener('submit', function (e) {
      e.preventDefault();
      logIn('/api/agent/login', { nickname: document.getElementById('login-nick').value }, document.getElementById('nick-error'));
    });
    return;
  }
  if (loginMode === 'cookie') {
    document.getElementById('login-form').hidden = true;
    logIn('/api/agent/session', {}, document.getElementById('login-error'));
    return;
  }
  if (loginMode === 'storage') {
    // A single-page app that keeps its session in localStorage (set by its own sign-in page).
    document.getElementById('login-form').hidden = true;
    logIn('/api/agent/session', { session: localStorage.getItem('up_agent_session') || '' }, document.getElementById('login-error'));
    return;
  }

  document.getElementById('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    logIn(
      '/api/agent/login',
      { username: document.getElementById('login-user').value, password: document.getElementById('login-pass').value },
      document.getElementById('login-error'),
    );
  });
})();
