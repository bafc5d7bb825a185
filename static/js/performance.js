// The performance page (templates/audit/performance.html): every process's live figures from
// /staff/performance/status.json every 2 seconds (audit/performance.py), as summary figures, two
// charts drawn with the vendored Chart.js (requests per second and p99 latency of each web worker,
// the last two minutes) and a table, which is what screen readers and browsers without
// JavaScript get. The first figures come with the page (json_script). Every sentence comes from the
// page's data- attributes, so it speaks the page's language. A module (deferred) before
// alpine-csp.min.js (base.html), so `alpine:init` is heard in time.
import { formatTime } from "./lib/when.js";

document.addEventListener("alpine:init", () => {
  const REFRESH_MS = 2000;
  const HISTORY_POINTS = 60;
  const COLOURS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4f46e5", "#65a30d"];

  // Chart.js objects and the history stay out of Alpine's reactive data: wrapped in its proxies,
  // a chart's update recurses through them.
  window.Alpine.data("performanceDashboard", () => {
    const charts = {};
    const history = [];
    return {
      status: null,
      fetchFailed: false,
      loading: true,
      timer: null,
      texts: {},
      chartsFailed: false,
      serverRowsShown: false,
      init() {
        this.texts = { ...this.$el.dataset };
        this.status = JSON.parse(document.getElementById("performance-status").textContent);
        this.remember();
        this.loading = false;
        this.drawCharts();
        this.timer = setInterval(() => this.refresh(), REFRESH_MS);
      },
      destroy() {
        clearInterval(this.timer);
        Object.values(charts).forEach((chart) => chart.destroy());
      },
      async refresh() {
        try {
          const response = await fetch(this.texts.url, { headers: { Accept: "application/json" } });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          this.status = await response.json();
          this.fetchFailed = false;
          this.remember();
          this.updateCharts();
        } catch (error) {
          this.fetchFailed = true;
        }
      },
      remember() {
        const point = { at: new Date(this.status.checked_at * 1000), web: {} };
        for (const row of this.status.processes) {
          if (row.service === "web") point.web[row.instance] = { rps: row.requests_per_second, p99: row.p99_ms };
        }
        point.total = this.status.summary.requests_per_second;
        history.push(point);
        if (history.length > HISTORY_POINTS) history.shift();
      },
      instances() {
        const seen = new Set();
        history.forEach((point) => Object.keys(point.web).forEach((instance) => seen.add(instance)));
        return [...seen].sort();
      },
      datasets(figure) {
        const instances = this.instances();
        const sets = instances.map((instance, index) => ({
          label: `web ${instance}`,
          data: history.map((point) => (point.web[instance] ? point.web[instance][figure] : null)),
          borderColor: COLOURS[index % COLOURS.length],
          backgroundColor: COLOURS[index % COLOURS.length],
          spanGaps: false,
          pointRadius: 0,
          borderWidth: 2,
        }));
        if (figure === "rps") {
          sets.unshift({
            label: this.texts.allWorkersText,
            data: history.map((point) => point.total),
            borderColor: "#0f172a",
            backgroundColor: "#0f172a",
            borderDash: [6, 4],
            pointRadius: 0,
            borderWidth: 2,
          });
        }
        return sets;
      },
      labels() {
        return history.map((point) => formatTime(point.at));
      },
      drawCharts() {
        if (typeof window.Chart !== "function") {
          this.chartsFailed = true;
          return;
        }
        const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
        const text = dark ? "#cbd5e1" : "#334155";
        const grid = dark ? "rgba(148, 163, 184, 0.25)" : "rgba(100, 116, 139, 0.2)";
        const options = (title) => ({
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          color: text,
          interaction: { mode: "index", intersect: false },
          scales: {
            x: { ticks: { color: text, maxTicksLimit: 6 }, grid: { color: grid } },
            y: { beginAtZero: true, title: { display: true, text: title, color: text }, ticks: { color: text }, grid: { color: grid } },
          },
          plugins: { legend: { labels: { color: text, boxWidth: 12 } } },
        });
        charts.rps = new window.Chart(this.$refs.requestsChart, {
          type: "line",
          data: { labels: this.labels(), datasets: this.datasets("rps") },
          options: options(this.texts.requestsAxisText),
        });
        charts.p99 = new window.Chart(this.$refs.latencyChart, {
          type: "line",
          data: { labels: this.labels(), datasets: this.datasets("p99") },
          options: options(this.texts.latencyAxisText),
        });
      },
      updateCharts() {
        if (this.chartsFailed || !charts.rps) return;
        for (const [name, figure] of [["rps", "rps"], ["p99", "p99"]]) {
          const chart = charts[name];
          chart.data.labels = this.labels();
          chart.data.datasets = this.datasets(figure);
          chart.update("none");
        }
      },
      number(value, digits) {
        if (value === null || value === undefined) return "—";
        const language = document.documentElement.lang || undefined;
        return new Intl.NumberFormat(language, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
      },
      percent(value) {
        if (value === null || value === undefined) return "—";
        const language = document.documentElement.lang || undefined;
        return new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 2 }).format(value);
      },
      ms(value) {
        return value === null || value === undefined ? "—" : `${this.number(value, 1)} ms`;
      },
      get summary() {
        const summary = this.status.summary;
        return {
          requests: this.number(summary.requests_per_second, 1),
          p99: this.ms(summary.p99_ms),
          errors: this.percent(summary.error_rate),
          transfers: this.number(summary.transfers_per_second, 1),
          backlog: summary.outbox_backlog === null ? "—" : this.number(summary.outbox_backlog, 0),
          lag: summary.consumer_lag === null ? "—" : this.number(summary.consumer_lag, 0),
          processes: this.number(summary.processes, 0),
        };
      },
      get rows() {
        return this.status.processes.map((row) => ({
          key: row.key,
          service: row.service,
          instance: row.instance,
          requests: this.number(row.requests_per_second, 1),
          p50: this.ms(row.p50_ms),
          p95: this.ms(row.p95_ms),
          p99: this.ms(row.p99_ms),
          errors: this.percent(row.error_rate),
          transfers: this.number(row.transfers_per_second, 1),
          events: this.number(row.events_published_per_second ?? row.events_stored_per_second, 1),
          backlog: row.service === "relay" ? this.number(row.outbox_backlog, 0)
            : row.service === "consumer" ? this.number(row.consumer_lag, 0) : "—",
          pool: row.pool_max ? `${row.pool_in_use} / ${row.pool_max}` : "—",
          age: `${this.number(row.age_seconds, 0)} s`,
        }));
      },
      get noProcesses() {
        return !this.loading && this.status.processes.length === 0;
      },
      get hasProcesses() {
        return this.status.processes.length > 0;
      },
      get natsDown() {
        return !this.status.connected;
      },
      get checkedAt() {
        return formatTime(this.status.checked_at * 1000);
      },
    };
  });
});
