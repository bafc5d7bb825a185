// Flux offline, part 2 of 3: the outbox. Transfers made offline are stored in IndexedDB first and
// replayed with their own Idempotency-Key (POST /api/v1/transfers/) when the network is back; and
// the start of it all on a customer page: sync, replay, the offline shell's language.
// Imported by offline.js; it imports the store. `outbox.ready` settles once the first sync and
// replay are done (the end-to-end tests import this module and wait on it).
import { store } from "./offline-store.js";

function createOutbox() {
  if (!store) return null;
  const { urls, currentUser, db, changed, setOffline, api, sync } = store;

  // --- The outbox -----------------------------------------------------------------------------
  // Only one tab replays at a time (Web Locks); the server's idempotency makes a double send safe
  // anyway: the same key and body get the first answer back and the money moves once.
  const withOutboxLock = (work) =>
    navigator.locks ? navigator.locks.request("flux-outbox", work) : work();

  async function queueTransfer(body, currency = "") {
    const item = {
      key: crypto.randomUUID(),
      user: currentUser || (await db.meta("user")) || "",
      body,
      currency,
      status: "queued",
      createdAt: Date.now(),
    };
    await db.putOutbox(item); // stored before anything else happens
    changed();
    if (navigator.onLine) replayOutbox();
    return item;
  }

  let replaying = false;
  async function replayOutbox() {
    if (!currentUser || !navigator.onLine || replaying) return;
    replaying = true;
    let sent = 0;
    try {
      await withOutboxLock(async () => {
        const items = (await db.outbox())
          .filter((item) => item.user === currentUser && ["queued", "sending", "signin"].includes(item.status))
          .sort((a, b) => a.createdAt - b.createdAt);
        for (const item of items) {
          item.status = "sending";
          await db.putOutbox(item);
          changed();
          let response;
          try {
            response = await api(urls.transfers, {
              method: "POST",
              headers: { "Content-Type": "application/json", "Idempotency-Key": item.key },
              body: JSON.stringify(item.body),
            });
          } catch (error) {
            // No network (or the session is gone: no token): it stays queued, same key.
            item.status = error.status === 401 || error.status === 403 ? "signin" : "queued";
            await db.putOutbox(item);
            changed();
            if (!error.status) setOffline(true);
            return;
          }
          const answer = await response.json().catch(() => null);
          if (response.status === 201 || response.status === 200) {
            item.status = answer && answer.status === "pending" ? "pending" : "posted";
            item.transaction = answer && answer.id;
            sent += 1;
          } else if (response.status === 429 || response.status >= 500) {
            item.status = "queued"; // try again later with the same key
            await db.putOutbox(item);
            changed();
            return;
          } else {
            item.status = "refused";
            item.error = (answer && answer.error) || { code: `http_${response.status}`, message: "" };
          }
          item.settledAt = Date.now();
          await db.putOutbox(item);
          changed();
        }
      });
    } finally {
      replaying = false;
    }
    if (sent) {
      await sync().catch(() => setOffline(!navigator.onLine));
      // The balances this page was rendered with are out of date now: show the new ones.
      if (location.pathname === urls.accountsPage || location.pathname.startsWith(`${urls.accountsPage}accounts/`)) {
        location.reload();
      }
    }
  }

  // --- Start ----------------------------------------------------------------------------------
  async function start() {
    if (!currentUser) return;
    try {
      await sync();
    } catch (error) {
      if (!error.status) setOffline(true); // a failed fetch: no network
    }
    await replayOutbox().catch(() => {});
    // The service worker's cached offline page follows the language the customer reads in.
    const lang = document.documentElement.lang;
    if ((await db.meta("lang")) !== lang) {
      await db.setMeta("lang", lang);
      navigator.serviceWorker?.ready.then((registration) => registration.active?.postMessage({ type: "refresh-shell", lang }));
    }
  }

  window.addEventListener("online", () => {
    if (currentUser) replayOutbox().then(sync).catch(() => {});
  });

  return { sync, replayOutbox, queueTransfer, ready: start() };
}

export const outbox = createOutbox();
