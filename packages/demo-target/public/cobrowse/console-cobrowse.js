// Cobrowse in the agent console. After log-in ('up:login') connect
// /cobrowse/socket.io/ as an agent. An open chat ('up:chat-open') gets
// #cobrowse-start, enabled while that chat's visitor page runs the cobrowse
// script. A session shows #cobrowse-panel with the live mirror
// #cobrowse-mirror (a script-less same-origin iframe rebuilt from the
// snapshot; its <html> gets data-up-mirror="ready" once rendered). Clicking in
// the mirror highlights that element on the visitor's page; scrolling the
// mirror scrolls the visitor's page. Also scriptable: window.UpCobrowseAgent.
(function () {
  'use strict';
  var SCROLL_SEND_MS = 100;
  var socket = null;
  var online = new Set();
  var openChatId = null;
  var session = null; // { sessionId, chatId }
  var nodes = new Map(); // mirror: id -> node
  var idsOf = new WeakMap(); // mirror: node -> id
  var scrollTimer = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var panel = el('div', { id: 'cobrowse-panel', hidden: '' });
  var state = el('div', { id: 'cobrowse-state', 'data-state': 'idle' });
  var stop = el('button', { id: 'cobrowse-stop', type: 'button' }, 'Stop co-browsing');
  var mirror = el('iframe', { id: 'cobrowse-mirror', sandbox: 'allow-same-origin', title: 'Visitor page (live mirror)' });
  panel.append(state, stop, mirror);
  document.body.appendChild(panel);

  function setState(text, s) {
    state.textContent = text;
    state.dataset.state = s;
  }
  function startButton() {
    return document.getElementById('cobrowse-start');
  }
  function refresh() {
    var b = startButton();
    if (b) b.disabled = session !== null || !online.has(openChatId);
  }

  function build(doc, data) {
    var node;
    if (data.t === 'text') {
      node = doc.createTextNode(data.text);
    } else {
      node = doc.createElement(data.tag);
      Object.keys(data.attrs).forEach(function (k) {
        try {
          node.setAttribute(k, data.attrs[k]);
        } catch {
          /* an attribute name the DOM refuses */
        }
      });
      data.kids.forEach(function (k) {
        node.appendChild(build(doc, k));
      });
    }
    nodes.set(data.id, node);
    idsOf.set(node, data.id);
    return node;
  }

  function forget(node) {
    var id = idsOf.get(node);
    if (id !== undefined) nodes.delete(id);
    node.childNodes.forEach(forget);
  }

  function onSnapshot(s) {
    if (!session || s.sessionId !== session.sessionId) return;
    var doc = mirror.contentDocument;
    nodes = new Map();
    idsOf = new WeakMap();
    var root = build(doc, s.root);
    if (root.nodeType !== 1 || root.tagName !== 'HTML') return;
    var head = root.querySelector('head');
    var base = doc.createElement('base');
    base.href = s.url;
    if (head) head.prepend(base);
    root.setAttribute('data-up-mirror', 'ready');
    doc.replaceChild(root, doc.documentElement);
    setState("Viewing the visitor's page", 'mirroring');
  }

  function onMutations(m) {
    if (!session || m.sessionId !== session.sessionId) return;
    var doc = mirror.contentDocument;
    m.ops.forEach(function (op) {
      var node = nodes.get(op.op === 'add' ? op.parent : op.id);
      if (!node) return;
      if (op.op === 'remove') {
        node.remove();
        forget(node);
      } else if (op.op === 'attr') {
        try {
          if (op.value === null) node.removeAttribute(op.name);
          else node.setAttribute(op.name, op.value);
        } catch {
          /* refused attribute name */
        }
      } else if (op.op === 'text') {
        node.data = op.text;
      } else {
        var before = op.before === null ? null : nodes.get(op.before) || null;
        if (before && before.parentNode !== node) before = null;
        node.insertBefore(build(doc, op.node), before);
      }
    });
  }

  function end(text) {
    session = null;
    setState(text, 'ended');
    refresh();
  }

  async function start() {
    if (session || !openChatId) return;
    var chatId = openChatId;
    session = { sessionId: null, chatId: chatId };
    refresh();
    mirror.contentDocument.documentElement.removeAttribute('data-up-mirror');
    panel.hidden = false;
    setState('Waiting for the visitor', 'starting');
    try {
      var res = await socket.timeout(10000).emitWithAck('cobrowse:start', { chatId: chatId });
      if (!res.ok) throw new Error(res.error);
      session.sessionId = res.data.sessionId;
    } catch (err) {
      end('Co-browsing failed: ' + err.message);
    }
  }

  function request(event, body) {
    if (!session || !session.sessionId) return;
    body.sessionId = session.sessionId;
    socket.emit(event, body);
  }

  function highlight(nodeId) {
    request('cobrowse:highlight', { nodeId: nodeId });
  }
  function scroll(x, y) {
    request('cobrowse:scroll', { x: Math.max(0, x), y: Math.max(0, y) });
  }

  // Mirror document: click → highlight on the visitor page; scroll → scroll it.
  function wireMirror() {
    var doc = mirror.contentDocument;
    if (!doc || doc.__upWired) return;
    doc.__upWired = true;
    doc.addEventListener(
      'click',
      function (e) {
        e.preventDefault();
        for (var n = e.target; n; n = n.parentNode) {
          var id = idsOf.get(n);
          if (id !== undefined) {
            highlight(id);
            return;
          }
        }
      },
      true,
    );
    mirror.contentWindow.addEventListener('scroll', function () {
      clearTimeout(scrollTimer);
      scrollTimer = setTimeout(function () {
        scroll(mirror.contentWindow.scrollX, mirror.contentWindow.scrollY);
      }, SCROLL_SEND_MS);
    });
  }
  wireMirror();
  mirror.addEventListener('load', wireMirror);

  function connect(token) {
    socket = io({ path: '/cobrowse/socket.io/', transports: ['websocket'], auth: { role: 'agent', token: token } });
    socket.on('cobrowse:presence', function (e) {
      if (e.online) online.add(e.chatId);
      else online.delete(e.chatId);
      refresh();
    });
    socket.on('cobrowse:accepted', function (e) {
      if (session && session.sessionId === e.sessionId) setState('The visitor accepted', 'accepted');
    });
    socket.on('cobrowse:snapshot', onSnapshot);
    socket.on('cobrowse:mutations', onMutations);
    socket.on('cobrowse:ended', function (e) {
      if (session && session.sessionId === e.sessionId) end('Co-browsing ended (' + e.reason + ')');
    });
  }

  stop.addEventListener('click', function () {
    if (session && session.sessionId) socket.emit('cobrowse:stop', { sessionId: session.sessionId });
    end('Co-browsing ended');
  });

  window.UpCobrowseAgent = {
    highlight: highlight,
    scroll: scroll,
    /** The mirror node id of the visitor element matching `selector` in the mirror, or null. */
    nodeId: function (selector) {
      var n = mirror.contentDocument.querySelector(selector);
      var id = n ? idsOf.get(n) : undefined;
      return id === undefined ? null : id;
    },
  };

  window.addEventListener('up:login', function (e) {
    connect(e.detail.token);
  });
  window.addEventListener('up:chat-open', function (e) {
    openChatId = e.detail.chatId;
    var title = document.querySelector('#chat-pane .chat-title');
    if (!title || startButton()) {
      refresh();
      return;
    }
    var b = el('button', { id: 'cobrowse-start', type: 'button', disabled: '' }, 'Co-browse');
    b.addEventListener('click', start);
    title.after(b);
    refresh();
  });
})();
