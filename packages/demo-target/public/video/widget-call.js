// Video calls in the widget (visitor side). Once the visitor is in a chat
// (widget.js fires 'up:chat'), connect the signaling socket; an agent's
// invite shows #up-call with #up-call-accept / #up-call-decline. Accept opens
// the camera, then tells the agent; the agent offers, the widget answers.
// The remote video is #up-remote-video, the local preview #up-local-video.
(function () {
  'use strict';
  var socket = null;
  var call = null; // { callId, peer, stream }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var box = el('div', { id: 'up-call', hidden: '' });
  var state = el('div', { id: 'up-call-state', 'data-state': 'idle' }, '');
  var accept = el('button', { id: 'up-call-accept', type: 'button' }, 'Accept');
  var decline = el('button', { id: 'up-call-decline', type: 'button' }, 'Decline');
  var hangup = el('button', { id: 'up-call-hangup', type: 'button', hidden: '' }, 'Hang up');
  var remote = el('video', { id: 'up-remote-video', autoplay: '', playsinline: '', muted: '' });
  var local = el('video', { id: 'up-local-video', autoplay: '', playsinline: '', muted: '' });
  remote.muted = true;
  local.muted = true;
  var actions = el('div', { class: 'up-call-actions' });
  actions.append(accept, decline, hangup);
  box.append(state, remote, local, actions);
  document.getElementById('up-root').prepend(box);

  function setState(text, s) {
    state.textContent = text;
    state.dataset.state = s;
  }

  function reset(text) {
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
    accept.hidden = false;
    accept.disabled = false;
    decline.hidden = false;
    hangup.hidden = true;
    box.hidden = true;
    setState(text || '', 'idle');
  }

  function connect(chat) {
    if (socket) return;
    socket = io({ path: '/signal/socket.io/', transports: ['websocket'], auth: { role: 'visitor', chatId: chat.chatId, visitorToken: chat.visitorToken } });
    socket.on('call:invite', function (e) {
      if (call) return; // busy
      call = { callId: e.callId, peer: null, stream: null };
      setState('Incoming video call from ' + e.agent, 'ringing');
      box.hidden = false;
    });
    socket.on('call:ended', function (e) {
      if (call && call.callId === e.callId) reset('Call ended (' + e.reason + ')');
    });
  }

  accept.addEventListener('click', async function () {
    if (!call || accept.disabled) return;
    accept.disabled = true;
    var current = call;
    try {
      current.stream = await UpPeer.media();
      local.srcObject = current.stream;
      current.peer = UpPeer.createPeer({
        socket: socket,
        callId: current.callId,
        stream: current.stream,
        onRemoteStream: function (s) {
          remote.srcObject = s;
          remote.play().catch(function () {});
        },
        onState: function (s) {
          setState(s, s);
        },
      });
      var res = await socket.timeout(10000).emitWithAck('call:accept', { callId: current.callId });
      if (!res.ok) throw new Error(res.error);
      accept.hidden = true;
      decline.hidden = true;
      hangup.hidden = false;
      setState('connecting', 'connecting');
    } catch (err) {
      reset('Call failed: ' + err.message);
    }
  });

  decline.addEventListener('click', function () {
    if (!call) return;
    socket.emit('call:decline', { callId: call.callId });
    reset('Declined');
  });

  hangup.addEventListener('click', function () {
    if (!call) return;
    socket.emit('call:hangup', { callId: call.callId });
    reset('Call ended');
  });

  window.addEventListener('up:chat', function (e) {
    connect(e.detail);
  });
})();
