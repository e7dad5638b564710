"""Derive the dashboard's district map from ../shared/data/admin_divisions/beijing_geojson_datav/110100_full.json.

Carried in as facts (district codes, names and outlines), not copied: coordinates rounded to 0.002° (about 200 m,
enough for a city-wide map), repeated points dropped, only `adcode` and `name` kept. Source: Tianyunxing/mapfiles
(Aliyun DataV); coordinates are most likely GCJ-02. Run from the repository root:

    python3 scripts/geo/beijing_districts.py
"""

import json
import sys
from pathlib import Path

SOURCE = Path("../shared/data/admin_divisions/beijing_geojson_datav/110100_full.json")
TARGET = Path("jiesu/static/geo/beijing_districts.json")
STEP = 0.002


def ring(points: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in points:
        p = [round(round(x / STEP) * STEP, 3), round(round(y / STEP) * STEP, 3)]
        if not out or out[-1] != p:
            out.append(p)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else []


def main() -> None:
    if not SOURCE.exists():
        sys.exit(f"not found: {SOURCE}")
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    features = []
    for f in data["features"]:
        geometry = f["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        simple = [[r for r in (ring(x) for x in poly) if r] for poly in polygons]
        simple = [p for p in simple if p]
        props = {"adcode": str(f["properties"]["adcode"]), "name": f["properties"]["name"]}
        features.append(
            {"type": "Feature", "properties": props, "geometry": {"type": "MultiPolygon", "coordinates": simple}}
        )
    TARGET.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")),
        encoding="utf-8",
    )
    print(f"{TARGET}: {len(features)} districts, {TARGET.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
