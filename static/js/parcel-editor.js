// Parcel editor of cadastre staff: parcels and blocks of the view from the bbox endpoints,
// drawing / vertex editing with snapping (Leaflet-Geoman), split, merge and the attribute form.
// Every rule (overlaps, blocks, lineage) is the server's: a rejected edit shows where (red) and
// why (the translated message), and the layer goes back to its stored outline.
// No online base map: block outlines and parcels coloured by land use are the map.
(function () {
  "use strict";
  const element = document.getElementById("editor-map");
  const configNode = document.getElementById("parcel-editor-config");
  if (!element || !configNode || typeof L === "undefined") return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const shell = element.closest(".editor-shell");
  const csrfToken = shell.dataset.csrf;
  const $ = function (id) { return document.getElementById(id); };

  const LAND_USE_COLOURS = {
    residential: "#f2c14e", commercial: "#e4572e", mixed: "#f78154", industrial: "#7d5ba6",
    public: "#4d9de0", green: "#3bb273", vacant: "#c9c9c9",
  };
  const SELECTED = { color: "#0b3c5d", weight: 3, dashArray: null };
  const NORMAL = { color: "#5a4a2f", weight: 1, dashArray: null };

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  // --- Map and layers -------------------------------------------------------------------------
  const map = L.map(element, {
    center: config.center, zoom: config.zoom, maxZoom: 22, minZoom: 3,
    zoomControl: true, attributionControl: false, boxZoom: false,
  });
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  map.createPane("blocks").style.zIndex = 390;
  map.createPane("problems").style.zIndex = 650;

  const blocksLayer = L.geoJSON(null, {
    pane: "blocks",
    // Not editable, but vertices and edges of blocks are snap targets.
    pmIgnore: true, snapIgnore: false, interactive: false,
    style: { color: "#6b7280", weight: 1.5, fill: true, fillColor: "#e5e7eb", fillOpacity: 0.6 },
  }).addTo(map);
  const parcelsLayer = L.featureGroup().addTo(map);
  const problemLayer = L.geoJSON(null, {
    pane: "problems", pmIgnore: true, snapIgnore: true, interactive: false,
    style: { color: "#d00000", weight: 3, fillColor: "#ff1f1f", fillOpacity: 0.45 },
    pointToLayer: function (_f, latlng) {
      return L.circleMarker(latlng, { radius: 9, color: "#d00000", fillOpacity: 0.6 });
    },
  }).addTo(map);

  const parcels = new Map(); // id → {feature, layer}
  let selection = []; // ids, in click order
  let mode = "idle"; // idle | draw | split | edit | new
  let pendingNew = null; // the drawn, not yet saved, polygon layer
  let loadSeq = 0;

  function styleFor(feature, selected) {
    const base = selected ? SELECTED : NORMAL;
    return {
      color: base.color, weight: base.weight, dashArray: base.dashArray,
      fillColor: LAND_USE_COLOURS[feature.properties.land_use] || "#999",
      fillOpacity: selected ? 0.75 : 0.55,
    };
  }

  function addParcel(feature) {
    removeParcel(feature.properties.id);
    const layer = L.geoJSON(feature, {
      className: "parcel parcel-" + feature.properties.id,
      style: function () { return styleFor(feature, false); },
    }).getLayers()[0];
    layer.feature = feature;
    layer.on("click", function (event) { onParcelClick(feature.properties.id, event); });
    layer.bindTooltip(function () {
      const p = layer.feature.properties;
      return p.cadastral_key + " · " + (config.landUses[p.land_use] || p.land_use);
    }, { sticky: true });
    parcelsLayer.addLayer(layer);
    parcels.set(feature.properties.id, { feature: feature, layer: layer });
    return layer;
  }

  function removeParcel(id) {
    const entry = parcels.get(id);
    if (!entry) return;
    if (entry.layer.pm) entry.layer.pm.disable();
    parcelsLayer.removeLayer(entry.layer);
    parcels.delete(id);
  }

  function restyle() {
    parcels.forEach(function (entry, id) {
      entry.layer.setStyle(styleFor(entry.feature, selection.indexOf(id) !== -1));
    });
    selection.forEach(function (id) {
      const entry = parcels.get(id);
      if (entry) entry.layer.bringToFront();
    });
  }

  // --- Status, alerts -------------------------------------------------------------------------
  function setStatus(text) { $("editor-status").textContent = text; }

  function notice(text) {
    const box = $("editor-notice");
    box.textContent = text;
    box.hidden = !text;
  }

  function clearProblem() {
    problemLayer.clearLayers();
    $("editor-alert").hidden = true;
    $("editor-alert-message").textContent = "";
  }

  function showProblem(body) {
    notice("");
    $("editor-alert-message").textContent = body.message || msg.rejected;
    $("editor-alert").hidden = false;
    $("editor-alert").dataset.code = body.code || "";
    problemLayer.clearLayers();
    if (body.where) {
      problemLayer.addData(body.where);
      const bounds = problemLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds.pad(0.6), { maxZoom: 21 });
    }
  }
  $("editor-alert-close").addEventListener("click", clearProblem);

  // --- Server ---------------------------------------------------------------------------------
  function send(method, url, payload) {
    setStatus(msg.saving);
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json", Accept: "application/json",
        "X-CSRFToken": csrfToken,
      },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        setStatus("");
        if (response.ok) { clearProblem(); return body; }
        const problem = body && body.message ? body
          : { code: "http_" + response.status,
              message: body.detail || format(msg.serverError, { status: response.status }),
              where: null };
        showProblem(problem);
        throw problem;
      });
    }, function () {
      setStatus("");
      const problem = { code: "network", message: msg.networkError, where: null };
      showProblem(problem);
      throw problem;
    });
  }

  function urlFor(name, id) { return config.urls[name].replace("{id}", String(id)); }

  function bboxParam() {
    const b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return v.toFixed(7); }).join(",");
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }

  function load() {
    // Never replace layers under an edit in progress.
    if (mode === "edit" || mode === "split") return Promise.resolve();
    if (map.getZoom() < config.minZoom) {
      blocksLayer.clearLayers();
      parcels.forEach(function (_e, id) { if (selection.indexOf(id) === -1) removeParcel(id); });
      element.dataset.parcels = String(parcels.size);
      notice(msg.zoomIn);
      return Promise.resolve();
    }
    const seq = ++loadSeq;
    setStatus(msg.loading);
    const bbox = "?bbox=" + bboxParam();
    return Promise.all([getJSON(config.urls.blocks + bbox), getJSON(config.urls.parcels + bbox)])
      .then(function (answers) {
        if (seq !== loadSeq) return;
        blocksLayer.clearLayers();
        blocksLayer.addData(answers[0]);
        const keep = new Set(selection);
        parcels.forEach(function (_e, id) { if (!keep.has(id)) removeParcel(id); });
        answers[1].features.forEach(function (f) {
          if (!keep.has(f.properties.id)) addParcel(f);
        });
        restyle();
        element.dataset.parcels = String(parcels.size);
        const count = answers[1].features.length;
        setStatus(format(msg.loaded, { count: count }));
        notice(answers[1].truncated ? format(msg.capped, { count: count }) : "");
      })
      .catch(function () { if (seq === loadSeq) { setStatus(""); notice(msg.loadFailed); } });
  }
  map.on("moveend", load);

  // --- Selection and the attribute form --------------------------------------------------------
  function onParcelClick(id, event) {
    if (mode !== "idle") return;
    // On the Leaflet event: marks it so the map's own click (which clears the selection) skips it.
    if (event) L.DomEvent.stopPropagation(event);
    const multi = event && event.originalEvent &&
      (event.originalEvent.ctrlKey || event.originalEvent.metaKey || event.originalEvent.shiftKey);
    select(id, multi);
  }

  function select(id, add) {
    if (add) {
      const at = selection.indexOf(id);
      if (at === -1) selection.push(id); else selection.splice(at, 1);
    } else {
      selection = [id];
    }
    restyle();
    refreshForm();
    refreshTools();
  }

  function clearSelection() {
    selection = [];
    restyle();
    refreshForm();
    refreshTools();
  }
  map.on("click", function () { if (mode === "idle") clearSelection(); });

  function fillForm(properties) {
    $("f-cadastral-key").value = properties.cadastral_key || "";
    $("f-land-use").value = properties.land_use || "residential";
    $("f-address").value = properties.address || "";
    $("f-built-area").value = properties.built_area_m2 == null ? "" : properties.built_area_m2;
    $("f-land-area").textContent = properties.land_area_m2 == null ? "—" : properties.land_area_m2;
  }

  function refreshForm() {
    const form = $("parcel-form");
    const discard = $("form-discard");
    if (mode === "new") {
      $("form-title").textContent = msg.newParcel;
      form.hidden = false;
      $("form-empty").hidden = true;
      if (discard) discard.hidden = false;
      return;
    }
    if (discard) discard.hidden = true;
    if (selection.length === 1 && parcels.has(selection[0])) {
      const p = parcels.get(selection[0]).feature.properties;
      $("form-title").textContent = p.cadastral_key;
      fillForm(p);
      form.hidden = false;
      $("form-empty").hidden = true;
    } else {
      form.hidden = true;
      $("form-empty").hidden = false;
      $("form-title").textContent = $("form-title").dataset.label;
      $("form-empty").textContent = selection.length > 1
        ? format(msg.selected, { count: selection.length }) + " " + msg.mergeHint
        : msg.selectOne;
    }
  }
  $("form-title").dataset.label = $("form-title").textContent;

  function formValues() {
    const values = { land_use: $("f-land-use").value, address: $("f-address").value.trim() };
    const built = $("f-built-area").value.trim();
    if (built !== "") values.built_area_m2 = built;
    return values;
  }

  // --- Editing (only for users who may change parcels) ------------------------------------------
  const editor = {
    map: map, parcels: parcels, config: config,
    select: select, clearSelection: clearSelection, load: load,
    get selection() { return selection.slice(); },
    get mode() { return mode; },
  };
  window.caudalEditor = editor;

  if (config.canEdit) {
    const lang = (document.documentElement.lang || "es").slice(0, 2);
    try { map.pm.setLang(lang === "en" ? "en" : "es"); } catch (e) { /* language not bundled */ }
    map.pm.setGlobalOptions({
      snappable: true, snapDistance: config.snapDistancePx, allowSelfIntersection: false,
      continueDrawing: false, finishOn: null,
      templineStyle: { color: "#0b3c5d" }, hintlineStyle: { color: "#0b3c5d", dashArray: "5,5" },
      pathOptions: { color: "#0b3c5d", weight: 2, fillColor: "#9ecae1", fillOpacity: 0.5 },
    });
    map.pm.addControls({
      position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
      drawRectangle: false, drawCircle: false, drawText: false, drawPolygon: true,
      editMode: false, dragMode: false, cutPolygon: false, removalMode: false, rotateMode: false,
    });
    map.pm.Toolbar.createCustomControl({
      name: "caudalEdit", block: "custom", title: msg.editVertices, className: "cd-icon-edit",
      toggle: false, onClick: function () { startEdit(); },
    });
    map.pm.Toolbar.createCustomControl({
      name: "caudalSplit", block: "custom", title: msg.splitParcel, className: "cd-icon-split",
      toggle: false, onClick: function () { startSplit(); },
    });
    map.pm.Toolbar.createCustomControl({
      name: "caudalMerge", block: "custom", title: msg.mergeParcels, className: "cd-icon-merge",
      toggle: false, onClick: function () { merge(); },
    });

    function hint(text) { $("tool-hint").textContent = text || ""; }

    function setMode(next) {
      mode = next;
      shell.dataset.mode = next;
      $("tool-cancel").hidden = !(next === "draw" || next === "split");
      $("tool-edit-actions").hidden = next !== "edit";
      refreshTools();
    }

    function refreshTools() {
      const idle = mode === "idle";
      $("tool-draw").disabled = !idle;
      $("tool-edit").disabled = !(idle && selection.length === 1);
      $("tool-split").disabled = !(idle && selection.length === 1);
      $("tool-merge").disabled = !(idle && selection.length >= 2);
    }
    editor.refreshTools = refreshTools;

    // Draw a new parcel: Geoman's polygon tool (toolbar or our button).
    function startDraw() {
      if (mode !== "idle") return;
      clearProblem();
      map.pm.enableDraw("Polygon");
    }
    map.on("pm:drawstart", function (e) {
      if (e.shape === "Polygon" && mode === "idle") { setMode("draw"); hint(msg.drawHint); }
    });
    map.on("pm:drawend", function () {
      if (mode === "draw" || mode === "split") { setMode(pendingNew ? "new" : "idle"); hint(""); }
    });
    map.on("pm:create", function (e) {
      if (e.shape === "Polygon") acceptDrawnPolygon(e.layer);
      else if (e.shape === "Line") acceptSplitLine(e.layer);
    });

    function acceptDrawnPolygon(layer) {
      discardNew();
      pendingNew = layer;
      layer.setStyle({ color: "#0b3c5d", dashArray: "6,4", weight: 2 });
      selection = [];
      restyle();
      setMode("new");
      fillForm({ land_use: "residential" });
      refreshForm();
      $("f-address").focus();
    }

    function discardNew() {
      if (pendingNew) { map.removeLayer(pendingNew); pendingNew = null; }
      if (mode === "new") setMode("idle");
      refreshForm();
    }

    function createParcel() {
      const payload = formValues();
      payload.geometry = pendingNew.toGeoJSON(7).geometry;
      return send("POST", config.urls.parcels, payload).then(function (feature) {
        discardNew();
        addParcel(feature);
        select(feature.properties.id, false);
        notice(format(msg.created, { key: feature.properties.cadastral_key }));
        element.dataset.parcels = String(parcels.size);
      }, function () {
        // Rejected: the drawn outline is not a parcel; only the red problem remains.
        discardNew();
      });
    }

    // Vertex editing with snapping to blocks and neighbours.
    let editing = null;
    function startEdit() {
      if (mode !== "idle" || selection.length !== 1) return;
      clearProblem();
      editing = parcels.get(selection[0]);
      editing.layer.pm.enable({ snappable: true, snapDistance: config.snapDistancePx,
                                allowSelfIntersection: false });
      setMode("edit");
      hint(msg.editHint);
    }

    function stopEdit() {
      if (editing && editing.layer.pm) editing.layer.pm.disable();
      const entry = editing;
      editing = null;
      setMode("idle");
      hint("");
      return entry;
    }

    function restoreStored(entry) {
      // Back to the stored outline: rebuild the layer from the last feature the server sent.
      const id = entry.feature.properties.id;
      addParcel(entry.feature);
      if (selection.indexOf(id) === -1) selection = [id];
      restyle();
    }

    function saveEdit() {
      if (!editing) return Promise.resolve();
      const entry = editing;
      const geometry = entry.layer.toGeoJSON(7).geometry;
      const id = entry.feature.properties.id;
      stopEdit();
      return send("POST", urlFor("reshape", id), { geometry: geometry }).then(function (feature) {
        addParcel(feature);
        restyle();
        refreshForm();
        notice(format(msg.reshaped, { key: feature.properties.cadastral_key }));
      }, function () { restoreStored(entry); refreshForm(); });
    }

    function cancelEdit() {
      if (!editing) return;
      restoreStored(stopEdit());
    }

    // Split: draw a line across the selected parcel.
    function startSplit() {
      if (mode !== "idle" || selection.length !== 1) return;
      clearProblem();
      setMode("split");
      hint(msg.splitHint);
      map.pm.enableDraw("Line", { snappable: true, snapDistance: config.snapDistancePx });
    }

    function acceptSplitLine(layer) {
      const id = selection[0];
      const line = layer.toGeoJSON(7).geometry;
      map.removeLayer(layer);
      setMode("idle");
      hint("");
      return splitWith(id, line);
    }

    function splitWith(id, line) {
      return send("POST", urlFor("split", id), { line: line }).then(function (collection) {
        removeParcel(id);
        const ids = collection.features.map(function (f) { addParcel(f); return f.properties.id; });
        selection = ids.slice(0, 1);
        restyle();
        refreshForm();
        refreshTools();
        element.dataset.parcels = String(parcels.size);
        notice(format(msg.split, {
          count: ids.length,
          keys: collection.features.map(function (f) { return f.properties.cadastral_key; })
            .join(", "),
        }));
      }, function () { /* the parcel was never changed on the map */ });
    }

    function merge() {
      if (mode !== "idle" || selection.length < 2) return Promise.resolve();
      clearProblem();
      const ids = selection.slice();
      return send("POST", config.urls.merge, { parcel_ids: ids }).then(function (feature) {
        ids.forEach(removeParcel);
        addParcel(feature);
        selection = [feature.properties.id];
        restyle();
        refreshForm();
        refreshTools();
        element.dataset.parcels = String(parcels.size);
        notice(format(msg.merged, { key: feature.properties.cadastral_key }));
      }, function () { /* nothing changed */ });
    }

    function saveAttributes() {
      if (selection.length !== 1) return Promise.resolve();
      const id = selection[0];
      return send("PATCH", urlFor("attributes", id), formValues()).then(function (feature) {
        addParcel(feature);
        restyle();
        refreshForm();
        notice(msg.saved);
      }, function () { refreshForm(); });
    }

    $("tool-draw").addEventListener("click", startDraw);
    $("tool-edit").addEventListener("click", startEdit);
    $("tool-split").addEventListener("click", startSplit);
    $("tool-merge").addEventListener("click", merge);
    $("tool-edit-save").addEventListener("click", saveEdit);
    $("tool-edit-cancel").addEventListener("click", cancelEdit);
    $("tool-cancel").addEventListener("click", function () {
      map.pm.disableDraw();
      setMode(pendingNew ? "new" : "idle");
      hint("");
    });
    $("form-discard").addEventListener("click", discardNew);
    $("parcel-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (mode === "new") createParcel(); else saveAttributes();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      if (mode === "edit") cancelEdit();
      else if (mode === "draw" || mode === "split") $("tool-cancel").click();
    });

    // For scripted use (tests, power users in the console): the same paths as the mouse.
    editor.drawnPolygon = function (latlngs) {
      const layer = L.polygon(latlngs).addTo(map);
      acceptDrawnPolygon(layer);
      return layer;
    };
    editor.drawnLine = function (latlngs) {
      setMode("split");
      const layer = L.polyline(latlngs).addTo(map);
      return acceptSplitLine(layer);
    };
    editor.merge = merge;
    editor.startEdit = startEdit;
    editor.saveEdit = saveEdit;
    setMode("idle");
  }

  function refreshTools() { if (editor.refreshTools) editor.refreshTools(); }

  // Legend from the translated land-use labels.
  const legend = $("legend");
  Object.keys(config.landUses).forEach(function (code) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = LAND_USE_COLOURS[code] || "#999";
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(config.landUses[code]));
    legend.appendChild(item);
  });

  refreshForm();
  editor.ready = load();
})();
