// The beneficiary form (templates/portal/beneficiaries.html): the IBAN is checked as it is typed,
// as the bank checks it (banking/iban.py does it again with schwifty): two letters, two check
// digits, 11 to 30 letters and digits, and the ISO 7064 mod-97 remainder equal to 1. Every sentence
// comes from the page's data- attributes, so it is translated with the page. Registered before
// Alpine starts (page scripts load in base.html's head block, before alpine-csp.min.js).
(() => {
  function ibanProblem(value) {
    const iban = value.replace(/\s+/g, "").toUpperCase();
    if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return "format";
    const rearranged = iban.slice(4) + iban.slice(0, 4);
    let remainder = 0;
    for (const character of rearranged) {
      const digits = /[A-Z]/.test(character) ? String(character.charCodeAt(0) - 55) : character;
      for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
    }
    return remainder === 1 ? "" : "checksum";
  }

  // The shortest IBAN (Norway) has 15 characters: before that, a complaint would interrupt typing.
  const SHORTEST_IBAN = 15;

  document.addEventListener("alpine:init", () => {
    window.Alpine.data("beneficiaryForm", () => ({
      ibanState: "",
      ibanTouched: false,
      busy: false,
      init() {
        if (this.$refs.iban.value.trim()) {
          this.ibanTouched = true;
          this.checkValue(this.$refs.iban.value);
        }
      },
      checkValue(value) {
        const compact = value.replace(/\s+/g, "");
        if (!compact) {
          this.ibanState = "";
          return;
        }
        if (compact.length >= SHORTEST_IBAN) this.ibanTouched = true;
        this.ibanState = ibanProblem(value) || "valid";
      },
      checkIban(event) {
        this.checkValue(event.target.value);
      },
      touchIban(event) {
        this.ibanTouched = true;
        this.checkValue(event.target.value);
      },
      get ibanShown() {
        return this.ibanState === "valid" || (this.ibanTouched && this.ibanState !== "");
      },
      get ibanDisplayState() {
        return this.ibanShown ? this.ibanState : "";
      },
      get ibanInvalid() {
        return this.ibanShown && this.ibanState !== "valid" ? "true" : "false";
      },
      get ibanMessage() {
        if (!this.ibanShown) return "";
        return this.$refs.ibanHint.dataset[`${this.ibanState}Text`] || "";
      },
      get busyAttr() {
        return this.busy ? "true" : "false";
      },
      send(event) {
        this.ibanTouched = true;
        this.checkValue(this.$refs.iban.value);
        if (this.ibanState !== "valid") {
          // Said next to the field, where the focus goes; the server would refuse it too.
          event.preventDefault();
          if (!this.ibanState) this.ibanState = "format";
          this.$refs.iban.focus();
          return;
        }
        this.busy = true;
      },
    }));
  });
})();
