// Copies the front-end libraries installed from npm (package.json) into static/vendor/<name>/,
// the only place templates load them from: no CDN is ever reachable from a utility's server room.
import { cpSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "static", "vendor");

// [package directory, files or folders inside it, target folder name]
const ASSETS = [
  ["leaflet/dist", ["leaflet.js", "leaflet.css", "images"], "leaflet"],
  ["@geoman-io/leaflet-geoman-free/dist", ["leaflet-geoman.min.js", "leaflet-geoman.css"], "leaflet-geoman"],
  ["leaflet.markercluster/dist", ["leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"], "leaflet.markercluster"],
  ["maplibre-gl/dist", ["maplibre-gl.js", "maplibre-gl.css"], "maplibre-gl"],
  ["@maplibre/maplibre-gl-leaflet", ["leaflet-maplibre-gl.js"], "maplibre-gl-leaflet"],
  ["idb/build", ["umd.js"], "idb"],
  // The map shell decodes vector tiles itself (ES modules, loaded through an import map):
  // pbf reads the protobuf, vector-tile turns it into features, point-geometry is its dependency.
  ["@mapbox/vector-tile", ["index.js"], "vector-tile"],
  ["@mapbox/point-geometry", ["index.js"], "point-geometry"],
  ["pbf", ["index.js"], "pbf"],
];

rmSync(out, { recursive: true, force: true });
for (const [pkgDir, files, target] of ASSETS) {
  const dest = join(out, target);
  mkdirSync(dest, { recursive: true });
  for (const file of files) {
    const src = join(root, "node_modules", pkgDir, file);
    if (!existsSync(src)) {
      console.error(`missing front-end asset: ${src} (run npm ci)`);
      process.exit(1);
    }
    cpSync(src, join(dest, file), { recursive: true });
    // Source maps travel with their scripts: the manifest storage of collectstatic follows
    // every sourceMappingURL and fails on a missing one.
    if (existsSync(`${src}.map`)) cpSync(`${src}.map`, join(dest, `${file}.map`));
  }
}
console.log(`front-end assets copied to ${out}`);
