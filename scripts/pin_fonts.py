"""Copy the chosen Debian font files into fonts/ and write fonts/manifest.json.

Run once by a maintainer (needs `apt-get install fonts-noto-core fonts-noto-cjk fonts-unifont`);
the renderer never runs this: it only reads the committed files and checks them against the
manifest. Re-running with other package versions changes the font fingerprint, i.e. the model's
vocabulary, so checkpoints trained before would refuse to load.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "fonts"
NOTO = Path("/usr/share/fonts/truetype/noto")
CJK = Path("/usr/share/fonts/opentype/noto")
UNIFONT = Path("/usr/share/fonts/opentype/unifont")

# (source file, face index, ISO 15924 scripts it serves, Debian package). Order is fallback order.
FONTS: list[tuple[Path, int, list[str], str]] = [
    (NOTO / "NotoSans-Regular.ttf", 0, ["Latn", "Grek", "Cyrl", "Zyyy"], "fonts-noto-core"),
    (NOTO / "NotoSansArmenian-Regular.ttf", 0, ["Armn"], "fonts-noto-core"),
    (NOTO / "NotoSansGeorgian-Regular.ttf", 0, ["Geor"], "fonts-noto-core"),
    (NOTO / "NotoSansHebrew-Regular.ttf", 0, ["Hebr"], "fonts-noto-core"),
    (NOTO / "NotoSansArabic-Regular.ttf", 0, ["Arab"], "fonts-noto-core"),
    (NOTO / "NotoSansSyriac-Regular.ttf", 0, ["Syrc"], "fonts-noto-core"),
    (NOTO / "NotoSansThaana-Regular.ttf", 0, ["Thaa"], "fonts-noto-core"),
    (NOTO / "NotoSansNKo-Regular.ttf", 0, ["Nkoo"], "fonts-noto-core"),
    (NOTO / "NotoSansDevanagari-Regular.ttf", 0, ["Deva"], "fonts-noto-core"),
    (NOTO / "NotoSansBengali-Regular.ttf", 0, ["Beng"], "fonts-noto-core"),
    (NOTO / "NotoSansGurmukhi-Regular.ttf", 0, ["Guru"], "fonts-noto-core"),
    (NOTO / "NotoSansGujarati-Regular.ttf", 0, ["Gujr"], "fonts-noto-core"),
    (NOTO / "NotoSansOriya-Regular.ttf", 0, ["Orya"], "fonts-noto-core"),
    (NOTO / "NotoSansTamil-Regular.ttf", 0, ["Taml"], "fonts-noto-core"),
    (NOTO / "NotoSansTelugu-Regular.ttf", 0, ["Telu"], "fonts-noto-core"),
    (NOTO / "NotoSansKannada-Regular.ttf", 0, ["Knda"], "fonts-noto-core"),
    (NOTO / "NotoSansMalayalam-Regular.ttf", 0, ["Mlym"], "fonts-noto-core"),
    (NOTO / "NotoSansSinhala-Regular.ttf", 0, ["Sinh"], "fonts-noto-core"),
    (NOTO / "NotoSansThai-Regular.ttf", 0, ["Thai"], "fonts-noto-core"),
    (NOTO / "NotoSansLao-Regular.ttf", 0, ["Laoo"], "fonts-noto-core"),
    (NOTO / "NotoSerifTibetan-Regular.ttf", 0, ["Tibt"], "fonts-noto-core"),
    (NOTO / "NotoSansMyanmar-Regular.ttf", 0, ["Mymr"], "fonts-noto-core"),
    (NOTO / "NotoSansKhmer-Regular.ttf", 0, ["Khmr"], "fonts-noto-core"),
    (NOTO / "NotoSansEthiopic-Regular.ttf", 0, ["Ethi"], "fonts-noto-core"),
    (NOTO / "NotoSansCherokee-Regular.ttf", 0, ["Cher"], "fonts-noto-core"),
    (NOTO / "NotoSansCanadianAboriginal-Regular.ttf", 0, ["Cans"], "fonts-noto-core"),
    (NOTO / "NotoSansMongolian-Regular.ttf", 0, ["Mong"], "fonts-noto-core"),
    (NOTO / "NotoSansTifinagh-Regular.ttf", 0, ["Tfng"], "fonts-noto-core"),
    (NOTO / "NotoSansJavanese-Regular.ttf", 0, ["Java"], "fonts-noto-core"),
    (NOTO / "NotoSansYi-Regular.ttf", 0, ["Yiii"], "fonts-noto-core"),
    (NOTO / "NotoSansOlChiki-Regular.ttf", 0, ["Olck"], "fonts-noto-core"),
    # Noto Sans CJK collection: faces 0..4 are JP, KR, SC, TC, HK.
    (CJK / "NotoSansCJK-Regular.ttc", 2, ["Hani", "Hira", "Kana", "Hang", "Bopo"], "fonts-noto-cjk"),
    (CJK / "NotoSansCJK-Regular.ttc", 0, ["Hani", "Hira", "Kana"], "fonts-noto-cjk"),
    (CJK / "NotoSansCJK-Regular.ttc", 1, ["Hang", "Hani"], "fonts-noto-cjk"),
    (CJK / "NotoSansCJK-Regular.ttc", 3, ["Hani", "Bopo"], "fonts-noto-cjk"),
    (CJK / "NotoSansCJK-Regular.ttc", 4, ["Hani"], "fonts-noto-cjk"),
    (NOTO / "NotoSansSymbols-Regular.ttf", 0, ["Zsym"], "fonts-noto-core"),
    (NOTO / "NotoSansSymbols2-Regular.ttf", 0, ["Zsym", "Zsye"], "fonts-noto-core"),
    (NOTO / "NotoSansMath-Regular.ttf", 0, ["Zmth"], "fonts-noto-core"),
    # Last resort: every assigned code point of the BMP, then the planes above it.
    (UNIFONT / "unifont.otf", 0, ["*"], "fonts-unifont"),
    (UNIFONT / "unifont_upper.otf", 0, ["*", "Zsye"], "fonts-unifont"),
]

LICENCES = {
    "fonts-noto-core": "/usr/share/doc/fonts-noto-core/copyright",
    "fonts-noto-cjk": "/usr/share/doc/fonts-noto-cjk/copyright",
    "fonts-unifont": "/usr/share/doc/fonts-unifont/copyright",
}


def package_version(package: str) -> str:
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], check=True, capture_output=True, text=True).stdout


def main() -> None:
    (ROOT / "licenses").mkdir(parents=True, exist_ok=True)
    entries = []
    for source, face, scripts, package in FONTS:
        target = ROOT / source.name
        if not target.exists():
            shutil.copyfile(source, target)
        entries.append(
            {
                "file": source.name,
                "face": face,
                "scripts": scripts,
                "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
                "package": package,
                "version": package_version(package),
            }
        )
    for package, path in LICENCES.items():
        shutil.copyfile(path, ROOT / "licenses" / f"{package}.copyright")
    manifest = {"format": 1, "fonts": entries}
    (ROOT / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"pinned {len(entries)} faces from {len({e['file'] for e in entries})} files")


if __name__ == "__main__":
    main()
