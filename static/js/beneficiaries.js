// The beneficiary form (templates/portal/beneficiaries.html): the IBAN is checked as it is typed
// (static/js/lib/iban.js, shared with the transfer form). Every sentence comes from the page's data-
// attributes, so it is translated with the page. A module, run before Alpine starts (page scripts
// load in base.html's head block, before alpine-csp.min.js).
import { withBusy } from "./lib/busy.js";
import { withIbanField } from "./lib/iban.js";

document.addEventListener("alpine:init", () => {
  window.Alpine.data("beneficiaryForm", () => withBusy(withIbanField({
    init() {
      this.initIbanField();
    },
    send(event) {
      if (this.refuseInvalidIban(event)) return;
      this.busy = true;
    },
  })));
});
