// Chromium flags a video-call session needs on top of the browser pool's
// BASE_ARGS (which already carry --use-fake-ui-for-media-stream,
// --use-fake-device-for-media-stream and --allow-loopback-in-peer-connection):
// without this one, host candidates are mDNS names (xxxx.local) resolved by
// multicast on the machine's network. Merge it into any other
// --disable-features (Chromium honours only the last such flag).
export const VIDEO_EXTRA_ARGS = ['--disable-features=WebRtcHideLocalIpsWithMdns'];
