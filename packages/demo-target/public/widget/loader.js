// Widget loader: served from the app origin, embedded by the site's snippet.
// Injects the widget iframe (app origin, so a different site from the page).
(function () {
  'use strict';
  var script = document.currentScript;
  var base = script && script.src ? script.src : location.href;
  function inject() {
    if (document.getElementById('up-widget-frame')) return;
    var frame = document.createElement('iframe');
    frame.id = 'up-widget-frame';
    frame.title = 'Chat';
    frame.src = new URL('frame.html', base).href;
    // Video calls in the widget need the camera and microphone.
    frame.allow = 'camera; microphone; autoplay';
    frame.style.cssText =
      'position:fixed;right:16px;bottom:16px;width:340px;height:460px;border:0;' +
      'border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.18);background:transparent;z-index:2147483000;';
    document.body.appendChild(frame);
  }
  // window.UpChat: the host page's bridge to the widget. The widget posts the
  // visitor's chat once it exists; the cobrowse script (loaded on request with
  // UpChat.loadCobrowse()) learns it with UpChat.onChat(cb).
  var appOrigin = new URL(base).origin;
  var bridge = window.UpChat || { chat: null, listeners: [] };
  bridge.onChat = function (cb) {
    if (bridge.chat) cb(bridge.chat);
    else bridge.listeners.push(cb);
  };
  bridge.loadCobrowse = function () {
    if (document.getElementById('up-cobrowse-script')) return;
    var s = document.createElement('script');
    s.id = 'up-cobrowse-script';
    s.src = new URL('../cobrowse/cobrowse.js', base).href;
    s.async = true;
    document.head.appendChild(s);
  };
  window.UpChat = bridge;
  window.addEventListener('message', function (e) {
    var d = e.data;
    if (e.origin !== appOrigin || !d || d.type !== 'up:chat' || typeof d.chatId !== 'string' || typeof d.visitorToken !== 'string') return;
    bridge.chat = { chatId: d.chatId, visitorToken: d.visitorToken };
    bridge.listeners.splice(0).forEach(function (cb) {
      cb(bridge.chat);
    });
  });

  if (document.body) inject();
  else document.addEventListener('DOMContentLoaded', inject);
})();
