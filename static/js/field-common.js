// Helpers both pages of the field app use (readings: field-app.js; work orders:
// field-orders.js): message formatting, device time with its offset, client-made ids, CSRF,
// photo shrinking. Page-only (the service worker never loads it).
(function (root) {
  "use strict";

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  // The device's local time with its UTC offset: the server stores the instant, the worker's
  // clock is what they saw.
  function isoWithOffset(date) {
    const pad = function (n, width) { return String(Math.abs(n)).padStart(width || 2, "0"); };
    const offset = -date.getTimezoneOffset();
    return (
      date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) +
      "." + pad(date.getMilliseconds(), 3) + (offset >= 0 ? "+" : "-") +
      pad(Math.floor(Math.abs(offset) / 60)) + ":" + pad(Math.abs(offset) % 60)
    );
  }

  function newClientId() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    const b = root.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // The time of day; with the date when it is not today's (an old copy of the work list).
  function timeLabel(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return "";
    const lang = document.documentElement.lang || undefined;
    const time = d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString(lang, { day: "numeric", month: "short" }) + " " + time;
  }

  // The cookie first: a shell served from the cache carries the token of an older page.
  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Phone photos are 3–12 MB: re-encode to a JPEG no larger than maxSide on its long side.
  async function resizePhoto(file, maxSide, quality) {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) {
        if (blob) resolve(blob); else reject(new Error("encode"));
      }, "image/jpeg", quality);
    });
  }

  root.FieldCommon = {
    format: format,
    isoWithOffset: isoWithOffset,
    newClientId: newClientId,
    timeLabel: timeLabel,
    csrfToken: csrfToken,
    resizePhoto: resizePhoto,
  };
})(self);
