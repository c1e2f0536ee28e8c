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
    frame.style.cssText =
      'position:fixed;right:16px;bottom:16px;width:340px;height:460px;border:0;' +
      'border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.18);background:transparent;z-index:2147483000;';
    document.body.appendChild(frame);
  }
  if (document.body) inject();
  else document.addEventListener('DOMContentLoaded', inject);
})();
