// Flux offline, part 1 of 3: the store. The customer's accounts and recent history kept in
// IndexedDB, the sync that fills it from GET /api/v1/sync/, and this page's JWT pair.
//
// Loaded (deferred, before Alpine) on customer pages and on the offline page, first of
// offline-store.js, offline-outbox.js (the transfer outbox) and offline.js (what the pages show);
// see templates/includes/pwa_head.html. This script element carries the URLs (data- attributes).
// On a customer page, online:
//   1. POST /app/token/ (session cookie + CSRF token) hands this page a JWT pair, kept in memory only;
//   2. GET /api/v1/sync/?cursor= stores the accounts and new entries (last 100 per account), and
//      the transfers waiting for approval (replaced whole).
// Offline (navigator.onLine false, or a fetch fails), `isOffline()` says so and CHANGED is fired.
// The other two modules import `store` (null where the page has no #flux-offline element).
function createStore() {
  const script = document.getElementById("flux-offline");
  if (!script) return null;
  const urls = {
    token: script.dataset.tokenUrl,
    sync: script.dataset.syncUrl,
    transfers: script.dataset.transfersUrl,
    logout: script.dataset.logoutUrl,
    transferPage: script.dataset.transferPageUrl,
    accountsPage: script.dataset.accountsPageUrl,
    offlinePage: script.dataset.offlinePageUrl,
  };
  // The signed-in customer's id; empty on the offline page, which is the same for everyone.
  const currentUser = (document.querySelector('meta[name="flux-customer"]') || {}).content || "";
  const csrfToken = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const RECENT_PER_ACCOUNT = 100;
  const CHANGED = "flux:offline-changed";

  // --- IndexedDB ------------------------------------------------------------------------------
  // Stores: meta (user, cursor, syncedAt, lang, pending: the transfers waiting for approval), accounts (by id), entries (by id, index on account),
  // outbox (by Idempotency-Key).
  let dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open("flux", 1);
        request.onupgradeneeded = () => {
          const db = request.result;
          db.createObjectStore("meta");
          db.createObjectStore("accounts", { keyPath: "id" });
          db.createObjectStore("entries", { keyPath: "id" }).createIndex("account", "account");
          db.createObjectStore("outbox", { keyPath: "key" });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }

  // Runs `work(stores)` in one transaction; resolves with its result once the transaction commits.
  async function withStores(names, mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(names, mode);
      const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
      let result;
      Promise.resolve(work(stores)).then((value) => {
        result = value;
      }, reject);
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  const asPromise = (request) =>
    new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });

  const db = {
    meta: (key) => withStores(["meta"], "readonly", (s) => asPromise(s.meta.get(key))),
    setMeta: (key, value) => withStores(["meta"], "readwrite", (s) => s.meta.put(value, key)),
    accounts: () => withStores(["accounts"], "readonly", (s) => asPromise(s.accounts.getAll())),
    entriesOf: (accountId, limit) =>
      withStores(["entries"], "readonly", (s) => {
        const found = [];
        return new Promise((resolve, reject) => {
          const cursor = s.entries.index("account").openCursor(IDBKeyRange.only(accountId), "prev");
          cursor.onsuccess = () => {
            const at = cursor.result;
            if (!at || found.length >= limit) return resolve(found);
            found.push(at.value);
            at.continue();
          };
          cursor.onerror = () => reject(cursor.error);
        });
      }),
    outbox: () => withStores(["outbox"], "readonly", (s) => asPromise(s.outbox.getAll())),
    putOutbox: (item) => withStores(["outbox"], "readwrite", (s) => s.outbox.put(item)),
    deleteOutbox: (key) => withStores(["outbox"], "readwrite", (s) => s.outbox.delete(key)),
    // Everything about the last customer except unsent transfers (kept, tagged with their owner).
    forgetData: () =>
      withStores(["meta", "accounts", "entries"], "readwrite", (s) => {
        s.meta.clear();
        s.accounts.clear();
        s.entries.clear();
      }),
    // One sync answer: accounts replaced whole, entries added, each account trimmed to its last 100.
    saveSync: (user, answer, syncedAt) =>
      withStores(["meta", "accounts", "entries"], "readwrite", async (s) => {
        s.accounts.clear();
        for (const account of answer.accounts) s.accounts.put(account);
        for (const entry of answer.entries) s.entries.put(entry);
        s.meta.put(user, "user");
        s.meta.put(answer.cursor, "cursor");
        s.meta.put(syncedAt, "syncedAt");
        // The transfers waiting for approval come whole with every answer: replace them.
        if (Array.isArray(answer.pending)) s.meta.put(answer.pending, "pending");
        for (const account of answer.accounts) {
          await new Promise((resolve) => {
            let kept = 0;
            const cursor = s.entries.index("account").openCursor(IDBKeyRange.only(account.id), "prev");
            cursor.onsuccess = () => {
              const at = cursor.result;
              if (!at) return resolve();
              kept += 1;
              if (kept > RECENT_PER_ACCOUNT) at.delete();
              at.continue();
            };
            cursor.onerror = resolve;
          });
        }
      }),
  };

  const changed = () => window.dispatchEvent(new CustomEvent(CHANGED));

  // --- Network state --------------------------------------------------------------------------
  // The offline page is only ever shown for want of a network.
  let offline = !navigator.onLine || !currentUser;
  function setOffline(value) {
    if (offline === value) return;
    offline = value;
    changed();
  }
  // Back online: the banner goes at once (offline-outbox.js and offline.js, listening after this,
  // then replay the outbox or leave the offline page).
  window.addEventListener("online", () => {
    offline = false;
    changed();
  });
  window.addEventListener("offline", () => setOffline(true));

  // --- The API, with this page's JWT pair (memory only) ---------------------------------------
  let access = null;
  async function fetchToken() {
    const response = await fetch(urls.token, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
    });
    if (!response.ok) {
      const error = new Error(`token: HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    access = (await response.json()).access;
    return access;
  }

  // fetch() with the access token; one new token and one retry on a 401 (it expires in minutes).
  async function api(url, options = {}) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const token = access || (await fetchToken());
      const response = await fetch(url, {
        ...options,
        credentials: "omit",
        cache: "no-store",
        headers: { ...(options.headers || {}), Accept: "application/json", Authorization: `Bearer ${token}` },
      });
      if (response.status !== 401 || attempt === 1) return response;
      access = null;
    }
    return null;
  }

  // --- Sync -----------------------------------------------------------------------------------
  async function sync() {
    if (!currentUser || !navigator.onLine) return;
    if ((await db.meta("user")) !== currentUser) await db.forgetData();
    let cursor = await db.meta("cursor");
    for (let page = 0; page < 20; page += 1) {
      const url = cursor ? `${urls.sync}?cursor=${encodeURIComponent(cursor)}` : urls.sync;
      const response = await api(url);
      if (!response.ok) {
        const error = new Error(`sync: HTTP ${response.status}`);
        error.status = response.status;
        throw error;
      }
      const answer = await response.json();
      await db.saveSync(currentUser, answer, Date.now());
      const advanced = answer.cursor !== cursor;
      cursor = answer.cursor;
      if (!answer.has_more || !advanced) break;
    }
    setOffline(false);
    changed();
  }

  // Signing out forgets this customer's data on the device (unsent transfers stay, with their owner).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || new URL(form.action, location.href).pathname !== urls.logout) return;
    if (form.dataset.forgotten) return;
    event.preventDefault();
    db.forgetData().finally(() => {
      form.dataset.forgotten = "true";
      form.submit();
    });
  });

  return {
    urls,
    currentUser,
    CHANGED,
    db,
    changed,
    isOffline: () => offline,
    setOffline,
    api,
    sync,
  };
}

export const store = createStore();
