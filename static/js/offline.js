// Flux offline, part 3 of 3: what the pages show. The "Offline, last synced at" banner and the
// outbox list (every customer page), the offline page's accounts and history (the service
// worker's fallback), the offline outbox form, and the transfer page's form queued while offline.
// Templates hold every sentence (data- attributes); this file holds none a page shows.
// A module (deferred, before Alpine, so its components are registered in time) importing the store
// and the outbox; see templates/includes/pwa_head.html.
import { plainAmount } from "./lib/amount.js";
import { valid as validIban } from "./lib/iban.js";
import { formatDate, formatShortTime as formatTime } from "./lib/when.js";
import { outbox } from "./offline-outbox.js";
import { store } from "./offline-store.js";

function startOfflinePages() {
  if (!store) return;
  const { urls, currentUser, CHANGED, db, changed } = store;
  const { queueTransfer } = outbox;

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
    if (!currentUser) leaveOfflinePage();
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
    // As typed, in the page's language ("1 234,50"): the plain decimal the API takes, or null.
    const amount = plainAmount(fields.get("amount"));
    const source = (await db.accounts()).find((account) => String(account.id) === String(fields.get("source")));
    if (!source || !validIban(iban) || amount === null) {
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
  const groupIban = (iban) => String(iban || "").replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");

  function fill(fragment, values) {
    for (const [slot, value] of Object.entries(values)) {
      const node = fragment.querySelector(`[data-slot="${slot}"]`);
      if (node) node.textContent = value;
    }
  }

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
      offline: store.isOffline(),
      syncedAt: null,
      items: [],
      init() {
        this.refresh();
        window.addEventListener(CHANGED, () => this.refresh());
      },
      async refresh() {
        this.offline = store.isOffline();
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
            // Nothing can go out of a frozen account: its money is not available.
            available: formatMoney(account.status === "frozen" ? "0" : account.available, account.currency),
          });
          card.querySelector("li").dataset.accountId = account.id;
          const entries = card.querySelector('[data-slot="entries"]');
          for (const entry of await db.entriesOf(account.id, 10)) {
            const row = this.$refs.entry.content.cloneNode(true);
            fill(row, {
              label: entry.reference || entry.counterparty_name || entry.counterparty || entry.kind,
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

    // The offline page's transfers waiting for approval, as the last sync saw them.
    window.Alpine.data("offlinePending", () => ({
      count: 0,
      init() {
        this.render();
        window.addEventListener(CHANGED, () => this.render());
      },
      get sectionHidden() {
        return this.count === 0;
      },
      async render() {
        const since = this.$root.dataset.since;
        const pending = (await db.meta("pending").catch(() => null)) || [];
        const list = this.$refs.list;
        list.replaceChildren();
        for (const txn of pending) {
          const row = this.$refs.item.content.cloneNode(true);
          fill(row, {
            amount: formatMoney(txn.amount, txn.currency),
            destination: groupIban(txn.destination_iban),
            reference: txn.reference || "",
            since: since.replace("{date}", formatDate(txn.created_at)),
          });
          row.querySelector("li").dataset.transactionId = txn.id;
          list.append(row);
        }
        this.count = pending.length;
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
        const amount = plainAmount(this.$refs.amount.value);
        this.notice = "";
        if (!select.value) return this.fail(messages.errorSource, select);
        if (!validIban(iban)) return this.fail(messages.errorIban, this.$refs.iban);
        if (amount === null) return this.fail(messages.errorAmount, this.$refs.amount);
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
}

startOfflinePages();
