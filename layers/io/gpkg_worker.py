"""The GeoPackage writer process of a run written in blocks (see :class:`GpkgStream`).

``pyogrio.raw.write_arrow`` holds the GIL while GDAL writes, so a writer thread stalls the
scoring thread for seconds at a time. A large run therefore writes its GeoPackage in this
separate process: the run sends the blocks as an Arrow IPC stream on its standard input, and
this process hands that stream to GDAL with the same settings the writer thread uses, so the
file is byte for byte the one the thread would write.

Run as ``python -P gpkg_worker.py JOB`` where ``JOB`` is the JSON of :func:`job`. It imports
only pyarrow and pyogrio (it starts in a fraction of a second and does not load the engine). On
failure it exits with :data:`FAILED` and writes the reason as the last line of its standard
error; the parent turns that into a Dutch message.
"""

from __future__ import annotations

import json
import sys
from typing import Any

#: The result layer's name in locaties.gpkg.
LAYER = "locaties"

#: Exit status of a write that GDAL refused (the reason is the last line on standard error).
FAILED = 3


def job(
    *,
    path: str,
    geometry_name: str,
    geometry_type: str,
    crs: str | None,
    config: dict[str, str | None],
) -> str:
    """The command-line argument of the writer process: where and how to write."""
    return json.dumps(
        {
            "path": path,
            "geometry_name": geometry_name,
            "geometry_type": geometry_type,
            "crs": crs,
            "config": config,
        }
    )


def write_layer(
    reader: Any, path: str, *, geometry_name: str, geometry_type: str, crs: str | None
) -> None:
    """Write the Arrow record batches of ``reader`` as the result layer (the GDAL call the writer
    thread and the writer process share)."""
    from pyogrio.raw import write_arrow

    write_arrow(
        reader,
        path,
        layer=LAYER,
        driver="GPKG",
        geometry_name=geometry_name,
        geometry_type=geometry_type,
        crs=crs,
        dataset_options={"VERSION": "1.2"},
        layer_options={"SPATIAL_INDEX": "YES", "FID": "fid"},
    )


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    import pyarrow as pa
    import pyogrio

    try:
        pyogrio.set_gdal_config_options(spec["config"])
        with pa.ipc.open_stream(sys.stdin.buffer) as reader:
            write_layer(
                reader,
                spec["path"],
                geometry_name=spec["geometry_name"],
                geometry_type=spec["geometry_type"],
                crs=spec["crs"],
            )
    except Exception as exc:  # the parent shows the reason in its own (Dutch) message
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(reason, file=sys.stderr, flush=True)
        return FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
