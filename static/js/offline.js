// Flux offline: the customer's accounts and recent history kept in IndexedDB, and an outbox of
// transfers made offline, replayed with their Idempotency-Key when the network is back.
//
// Loaded (deferred, before Alpine) on customer pages and on the offline page (see
// templates/includes/pwa_head.html). On a customer page, online:
//   1. POST /app/token/ (session cookie + CSRF token) hands this page a JWT pair, kept in memory only;
//   2. GET /api/v1/sync/?cursor= stores the accounts and new entries (last 100 per account);
//   3. the outbox is replayed: POST /api/v1/transfers/ with each transfer's own Idempotency-Key.
// Offline (navigator.onLine false, or a fetch fails), the "Offline, last synced at" banner shows,
// and the offline page (the service worker's fallback) draws the stored data.
// Templates hold every sentence (data- attributes); this file holds none a page shows.
(() => {
  const script = document.getElementById("flux-offline");
  if (!script) return;
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
  // Stores: meta (user, cursor, syncedAt, lang), accounts (by id), entries (by id, index on account),
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

  // The offline page cannot sign requests: once the server answers again it gives way to the real
  // page (the one it stood in for, or the accounts page), which replays the outbox on start.
  let leaving = false;
  async function leaveOfflinePage() {
    if (currentUser || leaving) return;
    leaving = true;
    const target = location.pathname === urls.offlinePage ? urls.accountsPage : location.href;
    for (;;) {
      if (navigator.onLine) {
        try {
          await fetch(urls.offlinePage, { method: "HEAD", cache: "no-store" });
          location.replace(target);
          return;
        } catch (error) {
          // not yet
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  // Standing in for a page the network failed to bring: go back to it as soon as it can load.
  if (!currentUser && location.pathname !== urls.offlinePage) leaveOfflinePage();

  window.addEventListener("online", () => {
    offline = false;
    changed();
    if (currentUser) replayOutbox().then(sync).catch(() => {});
    else leaveOfflinePage();
  });
  window.addEventListener("offline", () => setOffline(true));

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

  // The transfer page's form (portal:transfer), submitted while offline: instead of a request that
  // cannot leave, the transfer is confirmed here and queued; the accounts page (the offline page,
  // from the service worker) then lists it.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (navigator.onLine || !(form instanceof HTMLFormElement) || !urls.transferPage) return;
      if (new URL(form.action, location.href).pathname !== urls.transferPage) return;
      const fields = new FormData(form);
      if (fields.get("step") !== "review") return;
      event.preventDefault();
      event.stopImmediatePropagation();
      queueFromTransferForm(form, fields);
    },
    true,
  );

  async function queueFromTransferForm(form, fields) {
    const messages = (document.querySelector("[data-offline-messages]") || document.body).dataset;
    let iban = "";
    const type = fields.get("destination_type");
    if (type === "iban") iban = String(fields.get("iban") || "");
    if (type === "own") {
      const own = (await db.accounts()).find((account) => String(account.id) === String(fields.get("destination_account")));
      iban = own ? own.iban : "";
    }
    if (type === "beneficiary") {
      const option = form.querySelector(`select[name="beneficiary"] option[value="${CSS.escape(String(fields.get("beneficiary")))}"]`);
      const found = option && option.textContent.toUpperCase().match(/[A-Z]{2}[0-9]{2}(?:\s?[A-Z0-9]){11,30}/);
      iban = found ? found[0] : "";
    }
    iban = iban.replace(/\s+/g, "").toUpperCase();
    const amount = String(fields.get("amount") || "").trim().replace(",", ".");
    const source = (await db.accounts()).find((account) => String(account.id) === String(fields.get("source")));
    if (!source || !window.FluxIban.valid(iban) || !AMOUNT.test(amount) || Number(amount) <= 0) {
      window.alert(messages.offlineInvalid);
      return;
    }
    const question = messages.offlineConfirm
      .replace("{amount}", formatMoney(amount, source.currency))
      .replace("{iban}", groupIban(iban));
    if (!window.confirm(question)) return;
    await queueTransfer(
      { source_account: source.id, destination_iban: iban, amount, reference: String(fields.get("reference") || "").trim() },
      source.currency,
    );
    location.assign(urls.accountsPage);
  }

  // --- Display helpers ------------------------------------------------------------------------
  const lang = () => document.documentElement.lang || "en";
  function formatMoney(amount, currency) {
    const number = new Intl.NumberFormat(lang(), { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return `${number.format(Number(amount))}\u00a0${currency || ""}`.trim();
  }
  const formatTime = (timestamp) =>
    new Intl.DateTimeFormat(lang(), { hour: "2-digit", minute: "2-digit" }).format(new Date(timestamp));
  const formatDate = (iso) => new Intl.DateTimeFormat(lang(), { dateStyle: "medium" }).format(new Date(iso));
  const groupIban = (iban) => String(iban || "").replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");

  function fill(fragment, values) {
    for (const [slot, value] of Object.entries(values)) {
      const node = fragment.querySelector(`[data-slot="${slot}"]`);
      if (node) node.textContent = value;
    }
  }

  const AMOUNT = /^[0-9]{1,13}(\.[0-9]{1,2})?$/;

  const STATUS_STYLES = {
    queued: "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
    sending: "bg-blue-100 text-blue-900 dark:bg-blue-900/60 dark:text-blue-100",
    signin: "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
    posted: "bg-green-100 text-green-900 dark:bg-green-900/60 dark:text-green-100",
    pending: "bg-blue-100 text-blue-900 dark:bg-blue-900/60 dark:text-blue-100",
    refused: "bg-red-100 text-red-900 dark:bg-red-900/60 dark:text-red-100",
  };
  const FINISHED = ["posted", "pending", "refused"];

  // --- Alpine components (the CSP build: templates name properties and methods only) ----------
  document.addEventListener("alpine:init", () => {
    // The banner and the outbox list, on every customer page and on the offline page.
    window.Alpine.data("offlineStatus", () => ({
      offline,
      syncedAt: null,
      items: [],
      init() {
        this.refresh();
        window.addEventListener(CHANGED, () => this.refresh());
      },
      async refresh() {
        this.offline = offline;
        this.syncedAt = (await db.meta("syncedAt").catch(() => null)) || null;
        const owner = currentUser || (await db.meta("user").catch(() => "")) || "";
        this.items = (await db.outbox().catch(() => []))
          .filter((item) => !owner || item.user === owner)
          .sort((a, b) => b.createdAt - a.createdAt);
        this.renderOutbox();
      },
      get bannerHidden() {
        return !this.offline;
      },
      get bannerText() {
        if (!this.syncedAt) return this.$root.dataset.neverSynced;
        return this.$root.dataset.banner.replace("{time}", formatTime(this.syncedAt));
      },
      get outboxHidden() {
        return this.items.length === 0;
      },
      get clearHidden() {
        return !this.items.some((item) => FINISHED.includes(item.status));
      },
      async clearFinished() {
        for (const item of this.items) if (FINISHED.includes(item.status)) await db.deleteOutbox(item.key);
        changed();
      },
      renderOutbox() {
        const labels = this.$root.dataset;
        const list = this.$refs.list;
        list.replaceChildren();
        for (const item of this.items) {
          const row = this.$refs.item.content.cloneNode(true);
          const label = labels[`label${item.status[0].toUpperCase()}${item.status.slice(1)}`] || item.status;
          fill(row, {
            amount: formatMoney(item.body.amount, item.currency),
            destination: groupIban(item.body.destination_iban),
            status: label,
            reason: item.status === "refused" && item.error ? item.error.message || item.error.code : "",
          });
          row.querySelector("li").dataset.status = item.status;
          row.querySelector('[data-slot="status"]').className += ` ${STATUS_STYLES[item.status] || ""}`;
          list.append(row);
        }
      },
    }));

    // The offline page's accounts and recent history, from IndexedDB.
    window.Alpine.data("offlineAccounts", () => ({
      count: 0,
      init() {
        this.render();
        window.addEventListener(CHANGED, () => this.render());
      },
      get emptyHidden() {
        return this.count > 0;
      },
      async render() {
        const labels = this.$root.dataset;
        const accounts = (await db.accounts().catch(() => [])).sort((a, b) => a.id - b.id);
        const list = this.$refs.list;
        list.replaceChildren();
        for (const account of accounts) {
          const card = this.$refs.account.content.cloneNode(true);
          fill(card, {
            kind: labels[`kind${account.kind[0].toUpperCase()}${account.kind.slice(1)}`] || account.kind,
            iban: groupIban(account.iban),
            status: labels[`status${account.status[0].toUpperCase()}${account.status.slice(1)}`] || account.status,
            balance: formatMoney(account.balance, account.currency),
            available: formatMoney(account.available, account.currency),
          });
          card.querySelector("li").dataset.accountId = account.id;
          const entries = card.querySelector('[data-slot="entries"]');
          for (const entry of await db.entriesOf(account.id, 10)) {
            const row = this.$refs.entry.content.cloneNode(true);
            fill(row, {
              label: entry.reference || entry.counterparty || entry.kind,
              date: formatDate(entry.created_at),
              amount: formatMoney(entry.amount, account.currency),
            });
            entries.append(row);
          }
          list.append(card);
        }
        this.count = accounts.length;
      },
    }));

    // "Queue a transfer": stored in the outbox first, sent when the network is back.
    window.Alpine.data("outboxForm", () => ({
      error: "",
      notice: "",
      init() {
        this.fillAccounts();
        window.addEventListener(CHANGED, () => this.fillAccounts());
      },
      get errorHidden() {
        return !this.error;
      },
      get noticeHidden() {
        return !this.notice;
      },
      async fillAccounts() {
        const select = this.$refs.source;
        const chosen = select.value;
        const accounts = (await db.accounts().catch(() => []))
          .filter((account) => account.status === "active")
          .sort((a, b) => a.id - b.id);
        select.replaceChildren(
          ...accounts.map((account) => {
            const option = document.createElement("option");
            option.value = String(account.id);
            option.textContent = `${groupIban(account.iban)} · ${formatMoney(account.available, account.currency)}`;
            option.dataset.currency = account.currency;
            return option;
          }),
        );
        if (chosen) select.value = chosen;
      },
      async submit() {
        const messages = this.$root.dataset;
        const select = this.$refs.source;
        const iban = this.$refs.iban.value.replace(/\s+/g, "").toUpperCase();
        const amount = this.$refs.amount.value.trim().replace(",", ".");
        this.notice = "";
        if (!select.value) return this.fail(messages.errorSource, select);
        if (!window.FluxIban.valid(iban)) return this.fail(messages.errorIban, this.$refs.iban);
        if (!AMOUNT.test(amount) || Number(amount) <= 0) return this.fail(messages.errorAmount, this.$refs.amount);
        this.error = "";
        await queueTransfer({
          source_account: Number(select.value),
          destination_iban: iban,
          amount,
          reference: this.$refs.reference.value.trim(),
        }, select.selectedOptions[0].dataset.currency);
        this.$refs.iban.value = "";
        this.$refs.amount.value = "";
        this.$refs.reference.value = "";
        this.notice = messages.queued;
      },
      fail(message, field) {
        this.error = message;
        field.focus();
      },
    }));
  });

  // `ready` settles once the first sync and replay are done (the end-to-end tests wait on it).
  window.fluxOffline = { sync, replayOutbox, queueTransfer, ready: start() };
})();
