"""Safety checks on uploaded layers, done before GDAL (or ``zipfile``) extracts anything.

Limits come from ``settings.CAUDAL_IMPORT_LIMITS``: upload size, number of zip entries,
compression ratio and total unzipped size (zip bombs), member names that would escape the
directory (``../``, absolute paths, drive letters, symlinks) and number of features.
"""

import contextlib
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.gis.gdal import DataSource, GDALException
from django.utils.translation import gettext as _

from gis_core.io import LayerIOError

SUFFIX_FORMATS = {
    ".gpkg": "gpkg",
    ".zip": "shp",
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv",
}
# Inside a zip, the first kind found (in this order) is the dataset.
DATASET_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".csv")
# Small members (a .prj, a .cpg) may compress very well without being a bomb.
RATIO_MIN_BYTES = 1024 * 1024
CHUNK = 1024 * 1024


def limits() -> dict:
    return settings.CAUDAL_IMPORT_LIMITS


@dataclass(frozen=True)
class SourceInfo:
    path: Path  # what GDAL opens
    format: str  # gpkg / shp / geojson / csv
    layer_name: str
    feature_count: int
    srid: int | None  # EPSG code of the source, None when GDAL finds none
    has_crs: bool  # a CRS GDAL can transform from (a .prj without EPSG code counts)
    fields: tuple[str, ...]


def save_upload(*, chunks, name: str, workdir: Path) -> Path:
    """Copy an upload (an iterable of byte chunks) into ``workdir`` under a name the server
    chooses (only the suffix of ``name`` is kept), refusing it beyond ``MAX_UPLOAD_BYTES``."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise LayerIOError(
            "format",
            _(
                "“%(name)s” is not a supported layer file: use a GeoPackage (.gpkg), a zipped "
                "Shapefile (.zip), GeoJSON (.geojson) or CSV with a WKT column (.csv)."
            )
            % {"name": name},
        )
    target = workdir / f"upload{suffix}"
    written = 0
    with target.open("wb") as out:
        for chunk in chunks:
            written += len(chunk)
            if written > limits()["MAX_UPLOAD_BYTES"]:
                raise _too_big(name)
            out.write(chunk)
    return target


def _too_big(name):
    return LayerIOError(
        "too_big",
        _("“%(name)s” is larger than the %(limit)s MB allowed for an upload.")
        % {"name": name, "limit": limits()["MAX_UPLOAD_BYTES"] // (1024 * 1024)},
    )


def _unsafe_member(info: zipfile.ZipInfo) -> bool:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    if ".." in PurePosixPath(name).parts:
        return True
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def check_zip(path: Path) -> list[zipfile.ZipInfo]:
    """Refuse a zip that is not one, has too many entries, unsafe member names, or would
    unpack to too much (in total or by compression ratio). Reads the directory only."""
    lim = limits()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerIOError("bad_zip", _("The file is not a valid zip archive.")) from exc
    if len(infos) > lim["MAX_ZIP_ENTRIES"]:
        raise LayerIOError(
            "zip_entries",
            _("The zip archive has %(count)s entries; at most %(limit)s are allowed.")
            % {"count": len(infos), "limit": lim["MAX_ZIP_ENTRIES"]},
        )
    for info in infos:
        if _unsafe_member(info):
            raise LayerIOError(
                "zip_path",
                _(
                    "The zip archive contains “%(member)s”, a path outside the archive or a "
                    "link; it was refused."
                )
                % {"member": info.filename},
            )
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > lim["MAX_UNZIPPED_BYTES"]:
        raise LayerIOError(
            "zip_size",
            _("The zip archive would unpack to %(size)s MB; at most %(limit)s MB are allowed.")
            % {"size": total // (1024 * 1024), "limit": lim["MAX_UNZIPPED_BYTES"] // (1024 * 1024)},
        )
    ratios = [(i.file_size, i.compress_size) for i in infos if i.file_size >= RATIO_MIN_BYTES]
    if total >= RATIO_MIN_BYTES:
        ratios.append((total, packed))
    for size, compressed in ratios:
        if size > lim["MAX_ZIP_RATIO"] * max(compressed, 1):
            raise LayerIOError(
                "zip_ratio",
                _(
                    "The zip archive is compressed more than %(limit)s to 1, which is how zip "
                    "bombs look; it was refused."
                )
                % {"limit": lim["MAX_ZIP_RATIO"]},
            )
    return infos


def extract_zip(path: Path, workdir: Path) -> Path:
    """Check, then unpack ``path`` into ``workdir/unzipped`` (flat: the server names every
    file) and return the dataset inside. The byte count is enforced while writing too, since a
    zip directory can lie about sizes."""
    infos = check_zip(path)
    target_dir = workdir / "unzipped"
    target_dir.mkdir()
    budget = limits()["MAX_UNZIPPED_BYTES"]
    written_total = 0
    with zipfile.ZipFile(path) as zf:
        for info in infos:
            if info.is_dir():
                continue
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            if not base or base.startswith("."):
                continue  # __MACOSX resource forks, hidden files
            if "__MACOSX" in PurePosixPath(info.filename).parts:
                continue
            dest = target_dir / base
            written = 0
            with zf.open(info) as src, dest.open("wb") as out:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    written_total += len(chunk)
                    if written > info.file_size or written_total > budget:
                        shutil.rmtree(target_dir, ignore_errors=True)
                        raise LayerIOError(
                            "zip_size", _("The zip archive unpacks to more than it declares.")
                        )
                    out.write(chunk)
    for suffix in DATASET_SUFFIXES:
        found = sorted(p for p in target_dir.iterdir() if p.suffix.lower() == suffix)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise LayerIOError(
                "zip_many",
                _("The zip archive holds several layers (%(names)s); upload one at a time.")
                % {"names": ", ".join(p.name for p in found)},
            )
    raise LayerIOError(
        "zip_empty", _("The zip archive holds no Shapefile, GeoPackage, GeoJSON or CSV.")
    )


def inspect_source(path: Path, *, layer_name: str | None = None) -> SourceInfo:
    """Open ``path`` (an upload as saved by :func:`save_upload`) with GDAL, unpacking a zip
    first, and refuse it beyond ``MAX_FEATURES``. Returns what the import needs to know."""
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LayerIOError(
            "format", _("Unsupported file type “%(suffix)s”.") % {"suffix": path.suffix}
        )
    dataset = extract_zip(path, path.parent) if fmt == "shp" else path
    if fmt == "shp":
        fmt = (
            SUFFIX_FORMATS.get(dataset.suffix.lower(), "shp") if dataset.suffix != ".shp" else "shp"
        )
    try:
        ds = DataSource(str(dataset), encoding="utf-8")
    except GDALException as exc:
        raise LayerIOError("unreadable", _("GDAL cannot read the file as a vector layer.")) from exc
    names = [layer.name for layer in ds]
    if not names:
        raise LayerIOError("no_layer", _("The file holds no vector layer."))
    if layer_name is None:
        if len(names) > 1:
            raise LayerIOError(
                "many_layers",
                _("The file holds several layers (%(names)s); say which one to import.")
                % {"names": ", ".join(names)},
            )
        layer_name = names[0]
    if layer_name not in names:
        raise LayerIOError(
            "no_layer",
            _("The file has no layer “%(name)s”; it has %(names)s.")
            % {"name": layer_name, "names": ", ".join(names)},
        )
    layer = ds[layer_name]
    count = len(layer)
    if count > limits()["MAX_FEATURES"]:
        raise LayerIOError(
            "too_many_features",
            _("The layer has %(count)s features; at most %(limit)s are allowed.")
            % {"count": count, "limit": limits()["MAX_FEATURES"]},
        )
    srid = None
    srs = layer.srs
    if srs is not None:
        with contextlib.suppress(GDALException):  # no EPSG code: GDAL still has the WKT
            srs.identify_epsg()
        srid = srs.srid
    return SourceInfo(
        path=dataset,
        format=fmt,
        layer_name=layer_name,
        feature_count=count,
        srid=srid,
        has_crs=srs is not None,
        fields=tuple(layer.fields),
    )
