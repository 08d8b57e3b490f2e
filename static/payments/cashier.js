// The cashier window: open a cash session with a float, find an account by number or payment
// reference, take a payment (it is applied oldest debt first by the server), print its
// receipt, reverse one (with the permission), and close the session with the drawer's count.
// Every rule is the payments API's; the page only draws what it answers. Translated strings
// come from the page's config (rendered by Django with gettext).
(function () {
  "use strict";
  const configNode = document.getElementById("cashier-config");
  if (!configNode) return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const shell = document.querySelector(".cashier-shell");
  const csrfToken = shell.dataset.csrf;
  const $ = function (id) { return document.getElementById(id); };
  let account = null;

  const format = CaudalPage.format;
  const el = CaudalPage.el;
  function row(cells, numeric) {
    const tr = document.createElement("tr");
    cells.forEach(function (cell, k) {
      const td = cell instanceof Node ? (function () { const t = el("td"); t.appendChild(cell); return t; })()
        : el("td", cell);
      if (numeric && numeric.indexOf(k) >= 0) td.className = "num";
      tr.appendChild(td);
    });
    return tr;
  }
  function status(text) { $("cashier-status").textContent = text || ""; }
  function alertBox(text) {
    $("cashier-alert").hidden = !text;
    $("cashier-alert-message").textContent = text || "";
  }
  // Money stays a string: cents are added as integers, never as floats.
  function cents(text) {
    const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(text).trim());
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  function pesos(c) {
    const sign = c < 0 ? "-" : "";
    c = Math.abs(c);
    return sign + Math.floor(c / 100) + "." + String(c % 100).padStart(2, "0");
  }

  async function call(method, address, body) {
    const answer = await CaudalPage.request(method, address, body, { csrf: csrfToken });
    if (answer.status === 0) alertBox(msg.networkError);
    return answer;
  }
  function refused(answer) {
    if (answer.status !== 0) alertBox(CaudalPage.refusalText(answer, msg.serverError));
  }

  // --- session ------------------------------------------------------------------------------
  function drawSession(session) {
    const open = session && session.status === "open";
    shell.dataset.session = open ? "open" : (session ? "closed" : "none");
    $("session-open-form").hidden = open;
    $("session-open-panel").hidden = !open;
    $("pay-submit").disabled = !open;
    if (!open) {
      status(msg.noSession);
      return;
    }
    status(format(msg.sessionOpen, {
      window: session.window, since: new Date(session.opened_at).toLocaleTimeString(),
    }));
    const body = $("session-methods").querySelector("tbody");
    body.replaceChildren();
    Object.keys(session.methods).forEach(function (method) {
      const m = session.methods[method];
      body.appendChild(row([method + " " + m.label, m.count, m.total, m.reversed_total, m.net],
                           [1, 2, 3, 4]));
    });
    $("session-expected").textContent = session.expected_cash;
  }
  async function loadSession() {
    const answer = await call("GET", config.urls.session);
    drawSession(answer.ok ? answer.data : null);
  }
  function counted() {
    const counts = {};
    let total = 0;
    document.querySelectorAll("#session-close-form input.count").forEach(function (input) {
      const pieces = parseInt(input.value || "0", 10) || 0;
      counts[input.dataset.face] = pieces;
      total += cents(input.dataset.face) * pieces;
    });
    return { counts: counts, total: total };
  }
  document.querySelectorAll("#session-close-form input.count").forEach(function (input) {
    input.addEventListener("input", function () { $("session-counted").textContent = pesos(counted().total); });
  });
  $("session-open-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const answer = await call("POST", config.urls.session, {
      window: $("session-window").value, opening_float: $("session-float").value.trim() || "0.00",
    });
    if (!answer.ok) return refused(answer);
    alertBox(null);
    $("session-result").hidden = true;
    drawSession(answer.data);
  });
  $("session-close-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!window.confirm(msg.confirmClose)) return;
    const answer = await call("POST", config.urls.close, {
      counted: counted().counts, note: $("session-note").value,
    });
    if (!answer.ok) return refused(answer);
    alertBox(null);
    const s = answer.data;
    $("result-expected").textContent = s.expected_cash;
    $("result-counted").textContent = s.counted_cash;
    $("result-difference").textContent = s.difference;
    $("result-difference").className = s.difference.charAt(0) === "-" ? "difference-negative" : "";
    $("session-result").hidden = false;
    drawSession(s);
    status(format(msg.sessionClosed, { difference: s.difference }));
  });

  // --- account and payments -----------------------------------------------------------------
  function drawAccount(data) {
    account = data;
    $("account-panel").hidden = false;
    $("account-number").textContent = data.number;
    $("account-customer").textContent = data.customer;
    $("account-balance").textContent = data.balance;
    const items = $("account-items").querySelector("tbody");
    items.replaceChildren();
    if (!data.open_items.length) items.appendChild(row([msg.nothingOpen, "", "", ""]));
    data.open_items.forEach(function (i) {
      items.appendChild(row([i.document_type + " " + i.document_id, i.concept, i.due_date, i.open], [3]));
    });
    const payments = $("account-payments").querySelector("tbody");
    payments.replaceChildren();
    data.payments.forEach(function (p) {
      const link = el("a", msg.receipt);
      link.href = config.urls.receipt.replace("{id}", p.id);
      link.target = "_blank";
      const actions = el("span");
      actions.appendChild(link);
      if (config.canReverse && p.status === "posted") {
        const button = el("button", msg.reverse, "reverse");
        button.type = "button";
        button.dataset.payment = p.id;
        button.addEventListener("click", function () { reverse(p.id); });
        actions.appendChild(document.createTextNode(" "));
        actions.appendChild(button);
      }
      const tr = row([p.id, new Date(p.received_at).toLocaleString(), p.method_label, p.amount,
                      p.status === "reversed" ? msg.statusReversed : p.status, actions], [3]);
      if (p.status === "reversed") tr.className = "reversed";
      payments.appendChild(tr);
    });
    const owed = cents(data.balance);
    $("pay-amount").value = owed && owed > 0 ? data.balance : "";
  }
  async function lookup(query) {
    const answer = await call("GET", config.urls.lookup + "?q=" + encodeURIComponent(query));
    if (!answer.ok) {
      $("account-panel").hidden = true;
      return refused(answer);
    }
    alertBox(null);
    drawAccount(answer.data);
  }
  $("account-form").addEventListener("submit", function (event) {
    event.preventDefault();
    $("pay-result").hidden = true;
    lookup($("account-query").value.trim());
  });
  $("pay-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!account) return;
    const answer = await call("POST", config.urls.pay, {
      account: account.id, amount: $("pay-amount").value.trim(),
      method: $("pay-method").value, reference: $("pay-reference").value.trim(),
    });
    if (!answer.ok) return refused(answer);
    alertBox(null);
    const p = answer.data;
    $("pay-result").hidden = false;
    $("pay-result").dataset.payment = p.id;
    $("pay-result-text").textContent = format(msg.paid, { id: p.id, amount: p.amount });
    const body = $("pay-allocation").querySelector("tbody");
    body.replaceChildren();
    p.allocation.forEach(function (a) {
      body.appendChild(row([a.document_type + " " + a.document_id, a.concept, a.amount], [2]));
    });
    $("pay-receipt").href = config.urls.receipt.replace("{id}", p.id);
    $("pay-reference").value = "";
    await lookup(account.number);
    await loadSession();
  });
  async function reverse(id) {
    const reason = window.prompt(msg.askReason);
    if (!reason) return;
    const answer = await call("POST", config.urls.reverse.replace("{id}", id), { reason: reason });
    if (!answer.ok) return refused(answer);
    alertBox(null);
    status(format(msg.reversed, { id: id }));
    await lookup(account.number);
    await loadSession();
  }

  loadSession();
})();
