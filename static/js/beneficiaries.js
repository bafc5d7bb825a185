// The beneficiary form (templates/portal/beneficiaries.html): the IBAN is checked as it is typed
// (static/js/iban.js, shared with the transfer form). Every sentence comes from the page's data-
// attributes, so it is translated with the page. Registered before Alpine starts (page scripts
// load in base.html's head block, before alpine-csp.min.js).
document.addEventListener("alpine:init", () => {
  window.Alpine.data("beneficiaryForm", () => window.FluxIban.withField({
    busy: false,
    init() {
      this.initIbanField();
    },
    get busyAttr() {
      return this.busy ? "true" : "false";
    },
    send(event) {
      if (this.refuseInvalidIban(event)) return;
      this.busy = true;
    },
  }));
});
