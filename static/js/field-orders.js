// The crews' page of the field app: my crew's work orders, offline first.
//
// Every step (on my way, arrived, close) and every photo or signature goes to an IndexedDB
// queue first, with a client-made id; the list shows each order as the queue leaves it, so a
// crew without network still sees "in progress" after checking in. Sending: photos and
// signatures first (a close names them), then the steps in one batch (orders/field_sync.py).
// Only the server's answer for a client id marks an item: accepted / duplicate → sent,
// conflict → sent and flagged, rejected → kept with the reason. Anything else (no network,
// signed out, server error) leaves it pending for the next try.
(function (root) {
  "use strict";

  const configNode = document.getElementById("orders-config");
  if (!configNode || !root.idb || !root.FieldCommon) return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const common = root.FieldCommon;
  const $ = function (id) { return document.getElementById(id); };
  const DB_NAME = "caudal-field-orders";
  const STATUS_AFTER = { en_route: "en_route", check_in: "in_progress" };

  const state = {
    db: null,
    work: null, // {crew, orders: [...], results: [...]}
    workSource: "",
    workFetchedAt: null,
    items: [], // this user's queue, oldest first
    syncing: false,
    lastOutcome: "",
    retryMs: config.retry.baseMs,
    retryTimer: null,
    current: null, // the order open in the dialog
    photos: [], // photos taken in the dialog, not saved yet
    signed: false,
    map: null,
    markers: null,
  };

  function openDb() {
    return root.idb.openDB(DB_NAME, 1, {
      upgrade: function (db) {
        const queue = db.createObjectStore("queue", { keyPath: "client_id" });
        queue.createIndex("user", "user_id");
        db.createObjectStore("work", { keyPath: "user_id" });
      },
    });
  }

  async function loadItems() {
    const items = await state.db.getAllFromIndex("queue", "user", config.user.id);
    items.sort(function (a, b) { return a.created - b.created; });
    state.items = items;
  }

  // --- What the list shows: the server's status, then this phone's steps on top --------------
  function resultOf(code) {
    return ((state.work && state.work.results) || []).find(function (r) { return r.code === code; });
  }

  function localStatus(order) {
    let status = order.status;
    state.items.forEach(function (item) {
      if (item.kind !== "step" || item.order_id !== order.id || item.state === "rejected") return;
      if (item.body.action === "finish") {
        const result = resultOf(item.body.result);
        status = result && result.success ? "done" : "failed";
      } else {
        status = STATUS_AFTER[item.body.action] || status;
      }
    });
    return status;
  }

  function photosOf(order) {
    return order.photos_uploaded + state.items.filter(function (i) {
      return i.kind === "attachment" && i.order_id === order.id && i.attachment_kind === "photo" &&
        i.state === "pending";
    }).length;
  }

  function counts() {
    const c = { pending: 0, synced: 0, rejected: 0 };
    state.items.forEach(function (i) { c[i.state] = (c[i.state] || 0) + 1; });
    return c;
  }

  // --- Rendering -------------------------------------------------------------------------------
  function renderStatus() {
    const c = counts();
    $("count-pending").textContent = c.pending;
    $("count-synced").textContent = c.synced;
    $("count-rejected").textContent = c.rejected;
    const bar = $("field-status");
    bar.dataset.pending = c.pending;
    bar.dataset.synced = c.synced;
    bar.dataset.rejected = c.rejected;
    const online = navigator.onLine;
    $("field-network").textContent = online ? msg.online : msg.offline;
    $("field-network").className = "net " + (online ? "on" : "off");
    let note = "";
    if (state.lastOutcome === "auth") note = msg.signInAgain;
    else if (state.lastOutcome === "error") note = msg.serverError;
    else if (c.pending && !online) note = msg.willSend;
    $("field-message").textContent = note;
    $("field-login").hidden = state.lastOutcome !== "auth";
    $("sync-now").disabled = state.syncing || c.pending === 0;
  }

  function renderOrders() {
    const note = $("work-note");
    const list = $("orders");
    list.replaceChildren();
    if (!state.work) {
      note.textContent = msg.noWorkCopy;
      return;
    }
    const orders = state.work.orders;
    let text = !state.work.crew ? msg.noCrew
      : orders.length ? common.format(msg.ordersToday, { count: orders.length }) : msg.noOrders;
    if (state.workSource === "copy") {
      text += " " + common.format(msg.workCopy, { time: common.timeLabel(state.workFetchedAt) });
    }
    note.textContent = text;
    orders.forEach(function (order, index) {
      const status = localStatus(order);
      const li = document.createElement("li");
      li.className = "stop" + (order.late ? " late" : "");
      li.dataset.order = order.id;
      li.dataset.status = status;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "stop-open";
      button.addEventListener("click", function () { openOrder(order); });
      const seq = document.createElement("span");
      seq.className = "seq";
      seq.textContent = index + 1;
      const body = document.createElement("span");
      body.className = "stop-body";
      const title = document.createElement("strong");
      title.textContent = order.number + " · " + order.kind_label;
      const where = document.createElement("small");
      where.textContent = (order.address || msg.noAddress) +
        (order.account ? " · " + common.format(msg.account, { account: order.account }) : "") +
        (order.due_at ? " · " + (order.late ? msg.late : common.format(msg.due, { time: common.timeLabel(order.due_at) })) : "");
      body.append(title, where);
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = msg["status_" + status] || status;
      button.append(seq, body, badge);
      li.appendChild(button);
      list.appendChild(li);
    });
    renderMap();
  }

  function renderMap() {
    if (!state.map || !state.work) return;
    state.markers.clearLayers();
    const points = [];
    state.work.orders.forEach(function (order) {
      const marker = root.L.circleMarker([order.lat, order.lon], {
        radius: 8, color: order.late ? "#b91c1c" : "#1f78b4", fillOpacity: 0.8,
      });
      marker.bindTooltip(order.number);
      marker.on("click", function () { openOrder(order); });
      state.markers.addLayer(marker);
      points.push([order.lat, order.lon]);
    });
    if (points.length) state.map.fitBounds(points, { padding: [30, 30], maxZoom: 17 });
  }

  function showTab(name) {
    ["list", "map"].forEach(function (tab) {
      $("tab-" + tab).setAttribute("aria-selected", String(tab === name));
      $("view-" + tab).hidden = tab !== name;
    });
    if (name === "map") {
      if (!state.map) {
        state.map = root.L.map("field-map").setView(config.center, 14);
        state.markers = root.L.layerGroup().addTo(state.map);
      }
      state.map.invalidateSize();
      renderMap();
    }
  }

  // --- The order dialog ---------------------------------------------------------------------
  function openOrder(order) {
    state.current = order;
    state.photos = [];
    state.signed = false;
    const status = localStatus(order);
    $("order-title").textContent = order.number + " · " + order.kind_label;
    $("order-reason").textContent = order.reason;
    $("order-state").textContent = msg["status_" + status] || status;
    $("order-en-route").hidden = status !== "assigned";
    $("order-check-in").hidden = status !== "en_route";
    $("order-finish").hidden = status !== "in_progress";
    $("order-error").textContent = "";
    $("order-gps").textContent = "";
    $("order-note").value = "";
    const select = $("order-result");
    select.replaceChildren(new Option("—", ""));
    state.work.results.forEach(function (r) { select.appendChild(new Option(r.label, r.code)); });
    const fields = $("order-fields");
    fields.replaceChildren();
    order.required.forEach(function (f) {
      if (f.name === "note" || f.name === "materials" || f.name === "signature") return;
      const label = document.createElement("label");
      label.textContent = f.label;
      const input = document.createElement("input");
      input.name = f.name;
      input.dataset.field = f.name;
      label.appendChild(input);
      fields.appendChild(label);
    });
    const materials = $("order-materials");
    materials.replaceChildren();
    order.materials.forEach(function (m) {
      const label = document.createElement("label");
      label.textContent = m.code + " " + m.name + " (" + m.unit + ")";
      const input = document.createElement("input");
      input.type = "number";
      input.min = "0";
      input.step = "any";
      input.inputMode = "decimal";
      input.dataset.material = m.code;
      label.appendChild(input);
      materials.appendChild(label);
    });
    const needsSignature = order.required.some(function (f) { return f.name === "signature"; });
    $("order-signature-box").hidden = !needsSignature;
    clearSignature();
    renderPhotoCount();
    $("order").showModal();
  }

  function renderPhotoCount() {
    if (!state.current) return;
    const have = photosOf(state.current) + state.photos.length;
    $("order-photo-count").textContent = common.format(msg.photos, { count: have }) +
      (state.current.photos_required ? " / " + state.current.photos_required : "");
  }

  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(null); return; }
      $("order-gps").textContent = msg.gpsWaiting;
      navigator.geolocation.getCurrentPosition(function (p) {
        $("order-gps").textContent = common.format(msg.gpsFix, { accuracy: Math.round(p.coords.accuracy) });
        resolve({ lon: p.coords.longitude, lat: p.coords.latitude });
      }, function () {
        $("order-gps").textContent = msg.gpsNone;
        resolve(null);
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 });
    });
  }

  async function enqueue(item) {
    item.user_id = config.user.id;
    item.created = Date.now();
    item.state = "pending";
    await state.db.put("queue", item);
    state.items.push(item);
  }

  async function step(action, extra) {
    const order = state.current;
    const body = Object.assign({
      client_id: common.newClientId(),
      order_id: order.id,
      action: action,
      at: common.isoWithOffset(new Date()),
      position: action === "en_route" ? null : await position(),
    }, extra || {});
    await enqueue({ client_id: body.client_id, kind: "step", order_id: order.id, body: body });
  }

  async function move(action) {
    await step(action);
    $("order").close();
    afterChange();
  }

  function finishErrors(order, result, data) {
    if (!result) return msg.needResult;
    if (!result.success) return "";
    for (const f of order.required) {
      if (f.name === "signature" && !state.signed) return msg.needSignature;
      if (f.name === "materials" && !Object.keys(data.materials).length) {
        return common.format(msg.needField, { field: f.label });
      }
      if (f.name === "note" && !data.note) return common.format(msg.needField, { field: f.label });
      if (!["signature", "materials", "note"].includes(f.name) && !data.fields[f.name]) {
        return common.format(msg.needField, { field: f.label });
      }
    }
    const missing = order.photos_required - photosOf(order) - state.photos.length;
    if (missing > 0) return common.format(msg.needPhotos, { count: missing });
    return "";
  }

  async function onFinish(event) {
    event.preventDefault();
    const order = state.current;
    const result = resultOf($("order-result").value);
    const fields = {};
    $("order-fields").querySelectorAll("input").forEach(function (i) {
      if (i.value.trim()) fields[i.dataset.field] = i.value.trim();
    });
    const materials = {};
    $("order-materials").querySelectorAll("input").forEach(function (i) {
      if (Number(i.value) > 0) materials[i.dataset.material] = i.value;
    });
    const note = $("order-note").value.trim();
    const error = finishErrors(order, result, { fields: fields, materials: materials, note: note });
    $("order-error").textContent = error;
    if (error) return;
    for (const photo of state.photos) {
      await enqueue({
        client_id: common.newClientId(), kind: "attachment", attachment_kind: "photo",
        order_id: order.id, blob: photo,
      });
    }
    if (!$("order-signature-box").hidden && state.signed) {
      const blob = await new Promise(function (resolve) { $("order-signature").toBlob(resolve, "image/png"); });
      await enqueue({
        client_id: common.newClientId(), kind: "attachment", attachment_kind: "signature",
        order_id: order.id, blob: blob,
      });
    }
    await step("finish", {
      result: result.code,
      note: note,
      data: fields,
      materials: Object.entries(materials).map(function ([code, quantity]) {
        return { code: code, quantity: quantity };
      }),
    });
    state.photos = [];
    $("order").close();
    afterChange();
  }

  async function onPhoto(event) {
    const file = event.target.files && event.target.files[0];
    if (!file) return;
    try {
      state.photos.push(await common.resizePhoto(file, config.photoMaxSide, config.photoQuality));
    } catch (error) {
      state.photos.push(file); // an image the browser cannot decode goes as taken
    }
    event.target.value = "";
    renderPhotoCount();
  }

  // --- Signature pad ---------------------------------------------------------------------------
  function clearSignature() {
    const canvas = $("order-signature");
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    state.signed = false;
  }

  function setUpSignature() {
    const canvas = $("order-signature");
    const ctx = canvas.getContext("2d");
    let drawing = false;
    function at(event) {
      const box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width,
        (event.clientY - box.top) * canvas.height / box.height];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      ctx.beginPath();
      ctx.moveTo.apply(ctx, at(event));
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      ctx.lineWidth = 2;
      ctx.lineTo.apply(ctx, at(event));
      ctx.stroke();
      state.signed = true;
    });
    ["pointerup", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    $("order-signature-clear").addEventListener("click", clearSignature);
  }

  // --- Sending -----------------------------------------------------------------------------
  async function mark(clientId, change) {
    const item = await state.db.get("queue", clientId);
    if (!item) return;
    change(item);
    if (item.state === "synced") delete item.blob; // phones have little storage
    await state.db.put("queue", item);
  }

  async function sendAttachment(item) {
    const form = new FormData();
    form.append("client_id", item.client_id);
    form.append("order_id", item.order_id);
    form.append("kind", item.attachment_kind);
    form.append("file", item.blob, item.client_id + (item.attachment_kind === "photo" ? ".jpg" : ".png"));
    const response = await fetch(config.urls.attachment, {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRFToken": common.csrfToken(), Accept: "application/json" },
    });
    return response;
  }

  async function sync() {
    if (state.syncing || !navigator.onLine) return "offline";
    state.syncing = true;
    renderStatus();
    let outcome = "ok";
    try {
      for (const item of state.items.filter(function (i) { return i.kind === "attachment" && i.state === "pending"; })) {
        const response = await sendAttachment(item);
        if (response.status === 401 || response.status === 403 || response.redirected) { outcome = "auth"; break; }
        if (response.status >= 500) { outcome = "error"; break; }
        const body = await response.json().catch(function () { return {}; });
        await mark(item.client_id, function (i) {
          i.state = response.ok ? "synced" : "rejected";
          i.reason = response.ok ? "" : String(body.detail || body.code || response.status);
        });
      }
      const steps = state.items.filter(function (i) { return i.kind === "step" && i.state === "pending"; });
      if (outcome === "ok" && steps.length) {
        const response = await fetch(config.urls.sync, {
          method: "POST", credentials: "same-origin",
          body: JSON.stringify({ device_id: navigator.userAgent.slice(0, 60), steps: steps.map(function (s) { return s.body; }) }),
          headers: { "Content-Type": "application/json", "X-CSRFToken": common.csrfToken(), Accept: "application/json" },
        });
        if (response.status === 401 || response.status === 403 || response.redirected) outcome = "auth";
        else if (!response.ok) outcome = "error";
        else {
          const body = await response.json();
          for (const r of body.results) {
            await mark(r.client_id, function (i) {
              i.state = r.status === "rejected" ? "rejected" : "synced";
              i.conflict = r.status === "conflict";
              i.reason = r.message || "";
            });
          }
        }
      }
    } catch (error) {
      outcome = "offline";
    }
    state.syncing = false;
    state.lastOutcome = outcome;
    await loadItems();
    if (outcome === "ok") await loadWork();
    scheduleRetry(outcome);
    renderAll();
    return outcome;
  }

  function scheduleRetry(outcome) {
    clearTimeout(state.retryTimer);
    if (outcome === "ok") { state.retryMs = config.retry.baseMs; return; }
    if (!counts().pending) return;
    state.retryTimer = setTimeout(sync, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, config.retry.maxMs);
  }

  // --- Work list ---------------------------------------------------------------------------
  async function loadWork() {
    try {
      const response = await fetch(config.urls.orders, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      state.work = await response.json();
      state.workSource = "network";
      state.workFetchedAt = new Date().toISOString();
      await state.db.put("work", { user_id: config.user.id, work: state.work, fetched_at: state.workFetchedAt });
    } catch (error) {
      const copy = await state.db.get("work", config.user.id);
      state.work = copy ? copy.work : null;
      state.workSource = copy ? "copy" : "";
      state.workFetchedAt = copy ? copy.fetched_at : null;
    }
    $("view-list").dataset.loaded = state.workSource;
  }

  function renderAll() {
    renderStatus();
    renderOrders();
  }

  async function afterChange() {
    renderAll();
    if (navigator.onLine) await sync();
  }

  async function start() {
    state.db = await openDb();
    await loadItems();
    await loadWork();
    renderAll();
    $("tab-list").addEventListener("click", function () { showTab("list"); });
    $("tab-map").addEventListener("click", function () { showTab("map"); });
    $("order-en-route").addEventListener("click", function () { move("en_route"); });
    $("order-check-in").addEventListener("click", function () { move("check_in"); });
    $("order-form").addEventListener("submit", onFinish);
    $("order-photo").addEventListener("change", onPhoto);
    $("order-close").addEventListener("click", function () { $("order").close(); });
    $("sync-now").addEventListener("click", sync);
    setUpSignature();
    root.addEventListener("online", function () { renderStatus(); sync(); });
    root.addEventListener("offline", renderStatus);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope }).catch(function () {});
    }
    if (counts().pending) sync();
  }

  start();
})(window);
