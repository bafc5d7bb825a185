// The customer pages (templates/portal/): the history's infinite scroll, the transfer form's IBAN
// check and the forms that must not be sent twice. Registered here because the Alpine.js CSP build
// evaluates no expressions from templates; they only name properties and methods. Every sentence
// shown comes from the page (data- attributes), so it is translated with the page.
// A module (deferred) before alpine-csp.min.js (base.html), so `alpine:init` is heard in time.
import { withBusy } from "./lib/busy.js";
import { fetchFragment } from "./lib/fragment.js";
import { withIbanField } from "./lib/iban.js";
import { withPayeeCheck } from "./lib/payee-check.js";
import { sendOnceForm, withSendOnce } from "./lib/send-once.js";

document.addEventListener("alpine:init", () => {
  // An account's history: the page renders the first page of entries; the next pages come from
  // the same view as HTML fragments (`?cursor=...&partial=1`, the next URL in X-Next-Page), when
  // the sentinel under the list scrolls into view or when "Load more" is used (a plain link to
  // the next page without JavaScript).
  window.Alpine.data("entryScroll", () => withBusy({
    nextUrl: "",
    statusText: "",
    observer: null,
    texts: {},
    init() {
      // Read now: in a method called from the button, $el is the button, not this element.
      this.texts = { ...this.$el.dataset };
      this.nextUrl = this.texts.nextUrl || "";
      if (!this.nextUrl || !("IntersectionObserver" in window)) return;
      this.observer = new IntersectionObserver(
        (changes) => {
          if (changes.some((change) => change.isIntersecting)) this.loadMore();
        },
        { rootMargin: "200px" },
      );
      this.observer.observe(this.$refs.sentinel);
    },
    destroy() {
      if (this.observer) this.observer.disconnect();
    },
    get hasMore() {
      return this.nextUrl !== "";
    },
    async loadMore() {
      if (this.busy || !this.nextUrl) return;
      this.busy = true;
      this.statusText = this.texts.loadingText;
      try {
        const url = new URL(this.nextUrl, window.location.href);
        url.searchParams.set("partial", "1");
        const { html, response } = await fetchFragment(url);
        this.$refs.list.insertAdjacentHTML("beforeend", html);
        this.nextUrl = response.headers.get("X-Next-Page") || "";
        if (this.$refs.more && this.nextUrl) this.$refs.more.href = this.nextUrl;
        this.statusText = this.nextUrl ? "" : this.texts.endText;
        if (this.observer) {
          if (this.nextUrl) {
            // Observing again reports the sentinel's current state: if it is still on screen
            // (a tall screen, a short page), the next page loads too.
            this.observer.unobserve(this.$refs.sentinel);
            this.observer.observe(this.$refs.sentinel);
          } else {
            this.observer.disconnect();
          }
        }
      } catch (error) {
        // No automatic retry (it could loop while offline): "Load more" stays for the person.
        if (this.observer) this.observer.disconnect();
        this.observer = null;
        this.statusText = this.texts.errorText;
      } finally {
        this.busy = false;
      }
    },
  }));

  // The confirmation step: only the sending state (static/js/lib/send-once.js).
  window.Alpine.data("sendOnceForm", sendOnceForm);

  // Step 1 of a transfer: where the money goes (own account, beneficiary, typed IBAN) shows only
  // the matching field, a typed IBAN is checked as it is typed, and the payee's name against the
  // account holder's (static/js/lib/payee-check.js): for a typed IBAN and name, or a saved beneficiary.
  window.Alpine.data("transferForm", () => withSendOnce(withPayeeCheck(withIbanField({
    destinationType: "",
    init() {
      this.setUpSendOnce();
      const checked = this.$el.querySelector('input[name="destination_type"]:checked');
      this.destinationType = checked ? checked.value : "";
      this.initIbanField();
      this.initPayeeCheck();
    },
    chooseType(event) {
      this.destinationType = event.target.value;
      this.checkPayeeNow();
    },
    typeIban(event) {
      this.checkIban(event);
      this.checkPayeeSoon();
    },
    payeeInputs() {
      if (this.showIban) return { iban: this.$refs.iban.value, name: this.$refs.payeeName.value };
      const select = this.$refs.beneficiary;
      if (this.showBeneficiary && select && select.selectedOptions.length) {
        const option = select.selectedOptions[0];
        return { iban: option.dataset.iban || "", name: option.dataset.name || "" };
      }
      return { iban: "", name: "" };
    },
    // The one-click fix changes the typed name; a saved beneficiary is renamed on its own page.
    get payeeFixable() {
      return this.showIban && this.payeeCloseMatch;
    },
    get showOwn() {
      return this.destinationType === "own";
    },
    get showBeneficiary() {
      return this.destinationType === "beneficiary";
    },
    get showIban() {
      return this.destinationType === "iban";
    },
    send(event) {
      if (this.showIban && this.refuseInvalidIban(event)) return;
      this.busy = true;
    },
  }))));
});
