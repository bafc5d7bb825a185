// Dates and times as the pages print them: in the page's language (<html lang>) and always in the
// bank's time zone (<html data-time-zone>, settings.TIME_ZONE), never the browser's, so a time shown
// by a script matches the ones the server wrote beside it. Dates are the "long" style, the one
// core/formats/ gives Django's DATE_FORMAT: "2 août 2026", "August 2, 2026".
const root = document.documentElement;

function options(extra) {
  const zone = root.dataset.timeZone;
  return zone ? { ...extra, timeZone: zone } : extra;
}

function format(value, extra) {
  const moment = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(moment.getTime())) return "";
  return new Intl.DateTimeFormat(root.lang || undefined, options(extra)).format(moment);
}

export const formatDate = (value) => format(value, { dateStyle: "long" });
export const formatTime = (value) => format(value, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
export const formatShortTime = (value) => format(value, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
export const formatDateTime = (value) => format(value, { dateStyle: "long", timeStyle: "short", hourCycle: "h23" });
