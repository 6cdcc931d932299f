"""Build Sinergi's compact region data file from the idn-area-data npm package.

Run once by a maintainer when a new Kepmendagri edition is published; nothing
at run time needs npm or the network:

    cd /tmp && npm pack idn-area-data@4.0.1 && tar xzf idn-area-data-4.0.1.tgz
    python scripts/build_regions_data.py /tmp/package \
        sinergi/regions/data/kepmendagri-300.2.2-2138-2025.csv.gz

The output is one gzip'd CSV, ``code,name``, every level in code order. The
parent and the kind of every region follow from its code, so they are not
stored.
"""

import csv
import gzip
import io
import sys
from pathlib import Path


def main(package_dir: str, out_path: str) -> None:
    data = Path(package_dir) / "data"
    rows: list[tuple[str, str]] = []
    for name in ("provinces", "regencies", "districts", "villages"):
        with open(data / f"{name}.csv", newline="", encoding="utf-8") as f:
            for rec in csv.DictReader(f):
                rows.append((rec["code"].strip(), " ".join(rec["name"].split())))
    rows.sort()
    # mtime=0 keeps the file byte-identical between rebuilds of the same data.
    with (
        gzip.GzipFile(out_path, "wb", mtime=0) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as f,
    ):
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("code", "name"))
        w.writerows(rows)
    print(f"{len(rows)} regions written to {out_path}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
