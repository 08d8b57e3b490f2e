// The planner's sector map: the areas of one layer (zones, sectors, books, DMAs, tariff zones)
// and the gaps in its coverage, as GeoJSON from the sectors API. A planner reshapes an area
// (Leaflet-Geoman vertex editing), previews which accounts would change area (points on the
// map, a table of moves and the counts per area) and applies the preview's token; or asks for
// automatically balanced areas and adopts them through the proposal preview/apply path.
// Every rule is the server's: a rejected change shows why (translated) and where (red).
(function () {
  "use strict";
  const element = document.getElementById("planner-map");
  const configNode = document.getElementById("sectors-planner-config");
  if (!element || !configNode || typeof L === "undefined") return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const shell = element.closest(".planner-shell");
  const csrfToken = shell.dataset.csrf;
  const $ = function (id) { return document.getElementById(id); };
  const canPlan = Boolean(config.canPlan && L.PM);

  const AREA = { color: "#0b3c5d", weight: 1.5, fillColor: "#9ecae1", fillOpacity: 0.35, dashArray: null };
  const SELECTED = { color: "#0b3c5d", weight: 3.5, fillColor: "#4d9de0", fillOpacity: 0.5, dashArray: null };
  const EDITING = { color: "#0b3c5d", weight: 3, fillColor: "#4d9de0", fillOpacity: 0.3, dashArray: "6,4" };
  const MOVE_COLOURS = { gain: "#2e9d4d", loss: "#d00000", other: "#7d5ba6" };

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  // --- Map and layers ---------------------------------------------------------------------------
  const map = L.map(element, {
    center: config.center, zoom: config.zoom, maxZoom: 21, minZoom: 3,
    attributionControl: false, boxZoom: false,
  });
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  if (config.extent) map.fitBounds(config.extent, { padding: [20, 20] });
  map.createPane("gaps").style.zIndex = 420;
  map.createPane("moves").style.zIndex = 630;
  map.createPane("problems").style.zIndex = 650;

  const areasLayer = L.featureGroup().addTo(map);
  const gapsLayer = L.geoJSON(null, {
    pane: "gaps", pmIgnore: true, interactive: true, className: "gap",
    style: { color: "#c2410c", weight: 2, dashArray: "4,3", fillColor: "#ff9f1c", fillOpacity: 0.55 },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(format(msg.accounts, { count: feature.properties.accounts }), { sticky: true });
    },
  }).addTo(map);
  const proposalLayer = L.geoJSON(null, {
    pmIgnore: true, className: "proposal",
    style: { color: "#7d5ba6", weight: 2.5, fillColor: "#c6b3e6", fillOpacity: 0.45 },
    onEachFeature: function (feature, layer) {
      const p = feature.properties;
      layer.bindTooltip(p.code + " · " + format(msg.accounts, { count: p.accounts }), { sticky: true });
    },
  }).addTo(map);
  const movesLayer = L.featureGroup().addTo(map);
  const problemLayer = L.geoJSON(null, {
    pane: "problems", pmIgnore: true, interactive: false,
    style: { color: "#d00000", weight: 3, fillColor: "#ff1f1f", fillOpacity: 0.45 },
    pointToLayer: function (_f, latlng) {
      return L.circleMarker(latlng, { radius: 9, color: "#d00000", fillOpacity: 0.6 });
    },
  }).addTo(map);

  const areas = new Map(); // id → {feature, layer}
  let kind = $("layer-kind").value;
  let selected = null; // id
  let mode = "idle"; // idle | edit | draw
  let pending = null; // {applyUrl, payload}: the previewed change Apply sends
  let loadSeq = 0;

  function setMode(next) {
    mode = next;
    shell.dataset.mode = next;
    refreshTools();
  }

  // --- Status, alerts ---------------------------------------------------------------------------
  function setStatus(text) { $("planner-status").textContent = text || ""; }

  function notice(text) {
    $("planner-notice").textContent = text || "";
    $("planner-notice").hidden = !text;
  }

  function clearProblem() {
    problemLayer.clearLayers();
    $("planner-alert").hidden = true;
    $("planner-alert-message").textContent = "";
  }

  function showProblem(body) {
    notice("");
    $("planner-alert-message").textContent = body.message || msg.rejected;
    $("planner-alert").dataset.code = body.code || "";
    $("planner-alert").hidden = false;
    problemLayer.clearLayers();
    if (body.where) {
      problemLayer.addData(body.where);
      const bounds = problemLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds.pad(0.5), { maxZoom: 19 });
    }
  }
  $("planner-alert-close").addEventListener("click", clearProblem);

  // --- Server -----------------------------------------------------------------------------------
  function firstMessage(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.length ? firstMessage(detail[0]) : "";
    if (detail && typeof detail === "object") {
      const key = Object.keys(detail)[0];
      return key ? firstMessage(detail[key]) : "";
    }
    return "";
  }

  function post(url, payload) {
    setStatus(msg.working);
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        setStatus("");
        if (response.ok) { clearProblem(); return body; }
        // Sectors API: {code, message, where}; balancing: {code, detail}; DRF: {field: [...]}.
        const problem = {
          code: body.code || "http_" + response.status,
          message: body.message || (typeof body.detail === "string" ? body.detail : "") ||
            firstMessage(body) || format(msg.serverError, { status: response.status }),
          where: body.where || null,
        };
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

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }

  function bboxParam() {
    const b = map.getBounds().pad(0.25);
    const clamp = function (v, lim) { return Math.max(-lim, Math.min(lim, v)); };
    return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)]
      .map(function (v) { return v.toFixed(7); }).join(",");
  }

  // --- Areas of the layer -----------------------------------------------------------------------
  function styleOf(id) { return id === selected ? (mode === "edit" ? EDITING : SELECTED) : AREA; }

  function addArea(feature) {
    const id = feature.properties.id;
    const layer = L.geoJSON(feature, {
      className: "area area-" + id, style: function () { return styleOf(id); },
    }).getLayers()[0];
    layer.feature = feature;
    layer.on("click", function (event) {
      L.DomEvent.stopPropagation(event);
      if (mode === "idle") select(id);
    });
    layer.bindTooltip(function () {
      const p = layer.feature.properties;
      return p.code + " · " + p.name + " · " + format(msg.accounts, { count: p.accounts });
    }, { sticky: true });
    areasLayer.addLayer(layer);
    areas.set(id, { feature: feature, layer: layer });
  }

  function load() {
    if (mode === "edit") return Promise.resolve(); // never replace the layer being edited
    const seq = ++loadSeq;
    setStatus(msg.loading);
    const bbox = "?bbox=" + bboxParam();
    return getJSON(config.urls.areas.replace("{kind}", kind) + bbox).then(function (collection) {
      if (seq !== loadSeq) return;
      areasLayer.clearLayers();
      areas.clear();
      collection.features.forEach(addArea);
      if (selected !== null && !areas.has(selected)) select(null);
      element.dataset.areas = String(areas.size);
      setStatus(format(msg.loaded, { count: areas.size }));
      refreshArea();
    }).catch(function () {
      if (seq === loadSeq) { setStatus(""); notice(msg.loadFailed); }
    }).then(loadGaps);
  }

  function loadGaps() {
    gapsLayer.clearLayers();
    element.dataset.gaps = "-1";
    if (!$("show-gaps").checked) return Promise.resolve();
    const url = config.urls.gaps + "?kind=" + encodeURIComponent(kind) + "&bbox=" + bboxParam();
    return getJSON(url).then(function (collection) {
      gapsLayer.clearLayers();
      gapsLayer.addData(collection);
      gapsLayer.bringToBack();
      element.dataset.gaps = String(collection.features.length);
      if (collection.features.length) {
        const accounts = collection.features.reduce(function (sum, f) { return sum + f.properties.accounts; }, 0);
        notice(format(msg.gapsLoaded, { count: collection.features.length, accounts: accounts }));
      }
    }).catch(function () { notice(msg.gapsFailed); });
  }

  function refreshStyles() {
    areas.forEach(function (entry, id) { entry.layer.setStyle(styleOf(id)); });
    if (selected !== null && areas.has(selected)) areas.get(selected).layer.bringToFront();
  }

  function select(id) {
    if (mode !== "idle") return;
    selected = id;
    refreshStyles();
    refreshArea();
    refreshTools();
    if (planner.refreshBalanceSource) planner.refreshBalanceSource();
  }

  function refreshArea() {
    const entry = selected === null ? null : areas.get(selected);
    $("area-facts").hidden = !entry;
    $("area-empty").hidden = Boolean(entry);
    if (!entry) return;
    const p = entry.feature.properties;
    $("area-code").textContent = p.code;
    $("area-name").textContent = p.name;
    $("area-accounts").textContent = String(p.accounts);
  }

  map.on("click", function () { if (mode === "idle") select(null); });
  map.on("moveend", function () { if (mode === "idle") load(); });
  $("layer-kind").addEventListener("change", function () {
    if (mode !== "idle") { $("layer-kind").value = kind; return; }
    kind = $("layer-kind").value;
    selected = null;
    clearDiff();
    refreshTools();
    load();
  });
  $("show-gaps").addEventListener("change", loadGaps);

  // --- The diff of a preview or an apply --------------------------------------------------------
  function refLabel(ref) { return ref ? ref.code : msg.noArea; }

  function moveClass(props, focus) {
    const same = function (ref) { return ref && focus && ref.kind === focus.kind && ref.code === focus.code; };
    if (focus) {
      if (same(props.to)) return "gain";
      if (same(props.from)) return "loss";
      return "other";
    }
    if (!props.from) return "gain";
    if (!props.to) return "loss";
    return "other";
  }

  const OP_LABELS = { create: msg.opCreate, update: msg.opUpdate, delete: msg.opDelete, reparent: msg.opReparent };

  function showDiff(diff, focus) {
    movesLayer.clearLayers();
    const section = $("diff-section");
    section.hidden = false;
    section.dataset.applied = diff.applied ? "true" : "false";
    section.dataset.moves = String(diff.moves_total);
    $("diff-summary").textContent = diff.moves_total === 0 ? msg.noMoves : format(
      diff.applied ? msg.applied : msg.previewed, { accounts: diff.accounts_moved, moves: diff.moves_total });

    const ops = $("diff-areas");
    ops.replaceChildren();
    diff.areas.forEach(function (op) {
      ops.appendChild(el("li", config.kinds[op.kind] + " " + op.code + " — " + (OP_LABELS[op.op] || op.op)));
    });

    const counts = $("counts-table").tBodies[0];
    counts.replaceChildren();
    diff.counts.forEach(function (c) {
      const row = el("tr");
      row.dataset.code = c.code;
      row.appendChild(el("td", config.kinds[c.kind] + " " + c.code));
      [c.before, c.after, "+" + c.gained, "−" + c.lost].forEach(function (v) { row.appendChild(el("td", v, "num")); });
      counts.appendChild(row);
    });

    const moves = $("moves-table").tBodies[0];
    moves.replaceChildren();
    diff.moves.features.forEach(function (f) {
      const p = f.properties;
      const cls = moveClass(p, focus);
      const row = el("tr", null, "move-row move-" + cls);
      row.dataset.account = String(p.account_id);
      [p.number, config.kinds[p.kind] || p.kind, refLabel(p.from), refLabel(p.to)].forEach(function (v) {
        row.appendChild(el("td", v));
      });
      moves.appendChild(row);
      if (f.geometry) {
        const ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        L.circleMarker(ll, {
          pane: "moves", radius: 6, weight: 1.5, color: "#fff", fillColor: MOVE_COLOURS[cls],
          fillOpacity: 0.95, className: "move move-" + cls, pmIgnore: true,
        }).bindTooltip(p.number + ": " + refLabel(p.from) + " → " + refLabel(p.to)).addTo(movesLayer);
      }
    });
    $("moves-truncated").hidden = !diff.moves_truncated;
    $("moves-truncated").textContent = diff.moves_truncated
      ? format(msg.truncated, { count: diff.moves.features.length, total: diff.moves_total }) : "";
    if ($("diff-apply")) $("diff-apply").hidden = Boolean(diff.applied);
    if ($("diff-discard")) $("diff-discard").hidden = Boolean(diff.applied);
    section.scrollIntoView({ block: "nearest" });
  }

  function clearDiff() {
    pending = null;
    movesLayer.clearLayers();
    $("diff-section").hidden = true;
  }

  // --- Scripted use (tests, the console): the same paths as the mouse ----------------------------
  const planner = {
    map: map, areas: areas, config: config, load: load, select: select,
    get selected() { return selected; },
    get mode() { return mode; },
    get kind() { return kind; },
  };
  window.caudalPlanner = planner;

  function refreshTools() {
    if (!canPlan) return;
    const editable = selected !== null && Boolean(config.canEdit[kind]);
    $("edit-start").disabled = !(mode === "idle" && editable);
    $("edit-start").hidden = mode === "edit";
    $("edit-preview").hidden = mode !== "edit";
    $("edit-cancel").hidden = mode !== "edit";
    if ($("balance-draw")) $("balance-draw").disabled = mode !== "idle";
  }

  if (canPlan) {
    const lang = (document.documentElement.lang || "es").slice(0, 2);
    try { map.pm.setLang(lang === "en" ? "en" : "es"); } catch (e) { /* language not bundled */ }
    map.pm.setGlobalOptions({
      snappable: true, snapDistance: 12, allowSelfIntersection: false, continueDrawing: false,
      pathOptions: { color: "#7d5ba6", weight: 2, fillColor: "#c6b3e6", fillOpacity: 0.35 },
    });

    // Boundary editing: the selected area's outline, vertex by vertex.
    let editing = null;
    function startEdit() {
      if (mode !== "idle" || selected === null || !areas.has(selected)) return;
      clearProblem();
      clearDiff();
      editing = areas.get(selected);
      editing.layer.pm.enable({ snappable: true, allowSelfIntersection: false });
      setMode("edit");
      refreshStyles();
      $("edit-hint").textContent = msg.editHint;
    }

    function stopEdit() {
      if (editing && editing.layer.pm) editing.layer.pm.disable();
      editing = null;
      setMode("idle");
      $("edit-hint").textContent = "";
      refreshStyles();
    }

    function cancelEdit() {
      stopEdit();
      clearDiff();
      clearProblem();
      return load();
    }

    function previewChange(geometry) {
      const entry = areas.get(selected);
      if (!entry) return Promise.resolve(null);
      const payload = { action: "update", kind: kind, id: selected, geometry: geometry };
      const focus = { kind: kind, code: entry.feature.properties.code };
      return post(config.urls.changePreview, payload).then(function (diff) {
        pending = { applyUrl: config.urls.changeApply, payload: payload, focus: focus, token: diff.token };
        showDiff(diff, focus);
        notice("");
        return diff;
      }, function () { clearDiff(); return null; });
    }

    function previewEdit() {
      if (mode !== "edit" || !editing) return Promise.resolve(null);
      return previewChange(editing.layer.toGeoJSON(7).geometry);
    }

    function apply() {
      if (!pending) return Promise.resolve(null);
      const change = pending;
      const payload = Object.assign({}, change.payload, { token: change.token });
      $("diff-apply").disabled = true;
      return post(change.applyUrl, payload).then(function (diff) {
        pending = null;
        if (mode === "edit") stopEdit();
        proposalLayer.clearLayers();
        showDiff(diff, change.focus);
        notice(format(msg.applied, { accounts: diff.accounts_moved, moves: diff.moves_total }));
        return load().then(function () { return diff; });
      }, function () { return null; }).finally(function () { $("diff-apply").disabled = false; });
    }

    $("edit-start").addEventListener("click", startEdit);
    $("edit-preview").addEventListener("click", previewEdit);
    $("edit-cancel").addEventListener("click", cancelEdit);
    $("diff-apply").addEventListener("click", apply);
    $("diff-discard").addEventListener("click", function () {
      clearDiff();
      if (mode === "edit") cancelEdit();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && mode === "edit") cancelEdit();
    });

    planner.startEdit = startEdit;
    planner.previewEdit = previewEdit;
    planner.cancelEdit = cancelEdit;
    planner.apply = apply;
    // New outline of the selected area as [[lat, lng], …] (outer ring): what a vertex drag makes.
    planner.setBoundary = function (latlngs) {
      if (mode !== "edit") startEdit();
      if (!editing) return;
      editing.layer.pm.disable();
      editing.layer.setLatLngs([latlngs]);
      editing.layer.pm.enable({ snappable: true, allowSelfIntersection: false });
    };

    // --- Balance ---------------------------------------------------------------------------------
    let drawnArea = null;
    const PARENT_OF = { sector: "zone", book: "sector", zone: null };
    const CHILD_OF = { zone: "sector", sector: "book" };
    let proposal = null;

    function balanceArea() {
      if (drawnArea) return drawnArea.toGeoJSON(7).geometry;
      const entry = selected === null ? null : areas.get(selected);
      return entry ? entry.feature.geometry : null;
    }

    function refreshBalanceSource() {
      const source = $("balance-source");
      if (!source) return;
      const entry = selected === null ? null : areas.get(selected);
      if (drawnArea) source.textContent = msg.balanceDrawn;
      else if (entry) source.textContent = format(msg.balanceSelected, { code: entry.feature.properties.code });
      else source.textContent = msg.balanceNeedsArea;
      if (!drawnArea && entry && CHILD_OF[kind]) $("balance-level").value = CHILD_OF[kind];
    }
    planner.refreshBalanceSource = refreshBalanceSource;

    function acceptDrawnArea(layer) {
      if (drawnArea) map.removeLayer(drawnArea);
      drawnArea = layer;
      layer.setStyle({ color: "#7d5ba6", dashArray: "6,4", weight: 2, fillOpacity: 0.1 });
      refreshBalanceSource();
    }

    function runBalance() {
      const area = balanceArea();
      if (!area) { showProblem({ message: msg.balanceNeedsArea }); return Promise.resolve(null); }
      const n = $("balance-n").value.trim();
      const target = $("balance-target").value.trim();
      if (!n && !target) { showProblem({ message: msg.balanceNeedsSize }); return Promise.resolve(null); }
      const payload = { area: area, level: $("balance-level").value };
      if (n) payload.n = parseInt(n, 10);
      else payload.target = parseInt(target, 10);
      const barriers = $("balance-barriers").value.split(",").map(function (s) { return s.trim(); })
        .filter(Boolean);
      if (barriers.length) payload.barrier_streets = barriers;
      const prefix = $("balance-prefix").value.trim().toUpperCase();
      if (prefix) payload.code_prefix = prefix;
      return post(config.urls.balance, payload).then(function (answer) {
        proposal = answer;
        showProposal(answer);
        return answer;
      }, function () { return null; });
    }

    function figureRows(summary, current) {
      const body = $("balance-figures").tBodies[0];
      body.replaceChildren();
      Object.keys(msg.figures).forEach(function (key) {
        const k = [key, msg.figures[key]];
        const row = el("tr");
        row.dataset.figure = k[0];
        row.appendChild(el("th", k[1]));
        const fmt = function (v) { return v === null || v === undefined ? "—" : (typeof v === "number" ? +v.toFixed(2) : v); };
        row.appendChild(el("td", fmt(summary[k[0]]), "num"));
        row.appendChild(el("td", fmt(current ? current[k[0]] : null), "num"));
        body.appendChild(row);
      });
      const row = el("tr");
      row.appendChild(el("th", ""));
      row.appendChild(el("td", summary.within_tolerance ? msg.withinTolerance : msg.outsideTolerance));
      body.appendChild(row);
    }

    function showProposal(answer) {
      proposalLayer.clearLayers();
      proposalLayer.addData(answer);
      const bounds = proposalLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds.pad(0.2));
      const body = $("balance-table").tBodies[0];
      body.replaceChildren();
      answer.features.forEach(function (f) {
        const p = f.properties;
        const row = el("tr");
        row.dataset.code = p.code;
        row.appendChild(el("td", p.code));
        row.appendChild(el("td", p.accounts, "num"));
        row.appendChild(el("td", p.deviation_percent + " %", "num"));
        row.appendChild(el("td", p.compactness === null ? "—" : (+p.compactness).toFixed(2), "num"));
        body.appendChild(row);
      });
      figureRows(answer.summary, answer.current);
      $("balance-result").hidden = false;
      notice(format(msg.proposed, { count: answer.features.length }));
    }

    function adopt() {
      if (!proposal) return Promise.resolve(null);
      const level = proposal.summary.level || $("balance-level").value;
      const parentKind = PARENT_OF[level];
      let parentId = null;
      if (parentKind) {
        if (kind !== parentKind || selected === null) {
          showProblem({ message: msg.adoptNeedsParent });
          return Promise.resolve(null);
        }
        parentId = selected;
      }
      const payload = {
        kind: level, parent_id: parentId,
        areas: proposal.features.map(function (f) {
          return { code: f.properties.code, name: f.properties.name, geometry: f.geometry };
        }),
      };
      return post(config.urls.proposalPreview, payload).then(function (diff) {
        pending = { applyUrl: config.urls.proposalApply, payload: payload, focus: null, token: diff.token };
        showDiff(diff, null);
        return diff;
      }, function () { return null; });
    }

    function clearProposal() {
      proposal = null;
      proposalLayer.clearLayers();
      if (drawnArea) { map.removeLayer(drawnArea); drawnArea = null; }
      $("balance-result").hidden = true;
      refreshBalanceSource();
    }

    if ($("balance-section")) {
      $("balance-draw").addEventListener("click", function () {
        if (mode !== "idle") return;
        clearProblem();
        setMode("draw");
        $("balance-source").textContent = msg.balanceDrawHint;
        map.pm.enableDraw("Polygon");
      });
      map.on("pm:drawend", function () { if (mode === "draw") { setMode("idle"); refreshBalanceSource(); } });
      map.on("pm:create", function (e) { if (e.shape === "Polygon") acceptDrawnArea(e.layer); });
      $("balance-form").addEventListener("submit", function (event) { event.preventDefault(); runBalance(); });
      $("balance-adopt").addEventListener("click", adopt);
      $("balance-clear").addEventListener("click", clearProposal);
      planner.drawnArea = function (latlngs) { acceptDrawnArea(L.polygon(latlngs).addTo(map)); };
      planner.runBalance = runBalance;
      planner.adopt = adopt;
    }
    setMode("idle");
  }

  refreshArea();
  planner.ready = load();
})();
