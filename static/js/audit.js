// The staff dashboards (templates/audit/). Components are registered here because the Alpine.js
// CSP build evaluates no expressions from templates: they only name properties and methods.
// Every sentence shown comes from the page (data- attributes). A module (deferred) before
// alpine-csp.min.js (base.html), so `alpine:init` is heard in time.
import { formatTime } from "./lib/when.js";

document.addEventListener("alpine:init", () => {
  const MAX_LIVE_ROWS = 200;

  // The audit log's live tail: server-sent events from /staff/audit/stream/ (the URL carries the
  // page's filters, so the server sends only matching events, and the newest seq on the page).
  // EventSource reconnects by itself and sends Last-Event-ID, from which the server replays.
  window.Alpine.data("auditTail", () => ({
    liveRows: [],
    state: "connecting",
    statusMessage: "",
    source: null,
    texts: {},
    init() {
      this.texts = { ...this.$el.dataset };
      const url = this.texts.streamUrl;
      if (!url) {
        this.state = "off";
        return;
      }
      this.source = new EventSource(url);
      this.source.addEventListener("message", (event) => this.received(event));
      this.source.addEventListener("status", (event) => {
        const status = JSON.parse(event.data);
        this.state = status.state;
        this.statusMessage = status.message;
      });
      this.source.addEventListener("error", () => {
        // CLOSED: refused (signed out, no longer a supervisor); otherwise the browser retries.
        if (this.source.readyState === EventSource.CLOSED) {
          this.state = "stopped";
          this.statusMessage = this.texts.stoppedMessage;
        } else if (this.state !== "paused") {
          this.state = "paused";
          this.statusMessage = this.texts.pausedMessage;
        }
      });
      window.addEventListener("pagehide", () => this.source.close());
    },
    received(event) {
      const row = JSON.parse(event.data);
      if (this.liveRows.some((shown) => shown.seq === row.seq)) return;
      if (document.querySelector(`tr[data-seq="${row.seq}"]:not([data-live])`)) return;
      row.actor_label = row.actor || this.texts.systemActor;
      row.actor_class = row.actor ? "" : "italic text-slate-500 dark:text-slate-400";
      row.target_plain = !row.target_url;
      this.liveRows.unshift(row);
      if (this.liveRows.length > MAX_LIVE_ROWS) this.liveRows.pop();
      this.state = "live";
    },
    get paused() {
      return this.state === "paused";
    },
    get noLiveRows() {
      return this.liveRows.length === 0;
    },
    get statusText() {
      // data-connecting-text, data-live-text, data-paused-text, data-stopped-text, data-off-text
      return this.texts[`${this.state}Text`] || "";
    },
  }));

  // The hash chain badge: verifying reads the whole log, so it is fetched after the page shows.
  window.Alpine.data("chainBadge", () => ({
    state: "checking",
    label: "",
    detail: "",
    async init() {
      const texts = { ...this.$el.dataset };
      this.label = texts.checkingText;
      try {
        const response = await fetch(this.$el.dataset.url, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const verdict = await response.json();
        if (verdict.ok) {
          this.state = "ok";
          this.label = texts.verifiedText.replace("__ROWS__", verdict.checked);
          this.detail = texts.verifiedDetail;
        } else {
          this.state = "broken";
          this.label = texts.brokenText.replace("__ROW__", verdict.first_bad);
          this.detail = verdict.reason;
        }
      } catch (error) {
        this.state = "unknown";
        this.label = texts.uncheckedText;
        this.detail = String(error);
      }
    },
  }));

  // The NATS dashboard: the whole status from /staff/nats/status.json every 2 seconds. The first
  // status comes with the page (a json_script block), so the page is complete before any fetch.
  window.Alpine.data("natsDashboard", () => ({
    status: null,
    fetchFailed: false,
    timer: null,
    texts: {},
    init() {
      this.texts = { ...this.$el.dataset };
      this.status = JSON.parse(document.getElementById("nats-status").textContent);
      this.timer = setInterval(() => this.refresh(), 2000);
    },
    destroy() {
      clearInterval(this.timer);
    },
    async refresh() {
      try {
        const response = await fetch(this.$el.dataset.url, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        this.status = await response.json();
        this.fetchFailed = false;
      } catch (error) {
        this.fetchFailed = true;
      }
    },
    get natsDown() {
      return !this.status.nats.reachable;
    },
    get natsUp() {
      return this.status.nats.reachable;
    },
    get monitorDown() {
      return !this.status.monitor.reachable;
    },
    get server() {
      return this.status.server || {};
    },
    get auditStream() {
      return this.status.audit_stream || {};
    },
    get auditConsumer() {
      return this.status.audit_consumer || {};
    },
    get noAuditStream() {
      return this.status.nats.reachable && !this.status.audit_stream;
    },
    get noAuditConsumer() {
      return this.status.nats.reachable && !this.status.audit_consumer;
    },
    get clients() {
      return this.status.clients.map((client) => ({
        ...client,
        state: client.connected === null ? "unknown" : client.connected ? "connected" : "disconnected",
        text: this.clientText(client),
      }));
    },
    clientText(client) {
      if (client.connected === null) return this.texts.unknownText;
      if (!client.connected) return this.texts.disconnectedText;
      return client.count > 1 ? this.texts.connectedManyText.replace("__COUNT__", client.count) : this.texts.connectedText;
    },
    get connections() {
      return this.status.connections;
    },
    get relayLag() {
      const seconds = this.status.outbox.relay_lag_seconds;
      return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    },
    get backlogState() {
      return this.status.outbox.backlog > 0 ? "waiting" : "empty";
    },
    get auditBytes() {
      const bytes = this.auditStream.bytes || 0;
      if (bytes < 1024) return `${bytes} B`;
      if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
      return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    },
    get recentLogs() {
      return this.status.recent_logs.map((entry) => ({
        ...entry,
        when: entry.time ? formatTime(entry.time) : "",
      }));
    },
    get noRecentLogs() {
      return this.status.recent_logs.length === 0;
    },
    get logDrops() {
      return this.status.log_drops;
    },
    get noLogDrops() {
      return this.status.log_drops.length === 0;
    },
    get shipping() {
      return this.status.log_shipping || { service: this.texts.thisProcessText, shipped: "—", dropped: "—", waiting: "—" };
    },
    get checkedAt() {
      return formatTime(this.status.checked_at);
    },
  }));
});
