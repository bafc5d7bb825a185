// The customer's notifications, live (templates/includes/notification_bell.html and
// templates/portal/notifications.html). The bell opens one EventSource on the server-sent events of
// /app/notifications/stream/ (the newest notification the page showed as its start; EventSource
// reconnects by itself with Last-Event-ID), counts each new one and tells the page, which puts it at
// the top of its list when it is the notifications page. Every sentence comes from the page
// (data- attributes), so it is in the page's language. A module, before alpine-csp.min.js (base.html).
const NOTIFICATION_EVENT = "flux:notification";

document.addEventListener("alpine:init", () => {
  window.Alpine.data("notificationBell", () => ({
    count: 0,
    announcement: "",
    seen: new Set(),
    source: null,
    init() {
      this.count = Number(this.$el.dataset.count || 0);
      const url = this.$el.dataset.streamUrl;
      if (!url || !("EventSource" in window)) return;
      this.source = new EventSource(url);
      this.source.addEventListener("message", (event) => this.received(JSON.parse(event.data)));
      window.addEventListener("pagehide", () => this.source.close());
    },
    received(item) {
      if (this.seen.has(item.id)) return;
      this.seen.add(item.id);
      if (!item.read_at) this.count += 1;
      this.announcement = `${item.title}. ${item.body}`;
      window.dispatchEvent(new CustomEvent(NOTIFICATION_EVENT, { detail: item }));
    },
    get noUnread() {
      return this.count === 0;
    },
    get countText() {
      return this.count > 99 ? "99+" : String(this.count);
    },
    get label() {
      return this.count ? this.$el.dataset.labelUnread.replace("__COUNT__", this.count) : this.$el.dataset.label;
    },
  }));

  // The notifications page's list: a new notification goes on top, with its own "Mark as read".
  window.Alpine.data("notificationList", () => ({
    init() {
      window.addEventListener(NOTIFICATION_EVENT, (event) => this.prepend(event.detail));
    },
    prepend(item) {
      const list = this.$refs.list;
      if (list.querySelector(`[data-notification-id="${item.id}"]`)) return;
      const row = this.$refs.item.content.firstElementChild.cloneNode(true);
      row.dataset.notificationId = item.id;
      row.dataset.kind = item.kind;
      row.querySelector('[data-slot="title"]').textContent = item.title;
      row.querySelector('[data-slot="body"]').textContent = item.body;
      row.querySelector('[data-slot="time"]').textContent = this.$el.dataset.justNow;
      row.querySelector('[data-slot="form"]').action = this.$el.dataset.readUrl.replace("/0/", `/${item.id}/`);
      list.prepend(row);
      list.hidden = false;
      if (this.$refs.empty) this.$refs.empty.hidden = true;
    },
  }));
});
