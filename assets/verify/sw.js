// The verifier's service worker: the page works offline once it has been loaded.
// Network first for the trust list (the newest one when online, the last one offline);
// never cached: a licence's status (it is only worth asking live); the rest: the cached
// copy at once, refreshed in the background (stale-while-revalidate).
const CACHE = "nafitha-verify-v1";
const PAGE = ["./", "index.html", "verify.css", "app.js", "nf1.js", "manifest.webmanifest",
              "icon.svg", "icon-192.png", "icon-512.png", "words.json",
              "vendor/zxing-wasm/es/reader/index.js", "vendor/zxing-wasm/es/share.js",
              "vendor/zxing-wasm/reader/zxing_reader.wasm"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // one by one: a missing optional file must not stop the rest from being kept
    await Promise.all(PAGE.map((path) => cache.add(path).catch(() => null)));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

// The page lists what it loaded (nf1.js's own imports among them) so those are kept too.
self.addEventListener("message", (event) => {
  const urls = (event.data && Array.isArray(event.data.cache)) ? event.data.cache : [];
  const scope = self.registration.scope;
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    for (const url of urls) {
      if (typeof url !== "string" || !url.startsWith(scope) || url.includes("/status/")) continue;
      if (!(await cache.match(url))) await cache.add(url).catch(() => null);
    }
  })());
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request, { cache: "no-store" });
    if (response.ok) await cache.put(new URL(request.url).pathname, response.clone());
    return response;
  } catch (error) {
    const held = await cache.match(new URL(request.url).pathname);
    if (held) return held;
    throw error;
  }
}

async function staleWhileRevalidate(event) {
  const cache = await caches.open(CACHE);
  const request = event.request;
  const key = request.mode === "navigate" ? new URL("./", self.registration.scope).href
                                          : request;
  const held = await cache.match(key, { ignoreSearch: request.mode === "navigate" });
  const fresh = fetch(request).then(async (response) => {
    if (response.ok && response.type === "basic") await cache.put(key, response.clone());
    return response;
  });
  if (held) {
    event.waitUntil(fresh.catch(() => null));
    return held;
  }
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin ||
      !request.url.startsWith(self.registration.scope)) return;
  const path = url.pathname.slice(new URL(self.registration.scope).pathname.length);
  if (path.startsWith("status/")) return;          // live only
  if (path === "trust-list.json") { event.respondWith(networkFirst(request)); return; }
  event.respondWith(staleWhileRevalidate(event));
});
