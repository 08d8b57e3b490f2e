// Network editor of planners: pipes and valves of the view from the bbox endpoints, drawing a
// pipe / placing a valve with snapping (Leaflet-Geoman), route editing, the attribute forms.
// The rules (end snapping, T-junction splits, connections) are the server's: a refused edit
// shows where (red) and why (the translated message); the map then reloads what is stored.
// No online base map: block outlines (for cadastre readers) and the pipes are the map.
(function () {
  "use strict";
  const element = document.getElementById("editor-map");
  const configNode = document.getElementById("network-editor-config");
  if (!element || !configNode || typeof L === "undefined") return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const can = config.can;
  const shell = element.closest(".editor-shell");
  const csrfToken = shell.dataset.csrf;
  const $ = function (id) { return document.getElementById(id); };

  const MATERIAL_COLOURS = {
    pvc: "#1f78b4", pe: "#33a02c", ductile_iron: "#6a3d9a", cast_iron: "#b15928",
    steel: "#e31a1c", asbestos_cement: "#ff7f00", concrete: "#999999", unknown: "#7a7a7a",
  };

  const format = window.CaudalPage.format;  // static/js/page-common.js

  // --- Map and layers -------------------------------------------------------------------------
  const map = L.map(element, {
    center: config.center, zoom: config.zoom, maxZoom: 22, minZoom: 3,
    attributionControl: false, boxZoom: false,
  });
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  map.createPane("blocks").style.zIndex = 390;
  map.createPane("problems").style.zIndex = 650;

  const blocksLayer = L.geoJSON(null, {
    pane: "blocks", pmIgnore: true, snapIgnore: true, interactive: false,
    style: { color: "#9aa3ad", weight: 1, fill: true, fillColor: "#eceae4", fillOpacity: 0.7 },
  }).addTo(map);
  const pipesLayer = L.featureGroup().addTo(map);
  const valvesLayer = L.featureGroup().addTo(map);
  const problemLayer = L.geoJSON(null, {
    pane: "problems", pmIgnore: true, snapIgnore: true, interactive: false,
    style: { color: "#d00000", weight: 6, opacity: 0.8, fillColor: "#ff1f1f", fillOpacity: 0.45 },
    pointToLayer: function (_f, latlng) {
      return L.circleMarker(latlng, {
        pane: "problems", radius: 12, color: "#d00000", weight: 3, fillOpacity: 0.4,
      });
    },
  }).addTo(map);

  const pipes = new Map(); // id → {feature, layer}
  const valves = new Map();
  let selected = null; // {kind: "pipe"|"valve", id}
  let mode = "idle"; // idle | pipe | valve (drawing) | newPipe | newValve | edit
  let pending = null; // the drawn, not yet saved, layer
  let editing = null; // {kind, entry} while a route / a valve position is edited
  let loadSeq = 0;

  function pipeStyle(feature, isSelected) {
    const p = feature.properties;
    return {
      color: isSelected ? "#f2a900" : (MATERIAL_COLOURS[p.material] || "#555"),
      weight: Math.max(3, Math.min(8, 2 + p.diameter_mm / 100)) + (isSelected ? 2 : 0),
      dashArray: p.status === "planned" ? "8,6" : (p.status === "abandoned" ? "2,6" : null),
      opacity: 0.9,
    };
  }

  function valveStyle(feature, isSelected) {
    const closed = feature.properties.current_status === "closed";
    return {
      radius: 7, weight: isSelected ? 4 : 2, color: isSelected ? "#f2a900" : "#0b3c5d",
      fillColor: closed ? "#d00000" : "#ffffff", fillOpacity: 1,
    };
  }

  function isSelected(kind, id) { return !!selected && selected.kind === kind && selected.id === id; }

  function addPipe(feature) {
    const id = feature.properties.id;
    removeEntry(pipes, pipesLayer, id);
    const layer = L.geoJSON(feature, {
      className: "pipe pipe-" + id,
      style: function () { return pipeStyle(feature, isSelected("pipe", id)); },
    }).getLayers()[0];
    layer.on("click", function (event) { onClick("pipe", id, event); });
    layer.bindTooltip(function () { return feature.properties.code; }, { sticky: true });
    pipesLayer.addLayer(layer);
    pipes.set(id, { feature: feature, layer: layer });
  }

  function addValve(feature) {
    const id = feature.properties.id;
    removeEntry(valves, valvesLayer, id);
    const ll = L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]);
    const layer = L.circleMarker(ll, Object.assign(
      { className: "valve valve-" + id, snapIgnore: true }, valveStyle(feature, isSelected("valve", id))));
    layer.on("click", function (event) { onClick("valve", id, event); });
    layer.bindTooltip(function () { return feature.properties.code; });
    valvesLayer.addLayer(layer);
    valves.set(id, { feature: feature, layer: layer });
  }

  function removeEntry(store, group, id) {
    const entry = store.get(id);
    if (!entry) return;
    if (entry.layer.pm) entry.layer.pm.disable();
    group.removeLayer(entry.layer);
    store.delete(id);
  }

  function restyle() {
    pipes.forEach(function (e, id) { e.layer.setStyle(pipeStyle(e.feature, isSelected("pipe", id))); });
    valves.forEach(function (e, id) { e.layer.setStyle(valveStyle(e.feature, isSelected("valve", id))); });
    valvesLayer.bringToFront();
  }

  // --- Status, alerts -------------------------------------------------------------------------
  function setStatus(text) { $("editor-status").textContent = text; }
  function notice(text) { const box = $("editor-notice"); box.textContent = text; box.hidden = !text; }
  function hint(text) { const h = $("tool-hint"); if (h) h.textContent = text || ""; }

  function clearProblem() {
    problemLayer.clearLayers();
    $("editor-alert").hidden = true;
    $("editor-alert-message").textContent = "";
  }

  function showProblem(body) {
    notice("");
    $("editor-alert-message").textContent = body.message || body.detail || msg.rejected;
    $("editor-alert").hidden = false;
    $("editor-alert").dataset.code = body.code || "";
    problemLayer.clearLayers();
    if (body.where) {
      problemLayer.addData(body.where);
      const bounds = problemLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds.pad(0.8), { maxZoom: 20 });
    }
  }
  $("editor-alert-close").addEventListener("click", clearProblem);

  // --- Server ---------------------------------------------------------------------------------
  function send(method, url, payload) {
    setStatus(msg.saving);
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        setStatus("");
        if (response.ok) { clearProblem(); return body; }
        const problem = body && (body.message || body.detail) ? body
          : { code: "http_" + response.status, message: format(msg.serverError, { status: response.status }) };
        showProblem(problem);
        throw problem;
      });
    }, function () {
      setStatus("");
      const problem = { code: "network", message: msg.networkError };
      showProblem(problem);
      throw problem;
    });
  }

  function urlFor(name, id) { return config.urls[name].replace("{id}", String(id)); }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }

  function load() {
    if (mode === "edit") return Promise.resolve();
    if (map.getZoom() < config.minZoom) {
      notice(msg.zoomIn);
      return Promise.resolve();
    }
    const seq = ++loadSeq;
    setStatus(msg.loading);
    const b = map.getBounds();
    const bbox = "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return v.toFixed(7); }).join(",");
    const asks = [getJSON(config.urls.pipes + bbox), getJSON(config.urls.valves + bbox),
      config.urls.blocks ? getJSON(config.urls.blocks + bbox).catch(function () { return null; })
        : Promise.resolve(null)];
    return Promise.all(asks).then(function (answers) {
      if (seq !== loadSeq) return;
      pipes.forEach(function (_e, id) { removeEntry(pipes, pipesLayer, id); });
      valves.forEach(function (_e, id) { removeEntry(valves, valvesLayer, id); });
      answers[0].features.forEach(addPipe);
      answers[1].features.forEach(addValve);
      blocksLayer.clearLayers();
      if (answers[2]) blocksLayer.addData(answers[2]);
      if (selected && !(selected.kind === "pipe" ? pipes : valves).has(selected.id)) selected = null;
      restyle();
      refreshForm();
      element.dataset.pipes = String(pipes.size);
      element.dataset.valves = String(valves.size);
      setStatus(format(msg.loaded, { pipes: pipes.size, valves: valves.size }));
      // Keep the notice of the last edit; replace only the load's own notices.
      if (answers[0].truncated || answers[1].truncated) notice(msg.capped);
      else if ([msg.zoomIn, msg.capped, msg.loadFailed].indexOf($("editor-notice").textContent) !== -1) {
        notice("");
      }
    }).catch(function () { if (seq === loadSeq) { setStatus(""); notice(msg.loadFailed); } });
  }
  map.on("moveend", load);

  // --- Selection and forms --------------------------------------------------------------------
  function onClick(kind, id, event) {
    if (mode !== "idle") return;
    if (event) L.DomEvent.stopPropagation(event);
    select(kind, id);
  }

  function select(kind, id) {
    selected = kind ? { kind: kind, id: id } : null;
    restyle();
    refreshForm();
    refreshTools();
  }
  map.on("click", function () { if (mode === "idle") select(null); });

  function showForm(kind, title) {
    $("pipe-form").hidden = kind !== "pipe";
    $("valve-form").hidden = kind !== "valve";
    $("form-empty").hidden = !!kind;
    $("form-title").textContent = title || $("form-title").dataset.label;
    const isNew = mode === "newPipe" || mode === "newValve";
    document.querySelectorAll(".form-discard").forEach(function (b) { b.hidden = !isNew; });
    const editable = isNew || (kind === "pipe" ? can.changePipe : can.changeValve);
    const form = kind ? $(kind + "-form") : null;
    if (form) {
      form.querySelectorAll("input, select").forEach(function (i) { i.disabled = !editable; });
      const save = form.querySelector("button[type=submit]");
      save.hidden = !editable;
    }
  }

  function fillPipe(p) {
    $("p-code").value = p.code || "";
    $("p-material").value = p.material || "unknown";
    $("p-diameter").value = p.diameter_mm || 100;
    $("p-status").value = p.status || "active";
    $("p-year").value = p.install_year == null ? "" : p.install_year;
    $("p-length").textContent = p.length_m == null ? "—" : p.length_m;
    $("p-connections").textContent = p.connections == null ? "—" : p.connections;
  }

  function fillValve(p) {
    $("v-code").value = p.code || "";
    $("v-diameter").value = p.diameter_mm || 100;
    $("v-normal").value = p.normal_status || "open";
    $("v-current").value = p.current_status || "open";
    $("v-operable").checked = p.operable !== false;
  }

  function refreshForm() {
    if (mode === "newPipe") return showForm("pipe", msg.newPipe);
    if (mode === "newValve") return showForm("valve", msg.newValve);
    const entry = selected && (selected.kind === "pipe" ? pipes : valves).get(selected.id);
    if (!entry) { $("form-empty").textContent = msg.selectOne; return showForm(null); }
    const p = entry.feature.properties;
    if (selected.kind === "pipe") { fillPipe(p); showForm("pipe", format(msg.pipeTitle, p)); }
    else { fillValve(p); showForm("valve", format(msg.valveTitle, p)); }
  }

  function pipeValues(isNew) {
    const values = {
      material: $("p-material").value, status: $("p-status").value,
      diameter_mm: parseInt($("p-diameter").value, 10) || 0,
    };
    const code = $("p-code").value.trim();
    if (code || !isNew) values.code = code;
    const year = $("p-year").value.trim();
    values.install_year = year === "" ? null : parseInt(year, 10);
    return values;
  }

  function valveValues(isNew) {
    const values = {
      diameter_mm: parseInt($("v-diameter").value, 10) || 0,
      normal_status: $("v-normal").value, current_status: $("v-current").value,
      operable: $("v-operable").checked,
    };
    const code = $("v-code").value.trim();
    if (code || !isNew) values.code = code;
    return values;
  }

  const editor = {
    map: map, pipes: pipes, valves: valves, config: config, load: load, select: select,
    get selected() { return selected; },
    get mode() { return mode; },
  };
  window.caudalNetworkEditor = editor;

  function refreshTools() { if (editor.refreshTools) editor.refreshTools(); }

  // --- Editing ----------------------------------------------------------------------------------
  if (can.addPipe || can.addValve || can.changePipe || can.changeValve) {
    const lang = (document.documentElement.lang || "es").slice(0, 2);
    try { map.pm.setLang(lang === "en" ? "en" : "es"); } catch (e) { /* language not bundled */ }
    map.pm.setGlobalOptions({
      snappable: true, snapDistance: config.snapDistancePx, continueDrawing: false,
      templineStyle: { color: "#0b3c5d" }, hintlineStyle: { color: "#0b3c5d", dashArray: "5,5" },
      pathOptions: { color: "#0b3c5d", weight: 4 },
    });

    function setMode(next) {
      mode = next;
      shell.dataset.mode = next;
      const cancel = $("tool-cancel");
      if (cancel) cancel.hidden = !(next === "pipe" || next === "valve");
      const actions = $("tool-edit-actions");
      if (actions) actions.hidden = next !== "edit";
      refreshTools();
    }

    editor.refreshTools = function () {
      const idle = mode === "idle";
      const kind = selected && selected.kind;
      if ($("tool-pipe")) $("tool-pipe").disabled = !idle;
      if ($("tool-valve")) $("tool-valve").disabled = !idle;
      if ($("tool-edit")) {
        $("tool-edit").disabled = !(idle && ((kind === "pipe" && can.changePipe) ||
                                             (kind === "valve" && can.changeValve)));
      }
      if ($("tool-delete")) {
        $("tool-delete").disabled = !(idle && ((kind === "pipe" && can.deletePipe) ||
                                               (kind === "valve" && can.deleteValve)));
      }
    };

    function startPipe() {
      if (mode !== "idle") return;
      clearProblem();
      select(null);
      setMode("pipe");
      hint(format(msg.drawPipeHint, { tol: config.snapToleranceM }));
      map.pm.enableDraw("Line", { snappable: true });
    }

    function startValve() {
      if (mode !== "idle") return;
      clearProblem();
      select(null);
      setMode("valve");
      hint(msg.placeValveHint);
      map.pm.enableDraw("CircleMarker", { snappable: true });
    }

    map.on("pm:create", function (e) {
      if (e.shape === "Line") acceptPipe(e.layer);
      else if (e.shape === "CircleMarker") acceptValve(e.layer);
    });
    map.on("pm:drawend", function () {
      if (mode === "pipe" || mode === "valve") { setMode("idle"); hint(""); }
    });

    function acceptPipe(layer) {
      discardNew();
      pending = layer;
      setMode("newPipe");
      hint("");
      fillPipe({ material: $("p-material").value, diameter_mm: 100, status: "active" });
      refreshForm();
    }

    function acceptValve(layer) {
      discardNew();
      pending = layer;
      setMode("newValve");
      hint("");
      fillValve({ normal_status: "open", current_status: "open", operable: true });
      refreshForm();
    }

    function discardNew() {
      if (pending) { map.removeLayer(pending); pending = null; }
      if (mode === "newPipe" || mode === "newValve") setMode("idle");
      refreshForm();
    }

    function afterSave(kind, feature, template) {
      discardNew();
      notice(format(template, feature.properties));
      selected = { kind: kind, id: feature.properties.id };
      return load();
    }

    function createPipe() {
      const payload = pipeValues(true);
      payload.geometry = pending.toGeoJSON(7).geometry;
      return send("POST", config.urls.pipes, payload).then(function (feature) {
        const split = feature.split && feature.split.length;
        return afterSave("pipe", feature, split ? msg.pipeSplit : msg.pipeCreated);
      }, function () { discardNew(); });
    }

    function createValve() {
      const payload = valveValues(true);
      payload.geometry = pending.toGeoJSON(7).geometry;
      return send("POST", config.urls.valves, payload).then(function (feature) {
        return afterSave("valve", feature, msg.valveCreated);
      }, function () { discardNew(); });
    }

    function saveAttributes(kind) {
      if (!selected || selected.kind !== kind) return Promise.resolve();
      const url = urlFor(kind, selected.id);
      const payload = kind === "pipe" ? pipeValues(false) : valveValues(false);
      return send("PATCH", url, payload).then(function (feature) {
        return afterSave(kind, feature, msg.saved);
      }, function () { refreshForm(); });
    }

    // Route editing of the selected pipe, or dragging the selected valve.
    function startEdit() {
      if (mode !== "idle" || !selected) return;
      clearProblem();
      const entry = (selected.kind === "pipe" ? pipes : valves).get(selected.id);
      if (!entry) return;
      editing = { kind: selected.kind, entry: entry };
      entry.layer.pm.enable({ snappable: true, snapDistance: config.snapDistancePx, draggable: true });
      setMode("edit");
      hint(selected.kind === "pipe" ? msg.editHint : msg.moveHint);
    }

    function stopEdit() {
      const current = editing;
      if (current && current.entry.layer.pm) current.entry.layer.pm.disable();
      editing = null;
      setMode("idle");
      hint("");
      return current;
    }

    function saveEdit() {
      if (!editing) return Promise.resolve();
      const current = stopEdit();
      const props = current.entry.feature.properties;
      const geometry = current.entry.layer.toGeoJSON(7).geometry;
      const template = current.kind === "pipe" ? msg.pipeReshaped : msg.valveMoved;
      return send("PATCH", urlFor(current.kind, props.id), { geometry: geometry })
        .then(function (feature) { return afterSave(current.kind, feature, template); },
              function () { return load(); });
    }

    function cancelEdit() { if (editing) { stopEdit(); load(); } }

    function remove() {
      if (mode !== "idle" || !selected) return Promise.resolve();
      const kind = selected.kind;
      const entry = (kind === "pipe" ? pipes : valves).get(selected.id);
      if (!entry) return Promise.resolve();
      const props = entry.feature.properties;
      if (!editor.skipConfirm && !window.confirm(format(msg.confirmDelete, props))) {
        return Promise.resolve();
      }
      return send("DELETE", urlFor(kind, props.id)).then(function () {
        notice(format(kind === "pipe" ? msg.pipeDeleted : msg.valveDeleted, props));
        selected = null;
        return load();
      }, function () { /* nothing changed */ });
    }

    function on(id, handler) { const el = $(id); if (el) el.addEventListener("click", handler); }
    on("tool-pipe", startPipe);
    on("tool-valve", startValve);
    on("tool-edit", startEdit);
    on("tool-delete", remove);
    on("tool-edit-save", saveEdit);
    on("tool-edit-cancel", cancelEdit);
    on("tool-cancel", function () { map.pm.disableDraw(); setMode("idle"); hint(""); });
    document.querySelectorAll(".form-discard").forEach(function (b) {
      b.addEventListener("click", discardNew);
    });
    $("pipe-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (mode === "newPipe") createPipe(); else saveAttributes("pipe");
    });
    $("valve-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (mode === "newValve") createValve(); else saveAttributes("valve");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      if (mode === "edit") cancelEdit();
      else if (mode === "pipe" || mode === "valve") $("tool-cancel").click();
    });

    // For scripted use (tests, power users in the console): the same paths as the mouse.
    editor.drawnLine = function (latlngs) {
      const layer = L.polyline(latlngs).addTo(map);
      acceptPipe(layer);
      return layer;
    };
    editor.placedValve = function (latlng) {
      const layer = L.circleMarker(latlng).addTo(map);
      acceptValve(layer);
      return layer;
    };
    editor.startEdit = startEdit;
    editor.saveEdit = saveEdit;
    editor.remove = remove;
    setMode("idle");
  } else {
    $("pipe-form").addEventListener("submit", function (event) { event.preventDefault(); });
    $("valve-form").addEventListener("submit", function (event) { event.preventDefault(); });
  }

  refreshForm();
  editor.ready = load();
})();
