// The agent workspace (templates/workspace/): the desk's keyboard shortcuts, the customer search
// as you type, and the receipt's Print button. Registered here because the Alpine.js CSP build
// evaluates no expressions from templates; they only name properties and methods. Every sentence
// shown comes from the page (data- attributes), so it is translated with the page.
// A module (deferred) before alpine-csp.min.js (base.html), so `alpine:init` is heard in time.
import { withBusy } from "./lib/busy.js";
import { fetchFragment } from "./lib/fragment.js";
import { sendOnceForm } from "./lib/send-once.js";

const SEARCH_DELAY_MS = 200;

// Shortcuts must never steal a key typed into a field.
const isTyping = (element) =>
  Boolean(element) && (element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));

document.addEventListener("alpine:init", () => {
  // On every workspace page: "/" search, "n" new customer, "a" approvals, "?" this help.
  window.Alpine.data("deskKeys", () => ({
    helpOpen: false,
    urls: {},
    init() {
      this.urls = { ...this.$el.dataset };
    },
    onKey(event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target)) {
        // "/" in the customer search itself: the shortcut's aim is met already, and a slash
        // would only spoil the search. In any other field the key is the person's to type.
        if (event.key === "/" && event.target.id === "customer-search") event.preventDefault();
        return;
      }
      const { urls } = this;
      if (event.key === "/") {
        event.preventDefault();
        const box = document.getElementById("customer-search");
        if (box) {
          box.focus();
          box.select();
        } else {
          window.location.assign(`${urls.homeUrl}?focus=1`);
        }
      } else if (event.key === "?") {
        event.preventDefault();
        this.toggleHelp();
      } else if (event.key === "Escape" && this.helpOpen) {
        this.helpOpen = false;
      } else if (event.key === "n") {
        window.location.assign(urls.newCustomerUrl);
      } else if (event.key === "a") {
        window.location.assign(urls.approvalsUrl);
      }
    },
    toggleHelp() {
      this.helpOpen = !this.helpOpen;
    },
    get helpExpanded() {
      return this.helpOpen ? "true" : "false";
    },
  }));

  // /agent/: results as you type. The server renders the list (workspace/_search_results.html)
  // from ?q=; this fetches that fragment after a short pause in typing, drops answers to older
  // queries, and keeps the address in step so Back returns to the same results. Enter opens the
  // first result; the arrow keys move through the results. Without JavaScript the form submits.
  window.Alpine.data("customerSearch", () => withBusy({
    failed: false,
    stale: false,
    timer: null,
    controller: null,
    searchUrl: "",
    init() {
      // Read here: in an event handler, $el is the element that heard the event.
      this.searchUrl = this.$el.dataset.searchUrl;
      const params = new URLSearchParams(window.location.search);
      if (params.get("focus") || !this.$refs.input.value) this.$refs.input.focus();
    },
    onInput() {
      this.stale = true;
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.fetchResults(), SEARCH_DELAY_MS);
    },
    async fetchResults() {
      window.clearTimeout(this.timer);
      const query = this.$refs.input.value.trim();
      const url = new URL(this.searchUrl, window.location.href);
      url.searchParams.set("q", query);
      if (this.controller) this.controller.abort();
      const controller = new AbortController();
      this.controller = controller;
      this.busy = true;
      this.failed = false;
      try {
        const { html } = await fetchFragment(url, { signal: controller.signal });
        if (controller !== this.controller) return; // a newer query is on its way
        this.$refs.results.innerHTML = html;
        this.stale = false;
        const address = new URL(window.location.href);
        address.searchParams.delete("focus");
        if (query) address.searchParams.set("q", query);
        else address.searchParams.delete("q");
        window.history.replaceState(null, "", address);
      } catch (error) {
        if (error.name === "AbortError") return;
        this.failed = true;
      } finally {
        if (controller === this.controller) this.busy = false;
      }
    },
    resultLinks() {
      return Array.from(this.$refs.results.querySelectorAll("a[data-result]"));
    },
    async openFirst(event) {
      event.preventDefault();
      if (this.stale || this.busy) await this.fetchResults();
      const [first] = this.resultLinks();
      if (first) window.location.assign(first.href);
    },
    focusFirst(event) {
      const [first] = this.resultLinks();
      if (!first) return;
      event.preventDefault();
      first.focus();
    },
    moveFocus(event) {
      const links = this.resultLinks();
      const index = links.indexOf(document.activeElement);
      if (index === -1) return;
      event.preventDefault();
      if (event.key === "ArrowDown" && index < links.length - 1) links[index + 1].focus();
      else if (event.key === "ArrowUp") (index === 0 ? this.$refs.input : links[index - 1]).focus();
    },
  }));

  // The receipt: a Print button (print CSS hides everything but the receipt).
  window.Alpine.data("receiptPrint", () => ({
    printReceipt() {
      window.print();
    },
  }));

  // A form that moves money or decides: once sent, its button is disabled and says so.
  window.Alpine.data("deskSendOnce", sendOnceForm);
});
