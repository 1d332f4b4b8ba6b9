/**
 * Dates as the product writes them everywhere: "5 Dec 2026", and "5 Dec 2026 14:05 UTC"
 * where the time matters (agent/reports/words.py writes the same).
 *
 * Never the browser's locale: `toLocaleString` would write 12/5/2026 in one office and
 * 5.12.2026 in the next, and "3/4" is March or April depending on who reads it. The
 * month is a word, the format is spelt out here, and times are read and written in
 * UTC, so the same answer reads the same in every browser. The worker, the popup and
 * the options page format through this module only; a test runs it in Chromium with
 * the en-US and de-DE locales.
 */

const MONTHS = Object.freeze(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
  "Oct", "Nov", "Dec"]);

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_IN_TEXT = /\b(\d{4})-(\d{2})-(\d{2})\b/g;

function two(n) {
  return String(n).padStart(2, "0");
}

/** A `Date` from an ISO date or date-time (or a `Date`); `null` when it is not one. */
function parsed(value) {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value;
  }
  const text = String(value ?? "").trim();
  if (!text) {
    return null;
  }
  const plain = ISO_DAY.exec(text);
  if (plain) {
    const [, year, month, date] = plain.map(Number);
    const at = new Date(Date.UTC(year, month - 1, date));
    return at.getUTCDate() === date && at.getUTCMonth() === month - 1 ? at : null;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** "5 Dec 2026" (no leading zero, the month a word); "" for no date. */
export function day(value) {
  const at = parsed(value);
  if (!at) {
    return "";
  }
  return `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}`;
}

/** "5 Dec 2026 14:05 UTC"; a plain date as `day` writes it; "" for no date. */
export function moment(value) {
  const at = parsed(value);
  if (!at) {
    return "";
  }
  if (ISO_DAY.test(String(value).trim())) {
    return day(at);
  }
  return `${day(at)} ${two(at.getUTCHours())}:${two(at.getUTCMinutes())} UTC`;
}

/** Every ISO date inside a sentence ("left on 2026-03-03") written as `day` writes it. */
export function readableDates(text) {
  return String(text ?? "").replace(ISO_DATE_IN_TEXT, (whole) => day(whole) || whole);
}

/*
 * Check by hand: open chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/options.html
 * and in its console (await import('/lib/dates.js')).moment('2026-12-05T14:05:00Z')
 * says "5 Dec 2026 14:05 UTC", whatever the browser's language.
 */
