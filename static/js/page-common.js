// Helpers the office pages share (cashier window, payment kiosk, …): message formatting,
// element building and JSON calls to the API. A page loads it before its own script
// (<script src="{% static 'js/page-common.js' %}" defer> first: deferred scripts run in order)
// and reads them from window.CaudalPage. Other helpers may be added beside these.
(function (root) {
  "use strict";

  // "%(name)s" placeholders as Django's gettext strings use them; "%%" is a percent sign.
  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    }).replace(/%%/g, "%");
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  // A JSON request: answers { ok, status, data } and never throws. A network failure answers
  // status 0 (nothing reached the server). options.csrf: the token for a session-authenticated
  // write; options.credentials: "same-origin" by default.
  async function request(method, address, body, options) {
    const opts = options || {};
    const headers = { "Content-Type": "application/json" };
    if (opts.csrf) headers["X-CSRFToken"] = opts.csrf;
    let response;
    try {
      response = await fetch(address, {
        method: method,
        credentials: opts.credentials || "same-origin",
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_error) {
      return { ok: false, status: 0, data: {} };
    }
    const data = await response.json().catch(function () { return {}; });
    return { ok: response.ok, status: response.status, data: data };
  }

  // What to tell the user about a refused answer: the API's "detail", else the first field
  // error of a DRF validation answer ("amount: …"), else serverError with the status.
  function refusalText(answer, serverError) {
    const data = answer.data && typeof answer.data === "object" ? answer.data : {};
    if (typeof data.detail === "string" && data.detail) return data.detail;
    const first = Object.keys(data)[0];
    if (first) return first + ": " + [].concat(data[first]).join(" ");
    return format(serverError, { status: answer.status });
  }

  root.CaudalPage = Object.assign(root.CaudalPage || {}, {
    format: format,
    el: el,
    request: request,
    refusalText: refusalText,
  });
})(window);
