// IBANs as the bank checks them (banking/iban.py does it again with schwifty): two letters, two
// check digits, 11 to 30 letters and digits, and the ISO 7064 mod-97 remainder equal to 1. One
// copy for every page: the transfer and beneficiary forms check as the customer types, and the
// offline outbox refuses to queue a typo. Imported by the page scripts that need it.
import { mix } from "./busy.js";

// "" when valid, "format" or "checksum" otherwise.
export function problem(value) {
  const iban = String(value || "").replace(/\s+/g, "").toUpperCase();
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
const SHORTEST = 15;

// An IBAN field checked as it is typed, for an Alpine component whose template has x-ref="iban"
// (the input) and x-ref="ibanHint" (data-format-text, data-checksum-text, data-valid-text).
const field = {
  ibanState: "",
  ibanTouched: false,
  initIbanField() {
    if (this.$refs.iban && this.$refs.iban.value.trim()) {
      this.ibanTouched = true;
      this.checkIbanValue(this.$refs.iban.value);
    }
  },
  checkIbanValue(value) {
    const compact = value.replace(/\s+/g, "");
    if (!compact) {
      this.ibanState = "";
      return;
    }
    if (compact.length >= SHORTEST) this.ibanTouched = true;
    this.ibanState = problem(value) || "valid";
  },
  checkIban(event) {
    this.checkIbanValue(event.target.value);
  },
  touchIban(event) {
    this.ibanTouched = true;
    this.checkIbanValue(event.target.value);
  },
  // On submit: true (and the form stays) when the IBAN is not valid; said next to the field,
  // where the focus goes. The server would refuse it too.
  refuseInvalidIban(event) {
    this.ibanTouched = true;
    this.checkIbanValue(this.$refs.iban.value);
    if (this.ibanState === "valid") return false;
    event.preventDefault();
    if (!this.ibanState) this.ibanState = "format";
    this.$refs.iban.focus();
    return true;
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
};

export const valid = (value) => problem(value) === "";

// An Alpine component with the IBAN field's state and methods (it calls initIbanField() from init).
export const withIbanField = (component) => mix(component, field);
