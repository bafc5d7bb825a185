// Flux's service worker, served at /serviceworker.js (django-pwa, PWA_SERVICE_WORKER_PATH) so its
// scope is the whole site.
// - Install: precache the shell, i.e. the offline page (/app/offline/) and every static file it
//   links (CSS, scripts, icons; with cache-busted names in production) plus the manifest.
// - Pages: network first. They are not stored (they hold a customer's data); when the network
//   fails, the offline page answers instead and fills itself from IndexedDB (static/js/offline.js
//   and the offline-*.js it follows).
// - Static files: cache first when the name carries a content hash (production's
//   ManifestStaticFilesStorage), otherwise served from the cache and refreshed behind (development).
// - The API, /app/token/ and anything not GET pass straight through: nothing carrying a token or
//   a customer's data is ever put in this cache.
// Bumped when the shell's files change (v2: offline.js split in three; v3: ES modules, with
// static/js/lib/; v4: static files stored under their path alone): installed apps then put the new
// shell in a new cache and drop the old one, stale unhashed scripts with it.
const VERSION = "flux-shell-v4";
const OFFLINE_URL = "/app/offline/";
const MANIFEST_URL = "/manifest.json";
const PASS_THROUGH = ["/api/", "/app/token/", "/serviceworker.js"];

// `lang`: the language of the page that asked; a shell in another language (the cookie changed
// since) is not stored, so an older request can never put back the language just left.
async function precacheShell(lang = "") {
  const cache = await caches.open(VERSION);
  // The page's language comes from the browser and the language cookie, which this request sends.
  const response = await fetch(OFFLINE_URL, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`offline page: HTTP ${response.status}`);
  const html = await response.clone().text();
  if (lang && !html.includes(`<html lang="${lang}"`)) return;
  const assets = new Set([MANIFEST_URL]);
  // Stored under the path alone: the page may link it with a query (`styles.css?v=<time>`, added
  // by django-tailwind under DEBUG, a new one at every render); cachedStatic looks it up the same way.
  for (const match of html.matchAll(/(?:src|href)="(\/static\/[^"?#]+)/g)) assets.add(match[1]);
  await cache.put(OFFLINE_URL, response);
  await cache.addAll([...assets]);
}

// One shell refresh at a time, in the order asked: two overlapping refreshes (the first sync in
// English, then a switch to French) could otherwise finish in either order and leave the older
// language in the cache.
// A request from a page that is gone (the page the customer left by switching language) is dropped.
let shellRefresh = Promise.resolve();
function refreshShell(lang = "", clientId = "") {
  shellRefresh = shellRefresh.catch(() => {}).then(async () => {
    if (clientId && !(await self.clients.get(clientId))) return;
    await precacheShell(lang);
  });
  return shellRefresh;
}

self.addEventListener("install", (event) => {
  event.waitUntil(refreshShell().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== VERSION) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

// A page asks for a fresh shell after the language changed (static/js/offline-outbox.js).
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "refresh-shell") {
    event.waitUntil(refreshShell(event.data.lang || "", event.source ? event.source.id : "").catch(() => {}));
  }
});

async function networkFirstPage(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cache = await caches.open(VERSION);
    const offline = await cache.match(OFFLINE_URL);
    if (offline) return offline;
    throw error;
  }
}

// "styles.3f2a9c1b7d4e.css": the name changes whenever the content does.
const HASHED = /\.[0-9a-f]{12}\.[A-Za-z0-9]+$/;

// A static file's cache key is its path without the query: under the development settings the
// stylesheet is linked as `styles.css?v=<time>` with a new time on every page, so a key with the
// query would never be found again offline (the offline page came out unstyled) and the cache would
// grow with every page. The query only busts the browser's HTTP cache, which this refresh bypasses.
function staticKey(request) {
  const url = new URL(request.url);
  return url.origin + url.pathname;
}

async function cachedStatic(request, event) {
  const cache = await caches.open(VERSION);
  const key = staticKey(request);
  const cached = await cache.match(key);
  const refresh = () =>
    fetch(request).then(async (response) => {
      if (response.ok && response.type === "basic") await cache.put(key, response.clone());
      return response;
    });
  if (!cached) return refresh();
  if (!HASHED.test(new URL(request.url).pathname)) event.waitUntil(refresh().catch(() => {}));
  return cached;
}

async function networkFirstManifest(request) {
  const cache = await caches.open(VERSION);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(MANIFEST_URL, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(MANIFEST_URL);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (PASS_THROUGH.some((prefix) => url.pathname.startsWith(prefix))) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirstPage(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cachedStatic(request, event));
  } else if (url.pathname === MANIFEST_URL) {
    event.respondWith(networkFirstManifest(request));
  }
});
