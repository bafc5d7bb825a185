// A bulk import's progress (templates/workspace/import_detail.html): POST "apply the next chunk"
// until every line has its result, moving the progress bar after each chunk, then reload the page
// to show the report. Each chunk is safe to send again (every line is idempotent on the server),
// so a failed request is simply retried by the button, and a page opened on a batch that was
// started and not finished (a reload, another tab) goes on by itself. Every sentence comes from
// the page's data- attributes, so it is translated with the page. Registered before Alpine starts.
(() => {
  document.addEventListener("alpine:init", () => {
    window.Alpine.data("importProgress", () => ({
      percent: 0,
      done: 0,
      total: 0,
      running: false,
      failed: false,
      texts: {},
      init() {
        this.texts = { ...this.$el.dataset };
        this.percent = Number(this.texts.percent || 0);
        this.done = Number(this.texts.done || 0);
        this.total = Number(this.texts.total || 0);
        if (this.texts.autostart === "true" && this.$refs.form) this.start();
      },
      get progressText() {
        return (this.texts.progressText || "")
          .replace("__DONE__", this.done.toLocaleString(document.documentElement.lang || undefined))
          .replace("__TOTAL__", this.total.toLocaleString(document.documentElement.lang || undefined));
      },
      get runningText() {
        return this.texts.runningText || "";
      },
      get errorText() {
        return this.texts.errorText || "";
      },
      get busyAttr() {
        return this.running ? "true" : "false";
      },
      async start() {
        if (this.running) return;
        this.running = true;
        this.failed = false;
        const token = this.$refs.form.querySelector("[name=csrfmiddlewaretoken]").value;
        try {
          for (;;) {
            const response = await fetch(this.texts.applyUrl, {
              method: "POST",
              headers: { Accept: "application/json", "X-CSRFToken": token },
              credentials: "same-origin",
            });
            if (!response.ok) throw new Error(String(response.status));
            const progress = await response.json();
            this.percent = progress.percent;
            this.done = progress.done;
            this.total = progress.total;
            if (progress.finished) break;
          }
          window.location.reload();
        } catch (error) {
          this.failed = true;
          this.running = false;
        }
      },
    }));
  });
})();
