// An amount as a person types it, in the display format of the page's language, made the plain
// decimal the API takes ("1 234,50" -> "1234.50"), or null when it is not an amount or reads two
// ways. The same rules as core.money.parse_typed_amount (the pages' forms): one mark followed by
// one or two digits is the decimal mark; with both marks the last one is; a repeated mark, or
// spaces (normal, no-break, narrow no-break), group thousands by three; a lone mark followed by
// three digits groups thousands only in the language whose mark it is ("1,234" in English) and is
// refused otherwise ("1.234" in French: 1 234 or 1,234?).
const FORMATS = { en: { decimal: ".", group: "," }, fr: { decimal: ",", group: "" } };
const PLAIN = /^[0-9]{1,13}(\.[0-9]{1,2})?$/;

function ungroup(units, separator) {
  const escaped = separator.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^[0-9]{1,3}(?:${escaped}[0-9]{3})+$`).test(units) ? units.split(separator).join("") : null;
}

export function plainAmount(typed, language = document.documentElement.lang) {
  const conventions = FORMATS[String(language || "en").slice(0, 2).toLowerCase()] || FORMATS.en;
  const text = String(typed || "").trim().replace(/[\u00a0\u202f\u2009]/g, " ");
  const marks = [...text].filter((char) => char === "," || char === ".");
  let units = text;
  let cents = "";
  let group = "";
  if (new Set(marks).size === 2) {
    const decimal = text[Math.max(text.lastIndexOf(","), text.lastIndexOf("."))];
    if (marks.filter((mark) => mark === decimal).length !== 1) return null;
    const at = text.lastIndexOf(decimal);
    [units, cents] = [text.slice(0, at), text.slice(at + 1)];
    group = decimal === "," ? "." : ",";
  } else if (marks.length === 1) {
    const [head, tail] = text.split(marks[0]);
    if (tail.length === 1 || tail.length === 2) [units, cents] = [head, tail];
    else if (tail.length === 3 && marks[0] === conventions.group) group = marks[0];
    else return null; // three decimals, or 1 234 / 1,234 read two ways
  } else if (marks.length > 1) {
    group = marks[0];
  }
  if (group && units.includes(" ")) return null;
  const separator = group || (units.includes(" ") ? " " : "");
  if (separator) units = ungroup(units, separator);
  if (units === null) return null;
  const plain = cents ? `${units}.${cents}` : units;
  return PLAIN.test(plain) && Number(plain) > 0 ? plain : null;
}
