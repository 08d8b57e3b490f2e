// Overview map of the city's neighbourhoods on the landing page. No base map from the internet:
// the colonias themselves are the map until the tile service draws blocks and streets.
(function () {
  "use strict";
  const element = document.getElementById("city-map");
  if (!element || typeof L === "undefined") return;
  const map = L.map(element, { zoomControl: true, attributionControl: false, zoomSnap: 0.25 });
  const colours = {
    centro: "#b15928", industrial: "#6a3d9a", fraccionamiento: "#33a02c",
    barrio: "#ff7f00", colonia: "#1f78b4",
  };
  const status = L.control({ position: "bottomleft" });
  status.onAdd = function () {
    const div = L.DomUtil.create("div", "map-status");
    div.textContent = element.dataset.loading;
    return div;
  };
  status.addTo(map);
  fetch(element.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(function (collection) {
      const layer = L.geoJSON(collection, {
        style: function (feature) {
          return { color: "#12304a", weight: 1, fillOpacity: 0.35,
                   fillColor: colours[feature.properties.kind] || "#1f78b4" };
        },
        onEachFeature: function (feature, featureLayer) {
          const p = feature.properties;
          featureLayer.bindTooltip(p.code + " · " + p.name + " (" + p.kind_label + ")");
        },
      }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [8, 8] });
      element.dataset.features = String(collection.features.length);
      map.removeControl(status);
    })
    .catch(function () {
      status.getContainer().textContent = element.dataset.failed;
      map.setView([0, 0], 1);
    });
})();
