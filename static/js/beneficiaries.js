// The beneficiary form (templates/portal/beneficiaries.html): the IBAN is checked as it is typed
// (static/js/lib/iban.js, shared with the transfer form). Every sentence comes from the page's data-
// attributes, so it is translated with the page. A module, run before Alpine starts (page scripts
// load in base.html's head block, before alpine-csp.min.js).
import { withBusy } from "./lib/busy.js";
import { withIbanField } from "./lib/iban.js";
import { withPayeeCheck } from "./lib/payee-check.js";

// The name is checked against the holder's as it is typed too (static/js/lib/payee-check.js).
document.addEventListener("alpine:init", () => {
  window.Alpine.data("beneficiaryForm", () => withBusy(withPayeeCheck(withIbanField({
    init() {
      this.initIbanField();
      this.initPayeeCheck();
    },
    typeIban(event) {
      this.checkIban(event);
      this.checkPayeeSoon();
    },
    get payeeFixable() {
      return this.payeeCloseMatch;
    },
    send(event) {
      if (this.refuseInvalidIban(event)) return;
      this.busy = true;
    },
  }))));
});
