// Cobrowse, visitor side: loaded into the visitor's page (the tenant's site)
// on request, from the app origin. Learns the visitor's chat from the widget
// loader (window.UpChat), connects /cobrowse/socket.io/, and when an agent
// starts a session: shows #cobrowse-indicator, confirms, sends a DOM snapshot,
// then streams every DOM change (MutationObserver). The agent may ask the page
// to scroll or to highlight a node.
(function () {
  'use strict';
  if (window.UpCobrowse) return;
  var APP = '{{APP_URL}}';
  var IGNORE = 'data-up-cobrowse-ignore';
  var HIGHLIGHT_MS = 3000;
  var socket = null;
  var session = null; // { sessionId }
  var observer = null;
  var ids = new WeakMap();
  var nodes = new Map();
  var nextId = 1;
  var seq = 0;
  var api = { state: 'loading', sessionId: null };
  window.UpCobrowse = api;

  function idOf(node) {
    var id = ids.get(node);
    if (id === undefined) {
      id = nextId++;
      ids.set(node, id);
    }
    nodes.set(id, node);
    return id;
  }

  function ignored(node) {
    for (var n = node; n; n = n.parentNode) {
      if (n.nodeType === 1 && n.hasAttribute(IGNORE)) return true;
    }
    return false;
  }

  /** A node and its subtree as plain data; null for what the mirror must not get. */
  function serialize(node) {
    if (node.nodeType === 3) return { id: idOf(node), t: 'text', text: node.data };
    if (node.nodeType !== 1 || node.hasAttribute(IGNORE)) return null;
    var tag = node.tagName.toLowerCase();
    if (!/^[a-z][a-z0-9-]{0,63}$/.test(tag) || tag === 'script' || tag === 'noscript') return null;
    var attrs = {};
    for (var i = 0; i < node.attributes.length; i++) {
      var a = node.attributes[i];
      if (/^on/i.test(a.name)) continue;
      if (tag === 'iframe' && a.name === 'src') continue; // frames are shown as empty boxes
      attrs[a.name] = a.value;
    }
    var kids = [];
    if (tag !== 'iframe') {
      node.childNodes.forEach(function (c) {
        var s = serialize(c);
        if (s) kids.push(s);
      });
    }
    return { id: idOf(node), t: 'el', tag: tag, attrs: attrs, kids: kids };
  }

  function nextKnownSibling(node) {
    var s = node.nextSibling;
    while (s && !ids.has(s)) s = s.nextSibling;
    return s ? ids.get(s) : null;
  }

  function onMutations(records) {
    if (!session) return;
    var ops = [];
    records.forEach(function (r) {
      if (ignored(r.target)) return;
      if (r.type === 'characterData') {
        if (ids.has(r.target)) ops.push({ op: 'text', id: ids.get(r.target), text: r.target.data });
      } else if (r.type === 'attributes') {
        if (ids.has(r.target) && !/^on/i.test(r.attributeName)) {
          ops.push({ op: 'attr', id: ids.get(r.target), name: r.attributeName, value: r.target.getAttribute(r.attributeName) });
        }
      } else {
        r.removedNodes.forEach(function (n) {
          if (ids.has(n)) ops.push({ op: 'remove', id: ids.get(n) });
        });
        if (!ids.has(r.target)) return;
        r.addedNodes.forEach(function (n) {
          if (n.parentNode !== r.target) return; // moved again or removed within this batch
          var s = serialize(n);
          if (s) ops.push({ op: 'add', parent: ids.get(r.target), before: nextKnownSibling(n), node: s });
        });
      }
    });
    if (ops.length) socket.emit('cobrowse:mutations', { sessionId: session.sessionId, seq: ++seq, ops: ops });
  }

  function indicator(on) {
    var box = document.getElementById('cobrowse-indicator');
    if (!on) {
      if (box) box.remove();
      return;
    }
    if (box) return;
    box = document.createElement('div');
    box.id = 'cobrowse-indicator';
    box.setAttribute(IGNORE, '');
    box.setAttribute('role', 'status');
    box.style.cssText =
      'position:fixed;top:0;left:0;right:0;padding:6px 12px;background:#b3261e;color:#fff;' +
      'font:14px system-ui,sans-serif;z-index:2147483001;display:flex;gap:12px;align-items:center;';
    var text = document.createElement('span');
    text.textContent = 'An agent is viewing this page.';
    var stop = document.createElement('button');
    stop.id = 'cobrowse-end';
    stop.type = 'button';
    stop.textContent = 'Stop sharing';
    stop.addEventListener('click', function () {
      if (session) socket.emit('cobrowse:stop', { sessionId: session.sessionId });
      end();
    });
    box.append(text, stop);
    document.body.appendChild(box);
  }

  function end() {
    if (observer) observer.disconnect();
    observer = null;
    session = null;
    api.state = 'ready';
    api.sessionId = null;
    indicator(false);
  }

  function begin(e) {
    if (session) end();
    session = { sessionId: e.sessionId };
    api.state = 'active';
    api.sessionId = e.sessionId;
    indicator(true); // the visitor side confirms: the indicator is shown
    socket.emit('cobrowse:accepted', { sessionId: e.sessionId });
    socket.emit('cobrowse:snapshot', {
      sessionId: e.sessionId,
      url: location.href,
      viewport: { width: innerWidth, height: innerHeight },
      root: serialize(document.documentElement),
    });
    observer = new MutationObserver(onMutations);
    observer.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
  }

  function highlight(nodeId) {
    var node = nodes.get(nodeId);
    if (!node || node.nodeType !== 1) return;
    node.scrollIntoView({ block: 'center' });
    node.setAttribute('data-up-highlight', '');
    var prev = node.style.outline;
    node.style.outline = '3px solid #f5a623';
    setTimeout(function () {
      node.style.outline = prev;
      node.removeAttribute('data-up-highlight');
    }, HIGHLIGHT_MS);
  }

  function connect(chat) {
    if (socket) return;
    socket = io(APP, {
      path: '/cobrowse/socket.io/',
      transports: ['websocket'],
      auth: { role: 'visitor', chatId: chat.chatId, visitorToken: chat.visitorToken },
    });
    socket.on('connect', function () {
      api.state = session ? 'active' : 'ready';
    });
    socket.on('cobrowse:start', begin);
    socket.on('cobrowse:ended', function (e) {
      if (session && e.sessionId === session.sessionId) end();
    });
    socket.on('cobrowse:scroll', function (e) {
      if (session && e.sessionId === session.sessionId) scrollTo(e.x, e.y);
    });
    socket.on('cobrowse:highlight', function (e) {
      if (session && e.sessionId === session.sessionId) highlight(e.nodeId);
    });
  }

  function start() {
    var bridge = window.UpChat;
    if (!bridge) {
      api.state = 'error: no chat widget on this page';
      return;
    }
    api.state = 'waiting-for-chat';
    bridge.onChat(connect);
  }

  // The Socket.IO client, from the cobrowse server itself.
  var lib = document.createElement('script');
  lib.src = APP + '/cobrowse/socket.io/socket.io.min.js';
  lib.onload = start;
  lib.onerror = function () {
    api.state = 'error: socket.io client did not load';
  };
  document.head.appendChild(lib);
})();
