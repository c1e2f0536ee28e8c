// WebRTC peer wiring shared by the widget and the agent console (app origin).
// Trickle ICE over the signaling socket ('call:signal' both ways): the caller
// offers once the callee has accepted; the callee answers. Candidates that
// arrive before the remote description are queued. No STUN/TURN servers:
// both ends run on the same machine (the server filters candidates; see the
// `ice` knob).
(function () {
  'use strict';

  /** Camera and microphone (Chromium's fake devices under test). */
  function media() {
    return navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
  }

  /**
   * opts: { socket, callId, stream, onRemoteStream(stream), onState(connectionState) }
   * Returns { pc, offer(), close() }.
   */
  function createPeer(opts) {
    var pc = new RTCPeerConnection({ iceServers: [] });
    var remoteSet = false;
    var queued = [];
    opts.stream.getTracks().forEach(function (t) {
      pc.addTrack(t, opts.stream);
    });

    function send(body) {
      body.callId = opts.callId;
      opts.socket.emit('call:signal', body);
    }
    pc.addEventListener('icecandidate', function (e) {
      if (e.candidate) send({ candidate: e.candidate.toJSON() });
    });
    pc.addEventListener('track', function (e) {
      opts.onRemoteStream(e.streams[0] || new MediaStream([e.track]));
    });
    pc.addEventListener('connectionstatechange', function () {
      opts.onState(pc.connectionState);
    });

    async function onSignal(msg) {
      if (!msg || msg.callId !== opts.callId) return;
      try {
        if (msg.description) {
          await pc.setRemoteDescription(msg.description);
          remoteSet = true;
          var waiting = queued;
          queued = [];
          for (var i = 0; i < waiting.length; i++) await pc.addIceCandidate(waiting[i]);
          if (msg.description.type === 'offer') {
            await pc.setLocalDescription();
            send({ description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
          }
        } else if (msg.candidate) {
          if (remoteSet) await pc.addIceCandidate(msg.candidate);
          else queued.push(msg.candidate);
        }
      } catch (err) {
        opts.onState('error: ' + err.message);
      }
    }
    opts.socket.on('call:signal', onSignal);

    return {
      pc: pc,
      offer: async function () {
        await pc.setLocalDescription();
        send({ description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
      },
      close: function () {
        opts.socket.off('call:signal', onSignal);
        pc.close();
      },
    };
  }

  window.UpPeer = { media: media, createPeer: createPeer };
})();
