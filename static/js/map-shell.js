// The map shell: every registered layer as vector tiles drawn on canvas, a layer switcher with
// filters, a legend, search, the info panel of a clicked parcel, a measure tool, cursor
// coordinates and a permalink.
//
// Why canvas and not MapLibre GL: MapLibre draws with WebGL and needs SDF glyph files for every
// label (a glyph server we do not have offline), and in headless Chromium with --disable-gpu
// (the test browser, and thin clients without a GPU) WebGL runs on a software rasteriser that
// is slow on two cores and that Chromium no longer promises as an automatic fallback. Canvas 2D
// draws everywhere, writes street names with the system's fonts, and fetch() lets every tile
// request revalidate with its ETag, so an edit shows on the next redraw. Tiles are decoded by
// @mapbox/vector-tile + pbf from npm (ES modules, through the page's import map).
import { VectorTile } from "@mapbox/vector-tile";
import Pbf from "pbf";

const configNode = document.getElementById("map-shell-config");
const element = document.getElementById("map");
if (configNode && element && typeof L !== "undefined") start(JSON.parse(configNode.textContent));

function start(config) {
  "use strict";
  const msg = config.messages;
  const shell = document.getElementById("map-shell");
  const $ = function (id) { return document.getElementById(id); };
  const lang = document.documentElement.lang || "es-MX";
  const numberFormat = function (digits) {
    return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits });
  };

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([key, value]) {
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.append(child); });
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) {
            const error = new Error(body.detail || String(response.status));
            error.status = response.status;
            error.detail = body.detail;
            throw error;
          }
          return body;
        });
      });
  }

  // --- Map ------------------------------------------------------------------------------------
  const hashState = readHash();
  const map = L.map(element, {
    center: hashState.center || config.center,
    zoom: hashState.zoom !== undefined ? hashState.zoom : config.zoom,
    maxZoom: config.maxZoom, minZoom: 3, zoomControl: false, attributionControl: false,
  });
  L.control.zoom({ position: "topright" }).addTo(map);
  L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
  // Drawn order: polygons, heat maps, lines, points; highlights and measurements on top.
  [["cd-polygon", 300], ["cd-heat", 330], ["cd-line", 360], ["cd-point", 380],
    ["cd-highlight", 450], ["cd-measure", 460]].forEach(function ([name, z]) {
    map.createPane(name).style.zIndex = z;
  });
  map.getPane("cd-highlight").style.pointerEvents = "none";
  const PANES = { polygon: "cd-polygon", line: "cd-line", point: "cd-point" };

  // --- Styles -------------------------------------------------------------------------------
  // A qualitative palette for "colour by" when the layer's style names no colours itself.
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

  function filterOf(layer, name) {
    return layer.entry.filters.find(function (f) { return f.name === name; }) || null;
  }

  function categoriesOf(layer) {
    // [{value, label, colour}] of the filter the layer is coloured by, or null. The registry's
    // style may fix the colours ({by: {attribute, colours}}); otherwise a palette is used.
    const filterDef = layer.colourBy ? filterOf(layer, layer.colourBy) : null;
    if (!filterDef || !filterDef.choices) return null;
    const by = layer.entry.style.by;
    const styled = by && by.attribute === filterDef.column ? by.colours || {} : {};
    return filterDef.choices.map(function (choice, i) {
      return { value: choice.value, label: choice.label,
        colour: styled[choice.value] || PALETTE[i % PALETTE.length] };
    });
  }

  function defaultColourBy(entry) {
    // The filter over the column the registry's style colours by, if any.
    const by = entry.style.by;
    if (!by) return null;
    const match = entry.filters.find(function (f) { return f.column === by.attribute; });
    return match ? match.name : null;
  }

  function baseStyle(entry) {
    const s = entry.style || {};
    const polygon = entry.geometry_type === "polygon";
    const point = entry.geometry_type === "point";
    return {
      color: s.color || "#3388ff",
      weight: s.weight !== undefined ? s.weight : (polygon ? 1 : 3),
      opacity: s.opacity !== undefined ? s.opacity : 1,
      fill: s.fill !== undefined ? s.fill : (polygon || point),
      fillColor: s.fillColor || s.color || "#3388ff",
      fillOpacity: s.fillOpacity !== undefined ? s.fillOpacity : 0.2,
      casing: s.casing || null,
      radius: s.radius || 4,
      dashArray: s.dashArray || null,
    };
  }

  function featureStyle(layer, properties, overview) {
    const style = Object.assign({}, layer.base);
    if (layer.entry.kind === "heat") {
      style.fillColor = layer.heatColour(properties.value);
      style.fill = style.fillColor !== null;
      style.weight = 0;
      return style;
    }
    if (!overview && layer.colourMap) {
      const colour = layer.colourMap[properties[layer.colourAttribute]];
      if (colour) {
        style.fillColor = colour;
        style.fillOpacity = layer.fillOpacityFor(true);
        if (layer.entry.geometry_type === "line") style.color = colour;
      }
    }
    return style;
  }

  // --- Vector tiles on canvas ------------------------------------------------------------------
  const MvtLayer = L.GridLayer.extend({
    initialize: function (entry, options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this.entry = entry;
      this.base = baseStyle(entry);
      this.filterValues = {}; // filter name → [values]
      this.colourBy = defaultColourBy(entry); // a filter's name
      this.colourAttribute = null; // its column, as the tiles carry it
      this.colourMap = null;
      this.heatLegend = null;
      this.features = 0;
      this.on("tileunload", function (event) {
        if (event.tile._abort) event.tile._abort.abort();
      });
      this.updateColours();
    },

    updateColours: function () {
      const categories = categoriesOf(this);
      const filterDef = this.colourBy ? filterOf(this, this.colourBy) : null;
      this.colourAttribute = filterDef ? filterDef.column : null;
      this.colourMap = categories ? Object.fromEntries(categories.map(function (c) {
        return [c.value, c.colour];
      })) : null;
    },

    fillOpacityFor: function (coloured) {
      // Categories must be told apart: a pale style fill is made stronger when colouring by.
      return coloured ? Math.max(this.base.fillOpacity, 0.7) : this.base.fillOpacity;
    },

    heatColour: function (value) {
      // Classes of the legend for the current view: {from, to, color}, "to" inclusive.
      const classes = this.heatLegend && this.heatLegend.classes;
      if (!classes || !classes.length) return "rgba(227, 74, 51, 0.5)";
      const found = classes.find(function (c) { return value <= c.to; });
      return (found || classes[classes.length - 1]).color;
    },

    tileUrl: function (coords) {
      let url = this.entry.tiles.replace("{z}", coords.z).replace("{x}", coords.x)
        .replace("{y}", coords.y);
      const params = new URLSearchParams();
      Object.entries(this.filterValues).forEach(function ([name, values]) {
        if (values.length) params.set(name, values.join(","));
      });
      const query = params.toString();
      if (query) url += (url.indexOf("?") === -1 ? "?" : "&") + query;
      return url;
    },

    createTile: function (coords, done) {
      const tile = L.DomUtil.create("canvas", "mvt-tile");
      const size = this.getTileSize();
      const ratio = window.devicePixelRatio || 1;
      tile.width = size.x * ratio;
      tile.height = size.y * ratio;
      tile.style.width = size.x + "px";
      tile.style.height = size.y + "px";
      tile._zoom = coords.z;
      this.fetchInto(tile, coords).then(function () { done(null, tile); }, function (error) {
        if (error.name !== "AbortError") done(error, tile);
      });
      return tile;
    },

    fetchInto: function (tile, coords) {
      // The browser revalidates with the tile's ETag (no-cache): unchanged tiles cost a 304.
      const layer = this;
      tile._abort = new AbortController();
      return fetch(this.tileUrl(coords), { credentials: "same-origin", signal: tile._abort.signal })
        .then(function (response) {
          if (response.status === 204 || response.status === 404 || response.status === 403) {
            return null;
          }
          if (!response.ok) throw new Error("tile " + response.status);
          return response.arrayBuffer();
        })
        .then(function (buffer) {
          tile._data = buffer && buffer.byteLength ? new VectorTile(new Pbf(buffer)) : null;
          layer.paint(tile);
        });
    },

    reload: function () {
      // Asks again for the tiles on screen and repaints each in place when it arrives: no
      // blank flash, and unchanged tiles cost a 304. Tiles still loading are fresh already.
      const jobs = Object.values(this._tiles || {}).filter(function (t) { return t.loaded; })
        .map(function (t) {
          return this.fetchInto(t.el, t.coords).catch(function () { /* keeps the old drawing */ });
        }, this);
      this._reloading = Promise.all(jobs);
      return this._reloading;
    },

    repaint: function () {
      Object.values(this._tiles || {}).forEach(function (t) { if (t.el._data !== undefined) this.paint(t.el); }, this);
    },

    paint: function (tile) {
      const ctx = tile.getContext("2d");
      const ratio = tile.width / this.getTileSize().x;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, tile.width, tile.height);
      tile._count = 0;
      if (!tile._data) return;
      const name = this.entry.kind === "heat" ? "heat" : this.entry.name;
      const source = tile._data.layers[name];
      if (!source) return;
      ctx.scale(ratio, ratio);
      const scale = this.getTileSize().x / source.extent;
      const overview = this.entry.overview_below_zoom !== null
        && tile._zoom < this.entry.overview_below_zoom;
      const labels = [];
      const labelAttribute = this.labelAttribute(tile._zoom);
      for (let i = 0; i < source.length; i++) {
        const feature = source.feature(i);
        const style = featureStyle(this, feature.properties, overview);
        const rings = feature.loadGeometry();
        if (feature.type === 3) drawPolygon(ctx, rings, scale, style);
        else if (feature.type === 2) {
          drawLine(ctx, rings, scale, style, tile._zoom);
          if (labelAttribute && feature.properties[labelAttribute]) {
            labels.push([rings, String(feature.properties[labelAttribute])]);
          }
        } else if (feature.type === 1) drawPoints(ctx, rings, scale, style);
        tile._count += 1;
      }
      labels.forEach(function ([rings, text]) { drawLabel(ctx, rings, scale, text); });
    },

    labelAttribute: function (zoom) {
      // Lines carry their names as labels at street level: the style may name the attribute.
      const style = this.entry.style;
      if (this.entry.geometry_type !== "line") return null;
      if (zoom < (style.labelMinZoom || 16)) return null;
      if (style.label) return style.label;
      return this.entry.attributes.indexOf("name") !== -1 ? "name" : null;
    },

    featureCount: function () {
      return Object.values(this._tiles || {}).reduce(function (sum, t) {
        return sum + (t.el._count || 0);
      }, 0);
    },
  });

  function tracePath(ctx, rings, scale, close) {
    ctx.beginPath();
    rings.forEach(function (ring) {
      ring.forEach(function (p, i) {
        if (i === 0) ctx.moveTo(p.x * scale, p.y * scale);
        else ctx.lineTo(p.x * scale, p.y * scale);
      });
      if (close) ctx.closePath();
    });
  }

  function applyStroke(ctx, style) {
    ctx.setLineDash(style.dashArray ? String(style.dashArray).split(/[ ,]+/).map(Number) : []);
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
  }

  function drawPolygon(ctx, rings, scale, style) {
    tracePath(ctx, rings, scale, true);
    if (style.fill) {
      ctx.globalAlpha = style.fillOpacity;
      ctx.fillStyle = style.fillColor;
      ctx.fill("evenodd");
    }
    if (style.weight > 0) {
      ctx.globalAlpha = style.opacity;
      ctx.strokeStyle = style.color;
      ctx.lineWidth = style.weight;
      applyStroke(ctx, style);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  function lineWidth(weight, zoom) {
    // Streets widen as one zooms in, like the streets themselves.
    return weight * Math.min(4, Math.max(0.5, Math.pow(2, (zoom - 16) / 2)));
  }

  function drawLine(ctx, rings, scale, style, zoom) {
    const width = lineWidth(style.weight, zoom);
    applyStroke(ctx, style);
    if (style.casing) {
      tracePath(ctx, rings, scale, false);
      ctx.strokeStyle = style.casing;
      ctx.lineWidth = width + 2;
      ctx.stroke();
    }
    tracePath(ctx, rings, scale, false);
    ctx.globalAlpha = style.opacity;
    ctx.strokeStyle = style.color;
    ctx.lineWidth = width;
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  function drawPoints(ctx, rings, scale, style) {
    rings.forEach(function (ring) {
      ring.forEach(function (p) {
        ctx.beginPath();
        ctx.arc(p.x * scale, p.y * scale, style.radius, 0, Math.PI * 2);
        if (style.fill) {
          ctx.globalAlpha = style.fillOpacity;
          ctx.fillStyle = style.fillColor;
          ctx.fill();
        }
        ctx.globalAlpha = style.opacity;
        ctx.strokeStyle = style.color;
        ctx.lineWidth = style.weight > 3 ? 1.5 : style.weight;
        ctx.stroke();
        ctx.globalAlpha = 1;
      });
    });
  }

  function drawLabel(ctx, rings, scale, text) {
    // Along the longest segment inside the tile, upright, with a halo; skipped if it won't fit.
    ctx.font = "600 11px system-ui, sans-serif";
    const width = ctx.measureText(text).width;
    let best = null;
    rings.forEach(function (ring) {
      for (let i = 1; i < ring.length; i++) {
        const a = ring[i - 1], b = ring[i];
        const ax = a.x * scale, ay = a.y * scale, bx = b.x * scale, by = b.y * scale;
        const length = Math.hypot(bx - ax, by - ay);
        const mx = (ax + bx) / 2, my = (ay + by) / 2;
        const inside = mx > width / 2 && mx < 256 - width / 2 && my > 8 && my < 248;
        if (inside && (!best || length > best.length)) best = { ax, ay, bx, by, length, mx, my };
      }
    });
    if (!best || best.length < width + 8) return;
    let angle = Math.atan2(best.by - best.ay, best.bx - best.ax);
    if (angle > Math.PI / 2) angle -= Math.PI;
    if (angle < -Math.PI / 2) angle += Math.PI;
    ctx.save();
    ctx.translate(best.mx, best.my);
    ctx.rotate(angle);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.setLineDash([]);
    ctx.strokeText(text, 0, 0);
    ctx.fillStyle = "#3d3528";
    ctx.fillText(text, 0, 0);
    ctx.restore();
  }

  // --- Layer catalogue, switcher, legend -----------------------------------------------------
  const layers = new Map(); // name → MvtLayer
  let orderIndex = 0;
  let background = null; // {id, layer}
  let orthophotos = [];

  function makeLayer(entry) {
    const pane = entry.kind === "heat" ? "cd-heat" : PANES[entry.geometry_type];
    const layer = new MvtLayer(entry, {
      pane: pane, minZoom: entry.min_zoom, maxZoom: config.maxZoom,
      maxNativeZoom: entry.max_zoom, zIndex: ++orderIndex, updateWhenZooming: false,
      keepBuffer: 1,
    });
    return layer;
  }

  function inRange(entry, zoom) {
    return zoom >= entry.min_zoom && zoom <= entry.max_zoom;
  }

  function buildSwitcher(catalogue) {
    const list = $("layer-list");
    list.replaceChildren();
    catalogue.groups.forEach(function (group) {
      const fieldset = el("fieldset", { className: "layer-group" }, [el("legend", { text: group.label })]);
      group.layers.forEach(function (entry) {
        const layer = makeLayer(entry);
        layers.set(entry.name, layer);
        fieldset.append(layerRow(entry, layer));
      });
      list.append(fieldset);
    });
    if (!catalogue.groups.length) list.append(el("p", { className: "map-hint", text: msg.noLayer }));
  }

  function layerRow(entry, layer) {
    const id = "layer-" + entry.name;
    const checkbox = el("input", { type: "checkbox", id: id, value: entry.name, "data-layer": entry.name });
    checkbox.addEventListener("change", function () {
      setVisible(entry.name, checkbox.checked);
      writeHash();
    });
    const row = el("div", { className: "layer-item", "data-layer": entry.name }, [
      el("label", { className: "layer-row", for: id }, [checkbox, el("span", { text: " " + entry.label })]),
      el("span", { className: "layer-range", "data-range": entry.name }),
    ]);
    const choices = entry.filters.filter(function (f) { return f.choices; });
    if (entry.filters.length) {
      const details = el("details", { className: "layer-filters" }, [el("summary", { text: msg.filters })]);
      if (choices.length && entry.geometry_type !== "line") {
        const select = el("select", { "data-colour-by": entry.name, "aria-label": msg.colourBy });
        select.append(el("option", { value: "", text: msg.singleColour }));
        choices.forEach(function (f) { select.append(el("option", { value: f.name, text: f.label })); });
        select.value = layer.colourBy || "";
        select.addEventListener("change", function () {
          setColourBy(entry.name, select.value || null);
          writeHash();
        });
        details.append(el("label", { className: "filter-label", text: msg.colourBy }), select);
      }
      entry.filters.forEach(function (f) { details.append(filterControl(entry, layer, f)); });
      row.append(details);
    }
    return row;
  }

  function filterControl(entry, layer, f) {
    const box = el("fieldset", { className: "filter", "data-filter": entry.name + "." + f.name }, [
      el("legend", { text: f.label }),
    ]);
    function changed() {
      const values = f.choices
        ? Array.from(box.querySelectorAll("input:checked")).map(function (i) { return i.value; })
        : box.querySelector("input").value.split(",").map(function (v) { return v.trim(); })
          .filter(Boolean);
      setFilter(entry.name, f.name, values);
      writeHash();
    }
    if (f.choices) {
      f.choices.forEach(function (choice) {
        const input = el("input", { type: "checkbox", value: choice.value });
        input.addEventListener("change", changed);
        box.append(el("label", { className: "choice" }, [input, el("span", { text: " " + choice.label })]));
      });
    } else {
      const input = el("input", { type: f.kind === "int" ? "text" : "search", inputmode: f.kind === "int" ? "numeric" : null,
        placeholder: msg.anyValue, "aria-label": f.label });
      input.addEventListener("change", changed);
      box.append(input);
    }
    return box;
  }

  function setVisible(name, visible) {
    const layer = layers.get(name);
    if (!layer) return;
    if (visible && !map.hasLayer(layer)) layer.addTo(map);
    if (!visible && map.hasLayer(layer)) map.removeLayer(layer);
    const box = document.querySelector("input[data-layer='" + name + "']");
    if (box) box.checked = visible;
    if (visible && layer.entry.kind === "heat") loadHeatLegend(layer);
    renderLegend();
  }

  function setFilter(layerName, filterName, values) {
    const layer = layers.get(layerName);
    if (!layer) return;
    layer.filterValues[filterName] = values;
    const box = document.querySelector("[data-filter='" + layerName + "." + filterName + "']");
    if (box) {
      box.querySelectorAll("input[type=checkbox]").forEach(function (i) { i.checked = values.indexOf(i.value) !== -1; });
      const text = box.querySelector("input:not([type=checkbox])");
      if (text) text.value = values.join(",");
    }
    if (map.hasLayer(layer)) layer.redraw();
  }

  function setColourBy(layerName, attribute) {
    const layer = layers.get(layerName);
    if (!layer) return;
    layer.colourBy = attribute;
    layer.updateColours();
    const select = document.querySelector("select[data-colour-by='" + layerName + "']");
    if (select) select.value = attribute || "";
    layer.repaint();
    renderLegend();
  }

  function swatch(entry, style, colour) {
    const s = el("span", { className: "swatch swatch-" + entry.geometry_type });
    if (entry.geometry_type === "line") {
      s.style.background = colour || style.color;
      if (style.casing) s.style.boxShadow = "0 0 0 1px " + style.casing;
    } else {
      s.style.background = style.fill ? (colour || style.fillColor) : "transparent";
      s.style.borderColor = style.color;
      s.style.opacity = style.fill && !colour ? Math.max(style.fillOpacity, 0.35) : 1;
    }
    return s;
  }

  function renderLegend() {
    const legend = $("legend");
    legend.replaceChildren();
    const zoom = map.getZoom();
    let shown = 0;
    layers.forEach(function (layer, name) {
      const entry = layer.entry;
      const range = document.querySelector("[data-range='" + name + "']");
      const out = !inRange(entry, zoom);
      if (range) range.textContent = out ? (zoom < entry.min_zoom ? msg.zoomIn : msg.zoomOut) : "";
      const item = document.querySelector(".layer-item[data-layer='" + name + "']");
      if (item) item.classList.toggle("out-of-range", out);
      if (!map.hasLayer(layer)) return;
      shown += 1;
      const block = el("div", { className: "legend-item", "data-legend": name }, [
        el("p", { className: "legend-title" }, [entry.kind === "heat" ? null : swatch(entry, layer.base), el("span", { text: entry.label })]),
      ]);
      if (entry.overview_below_zoom !== null && zoom < entry.overview_below_zoom && !out) {
        block.append(el("p", { className: "map-hint", text: msg.overview }));
      }
      const categories = categoriesOf(layer);
      if (categories && entry.kind !== "heat") {
        const ul = el("ul", { className: "legend-classes" });
        categories.forEach(function (c) {
          ul.append(el("li", { "data-value": c.value }, [swatch(entry, layer.base, c.colour), el("span", { text: c.label })]));
        });
        block.append(ul);
      }
      if (entry.kind === "heat") block.append(heatLegendBlock(layer));
      legend.append(block);
    });
    if (!shown) legend.append(el("p", { className: "map-hint", text: msg.noLayer }));
  }

  // --- Heat maps: classes from legend.json for the view (breaks move with zoom and area) -----
  function heatLegendBlock(layer) {
    const legendData = layer.heatLegend;
    if (layer.heatLegendFailed) return el("p", { className: "map-hint", text: msg.legendFailed });
    if (!legendData) return el("p", { className: "map-hint", text: msg.infoLoading });
    const ul = el("ul", { className: "legend-classes heat" });
    if (legendData.title) ul.append(el("li", { className: "legend-subtitle", text: legendData.title }));
    const digits = (legendData.max || 0) < 10 ? 1 : 0;
    (legendData.classes || []).forEach(function (c) {
      const text = c.from === null || c.from === undefined ? "≤ " + numberFormat(digits).format(c.to)
        : numberFormat(digits).format(c.from) + " – " + numberFormat(digits).format(c.to);
      const s = el("span", { className: "swatch swatch-polygon" });
      s.style.background = c.color;
      ul.append(el("li", {}, [s, el("span", { text: text })]));
    });
    return ul;
  }

  function viewBbox() {
    const b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
  }

  function loadHeatLegend(layer) {
    if (!layer.entry.legend) return;
    const seq = (layer.legendSeq || 0) + 1;
    layer.legendSeq = seq;
    const url = layer.entry.legend + "?z=" + map.getZoom() + "&bbox=" + viewBbox();
    getJSON(url).then(function (data) {
      if (seq !== layer.legendSeq) return;
      layer.heatLegend = data;
      layer.heatLegendFailed = false;
      layer.repaint();
      renderLegend();
    }, function () {
      layer.heatLegendFailed = true;
      renderLegend();
    });
  }

  // --- Orthophotos as backgrounds --------------------------------------------------------------
  function setBackground(id) {
    if (background && background.id === String(id)) return;
    if (background) { map.removeLayer(background.layer); background = null; }
    const ortho = orthophotos.find(function (o) { return String(o.id) === String(id); });
    if (ortho) {
      const options = { minZoom: ortho.min_zoom || 0, maxZoom: config.maxZoom,
        maxNativeZoom: ortho.max_zoom || 22, pane: "tilePane" };
      if (ortho.bounds) options.bounds = L.latLngBounds([[ortho.bounds[1], ortho.bounds[0]], [ortho.bounds[3], ortho.bounds[2]]]);
      background = { id: String(ortho.id), layer: L.tileLayer(ortho.tile_url, options).addTo(map) };
    }
    const radio = document.querySelector("input[name=background][value='" + (ortho ? ortho.id : "") + "']");
    if (radio) radio.checked = true;
    shell.dataset.background = ortho ? String(ortho.id) : "";
  }

  function buildBackgrounds(list) {
    orthophotos = list || [];
    const fieldset = $("background-list");
    fieldset.hidden = !orthophotos.length;
    orthophotos.forEach(function (o) {
      const radio = el("input", { type: "radio", name: "background", value: String(o.id) });
      fieldset.append(el("label", { className: "layer-row" }, [radio, el("span", { text: " " + o.name })]));
    });
    fieldset.addEventListener("change", function (event) {
      setBackground(event.target.value);
      writeHash();
    });
  }

  // --- Permalink: #map=z/lat/lon&layers=a,b&bg=id&colour=layer.attr&f.layer.filter=v1,v2 ----
  function readHash() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const state = { params: params };
    const view = (params.get("map") || "").split("/").map(Number);
    if (view.length === 3 && view.every(Number.isFinite)) {
      state.zoom = view[0];
      state.center = [view[1], view[2]];
    }
    return state;
  }

  let hashReady = false;
  function writeHash() {
    if (!hashReady) return;
    const c = map.getCenter();
    const z = map.getZoom();
    const digits = Math.max(4, Math.ceil(Math.log10(Math.pow(2, z))) + 1);
    const params = new URLSearchParams();
    params.set("map", z + "/" + c.lat.toFixed(digits) + "/" + c.lng.toFixed(digits));
    const visible = [], colours = [];
    layers.forEach(function (layer, name) {
      if (map.hasLayer(layer)) visible.push(name);
      const defaultBy = defaultColourBy(layer.entry);
      if ((layer.colourBy || null) !== defaultBy) colours.push(name + "." + (layer.colourBy || ""));
      Object.entries(layer.filterValues).forEach(function ([f, values]) {
        if (values.length) params.set("f." + name + "." + f, values.join(","));
      });
    });
    params.set("layers", visible.join(","));
    if (background) params.set("bg", background.id);
    if (colours.length) params.set("colour", colours.join(","));
    const hash = "#" + params.toString().replace(/%2F/g, "/").replace(/%2C/g, ",");
    history.replaceState(null, "", location.pathname + location.search + hash);
    // The language switch sends us back here: keep the view across the reload.
    const next = document.querySelector("#language-form input[name=next]");
    if (next) next.value = location.pathname + location.search + hash;
    shell.dataset.permalink = hash;
  }

  function applyHash(state) {
    const params = state.params;
    if (params.has("layers")) {
      const wanted = new Set(params.get("layers").split(",").filter(Boolean));
      layers.forEach(function (_layer, name) { setVisible(name, wanted.has(name)); });
    } else {
      layers.forEach(function (layer, name) { setVisible(name, layer.entry.visible_by_default); });
    }
    // The hash says everything that differs from the defaults: what it leaves out is reset.
    const colours = {}, filters = {};
    (params.get("colour") || "").split(",").filter(Boolean).forEach(function (item) {
      const dot = item.indexOf(".");
      colours[item.slice(0, dot)] = item.slice(dot + 1) || null;
    });
    params.forEach(function (value, key) {
      if (!key.startsWith("f.")) return;
      const parts = key.split(".");
      filters[parts[1] + "." + parts.slice(2).join(".")] = value.split(",").filter(Boolean);
    });
    layers.forEach(function (layer, name) {
      const colourBy = name in colours ? colours[name] : defaultColourBy(layer.entry);
      if ((layer.colourBy || null) !== (colourBy || null)) setColourBy(name, colourBy);
      layer.entry.filters.forEach(function (f) {
        const values = filters[name + "." + f.name] || [];
        if ((layer.filterValues[f.name] || []).join(",") !== values.join(",")) {
          setFilter(name, f.name, values);
        }
      });
    });
    setBackground(params.get("bg") || "");
    if (state.center) map.setView(state.center, state.zoom, { animate: false });
  }

  window.addEventListener("hashchange", function () { applyHash(readHash()); renderLegend(); });
  map.on("moveend zoomend", function () {
    writeHash();
    renderLegend();
    layers.forEach(function (layer) {
      if (layer.entry.kind === "heat" && map.hasLayer(layer)) loadHeatLegend(layer);
    });
  });

  // --- Refresh: edits made elsewhere show when the user comes back --------------------------
  function refresh() {
    const jobs = [];
    layers.forEach(function (layer) { if (map.hasLayer(layer)) jobs.push(layer.reload()); });
    return Promise.all(jobs);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();
  });

  // --- Highlight -------------------------------------------------------------------------------
  const highlight = L.featureGroup().addTo(map);
  function showHighlight(geometry, point) {
    highlight.clearLayers();
    if (geometry) {
      L.geoJSON(geometry, {
        pane: "cd-highlight", interactive: false,
        style: { color: "#00a3e0", weight: 4, fillColor: "#00a3e0", fillOpacity: 0.15, className: "map-highlight" },
      }).addTo(highlight);
    }
    if (point) {
      L.circleMarker(point, { pane: "cd-highlight", radius: 8, color: "#00a3e0", weight: 3,
        fillColor: "#ffffff", fillOpacity: 0.9, interactive: false, className: "map-highlight-point" }).addTo(highlight);
    }
  }

  // --- Info panel ------------------------------------------------------------------------------
  const infoPanel = $("info-panel");
  let infoSeq = 0;
  function openInfo(query, point) {
    const seq = ++infoSeq;
    infoPanel.hidden = false;
    shell.dataset.info = "loading";
    $("info-status").textContent = msg.infoLoading;
    $("info-body").replaceChildren();
    return getJSON(config.urls.info + "?" + new URLSearchParams(query).toString()).then(function (body) {
      if (seq !== infoSeq) return;
      $("info-status").textContent = "";
      $("info-title").textContent = body.target.label;
      infoPanel.dataset.target = body.target.kind + ":" + body.target.id;
      renderSections(body.sections);
      showHighlight(body.target.geometry, point);
      keepInSight(point || (highlight.getLayers().length ? highlight.getBounds().getCenter() : null));
      shell.dataset.info = "ready";
    }, function (error) {
      if (seq !== infoSeq) return;
      $("info-title").textContent = $("info-title").dataset.default;
      infoPanel.dataset.target = "";
      $("info-status").textContent = error.detail || msg.infoFailed;
      showHighlight(null, point);
      shell.dataset.info = "empty";
    });
  }
  $("info-title").dataset.default = $("info-title").textContent;

  function keepInSight(latlng) {
    // On a phone the info sheet covers the lower half of the map: what it describes is
    // moved into the half that stays visible.
    if (!latlng || !matchMedia("(max-width: 700px)").matches) return;
    const visible = map.getSize().y - infoPanel.offsetHeight;
    const at = map.latLngToContainerPoint(latlng);
    if (at.y > visible - 24) map.panBy([0, at.y - visible / 2], { animate: false });
  }

  function renderSections(sections) {
    const body = $("info-body");
    sections.forEach(function (s) {
      const node = el("section", { className: "info-section", "data-section": s.key }, [el("h3", { text: s.title })]);
      if (s.fields.length) {
        const dl = el("dl", { className: "info-fields" });
        s.fields.forEach(function (f) {
          dl.append(el("div", { "data-field": f.key }, [el("dt", { text: f.label }), el("dd", { text: f.value })]));
        });
        node.append(dl);
      }
      s.tables.forEach(function (t) {
        if (!t.rows.length) return;
        if (t.title) node.append(el("h4", { text: t.title }));
        const table = el("table", { className: "info-table", "data-table": t.key });
        const head = el("tr");
        t.columns.forEach(function (c) { head.append(el("th", { scope: "col", text: c.label })); });
        table.append(el("thead", {}, [head]));
        const tbody = el("tbody");
        t.rows.forEach(function (row) {
          const tr = el("tr");
          t.columns.forEach(function (c) { tr.append(el("td", { "data-column": c.key, "data-label": c.label, text: row[c.key] || "" })); });
          tbody.append(tr);
        });
        table.append(tbody);
        node.append(el("div", { className: "table-scroll" }, [table]));
      });
      if (s.note) node.append(el("p", { className: "map-hint", text: s.note }));
      body.append(node);
    });
  }

  $("info-close").addEventListener("click", function () {
    infoPanel.hidden = true;
    highlight.clearLayers();
    shell.dataset.info = "";
  });

  map.on("click", function (event) {
    if (measure.active) return;
    const ll = event.latlng;
    openInfo({ lon: ll.lng.toFixed(7), lat: ll.lat.toFixed(7) }, null);
  });

  // --- Search ----------------------------------------------------------------------------------
  const searchInput = $("search-input");
  let searchSeq = 0;
  let searchTimer = null;
  let hits = [];
  if (searchInput) {
    searchInput.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(search, 250);
    });
    $("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(searchTimer);
      const first = $("search-results").querySelector("button");
      if (first && hits.length) first.click();
      else search();
    });
    searchInput.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        const first = $("search-results").querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
  }

  function search() {
    const q = searchInput.value.trim();
    const results = $("search-results");
    const seq = ++searchSeq;
    hits = [];
    if (q.length < config.searchMinLength) {
      results.hidden = true;
      results.replaceChildren();
      $("search-status").textContent = q ? format(msg.searchTooShort, { count: config.searchMinLength }) : "";
      return;
    }
    $("search-status").textContent = msg.searching;
    getJSON(config.urls.search + "?" + new URLSearchParams({ q: q, limit: 10 }).toString())
      .then(function (found) {
        if (seq !== searchSeq) return;
        hits = found;
        results.replaceChildren();
        $("search-status").textContent = found.length ? "" : msg.noResults;
        found.forEach(function (hit, i) {
          const button = el("button", { type: "button", className: "search-hit", "data-kind": hit.kind, "data-id": String(hit.id) }, [
            el("span", { className: "hit-kind", text: config.searchKinds[hit.kind] || hit.kind }),
            el("strong", { text: hit.label }),
            hit.detail ? el("span", { className: "hit-detail", text: hit.detail }) : null,
          ]);
          button.addEventListener("click", function () { goTo(hit); });
          button.addEventListener("keydown", function (event) {
            const buttons = results.querySelectorAll("button");
            if (event.key === "ArrowDown" && buttons[i + 1]) { event.preventDefault(); buttons[i + 1].focus(); }
            if (event.key === "ArrowUp") { event.preventDefault(); (buttons[i - 1] || searchInput).focus(); }
          });
          results.append(el("li", {}, [button]));
        });
        results.hidden = !found.length;
      }, function () {
        if (seq === searchSeq) $("search-status").textContent = msg.searchFailed;
      });
  }

  function goTo(hit) {
    $("search-results").hidden = true;
    const point = hit.point ? [hit.point.coordinates[1], hit.point.coordinates[0]] : null;
    if (point) map.setView(point, Math.max(map.getZoom(), config.searchZoom), { animate: false });
    shell.dataset.drawer = "closed";
    $("drawer-toggle").setAttribute("aria-expanded", "false");
    let query = null;
    if (hit.kind === "account") query = { account: hit.id };
    else if (hit.parcel_id) query = { parcel: hit.parcel_id };
    if (query) openInfo(query, point);
    else showHighlight(null, point);
  }

  // --- Measure: distance (m) and area (m²) on the ellipsoid's mean sphere ----------------------
  const measure = { active: null, points: [], shape: null, label: null };
  const MeasureControl = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      const box = L.DomUtil.create("div", "leaflet-bar measure-control");
      L.DomEvent.disableClickPropagation(box);
      [["distance", "↔", msg.measureDistance], ["area", "▱", msg.measureArea], ["clear", "✕", msg.measureClear]]
        .forEach(function ([mode, icon, title]) {
          const a = el("a", { href: "#", role: "button", title: title, "aria-label": title, "data-measure": mode, text: icon });
          a.addEventListener("click", function (event) {
            event.preventDefault();
            if (mode === "clear") stopMeasure(true);
            else startMeasure(mode);
          });
          box.append(a);
        });
      const out = el("output", { className: "measure-result", id: "measure-result" });
      box.append(out);
      return box;
    },
  });
  new MeasureControl().addTo(map);

  function startMeasure(mode) {
    stopMeasure(true);
    measure.active = mode;
    shell.dataset.measure = mode;
    map.doubleClickZoom.disable();
    $("measure-result").textContent = msg.measureHint;
    document.querySelectorAll("[data-measure]").forEach(function (a) {
      a.classList.toggle("active", a.dataset.measure === mode);
    });
  }

  function stopMeasure(clear) {
    measure.active = null;
    shell.dataset.measure = "";
    map.doubleClickZoom.enable();
    document.querySelectorAll("[data-measure]").forEach(function (a) { a.classList.remove("active"); });
    if (clear) {
      if (measure.shape) map.removeLayer(measure.shape);
      measure.shape = null;
      measure.points = [];
      $("measure-result").textContent = "";
      $("measure-result").dataset.value = "";
    }
  }

  function geodesicArea(latlngs) {
    // Spherical excess of the ring (as Leaflet.draw does), on Leaflet's Earth radius.
    const R = L.CRS.Earth.R;
    const rad = Math.PI / 180;
    let area = 0;
    for (let i = 0; i < latlngs.length; i++) {
      const p1 = latlngs[i], p2 = latlngs[(i + 1) % latlngs.length];
      area += (p2.lng - p1.lng) * rad * (2 + Math.sin(p1.lat * rad) + Math.sin(p2.lat * rad));
    }
    return Math.abs(area * R * R / 2);
  }

  function measured() {
    const pts = measure.points;
    if (measure.active === "area" || (measure.shape && measure.shape instanceof L.Polygon)) {
      const value = pts.length > 2 ? geodesicArea(pts) : 0;
      let text = numberFormat(1).format(value) + " m²";
      if (value >= 10000) text += " (" + numberFormat(2).format(value / 10000) + " ha)";
      return { value: value, text: format(msg.area, { value: text }) };
    }
    let value = 0;
    for (let i = 1; i < pts.length; i++) value += map.distance(pts[i - 1], pts[i]);
    let text = numberFormat(1).format(value) + " m";
    if (value >= 1000) text += " (" + numberFormat(2).format(value / 1000) + " km)";
    return { value: value, text: format(msg.distance, { value: text }) };
  }

  function updateMeasure() {
    if (measure.shape) map.removeLayer(measure.shape);
    const style = { pane: "cd-measure", color: "#d9480f", weight: 3, dashArray: "6 4", fillOpacity: 0.15, interactive: false };
    measure.shape = (measure.active === "area" ? L.polygon(measure.points, style) : L.polyline(measure.points, style)).addTo(map);
    const result = measured();
    $("measure-result").textContent = result.text;
    $("measure-result").dataset.value = result.value.toFixed(2);
  }

  map.on("click", function (event) {
    if (!measure.active) return;
    measure.points.push(event.latlng);
    updateMeasure();
  });
  map.on("dblclick", function () { if (measure.active) stopMeasure(false); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && measure.active) stopMeasure(false);
  });

  // --- Cursor coordinates ----------------------------------------------------------------------
  const CoordsControl = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: function () {
      const box = L.DomUtil.create("div", "coords-control");
      box.id = "map-coords";
      box.title = msg.coordinates;
      return box;
    },
  });
  new CoordsControl().addTo(map);
  function showCoords(latlng) {
    $("map-coords").textContent = latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6);
  }
  map.on("mousemove", function (event) { showCoords(event.latlng); });
  // Phones have no cursor: they see the centre.
  map.on("moveend", function () { if (!matchMedia("(hover: hover)").matches) showCoords(map.getCenter()); });
  showCoords(map.getCenter());

  // --- Drawer (phones) -------------------------------------------------------------------------
  $("drawer-toggle").addEventListener("click", function () {
    const open = shell.dataset.drawer !== "open";
    shell.dataset.drawer = open ? "open" : "closed";
    $("drawer-toggle").setAttribute("aria-expanded", String(open));
    $("drawer-toggle").title = open ? msg.closePanels : msg.openPanels;
  });

  // --- Start -----------------------------------------------------------------------------------
  function whenIdle() {
    // Resolves once every visible tile layer has drawn its tiles (tests, screenshots).
    const visible = Array.from(layers.values()).filter(function (l) { return map.hasLayer(l); });
    return Promise.all(visible.filter(function (l) { return l.isLoading(); }).map(function (l) {
      return new Promise(function (resolve) { l.once("load", resolve); });
    }).concat(visible.map(function (l) { return l._reloading; })));
  }

  window.caudalMap = {
    map: map, layers: layers, refresh: refresh, whenIdle: whenIdle, openInfo: openInfo,
    setVisible: setVisible, setFilter: setFilter, setColourBy: setColourBy,
    categories: function (name) { return categoriesOf(layers.get(name)); },
  };

  getJSON(config.urls.layers).then(function (catalogue) {
    buildSwitcher(catalogue);
    buildBackgrounds(catalogue.orthophotos);
    applyHash(hashState);
    hashReady = true;
    writeHash();
    renderLegend();
    shell.dataset.ready = "true";
  }).catch(function () {
    $("layer-list").replaceChildren(el("p", { className: "map-status", role: "alert", text: msg.layersFailed }));
    shell.dataset.ready = "failed";
  });
}
