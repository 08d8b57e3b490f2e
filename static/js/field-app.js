// Field app of meter readers (phones, offline first).
//
// One file, two parts:
// - FieldQueue: the IndexedDB queue of captured readings and their sync. It runs in the page and,
//   through importScripts, in the service worker (field-sw.js, Background Sync), so a reading is
//   sent the same way whichever of them gets the network back first. A Web Lock keeps the two
//   from sending at the same time; the server applies a client id once anyway.
// - the page (only where there is a document): today's route as an ordered list and on a map,
//   the capture form, the status bar.
//
// Every capture goes to the queue first. Only the server's answer for its client id marks it:
// accepted / duplicate → synced (a "conflict" flag is shown), rejected → kept with the reason.
// Anything else (no network, signed out, server error) leaves it pending for the next try.
(function (root) {
  "use strict";

  const DB_NAME = "caudal-field";
  const DB_VERSION = 1;
  const LOCK_NAME = "caudal-field-sync";
  const CHANNEL_NAME = "caudal-field";
  const SYNC_TAG = "caudal-field-sync";
  // Synced captures stay on the phone this long (the reader sees what went), then their photos
  // are dropped: phones have little storage.
  const KEEP_SYNCED_MS = 2 * 24 * 3600 * 1000;

  function openDb() {
    return root.idb.openDB(DB_NAME, DB_VERSION, {
      upgrade: function (db) {
        const queue = db.createObjectStore("queue", { keyPath: "client_id" });
        queue.createIndex("user", "user_id");
        db.createObjectStore("work", { keyPath: "user_id" }); // last work list per reader
        db.createObjectStore("meta", { keyPath: "key" }); // the signed-in session (for the SW)
      },
    });
  }

  async function userItems(db, userId) {
    const items = await db.getAllFromIndex("queue", "user", userId);
    items.sort(function (a, b) { return a.created - b.created; });
    return items;
  }

  function counts(items) {
    const c = { pending: 0, synced: 0, rejected: 0, conflict: 0 };
    items.forEach(function (item) {
      c[item.state] = (c[item.state] || 0) + 1;
      if (item.conflict) c.conflict += 1;
    });
    return c;
  }

  async function purgeOld(db, userId, now) {
    const tx = db.transaction("queue", "readwrite");
    let cursor = await tx.store.index("user").openCursor(userId);
    while (cursor) {
      const item = cursor.value;
      if (item.state === "synced" && now - (item.synced_at || item.created) > KEEP_SYNCED_MS) {
        await cursor.delete();
      }
      cursor = await cursor.continue();
    }
    await tx.done;
  }

  function broadcast(message) {
    if (typeof BroadcastChannel === "undefined") return;
    const channel = new BroadcastChannel(CHANNEL_NAME);
    channel.postMessage(message);
    channel.close();
  }

  // The wire format of one reading (metering.services.sync_readings); the photo follows alone.
  function payload(item) {
    return {
      client_id: item.client_id,
      meter_id: item.meter_id,
      value: item.value || null,
      observation: item.observation || null,
      photo: !!item.photo,
      position: item.position ? { lon: item.position.lon, lat: item.position.lat } : null,
      accuracy_m: item.position ? item.position.accuracy_m : null,
      captured_at: item.captured_at,
    };
  }

  async function answer(response) {
    const body = await response.json().catch(function () { return null; });
    return { status: response.status, body: body };
  }

  async function postJson(session, url, body) {
    const response = await fetch(url, {
      method: "POST",
      body: JSON.stringify(body),
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json", "X-CSRFToken": session.csrf, Accept: "application/json",
      },
    });
    return answer(response);
  }

  async function postPhoto(session, item) {
    const form = new FormData();
    form.append("client_id", item.client_id);
    form.append("photo", item.photo, item.client_id + ".jpg");
    const response = await fetch(session.urls.photo, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "X-CSRFToken": session.csrf, Accept: "application/json" },
    });
    return answer(response);
  }

  // A capture is synced when the server acknowledged its reading and, if it has one, its photo.
  function settle(item) {
    if (item.state === "rejected") return item;
    const done = item.reading_acked && (!item.photo || item.photo_acked);
    item.state = done ? "synced" : "pending";
    if (done && !item.synced_at) item.synced_at = Date.now();
    return item;
  }

  async function update(db, clientId, change) {
    const tx = db.transaction("queue", "readwrite");
    const item = await tx.store.get(clientId);
    if (item) {
      change(item);
      await tx.store.put(settle(item));
    }
    await tx.done;
  }

  async function applyResults(db, results) {
    let applied = 0;
    for (const result of results) {
      if (["accepted", "duplicate", "rejected"].indexOf(result.status) < 0) continue;
      applied += 1;
      await update(db, result.client_id, function (item) {
        if (result.status === "rejected") {
          item.state = "rejected";
          item.reason = result.message || result.code || "";
          return;
        }
        // Accepted now or before (a replay): either way the server has it, once.
        item.reading_acked = true;
        item.server_id = result.reading_id || null;
        item.conflict = (result.flags || []).indexOf("conflict") >= 0;
      });
    }
    return applied;
  }

  function failure(answer, sent) {
    if (answer.status === 401 || answer.status === 403) {
      return { outcome: "auth", sent: sent, status: answer.status };
    }
    return { outcome: "error", sent: sent, status: answer.status };
  }

  // Send every pending capture of the session's reader, oldest first: the readings in batches,
  // then the photos of acknowledged readings one by one.
  // Returns {outcome: "done"|"offline"|"auth"|"error"|"busy", sent, status}.
  async function syncPending(db, session) {
    let items = (await userItems(db, session.user_id)).filter(function (i) {
      return i.state === "pending" && !i.reading_acked;
    });
    let sent = 0;
    const size = session.batch || 50;
    for (let start = 0; start < items.length; start += size) {
      const batch = items.slice(start, start + size);
      let answer;
      try {
        answer = await postJson(session, session.urls.sync, {
          device_id: session.device_id, readings: batch.map(payload),
        });
      } catch (_e) {
        return { outcome: "offline", sent: sent };
      }
      if (answer.status !== 200 || !answer.body || !Array.isArray(answer.body.results)) {
        return failure(answer, sent);
      }
      sent += await applyResults(db, answer.body.results);
    }
    items = (await userItems(db, session.user_id)).filter(function (i) {
      return i.state === "pending" && i.reading_acked && i.photo && !i.photo_acked;
    });
    for (const item of items) {
      let answer;
      try {
        answer = await postPhoto(session, item);
      } catch (_e) {
        return { outcome: "offline", sent: sent };
      }
      if (answer.status === 200 || answer.status === 201) {
        await update(db, item.client_id, function (i) { i.photo_acked = true; });
      } else if (answer.status === 400 && answer.body) {
        // The image itself was refused (too large, not an image): resending cannot help.
        await update(db, item.client_id, function (i) {
          i.state = "rejected";
          i.reason = answer.body.message || answer.body.detail || answer.body.code || "";
        });
      } else {
        return failure(answer, sent);
      }
    }
    return { outcome: "done", sent: sent };
  }

  async function syncWithLock(db, session) {
    const run = async function () {
      const result = await syncPending(db, session);
      broadcast({ type: "synced", result: result });
      return result;
    };
    const locks = root.navigator && root.navigator.locks;
    if (!locks) return run();
    return locks.request(LOCK_NAME, { ifAvailable: true }, function (lock) {
      return lock ? run() : { outcome: "busy", sent: 0 };
    });
  }

  // The service worker's Background Sync: the session the page left in IndexedDB.
  async function syncFromWorker() {
    const db = await openDb();
    const session = await db.get("meta", "session");
    if (!session) return { outcome: "done", sent: 0 };
    return syncWithLock(db, session);
  }

  root.FieldQueue = {
    openDb: openDb,
    userItems: userItems,
    counts: counts,
    purgeOld: purgeOld,
    syncWithLock: syncWithLock,
    syncFromWorker: syncFromWorker,
    CHANNEL_NAME: CHANNEL_NAME,
    SYNC_TAG: SYNC_TAG,
  };

  if (typeof document === "undefined") return; // the service worker stops here

  // ============================================================================================
  // The page
  // ============================================================================================
  const configNode = document.getElementById("field-config");
  if (!configNode || !root.idb || !root.FieldCommon) return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const $ = function (id) { return document.getElementById(id); };

  const common = root.FieldCommon;
  const format = common.format;
  const isoWithOffset = common.isoWithOffset;
  const newClientId = common.newClientId;
  const timeLabel = common.timeLabel;
  const csrfToken = common.csrfToken;
  function resizePhoto(file) {
    return common.resizePhoto(file, config.photoMaxSide, config.photoQuality);
  }

  // --- State ----------------------------------------------------------------------------------
  const state = {
    db: null,
    work: null, // {date, routes: [...], observations: [...]}
    workSource: "", // "network" | "copy" | ""
    workFetchedAt: null,
    items: [], // this reader's queue, oldest first
    syncing: false,
    retryMs: config.retry.baseMs,
    retryTimer: null,
    lastOutcome: "",
  };
  const session = {
    key: "session",
    user_id: config.user.id,
    csrf: csrfToken(),
    urls: { sync: config.urls.sync, photo: config.urls.photo },
    batch: config.syncBatch,
    device_id: "",
  };

  function stops() {
    const all = [];
    if (!state.work) return all;
    state.work.routes.forEach(function (route) {
      route.stops.forEach(function (stop) { all.push(Object.assign({ route: route }, stop)); });
    });
    return all;
  }

  function observationOf(code) {
    return ((state.work && state.work.observations) || []).find(function (o) {
      return o.code === code;
    });
  }

  function observationLabel(code) {
    const found = code && observationOf(code);
    return found ? found.label : code || "";
  }

  // The latest capture of each meter decides what its stop shows.
  function latestByMeter() {
    const byMeter = new Map();
    state.items.forEach(function (item) { byMeter.set(item.meter_id, item); });
    return byMeter;
  }

  // A stop without a capture on this phone may have been read already (another phone, or this
  // one before it was reset): the work list says so.
  function stateLabel(item, stop) {
    if (!item) return stop && stop.visited ? msg.visited : msg.notRead;
    if (item.state === "synced") return item.conflict ? msg.syncedConflict : msg.synced;
    if (item.state === "rejected") return msg.rejected;
    return msg.pending;
  }

  function stateClass(item, stop) {
    if (!item) return stop && stop.visited ? "visited" : "unread";
    if (item.state === "synced" && item.conflict) return "conflict";
    return item.state;
  }

  // --- Rendering ------------------------------------------------------------------------------
  function renderStatus() {
    const c = counts(state.items);
    $("count-pending").textContent = c.pending;
    $("count-synced").textContent = c.synced;
    $("count-rejected").textContent = c.rejected;
    const bar = $("field-status");
    bar.dataset.pending = c.pending;
    bar.dataset.synced = c.synced;
    bar.dataset.rejected = c.rejected;
    const online = navigator.onLine;
    const net = $("field-network");
    net.textContent = online ? msg.online : msg.offline;
    net.className = "net " + (online ? "on" : "off");
    let note = "";
    if (state.syncing) note = msg.syncing;
    else if (state.lastOutcome === "auth") note = msg.signInAgain;
    else if (state.lastOutcome === "error") note = msg.serverError;
    else if (c.pending && !online) note = msg.willSend;
    else if (c.pending && state.lastOutcome === "offline") note = msg.willRetry;
    $("field-message").textContent = note;
    $("field-login").hidden = state.lastOutcome !== "auth";
    $("sync-now").disabled = state.syncing || c.pending === 0;
  }

  function renderWorkNote() {
    const note = $("work-note");
    if (!state.work) {
      note.textContent = msg.noWorkCopy;
      return;
    }
    const total = stops().length;
    let text = total ? format(msg.stopsToday, { count: total }) : msg.noRoutes;
    if (state.workSource === "copy") {
      text += " " + format(msg.workCopy, { time: timeLabel(state.workFetchedAt) });
    }
    note.textContent = text;
  }

  function renderStops() {
    const list = $("stops");
    list.replaceChildren();
    const latest = latestByMeter();
    let currentRoute = null;
    stops().forEach(function (stop) {
      if (currentRoute !== stop.route.id && state.work.routes.length > 1) {
        currentRoute = stop.route.id;
        const heading = document.createElement("li");
        heading.className = "route-heading";
        heading.textContent = stop.route.name;
        list.appendChild(heading);
      }
      const item = latest.get(stop.meter_id);
      const li = document.createElement("li");
      li.className = "stop " + stateClass(item, stop);
      li.dataset.meter = stop.meter_id;
      li.dataset.state = stateClass(item, stop);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "stop-open";
      button.addEventListener("click", function () { openCapture(stop); });
      const seq = document.createElement("span");
      seq.className = "seq";
      seq.textContent = stop.sequence;
      const body = document.createElement("span");
      body.className = "stop-body";
      const address = document.createElement("strong");
      address.textContent = stop.address || msg.noAddress;
      const ids = document.createElement("small");
      ids.textContent = format(msg.accountMeter, { account: stop.account, serial: stop.serial });
      body.append(address, ids);
      const badge = document.createElement("span");
      badge.className = "badge " + stateClass(item, stop);
      badge.textContent = stateLabel(item, stop);
      button.append(seq, body, badge);
      li.appendChild(button);
      if (item && item.state === "rejected") li.appendChild(reasonNode(item));
      list.appendChild(li);
    });
  }

  function reasonNode(item) {
    const reason = document.createElement("p");
    reason.className = "reason";
    reason.textContent = item.reading_acked
      ? format(msg.photoRejected, { reason: item.reason })
      : item.reason;
    return reason;
  }

  const photoUrls = [];
  function renderQueue() {
    const list = $("queue-list");
    photoUrls.splice(0).forEach(function (u) { URL.revokeObjectURL(u); });
    list.replaceChildren();
    const meters = new Map(stops().map(function (s) { return [s.meter_id, s]; }));
    state.items.slice().reverse().forEach(function (item) {
      const li = document.createElement("li");
      li.className = "captured " + stateClass(item);
      li.dataset.clientId = item.client_id;
      li.dataset.state = stateClass(item);
      const stop = meters.get(item.meter_id);
      const title = document.createElement("strong");
      title.textContent = stop ? stop.address || stop.serial : item.meter_serial || "";
      const detail = document.createElement("span");
      const parts = [timeLabel(item.captured_at)];
      if (item.value) parts.push(format(msg.valueIs, { value: item.value }));
      if (item.observation) parts.push(observationLabel(item.observation));
      detail.textContent = parts.join(" · ");
      const badge = document.createElement("span");
      badge.className = "badge " + stateClass(item);
      badge.textContent = stateLabel(item);
      li.append(title, badge, detail);
      if (item.photo) {
        const img = document.createElement("img");
        const url = URL.createObjectURL(item.photo);
        photoUrls.push(url);
        img.src = url;
        img.alt = msg.photo;
        img.className = "thumb";
        li.appendChild(img);
      }
      if (item.state === "rejected") li.appendChild(reasonNode(item));
      list.appendChild(li);
    });
    $("queue-empty").hidden = state.items.length > 0;
  }

  function renderAll() {
    renderStatus();
    renderWorkNote();
    renderStops();
    renderQueue();
    renderMap();
  }

  // --- Map: our own points on a plain background (no online base map) -------------------------
  let map = null;
  let mapLayer = null;
  let hereMarker = null;
  let mapFitted = false;

  function ensureMap() {
    if (map || typeof L === "undefined") return;
    map = L.map($("field-map"), {
      zoomControl: true, attributionControl: false, center: config.center, zoom: 16, maxZoom: 21,
    });
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    mapLayer = L.layerGroup().addTo(map);
  }

  function renderMap() {
    if (!map) return;
    mapLayer.clearLayers();
    const latest = latestByMeter();
    const all = stops();
    const byRoute = new Map();
    all.forEach(function (stop) {
      const ll = [stop.lat, stop.lon];
      if (!byRoute.has(stop.route.id)) byRoute.set(stop.route.id, []);
      byRoute.get(stop.route.id).push(ll);
      const item = latest.get(stop.meter_id);
      const marker = L.marker(ll, {
        icon: L.divIcon({
          className: "stop-marker " + stateClass(item, stop),
          html: "<span>" + stop.sequence + "</span>",
          iconSize: [30, 30],
        }),
        title: stop.address || stop.serial,
        keyboard: true,
      });
      marker.on("click", function () { openCapture(stop); });
      mapLayer.addLayer(marker);
    });
    byRoute.forEach(function (lls) {
      mapLayer.addLayer(L.polyline(lls, { color: "#1f78b4", weight: 2, opacity: 0.6,
        interactive: false }));
    });
    if (!mapFitted && all.length) {
      map.fitBounds(L.latLngBounds(all.map(function (s) { return [s.lat, s.lon]; })), {
        padding: [30, 30], maxZoom: 18,
      });
      mapFitted = true;
    }
  }

  function showHere(position) {
    if (!map || !position) return;
    const ll = [position.lat, position.lon];
    if (!hereMarker) {
      hereMarker = L.circleMarker(ll, { radius: 7, color: "#fff", weight: 2, fillColor: "#0b63ce",
        fillOpacity: 1, interactive: false }).addTo(map);
    } else {
      hereMarker.setLatLng(ll);
    }
  }

  // --- Tabs -----------------------------------------------------------------------------------
  function showTab(name) {
    ["list", "map", "queue"].forEach(function (tab) {
      const selected = tab === name;
      $("tab-" + tab).setAttribute("aria-selected", selected ? "true" : "false");
      $("view-" + tab).hidden = !selected;
    });
    if (name === "map") {
      ensureMap();
      map.invalidateSize();
      renderMap();
    }
  }

  // --- Capture form ---------------------------------------------------------------------------
  let capture = null; // {stop, photo: Blob|null, position, watch}

  function fillObservations() {
    const select = $("capture-observation");
    const first = select.options[0];
    select.replaceChildren(first);
    ((state.work && state.work.observations) || []).forEach(function (o) {
      const option = document.createElement("option");
      option.value = o.code;
      option.textContent = o.label;
      select.appendChild(option);
    });
  }

  function setGpsText(text, cls) {
    const gps = $("capture-gps");
    gps.textContent = text;
    gps.className = "gps " + (cls || "");
  }

  function startGps() {
    if (!("geolocation" in navigator)) {
      setGpsText(msg.gpsUnavailable, "none");
      return;
    }
    setGpsText(msg.gpsWaiting, "waiting");
    capture.watch = navigator.geolocation.watchPosition(function (p) {
      if (!capture) return;
      capture.position = {
        lon: p.coords.longitude, lat: p.coords.latitude,
        accuracy_m: Math.round(p.coords.accuracy * 10) / 10,
      };
      setGpsText(format(msg.gpsFix, { accuracy: Math.round(p.coords.accuracy) }), "fix");
      showHere(capture.position);
    }, function (error) {
      if (!capture || capture.position) return;
      setGpsText(error.code === 1 ? msg.gpsDenied : msg.gpsUnavailable, "none");
    }, { enableHighAccuracy: true, maximumAge: 30000, timeout: 30000 });
  }

  function stopGps() {
    if (capture && capture.watch !== undefined && "geolocation" in navigator) {
      navigator.geolocation.clearWatch(capture.watch);
    }
  }

  function openCapture(stop) {
    closeCapture();
    capture = { stop: stop, photo: null, position: null };
    $("capture-title").textContent = stop.address || stop.serial;
    $("capture-account").textContent = stop.account;
    $("capture-serial").textContent = stop.serial;
    $("capture-value").value = "";
    $("capture-value").setAttribute("maxlength", String(stop.dials || 9));
    $("capture-observation").value = "";
    $("capture-value").disabled = false;
    $("capture-photo-hint").hidden = true;
    $("capture-photo").value = "";
    $("capture-photo-preview").hidden = true;
    $("capture-photo-preview").removeAttribute("src");
    $("capture-error").textContent = "";
    const previous = latestByMeter().get(stop.meter_id);
    $("capture-again").hidden = !previous;
    fillObservations();
    startGps();
    const dialog = $("capture");
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
    $("capture-value").focus();
  }

  function closeCapture() {
    stopGps();
    if (capture && capture.previewUrl) URL.revokeObjectURL(capture.previewUrl);
    capture = null;
    const dialog = $("capture");
    if (dialog.open) dialog.close();
  }

  // An observation like "house closed" comes without a value; "leak" may have one.
  function onObservation() {
    const observation = observationOf($("capture-observation").value);
    const input = $("capture-value");
    const noValue = observation && !observation.value_allowed;
    input.disabled = !!noValue;
    if (noValue) input.value = "";
    $("capture-photo-hint").hidden = !(observation && observation.requires_photo);
  }

  async function onPhoto(event) {
    const file = event.target.files && event.target.files[0];
    const current = capture;
    if (!current || !file) return;
    $("capture-error").textContent = msg.photoProcessing;
    $("capture-save").disabled = true; // a save now would leave the photo behind
    let photo = null;
    try {
      photo = await resizePhoto(file);
    } catch (_e) {
      photo = null;
    } finally {
      $("capture-save").disabled = false;
    }
    if (capture !== current) return; // the form was closed meanwhile
    capture.photo = photo;
    if (!photo) {
      $("capture-error").textContent = msg.photoUnreadable;
      return;
    }
    if (capture.previewUrl) URL.revokeObjectURL(capture.previewUrl);
    capture.previewUrl = URL.createObjectURL(capture.photo);
    const preview = $("capture-photo-preview");
    preview.src = capture.previewUrl;
    preview.hidden = false;
    $("capture-error").textContent = "";
  }

  async function onSave(event) {
    event.preventDefault();
    if (!capture) return;
    const value = $("capture-value").value.trim();
    const observation = $("capture-observation").value;
    const maxDigits = capture.stop.dials || 9;
    if (value && !/^\d+$/.test(value)) {
      $("capture-error").textContent = msg.valueDigits;
      return;
    }
    if (value.length > maxDigits) {
      $("capture-error").textContent = format(msg.valueTooLong, { dials: maxDigits });
      return;
    }
    if (!value && !observation) {
      $("capture-error").textContent = msg.valueOrObservation;
      return;
    }
    const item = {
      client_id: newClientId(),
      user_id: config.user.id,
      meter_id: capture.stop.meter_id,
      meter_serial: capture.stop.serial,
      route_id: capture.stop.route.id,
      value: value,
      observation: observation,
      captured_at: isoWithOffset(new Date()),
      position: capture.position,
      photo: capture.photo,
      state: "pending",
      reading_acked: false,
      photo_acked: false,
      reason: "",
      conflict: false,
      created: Date.now(),
    };
    // The queue first: whatever happens to the network, the reading is on the phone now.
    await state.db.put("queue", item);
    closeCapture();
    await reloadItems();
    notice(msg.saved);
    requestBackgroundSync();
    if (navigator.onLine) syncNow();
    else scheduleRetry();
  }

  let noticeTimer = null;
  function notice(text) {
    const node = $("field-notice");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { node.hidden = true; }, 4000);
  }

  // --- Work list: network first, the last copy from IndexedDB when there is no network --------
  async function loadWork() {
    try {
      const response = await fetch(config.urls.work, {
        credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store",
      });
      if (response.status === 401 || response.status === 403) {
        state.lastOutcome = "auth";
        throw new Error("auth");
      }
      if (!response.ok) throw new Error("http " + response.status);
      const work = await response.json();
      state.work = work;
      state.workSource = "network";
      state.workFetchedAt = isoWithOffset(new Date());
      await state.db.put("work", {
        user_id: config.user.id, fetched_at: state.workFetchedAt, data: work,
      });
    } catch (_e) {
      const copy = await state.db.get("work", config.user.id);
      if (copy) {
        state.work = copy.data;
        state.workSource = "copy";
        state.workFetchedAt = copy.fetched_at;
      }
    }
    const list = $("view-list");
    list.dataset.loaded = state.work ? state.workSource : "none";
  }

  async function reloadItems() {
    state.items = await userItems(state.db, config.user.id);
    renderAll();
  }

  // --- Sync loop ------------------------------------------------------------------------------
  function scheduleRetry() {
    clearTimeout(state.retryTimer);
    if (!counts(state.items).pending) return;
    state.retryTimer = setTimeout(syncNow, state.retryMs);
  }

  async function syncNow() {
    if (state.syncing) return;
    clearTimeout(state.retryTimer);
    state.syncing = true;
    renderStatus();
    session.csrf = csrfToken();
    let result;
    try {
      await state.db.put("meta", session);
      result = await FieldQueue.syncWithLock(state.db, session);
    } catch (_e) {
      result = { outcome: "error", sent: 0 }; // IndexedDB trouble: try again later
    } finally {
      state.syncing = false;
    }
    if (result.outcome !== "busy") state.lastOutcome = result.outcome;
    // Back off while the network or the server fails; start over after a success.
    if (result.outcome === "done") state.retryMs = config.retry.baseMs;
    else state.retryMs = Math.min(state.retryMs * 2, config.retry.maxMs);
    await reloadItems();
    if (result.outcome === "done" && result.sent) notice(format(msg.sent, { count: result.sent }));
    scheduleRetry();
  }

  function requestBackgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register(SYNC_TAG);
      return null;
    }).catch(function () { /* Background Sync refused: the page's own loop still sends */ });
  }

  // --- Start ----------------------------------------------------------------------------------
  async function start() {
    state.db = await openDb();
    // One id per installation, so the office can tell two phones of one reader apart.
    let device = await state.db.get("meta", "device");
    if (!device) {
      device = { key: "device", id: newClientId() };
      await state.db.put("meta", device);
    }
    session.device_id = device.id;
    await state.db.put("meta", session);
    await purgeOld(state.db, config.user.id, Date.now());
    await loadWork();
    await reloadItems();

    $("tab-list").addEventListener("click", function () { showTab("list"); });
    $("tab-map").addEventListener("click", function () { showTab("map"); });
    $("tab-queue").addEventListener("click", function () { showTab("queue"); });
    $("capture-form").addEventListener("submit", onSave);
    $("capture-cancel").addEventListener("click", closeCapture);
    $("capture").addEventListener("close", function () { if (capture) closeCapture(); });
    $("capture-photo").addEventListener("change", onPhoto);
    $("capture-observation").addEventListener("change", onObservation);
    $("field-signout").addEventListener("submit", function (event) {
      if (counts(state.items).pending && !root.confirm(msg.signOutPending)) event.preventDefault();
    });
    $("sync-now").addEventListener("click", function () {
      state.retryMs = config.retry.baseMs;
      syncNow();
    });
    root.addEventListener("online", function () {
      state.retryMs = config.retry.baseMs;
      renderStatus();
      if (state.workSource !== "network") loadWork().then(reloadItems);
      syncNow();
    });
    root.addEventListener("offline", renderStatus);
    if (typeof BroadcastChannel !== "undefined") {
      // The service worker synced in the background: show its result.
      new BroadcastChannel(CHANNEL_NAME).addEventListener("message", function () {
        reloadItems();
      });
    }

    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope })
        .then(function (registration) {
          document.body.dataset.sw = "registered";
          return registration;
        })
        .catch(function () { document.body.dataset.sw = "failed"; });
      navigator.serviceWorker.ready.then(function () { document.body.dataset.sw = "ready"; });
    }
    document.body.dataset.ready = "true";
    if (navigator.onLine && counts(state.items).pending) syncNow();
  }

  root.caudalField = {
    state: state,
    syncNow: syncNow,
    reloadItems: reloadItems,
    showTab: showTab,
    openDb: openDb,
  };
  start();
})(self);
