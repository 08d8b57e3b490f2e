// The service desk: find a customer (by account, name, address or meter), see the 360° view —
// accounts with balance, bills, payments and readings, open orders, requests — on a map;
// receive a request and act on it. Every rule is the server's (orders desk API); the page
// only draws what it answers.
(function () {
  "use strict";
  const configNode = document.getElementById("desk-config");
  if (!configNode) return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const shell = document.querySelector(".desk-shell");
  const csrfToken = shell.dataset.csrf;
  const $ = function (id) { return document.getElementById(id); };
  let overview = null;
  let ticket = null;
  let map = null;
  let markers = null;

  const page = window.CaudalPage;  // static/js/page-common.js
  const format = page.format;
  const el = page.el;
  function url(name, values) {
    let address = config.urls[name];
    Object.keys(values || {}).forEach(function (key) {
      address = address.replace("{" + key + "}", encodeURIComponent(values[key]));
    });
    return address;
  }
  function status(text) { $("desk-status").textContent = text || ""; }
  function alertBox(text) {
    $("desk-alert").hidden = !text;
    $("desk-alert").textContent = text || "";
  }
  function money(value) {
    const number = Number(value);
    return "$" + number.toLocaleString(document.documentElement.lang || "es-MX",
      { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function day(value) { return value ? String(value).slice(0, 10) : ""; }

  // The answer's data, or null once the refusal (or the network failure) is shown.
  async function call(method, address, body) {
    const answer = await page.request(method, address, body, { csrf: csrfToken });
    if (!answer.ok) {
      alertBox(answer.status === 0 ? msg.networkError : page.refusalText(answer, msg.serverError));
      return null;
    }
    alertBox(null);
    return answer.data;
  }

  // --- search --------------------------------------------------------------------------------
  async function search(query) {
    const list = $("desk-hits");
    list.replaceChildren();
    if (query.trim().length < 3) return;
    status(msg.searching);
    const params = new URLSearchParams({ q: query, limit: "10" });
    params.append("kind", "account");
    params.append("kind", "customer");
    const hits = await call("GET", config.urls.search + "?" + params.toString());
    status(hits && hits.length === 0 ? msg.nothingFound : "");
    (hits || []).forEach(function (hit) {
      const item = el("li");
      const button = el("button");
      button.type = "button";
      button.append(el("span", hit.label), el("small", hit.detail));
      button.addEventListener("click", function () {
        load(hit.kind === "account" ? url("account", { id: hit.id }) : url("customer", { id: hit.id }));
      });
      item.append(button);
      list.append(item);
    });
  }

  // --- the 360° view -------------------------------------------------------------------------
  async function load(address) {
    const data = await call("GET", address);
    if (!data) return;
    overview = data;
    drawCustomer();
  }

  function table(headers, rows) {
    const t = el("table");
    const head = el("tr");
    headers.forEach(function (h) { head.append(el("th", h)); });
    t.append(head);
    rows.forEach(function (cells) {
      const row = el("tr");
      cells.forEach(function (cell) {
        if (cell instanceof Node) { const td = el("td"); td.append(cell); row.append(td); }
        else row.append(el("td", cell));
      });
      t.append(row);
    });
    return t;
  }

  function drawAccount(account) {
    const box = el("section", null, "desk-account");
    box.dataset.account = account.number;
    box.append(el("h3", account.number + " · " + account.address));
    box.append(el("p", [account.status, account.use_type, account.parcel, account.meter || ""].join(" · ")));
    const balance = el("p", msg.balance + ": " + money(account.balance), "desk-balance");
    balance.dataset.balance = account.balance;
    box.append(balance);
    box.append(el("h4", msg.bills));
    box.append(account.bills.length ? table(["", "", "", ""], account.bills.map(function (b) {
      const link = el("a", msg.receipt);
      link.href = url("receipt", { id: b.id });
      link.target = "_blank";
      return [b.period, money(b.total), day(b.due_date), link];
    })) : el("p", msg.none));
    box.append(el("h4", msg.payments));
    box.append(account.payments.length ? table(["", ""], account.payments.map(function (p) {
      const amount = el("span", money(p.amount) + (p.reversed ? " (" + msg.reversed + ")" : ""),
        p.reversed ? "bounced" : "");
      return [day(p.posted_at), amount];
    })) : el("p", msg.none));
    if (account.last_readings.length) {
      box.append(el("h4", msg.readings));
      box.append(table(["", "", ""], account.last_readings.map(function (r) {
        return [day(r.captured_at), r.value === null ? "—" : r.value, r.status];
      })));
    }
    return box;
  }

  function drawCustomer() {
    $("desk-customer").hidden = false;
    $("desk-customer-name").textContent = overview.customer.name;
    $("desk-customer-contact").textContent = [overview.customer.rfc, overview.customer.email,
      overview.customer.phone].filter(Boolean).join(" · ");
    $("desk-accounts").replaceChildren.apply($("desk-accounts"), overview.accounts.map(drawAccount));
    const orders = $("desk-orders");
    orders.replaceChildren();
    overview.open_orders.forEach(function (o) {
      orders.append(el("li", o.number + " · " + o.kind + " · " + o.status + " · " + day(o.due_at)));
    });
    if (!overview.open_orders.length) orders.append(el("li", msg.none));
    const tickets = $("desk-tickets");
    tickets.replaceChildren();
    overview.tickets.forEach(function (t) {
      const item = el("li");
      const button = el("button", t.number + " · " + (config.kinds[t.kind] || t.kind) + " · " +
        (config.statuses[t.status] || t.status));
      button.type = "button";
      button.addEventListener("click", function () { openTicket(t.id); });
      item.append(button);
      tickets.append(item);
    });
    if (!overview.tickets.length) tickets.append(el("li", msg.none));
    const select = $("desk-account");
    if (select) {
      select.replaceChildren.apply(select, overview.accounts.map(function (a) {
        const option = el("option", a.number + " · " + a.address);
        option.value = a.number;
        return option;
      }));
      $("desk-open").hidden = false;
    }
    drawMap();
  }

  function drawMap() {
    if (typeof L === "undefined") return;
    if (!map) {
      map = L.map("desk-map", { attributionControl: false }).setView(config.center, 15);
      markers = L.featureGroup().addTo(map);
    }
    markers.clearLayers();
    overview.accounts.forEach(function (a) {
      L.circleMarker([a.lonlat[1], a.lonlat[0]], { radius: 7, color: "#0d47a1", fillOpacity: 0.8 })
        .bindTooltip(a.number + " · " + money(a.balance)).addTo(markers);
    });
    if (overview.accounts.length) map.fitBounds(markers.getBounds(), { maxZoom: 17, padding: [20, 20] });
  }

  // --- requests ------------------------------------------------------------------------------
  async function loadQueue() {
    const params = new URLSearchParams({ limit: "30" });
    const chosen = $("desk-filter-status").value;
    if (chosen) params.set("status", chosen);
    const page = await call("GET", config.urls.tickets + "?" + params.toString());
    const list = $("desk-queue");
    list.replaceChildren();
    ((page && page.results) || []).forEach(function (t) {
      const item = el("li");
      const button = el("button", null, t.late ? "late" : "");
      button.type = "button";
      button.append(el("span", t.number + " · " + t.kind_label),
        el("small", (t.customer || t.account || "") + " · " + t.status_label + (t.late ? " · " + msg.late : "")));
      button.addEventListener("click", function () { showTicket(t); });
      item.append(button);
      list.append(item);
    });
  }

  async function openTicket(id) {
    const data = await call("GET", url("ticket", { id: id }));
    if (data) showTicket(data);
  }

  function showTicket(data) {
    ticket = data;
    $("desk-ticket").hidden = false;
    $("desk-ticket-title").textContent = data.number + " · " + data.kind_label;
    $("desk-ticket-meta").textContent = [data.status_label, data.customer, data.account,
      day(data.due_at)].filter(Boolean).join(" · ");
    $("desk-ticket-description").textContent = data.description;
    $("desk-ticket-resolution").textContent = data.resolution || "";
    const messages = $("desk-ticket-messages");
    messages.replaceChildren.apply(messages, (data.messages || []).map(function (m) {
      return el("li", m.text);
    }));
    const letter = $("desk-letter");
    const answered = data.kind === "feasibility" && data.request && data.request.feasibility;
    letter.hidden = !answered;
    if (answered) letter.href = url("letter", { id: data.id });
  }

  async function act(action) {
    if (!ticket) return;
    const body = {};
    if (action === "message") {
      const text = window.prompt(msg.askText);
      if (!text) return;
      body.text = text;
    } else if (action === "inspection" || action === "cancel") {
      const reason = window.prompt(msg.askReason);
      if (!reason) return;
      body.reason = reason;
    } else if (action === "resolve") {
      const resolution = window.prompt(msg.askResolution);
      if (!resolution) return;
      body.resolution = resolution;
    }
    const data = await call("POST", url("action", { id: ticket.id, action: action }), body);
    if (!data) return;
    status(msg.done);
    showTicket(data);
    loadQueue();
  }

  // --- wiring --------------------------------------------------------------------------------
  let timer = null;
  $("desk-q").addEventListener("input", function (event) {
    clearTimeout(timer);
    const value = event.target.value;
    timer = setTimeout(function () { search(value); }, 250);
  });
  $("desk-search").addEventListener("submit", function (event) {
    event.preventDefault();
    search($("desk-q").value);
  });
  $("desk-filter-status").addEventListener("change", loadQueue);
  document.querySelectorAll(".desk-actions button").forEach(function (button) {
    button.addEventListener("click", function () { act(button.dataset.action); });
  });
  const form = $("desk-open");
  if (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const body = {
        kind: $("desk-kind").value,
        description: $("desk-description").value,
        customer: overview ? overview.customer.id : undefined,
      };
      if ($("desk-account").value) body.account = $("desk-account").value;
      const data = await call("POST", config.urls.tickets, body);
      if (!data) return;
      status(format(msg.opened, { number: data.number }));
      $("desk-description").value = "";
      showTicket(data);
      loadQueue();
      if (overview) load(url("customer", { id: overview.customer.id }));
    });
  }
  loadQueue();
})();
