// Verification of payee as the customer types (the transfer and beneficiary forms): once the IBAN is
// valid and a name is typed, the page's endpoint (/app/payee-check/, the API's payees/check/ with the
// session) says whether the name is the holder's. For an Alpine component whose template has
// x-ref="payee" (data-url, data-initial-result, data-initial-name and the sentences: data-match-text,
// data-close-text with "{name}", data-no-match-text, data-unavailable-text, data-error-text) and,
// unless it overrides payeeInputs(), x-ref="iban" and x-ref="payeeName". Every sentence comes from the
// page, so it is translated with it.
import { mix } from "./busy.js";
import { valid } from "./iban.js";

// Long enough not to ask at every key, short enough to answer before the customer looks up.
const DELAY = 400;

const check = {
  payeeResult: "",
  payeeHolder: "",
  payeeTimer: null,
  payeeRequest: 0,
  payeeTexts: {},
  initPayeeCheck() {
    this.payeeTexts = { ...this.$refs.payee.dataset };
    this.payeeResult = this.payeeTexts.initialResult || "";
    this.payeeHolder = this.payeeTexts.initialName || "";
    if (!this.payeeResult) this.checkPayeeNow();
  },
  // What to check: the typed IBAN and name (a component may say otherwise, e.g. a saved beneficiary).
  payeeInputs() {
    return {
      iban: this.$refs.iban ? this.$refs.iban.value : "",
      name: this.$refs.payeeName ? this.$refs.payeeName.value : "",
    };
  },
  checkPayeeSoon() {
    clearTimeout(this.payeeTimer);
    this.payeeTimer = setTimeout(() => this.checkPayeeNow(), DELAY);
  },
  async checkPayeeNow() {
    clearTimeout(this.payeeTimer);
    const { iban, name } = this.payeeInputs();
    // A newer question makes the answers to older ones stale.
    const request = ++this.payeeRequest;
    if (!valid(iban) || !name.trim()) {
      this.payeeResult = "";
      this.payeeHolder = "";
      return;
    }
    const url = new URL(this.payeeTexts.url, window.location.href);
    url.searchParams.set("iban", iban.replace(/\s+/g, ""));
    url.searchParams.set("name", name.trim());
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = response.ok ? await response.json() : null;
      if (request !== this.payeeRequest) return;
      this.payeeResult = body ? body.result : "error";
      this.payeeHolder = (body && body.name) || "";
    } catch (error) {
      if (request === this.payeeRequest) this.payeeResult = "error";
    }
  },
  // "Did you mean ...?": one click puts the holder's name in the field, and checks it again.
  usePayeeName() {
    if (!this.$refs.payeeName || !this.payeeHolder) return;
    this.$refs.payeeName.value = this.payeeHolder;
    this.checkPayeeNow();
  },
  // For the page's styles: the result with a hyphen (Tailwind reads "_" in a class as a space).
  get payeeState() {
    return this.payeeResult.replace("_", "-");
  },
  get payeeShown() {
    return this.payeeResult !== "";
  },
  get payeeCloseMatch() {
    return this.payeeResult === "close_match" && this.payeeHolder !== "";
  },
  get payeeNoMatch() {
    return this.payeeResult === "no_match";
  },
  get payeeMessage() {
    const texts = this.payeeTexts;
    switch (this.payeeResult) {
      case "match":
        return texts.matchText || "";
      case "close_match":
        return (texts.closeText || "").replace("{name}", this.payeeHolder);
      case "no_match":
        return texts.noMatchText || "";
      case "unavailable":
        return texts.unavailableText || "";
      case "":
        return "";
      default:
        return texts.errorText || "";
    }
  },
};

// An Alpine component with the payee check's state and methods (it calls initPayeeCheck() from init).
export const withPayeeCheck = (component) => mix(component, check);
