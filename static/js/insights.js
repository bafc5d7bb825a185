// The money in / out chart of the statements page (templates/portal/statements.html): a bar chart
// drawn with the vendored Chart.js (static/vendor/chart.umd.min.js, loaded before this file) from
// the figures the page embeds with json_script. The page also shows them as a table, which is what
// screen readers and browsers without JavaScript get. Labels come from data- attributes so they
// are translated with the page.
document.addEventListener("alpine:init", () => {
  window.Alpine.data("moneyChart", () => ({
    drawn: false,
    failed: false,
    chart: null,
    get statusHidden() {
      return this.drawn;
    },
    get statusText() {
      return this.failed ? this.$el.dataset.failedText : this.$el.dataset.loadingText;
    },
    init() {
      const source = document.getElementById(this.$el.dataset.source);
      if (!source || typeof window.Chart !== "function") {
        this.failed = true;
        return;
      }
      const months = JSON.parse(source.textContent);
      const dataset = this.$el.dataset;
      const language = document.documentElement.lang || undefined;
      const number = new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
      const text = dark ? "#cbd5e1" : "#334155";
      const grid = dark ? "rgba(148, 163, 184, 0.25)" : "rgba(100, 116, 139, 0.2)";
      this.chart = new window.Chart(this.$refs.canvas, {
        type: "bar",
        data: {
          labels: months.map((month) => month.short_label),
          datasets: [
            {
              label: dataset.inLabel,
              data: months.map((month) => month.money_in_minor / 100),
              backgroundColor: dark ? "#4ade80" : "#15803d",
            },
            {
              label: dataset.outLabel,
              data: months.map((month) => month.money_out_minor / 100),
              backgroundColor: dark ? "#f87171" : "#b91c1c",
            },
          ],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          color: text,
          scales: {
            x: { ticks: { color: text }, grid: { color: grid } },
            y: {
              beginAtZero: true,
              ticks: { color: text, callback: (value) => number.format(value) },
              grid: { color: grid },
            },
          },
          plugins: {
            legend: { labels: { color: text } },
            tooltip: {
              callbacks: {
                title: (items) => months[items[0].dataIndex].label,
                label: (item) => `${item.dataset.label}: ${number.format(item.parsed.y)} ${dataset.currency}`,
              },
            },
          },
        },
      });
      this.drawn = true;
    },
    destroy() {
      if (this.chart) this.chart.destroy();
    },
  }));
});
