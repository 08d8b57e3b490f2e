// The route planner: pick a reading book and the parameters, start an optimization (a Celery
// worker runs it), follow its progress, then see the routes coloured on the map with their
// figures beside the current books; move a meter to another route, lock routes, publish.
// Every rule is the server's (routing API); the page only draws what it answers.
(function () {
  "use strict";
  const element = document.getElementById("routes-map");
  const configNode = document.getElementById("routes-planner-config");
  if (!element || !configNode || typeof L === "undefined") return;
  const config = JSON.parse(configNode.textContent);
  const msg = config.messages;
  const shell = element.closest(".routes-shell");
  const csrfToken = shell.dataset.csrf;
  const $ = function (id) { return document.getElementById(id); };
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
                   "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39"];
  let run = null;
  let selected = null;
  let pollTimer = null;

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
  function colour(k) { return COLOURS[k % COLOURS.length]; }
  function status(text) { $("routes-status").textContent = text || ""; }
  function alertBox(text) {
    $("routes-alert").hidden = !text;
    $("routes-alert-message").textContent = text || "";
  }
  function url(name, id) { return config.urls[name].replace("{id}", String(id)); }

  async function call(method, address, body) {
    let response;
    try {
      response = await fetch(address, {
        method: method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_error) {
      alertBox(msg.networkError);
      return null;
    }
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      alertBox(data.detail || format(msg.serverError, { status: response.status }));
      return null;
    }
    alertBox(null);
    return data;
  }

  // --- Map ----------------------------------------------------------------------------------
  const map = L.map(element, { center: config.center, zoom: config.zoom, maxZoom: 21,
                               attributionControl: false });
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  const routesLayer = L.featureGroup().addTo(map);

  function draw() {
    routesLayer.clearLayers();
    const result = run && run.result;
    if (!result) return;
    const points = result.points;
    result.routes.forEach(function (route, k) {
      const latlngs = route.stops.map(function (a) { return [points[a][2], points[a][1]]; });
      L.polyline(latlngs, { color: colour(k), weight: route.locked ? 5 : 3,
                            dashArray: route.locked ? "6,4" : null, className: "route-line" })
        .addTo(routesLayer);
      route.stops.forEach(function (a, n) {
        const marker = L.circleMarker([points[a][2], points[a][1]], {
          radius: 5, color: "#222", weight: 1, fillColor: colour(k), fillOpacity: 0.9,
          className: "route-stop route-" + k,
        }).addTo(routesLayer);
        marker.bindTooltip(format(msg.route, { n: k + 1 }) + " · " + (n + 1) + " · " + points[a][0]);
        marker.on("click", function () { pick(a, k); });
      });
    });
    if (routesLayer.getLayers().length) map.fitBounds(routesLayer.getBounds(), { padding: [20, 20] });
  }

  // --- Panel --------------------------------------------------------------------------------
  function fmt(value, digits) { return Number(value).toFixed(digits); }

  function render() {
    const result = run && run.result;
    shell.dataset.run = run ? String(run.id) : "";
    shell.dataset.status = run ? run.status : "";
    $("routes-result").hidden = !result;
    if (!result) return;
    const compare = $("routes-compare").querySelector("tbody");
    compare.replaceChildren();
    const rows = [
      [msg.current, result.current.totals],
      [msg.proposed, result.totals],
    ];
    rows.forEach(function (row) {
      const tr = el("tr");
      tr.append(el("th", row[0]), el("td", fmt(row[1].km, 2), "num"),
                el("td", fmt(row[1].minutes, 0), "num"),
                el("td", fmt(row[1].imbalance * 100, 1) + " %", "num"));
      compare.append(tr);
    });
    const saved = el("tr");
    saved.id = "routes-saved";
    saved.append(el("th", msg.saved), el("td", fmt(result.saved.km, 2), "num saved"),
                 el("td", fmt(result.saved.minutes, 0), "num saved"), el("td", ""));
    compare.append(saved);

    const body = $("routes-table").querySelector("tbody");
    body.replaceChildren();
    const moveTo = $("routes-move-to");
    if (moveTo) moveTo.replaceChildren();
    result.routes.forEach(function (route, k) {
      const tr = el("tr", null, route.locked ? "locked" : "");
      tr.dataset.route = String(k);
      const name = el("td");
      const swatch = el("span", null, "route-swatch");
      swatch.style.background = colour(k);
      name.append(swatch, format(msg.route, { n: k + 1 }));
      const lockCell = el("td");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = Boolean(route.locked);
      box.className = "route-lock";
      box.setAttribute("aria-label", msg.locked + " " + format(msg.route, { n: k + 1 }));
      box.disabled = !config.canEdit || run.status !== "done";
      box.addEventListener("change", function () { lock(k, box.checked); });
      lockCell.append(box);
      tr.append(name, el("td", route.meters, "num"), el("td", fmt(route.km, 2), "num"),
                el("td", fmt(route.minutes, 0), "num"), lockCell);
      body.append(tr);
      if (moveTo) {
        const option = el("option", format(msg.route, { n: k + 1 }));
        option.value = String(k);
        moveTo.append(option);
      }
    });
    const s = result.solver || {};
    $("routes-solver").textContent = [s.name, s.status,
      s.objective !== null && s.objective !== undefined ? "obj " + Math.round(s.objective) : null,
      s.gap !== null && s.gap !== undefined ? "gap " + s.gap : null,
      s.seconds !== undefined ? s.seconds + " s" : null].filter(Boolean).join(" · ");
    const publish = $("routes-publish");
    if (publish) publish.disabled = run.status !== "done";
  }

  function pick(account, route) {
    if (!config.canEdit || !run || run.status !== "done") return;
    selected = account;
    $("routes-move").hidden = false;
    $("routes-move-hint").textContent = format(msg.moveHint, { number: run.result.points[account][0] });
    $("routes-move-to").value = String((route + 1) % run.result.routes.length);
  }

  async function lock(route, locked) {
    const data = await call("POST", url("lock", run.id), { route: route, locked: locked });
    if (data) { run = data; render(); draw(); }
  }

  async function poll() {
    clearTimeout(pollTimer);
    const data = await call("GET", url("detail", run.id));
    if (!data) return;
    run = data;
    const bar = $("routes-progress");
    if (run.status === "pending" || run.status === "running") {
      bar.hidden = false;
      bar.value = run.progress;
      status(run.status === "pending" ? msg.queued : format(msg.running, { progress: run.progress }));
      shell.dataset.status = run.status;
      pollTimer = setTimeout(poll, 1000);
      return;
    }
    bar.hidden = true;
    if (run.status === "failed") {
      status(format(msg.failed, { message: run.message }));
      shell.dataset.status = run.status;
      return;
    }
    status(format(msg.done, { routes: run.result.routes.length, km: fmt(run.result.totals.km, 2),
                              minutes: fmt(run.result.totals.minutes, 0) }));
    render();
    draw();
  }

  function numberOrNull(id) {
    const value = $(id).value;
    return value === "" ? null : Number(value);
  }

  const form = $("routes-form");
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const book = $("routes-book").value;
    if (!book) { alertBox(msg.pickBook); return; }
    const body = {
      book: Number(book),
      readers: numberOrNull("routes-readers"),
      max_meters: numberOrNull("routes-max-meters"),
      max_minutes: numberOrNull("routes-max-minutes"),
      service_minutes: numberOrNull("routes-service"),
      profile: $("routes-profile").value,
      method: $("routes-method").value,
      time_limit_s: numberOrNull("routes-time"),
    };
    const previous = run && run.result && String(run.book) === book ? run : null;
    if (previous) {
      const locked = previous.result.routes
        .map(function (r, k) { return r.locked ? k : -1; })
        .filter(function (k) { return k >= 0; });
      if ($("routes-stable").checked || locked.length) {
        body.base_run = previous.id;
        body.stable = $("routes-stable").checked;
        body.locked_routes = locked;
      }
    }
    const data = await call("POST", config.urls.create, body);
    if (!data) return;
    run = data;
    status(msg.queued);
    poll();
  });

  const moveButton = $("routes-move-go");
  if (moveButton) {
    moveButton.addEventListener("click", async function () {
      if (selected === null) return;
      const data = await call("POST", url("move", run.id),
                              { account: Number(selected), to_route: Number($("routes-move-to").value) });
      if (data) {
        run = data;
        selected = null;
        $("routes-move").hidden = true;
        status(msg.moved);
        render();
        draw();
      }
    });
  }
  const publishButton = $("routes-publish");
  if (publishButton) {
    publishButton.addEventListener("click", async function () {
      if (!window.confirm(msg.confirmPublish)) return;
      const data = await call("POST", url("publish", run.id));
      if (data) { run = data; status(msg.published); render(); }
    });
  }
})();
