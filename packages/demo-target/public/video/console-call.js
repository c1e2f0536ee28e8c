// Video calls in the agent console. After log-in (console.js fires
// 'up:login') connect the signaling socket as an agent. An open chat
// ('up:chat-open') gets #call-start, enabled while that chat's visitor is
// reachable; the call shows in #call-panel (#call-remote-video,
// #call-local-video, #call-state, #call-hangup).
(function () {
  'use strict';
  var socket = null;
  var online = new Set();
  var openChatId = null;
  var call = null; // { callId, chatId, peer, stream }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var panel = el('div', { id: 'call-panel', hidden: '' });
  var state = el('div', { id: 'call-state', 'data-state': 'idle' });
  var remote = el('video', { id: 'call-remote-video', autoplay: '', playsinline: '', muted: '' });
  var local = el('video', { id: 'call-local-video', autoplay: '', playsinline: '', muted: '' });
  var hangup = el('button', { id: 'call-hangup', type: 'button' }, 'Hang up');
  remote.muted = true;
  local.muted = true;
  panel.append(state, remote, local, hangup);
  document.body.appendChild(panel);

  function setState(text, s) {
    state.textContent = text;
    state.dataset.state = s;
  }

  function startButton() {
    return document.getElementById('call-start');
  }

  function refresh() {
    var b = startButton();
    if (b) b.disabled = call !== null || !online.has(openChatId);
  }

  function end(text) {
    if (call) {
      if (call.peer) call.peer.close();
      if (call.stream)
        call.stream.getTracks().forEach(function (t) {
          t.stop();
        });
    }
    call = null;
    remote.srcObject = null;
    local.srcObject = null;
    setState(text, 'ended');
    refresh();
  }

  async function start() {
    if (call || !openChatId) return;
    var chatId = openChatId;
    call = { callId: null, chatId: chatId, peer: null, stream: null };
    refresh();
    panel.hidden = false;
    setState('calling', 'calling');
    try {
      call.stream = await UpPeer.media();
      local.srcObject = call.stream;
      var res = await socket.timeout(10000).emitWithAck('call:invite', { chatId: chatId });
      if (!res.ok) throw new Error(res.error);
      call.callId = res.data.callId;
      call.peer = UpPeer.createPeer({
        socket: socket,
        callId: call.callId,
        stream: call.stream,
        onRemoteStream: function (s) {
          remote.srcObject = s;
          remote.play().catch(function () {});
        },
        onState: function (s) {
          setState(s, s);
        },
      });
      setState('ringing', 'ringing');
    } catch (err) {
      end('Call failed: ' + err.message);
    }
  }

  function connect(token) {
    socket = io({ path: '/signal/socket.io/', transports: ['websocket'], auth: { role: 'agent', token: token } });
    socket.on('call:presence', function (e) {
      if (e.online) online.add(e.chatId);
      else online.delete(e.chatId);
      refresh();
    });
    socket.on('call:accepted', async function (e) {
      if (!call || call.callId !== e.callId) return;
      try {
        await call.peer.offer();
      } catch (err) {
        end('Call failed: ' + err.message);
      }
    });
    socket.on('call:ended', function (e) {
      if (call && call.callId === e.callId) end('Call ended (' + e.reason + ')');
    });
  }

  hangup.addEventListener('click', function () {
    if (!call) return;
    if (call.callId) socket.emit('call:hangup', { callId: call.callId });
    end('Call ended');
  });

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
    var b = el('button', { id: 'call-start', type: 'button', disabled: '' }, 'Start video call');
    b.addEventListener('click', start);
    title.after(b);
    refresh();
  });
})();
